import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { createNotifierPort, createSnsClient, MESSAGE_MAX_BYTES, structuredMessage, TEXT_CUT_MARKER, type MachineNotice } from '../../../lib/aws/sns';
import { CUT_MARKER, type ChatbotNotification } from '../../../lib/core/chatbot';
import type { Notification } from '../../../lib/core/notification';
import { NOTICE_LOGGED } from '../../../lib/core/log-messages';
import { AwsCallError } from '../../../lib/errors';
import { awsError, recordingLog } from './helpers';

const snsMock = mockClient(SNSClient);
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:pydio-autoscaler-ops';

const notification: Notification = {
  subject: 'prod: i-0abc joined pydio-compute',
  body: 'Instance: i-0abc\nGroup: pydio-compute',
  eventType: 'lifecycle.succeeded',
  severity: 'info',
  attributes: { instanceId: 'i-0abc', asgName: 'pydio-compute' },
};

function port(dryRun = false) {
  const log = recordingLog();
  return { log, notifier: createNotifierPort(new SNSClient({ region: 'eu-west-1' }), TOPIC, { dryRun, log }, { computeGroupName: 'pydio-compute', logGroupName: '/aws/lambda/f', logStreamName: 's' }) };
}

/** The Publish input, its Message read as the per-protocol structure. */
function published(call = 0) {
  const input = snsMock.commandCalls(PublishCommand)[call]!.args[0].input;
  const message = JSON.parse(input.Message ?? '') as Record<string, string>;
  return {
    input,
    message,
    chatbot: JSON.parse(message.https ?? '') as ChatbotNotification,
    machine: JSON.parse(message.sqs ?? '') as MachineNotice,
  };
}

beforeEach(() => snsMock.reset());

it('publishes subject, the per-protocol message and every attribute as a String', async () => {
  // Prepare
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
  // Act
  await port().notifier.publish(notification);
  // Assess
  const { input, message, chatbot, machine } = published();
  expect(input).toMatchObject({
    TopicArn: TOPIC,
    Subject: 'prod: i-0abc joined pydio-compute',
    MessageStructure: 'json',
    MessageAttributes: {
      eventType: { DataType: 'String', StringValue: 'lifecycle.succeeded' },
      severity: { DataType: 'String', StringValue: 'info' },
      instanceId: { DataType: 'String', StringValue: 'i-0abc' },
      asgName: { DataType: 'String', StringValue: 'pydio-compute' },
    },
  });
  expect(Object.keys(message).sort()).toEqual(['default', 'https', 'lambda', 'sqs']);
  // e-mail (and every protocol without its own key) reads the text as before
  expect(message.default).toBe('Instance: i-0abc\nGroup: pydio-compute');
  expect(chatbot).toMatchObject({ version: '1.0', source: 'custom', content: { textType: 'client-markdown', title: 'prod: i-0abc joined pydio-compute' } });
  // region and account from the topic's ARN
  expect(chatbot.content.nextSteps?.[0]).toContain('https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#InstanceDetails:instanceId=i-0abc');
  expect(chatbot.metadata.relatedResources?.[0]).toBe('arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc');
  expect(message.lambda).toBe(message.sqs);
  expect(machine).toEqual({
    source: 'pydio-autoscaler',
    subject: 'prod: i-0abc joined pydio-compute',
    text: 'Instance: i-0abc\nGroup: pydio-compute',
    eventType: 'lifecycle.succeeded',
    severity: 'info',
    attributes: { instanceId: 'i-0abc', asgName: 'pydio-compute', eventType: 'lifecycle.succeeded', severity: 'info' },
  });
});

it('still publishes in dry run, with the subject marked for e-mail, chat and programs alike', async () => {
  snsMock.on(PublishCommand).resolves({});
  await port(true).notifier.publish(notification);
  const { input, chatbot, machine } = published();
  expect(input.Subject).toBe('[dry run] prod: i-0abc joined pydio-compute');
  expect(chatbot.content.title).toBe('[dry run] prod: i-0abc joined pydio-compute');
  expect(machine.subject).toBe('[dry run] prod: i-0abc joined pydio-compute');
});

it('logs each notice it published, as sent (the operator CLI reads these lines), and none that SNS refused', async () => {
  // Prepare
  snsMock.on(PublishCommand).resolvesOnce({}).rejectsOnce(awsError('AuthorizationError', 'not allowed'));
  const { log, notifier } = port(true);
  // Act
  await notifier.publish(notification);
  await expect(notifier.publish(notification)).rejects.toThrow(AwsCallError);
  // Assess
  expect(log.infos.filter(([message]) => message === NOTICE_LOGGED)).toEqual([
    [NOTICE_LOGGED, { subject: '[dry run] prod: i-0abc joined pydio-compute', eventType: 'lifecycle.succeeded', severity: 'info' }],
  ]);
});

