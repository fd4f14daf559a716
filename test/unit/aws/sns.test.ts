import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { createNotifierPort, createSnsClient } from '../../../lib/aws/sns';
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
  return { log, notifier: createNotifierPort(new SNSClient({ region: 'eu-west-1' }), TOPIC, { dryRun, log }) };
}

beforeEach(() => snsMock.reset());

it('publishes subject, body and every attribute as a String', async () => {
  // Prepare
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
  // Act
  await port().notifier.publish(notification);
  // Assess
  expect(snsMock.commandCalls(PublishCommand)[0].args[0].input).toEqual({
    TopicArn: TOPIC,
    Subject: 'prod: i-0abc joined pydio-compute',
    Message: 'Instance: i-0abc\nGroup: pydio-compute',
    MessageAttributes: {
      eventType: { DataType: 'String', StringValue: 'lifecycle.succeeded' },
      severity: { DataType: 'String', StringValue: 'info' },
      instanceId: { DataType: 'String', StringValue: 'i-0abc' },
      asgName: { DataType: 'String', StringValue: 'pydio-compute' },
    },
  });
});

it('still publishes in dry run, with the subject marked', async () => {
  snsMock.on(PublishCommand).resolves({});
  await port(true).notifier.publish(notification);
  expect(snsMock.commandCalls(PublishCommand)[0].args[0].input.Subject).toBe('[dry run] prod: i-0abc joined pydio-compute');
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
  expect(snsMock.commandCalls(PublishCommand)[0].args[0].input.Message).toBe('prod: i-0abc joined pydio-compute');
});

it('wraps a publish failure', async () => {
  snsMock.on(PublishCommand).rejects(awsError('NotFound', 'Topic does not exist'));
  await expect(port().notifier.publish(notification)).rejects.toThrow(AwsCallError);
  await expect(port().notifier.publish(notification)).rejects.toThrow(/Publish: NotFound: Topic does not exist/);
});

it('createSnsClient retries up to 5 attempts', async () => {
  await expect(createSnsClient().config.maxAttempts()).resolves.toBe(5);
});
