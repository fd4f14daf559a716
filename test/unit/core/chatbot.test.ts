import Ajv from 'ajv';
import schema from './fixtures/chatbot-custom-notification.schema.json';
import { CHATBOT_DESCRIPTION_MAX, chatbotNotification, chatDescription, CUT_MARKER, fitDescription } from '../../../lib/core/chatbot';
import type { NoticeContext } from '../../../lib/core/console-links';
import { buildNotification } from '../../../lib/core/notification';
import { noticeSamples } from './notice-samples';

/** The custom notification schema written from the Chatbot docs (the fixture names the page and our own bounds). */
const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);

const FULL: NoticeContext = {
  location: { partition: 'aws', region: 'eu-west-1', account: '123456789012' },
  computeGroupName: 'pydio-compute',
  storageGroupName: 'pydio-storage',
  targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pydio-tg/0123456789abcdef',
  logGroupName: '/aws/lambda/pydio-autoscaler-prod-lifecycle',
  logStreamName: '2026/11/21/[$LATEST]0123456789abcdef0123456789abcdef',
};

describe('every notice, as Chatbot receives it, is a valid custom notification', () => {
  const samples = noticeSamples();
  it.each(samples.flatMap((s) => [
    [`${s.builder} / ${s.variant} / all links`, s, FULL] as const,
    [`${s.builder} / ${s.variant} / no context`, s, {}] as const,
  ]))('%s', (_name, sample, context) => {
    // Act
    const payload = chatbotNotification(sample.notification, context);
    // Assess
    const valid = validate(JSON.parse(JSON.stringify(payload)));
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    expect(payload.content.title).toBe(sample.notification.subject);
    expect(payload.metadata.additionalContext).toMatchObject({ ...sample.notification.attributes, severity: sample.notification.severity, eventType: sample.notification.eventType });
  });

  it('the schema refuses what the docs refuse (a wrong version, source or textType, a non-string context value)', () => {
    const good = chatbotNotification(samples[0]!.notification, FULL);
    expect(validate(good)).toBe(true);
    expect(validate({ ...good, version: '2.0' })).toBe(false);
    expect(validate({ ...good, source: 'aws.autoscaling' })).toBe(false);
    expect(validate({ ...good, content: { ...good.content, textType: 'markdown' } })).toBe(false);
    expect(validate({ ...good, metadata: { ...good.metadata, additionalContext: { n: 1 } } })).toBe(false);
    expect(validate({ ...good, content: { ...good.content, description: 'd'.repeat(CHATBOT_DESCRIPTION_MAX + 1) } })).toBe(false);
  });
});

describe('chatbotNotification', () => {
  const failed = noticeSamples().find((s) => s.builder === 'messages.flowFailed')!.notification;

  it('links the instance, its group, the target group and the log stream as next steps', () => {
    const steps = chatbotNotification(failed, FULL).content.nextSteps ?? [];
    expect(steps).toEqual([
      'Instance i-0123456789abcdef0 (EC2 console): https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#InstanceDetails:instanceId=i-0123456789abcdef0',
      'Auto Scaling group pydio-compute (activity history, instances): https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#AutoScalingGroupDetails:id=pydio-compute;view=details',
      'Target group pydio-tg (targets and their health): https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#TargetGroup:targetGroupArn=arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pydio-tg/0123456789abcdef',
      'Log of the invocation that sent this (/aws/lambda/pydio-autoscaler-prod-lifecycle): https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Faws$252Flambda$252Fpydio-autoscaler-prod-lifecycle/log-events/2026$252F11$252F21$252F$255B$2524LATEST$255D0123456789abcdef0123456789abcdef',
    ]);
  });

  it('puts the notice\'s own next steps first', () => {
    const n = buildNotification({ stage: 'prod', eventType: 'storage.failed', severity: 'error', subject: 's', body: 'b', attributes: {}, nextSteps: ['look at gluster volume status', ' '] });
    expect(chatbotNotification(n, FULL).content.nextSteps?.[0]).toBe('look at gluster volume status');
    expect(n.nextSteps).toEqual(['look at gluster volume status']);
  });

  it('threads the notices about one instance together, and titles with the published subject', () => {
    const payload = chatbotNotification(failed, {}, '[dry run] [prod] x');
    expect(payload.metadata.threadId).toBe('pydio-autoscaler/prod/i-0123456789abcdef0');
    expect(payload.content.title).toBe('[dry run] [prod] x');
    expect(payload.metadata.summary).toBe('[dry run] [prod] x');
    expect(payload.content.keywords).toEqual(['prod', 'lifecycle.failed', 'error']);
    expect(payload.metadata.relatedResources).toBeUndefined();
  });

  it('names the instance, target group and log group ARNs as related resources', () => {
    expect(chatbotNotification(failed, FULL).metadata.relatedResources).toEqual([
      'arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0',
      'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pydio-tg/0123456789abcdef',
      'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/pydio-autoscaler-prod-lifecycle',
    ]);
  });

  it('shows a notice without a body by its subject', () => {
    const n = buildNotification({ stage: 'prod', eventType: 'storage.started', severity: 'info', subject: 'bootstrap started', body: '  ', attributes: {} });
    expect(chatbotNotification(n, {}).content.description).toBe('[prod] bootstrap started');
  });
});

describe('chatDescription', () => {
  it.each([
    ['Instance: i-1\nTook: 3s', 'Instance: i-1\nTook: 3s'],
    ['Output (tail):\n    stderr:\n    boom *x*', 'Output (tail):\n```\nstderr:\nboom *x*\n```'],
    ['Commands:\n    a\n    b\nAfter', 'Commands:\n```\na\nb\n```\nAfter'],
    ['    only ``` a fence', "```\nonly ''' a fence\n```"],
  ])('%j -> %j', (body, expected) => {
    expect(chatDescription(body)).toBe(expected);
  });
});

describe('fitDescription', () => {
  it('keeps a description that fits', () => {
    expect(fitDescription('a\nb', 10)).toBe('a\nb');
  });

  it.each([
    ['plain lines', Array.from({ length: 400 }, (_, i) => `Line ${i}: ${'v'.repeat(10)}`).join('\n')],
    ['inside a code block', `Output:\n\`\`\`\n${'x'.repeat(5000)}\n\`\`\``],
    ['one long line', 'y'.repeat(10_000)],
  ])('cuts %s to the limit, ends with the marker and leaves no code block open', (_case, text) => {
    const fitted = fitDescription(text);
    expect(fitted.length).toBeLessThanOrEqual(CHATBOT_DESCRIPTION_MAX);
    expect(fitted.endsWith(CUT_MARKER)).toBe(true);
    expect(fitted.split('\n').filter((line) => line === '```').length % 2).toBe(0);
  });
});
