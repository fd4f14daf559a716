import { filterPolicyFor, opsSubscriptionResources, parseOpsSubscriptions } from '../../../lib/config/ops-subscriptions';

const CHATBOT = 'https://global.sns-api.chatbot.amazonaws.com';

describe('parseOpsSubscriptions', () => {
  it.each([
    ['absent', undefined, []],
    ['empty', '', []],
    ['an empty list', [], []],
    ['a YAML list', [{ protocol: 'https', endpoint: CHATBOT, minSeverity: 'warning' }], [{ protocol: 'https', endpoint: CHATBOT, minSeverity: 'warning' }]],
    ['JSON from the command line, minSeverity defaulting to info', '[{"protocol":"email","endpoint":"ops@example.org"}]', [{ protocol: 'email', endpoint: 'ops@example.org', minSeverity: 'info' }]],
  ])('%s', (_case, value, expected) => {
    expect(parseOpsSubscriptions(value)).toEqual(expected);
  });

  it.each([
    ['not JSON', '[{', /opsSubscriptions must be a list of \{protocol, endpoint, minSeverity\} \(JSON on the command line\)/],
    ['not a list', { protocol: 'email' }, /opsSubscriptions must be a list/],
    ['an entry that is not an object', ['ops@example.org'], /opsSubscriptions\[0\] must be \{protocol, endpoint, minSeverity\}/],
    ['a field nobody reads', [{ protocol: 'email', endpoint: 'a@b.c', filter: 'x' }], /opsSubscriptions\[0\] has filter: only protocol, endpoint and minSeverity are read/],
    ['SQS, which needs a queue policy this stack does not write', [{ protocol: 'sqs', endpoint: 'arn:aws:sqs:eu-west-1:123456789012:q' }], /opsSubscriptions\[0\]\.protocol must be one of email, email-json, https/],
    ['an http endpoint for https', [{ protocol: 'https', endpoint: 'http://hooks.example.org' }], /opsSubscriptions\[0\]\.endpoint must be an https:\/\/ URL for protocol https/],
    ['an address without @', [{ protocol: 'email', endpoint: 'ops' }], /opsSubscriptions\[0\]\.endpoint must be an e-mail address/],
    ['an unknown severity', [{ protocol: 'email', endpoint: 'a@b.c', minSeverity: 'critical' }], /opsSubscriptions\[0\]\.minSeverity must be one of info, warning, error/],
    ['the same endpoint twice', [{ protocol: 'email', endpoint: 'a@b.c' }, { protocol: 'email', endpoint: 'a@b.c', minSeverity: 'error' }], /opsSubscriptions\[1\] subscribes a@b\.c \(email\) a second time/],
  ])('refuses %s, naming the entry', (_case, value, expected) => {
    expect(() => parseOpsSubscriptions(value)).toThrow(expected);
  });
});

describe('filterPolicyFor: the severities from the least one on, exact strings', () => {
  it.each([
    ['info', undefined],
    ['warning', { severity: ['warning', 'error'] }],
    ['error', { severity: ['error'] }],
  ] as const)('%s -> %j', (min, expected) => {
    expect(filterPolicyFor(min)).toEqual(expected);
  });
});

describe('opsSubscriptionResources', () => {
  it('one AWS::SNS::Subscription each on the ops topic, filtered on the severity attribute, never raw', () => {
    const resources = opsSubscriptionResources([
      { protocol: 'https', endpoint: CHATBOT, minSeverity: 'warning' },
      { protocol: 'email', endpoint: 'all@example.org', minSeverity: 'info' },
    ]);
    expect(resources).toEqual({
      OpsSubscription1: { Type: 'AWS::SNS::Subscription', Properties: { TopicArn: { Ref: 'NotificationsTopic' }, Protocol: 'https', Endpoint: CHATBOT, FilterPolicyScope: 'MessageAttributes', FilterPolicy: { severity: ['warning', 'error'] } } },
      OpsSubscription2: { Type: 'AWS::SNS::Subscription', Properties: { TopicArn: { Ref: 'NotificationsTopic' }, Protocol: 'email', Endpoint: 'all@example.org' } },
    });
  });
});