it.each([
  ['a long subject is cut to 99 characters', { subject: 'y'.repeat(140) }, (subject: string) => subject.length === 99 && subject.endsWith('…')],
  ['a subject of exactly 100 characters is cut: SNS wants fewer than 100', { subject: 'y'.repeat(100) }, (subject: string) => subject.length === 99],
  ['line breaks are folded', { subject: 'line one\nline two' }, (subject: string) => subject === 'line one line two'],
  ['other control characters are folded too', { subject: 'bell\u0007 and\u001b escape' }, (subject: string) => subject === 'bell and escape'],
])('%s', async (_case, override, check) => {
  snsMock.on(PublishCommand).resolves({});
  await port().notifier.publish({ ...notification, ...override });
  expect(check(snsMock.commandCalls(PublishCommand)[0].args[0].input.Subject ?? '')).toBe(true);
});

it('keeps a dry-run subject under 100 characters', async () => {
  snsMock.on(PublishCommand).resolves({});
  await port(true).notifier.publish({ ...notification, subject: 'z'.repeat(100) });
  const subject = snsMock.commandCalls(PublishCommand)[0].args[0].input.Subject ?? '';
  expect(subject.startsWith('[dry run] ')).toBe(true);
  expect(subject).toHaveLength(99);
});

it('does not let an extra attribute override eventType or severity', async () => {
  snsMock.on(PublishCommand).resolves({});
  await port().notifier.publish({ ...notification, attributes: { severity: 'info', eventType: 'spoofed' }, severity: 'error' });
  const attributes = snsMock.commandCalls(PublishCommand)[0].args[0].input.MessageAttributes ?? {};
  expect(attributes.severity.StringValue).toBe('error');
  expect(attributes.eventType.StringValue).toBe('lifecycle.succeeded');
});

it('drops empty values and names SNS refuses, with a warning for the names', async () => {
  snsMock.on(PublishCommand).resolves({});
  const { notifier, log } = port();
  await notifier.publish({ ...notification, attributes: { stage: '', 'AWS.trace': 'x', 'bad name': 'x', 'ok.name-1_x': 'v' } });
  const attributes = snsMock.commandCalls(PublishCommand)[0].args[0].input.MessageAttributes ?? {};
  expect(Object.keys(attributes).sort()).toEqual(['eventType', 'ok.name-1_x', 'severity']);
  expect(log.warn).toHaveBeenCalledTimes(2);
});

it('sends the subject as the message when the body is empty', async () => {
  snsMock.on(PublishCommand).resolves({});
  await port().notifier.publish({ ...notification, body: '  ' });
  const { message, chatbot } = published();
  expect(message.default).toBe('prod: i-0abc joined pydio-compute');
  expect(chatbot.content.description).toBe('prod: i-0abc joined pydio-compute');
});

describe('the 256 KB SNS takes (message and attributes together)', () => {
  it('cuts a text that would pass it, with a marker, and keeps the chat description within its bound', async () => {
    // Prepare
    snsMock.on(PublishCommand).resolves({});
    const body = Array.from({ length: 6000 }, (_, i) => `    line ${i}: "quoted" \\ ${'é'.repeat(20)}`).join('\n');
    // Act
    await port().notifier.publish({ ...notification, body });
    // Assess
    const { input, message, chatbot, machine } = published();
    const attributeBytes = Object.entries(input.MessageAttributes ?? {}).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v.DataType ?? '') + Buffer.byteLength(v.StringValue ?? ''), 0);
    expect(Buffer.byteLength(input.Message ?? '') + attributeBytes).toBeLessThanOrEqual(MESSAGE_MAX_BYTES);
    expect(Buffer.byteLength(input.Message ?? '') + attributeBytes).toBeGreaterThan(MESSAGE_MAX_BYTES - 2000);
    expect(message.default?.endsWith(TEXT_CUT_MARKER)).toBe(true);
    expect(body.startsWith(message.default!.slice(0, -TEXT_CUT_MARKER.length))).toBe(true);
    expect(machine.text).toBe(message.default);
    expect(chatbot.content.description.endsWith(CUT_MARKER)).toBe(true);
  });

  it('never cuts between the two halves of a character', () => {
    const body = '😀'.repeat(200);
    const message = structuredMessage({ ...notification, body }, 's', {}, {}, 2500);
    expect(Buffer.byteLength(JSON.stringify(message))).toBeLessThanOrEqual(2500);
    expect(message.default.endsWith(TEXT_CUT_MARKER)).toBe(true);
    const kept = message.default.slice(0, -TEXT_CUT_MARKER.length);
    expect(kept.length % 2).toBe(0);
    expect([...kept].every((c) => c === '😀')).toBe(true);
  });

  it('leaves a message that fits as it is', () => {
    expect(structuredMessage(notification, 's', {}, {}).default).toBe(notification.body);
  });
});

it('wraps a publish failure', async () => {
  snsMock.on(PublishCommand).rejects(awsError('NotFound', 'Topic does not exist'));
  await expect(port().notifier.publish(notification)).rejects.toThrow(AwsCallError);
  await expect(port().notifier.publish(notification)).rejects.toThrow(/Publish: NotFound: Topic does not exist/);
});

it('createSnsClient retries up to 5 attempts', async () => {
  await expect(createSnsClient().config.maxAttempts()).resolves.toBe(5);
});
