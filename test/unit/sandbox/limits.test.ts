import { cloudWatchRefusal, createTagsRefusal, deleteParametersRefusal, documentRefusal, putParameterRefusal, queryAttributes, queueAttributesRefusal, snsPublishRefusal, snsPublishRewrite } from '../../sandbox/control-plane/limits';

const form = (entries: Record<string, string>) => new URLSearchParams({ Action: 'Publish', TopicArn: 'arn:aws:sns:eu-west-1:123456789012:t', ...entries });

describe('snsPublishRefusal: what SNS refuses and moto 5.2.1 takes', () => {
  it.each<[string, Record<string, string>]>([
    ['a subject of 100 characters', { Subject: 's'.repeat(100), Message: 'm' }],
    ['a subject with a line break', { Subject: 'a\nb', Message: 'm' }],
    ['an empty message', { Message: '' }],
    ['a message over 256 KB', { Message: 'm'.repeat(262_145) }],
    ['an attribute named AWS.x', { Message: 'm', 'MessageAttributes.entry.1.Name': 'AWS.x', 'MessageAttributes.entry.1.Value.DataType': 'String', 'MessageAttributes.entry.1.Value.StringValue': 'v' }],
  ])('refuses %s with InvalidParameter', (_what, entries) => {
    expect(snsPublishRefusal(form(entries))?.code).toMatch(/^InvalidParameter/);
  });

  it('lets a 99-character subject, a UTF-8 ellipsis and a plain attribute through', () => {
    expect(snsPublishRefusal(form({ Subject: `${'s'.repeat(98)}…`, Message: 'm', 'MessageAttributes.entry.1.Name': 'eventType' }))).toBeUndefined();
  });
});

describe('putParameterRefusal: what Parameter Store refuses and moto 5.2.1 takes', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['16 levels', { Name: `/${Array.from({ length: 16 }, () => 'x').join('/')}`, Value: 'v' }, 'HierarchyLevelLimitExceededException'],
    ['a space in the name', { Name: '/a/b c', Value: 'v' }, 'ValidationException'],
    ['a name prefixed ssm', { Name: '/ssm/x', Value: 'v' }, 'ValidationException'],
    ['a name of 1012 characters', { Name: `/${'y'.repeat(1011)}`, Value: 'v' }, 'ValidationException'],
    ['a Standard value of 4097 characters', { Name: '/a/b', Value: 'v'.repeat(4097) }, 'ValidationException'],
  ])('refuses %s', (_what, input, code) => {
    expect(putParameterRefusal(input)?.code).toBe(code);
  });

  it("lets the product's deepest name and a 4096-character value through", () => {
    expect(putParameterRefusal({ Name: '/pydio-autoscaler/dev/storage/lifecycle/i-0123456789abcdef0/87654321-4321-4321-4321-210987654321', Value: 'v'.repeat(4096) })).toBeUndefined();
  });
});

describe('deleteParametersRefusal: what Parameter Store refuses and moto 5.2.1 takes', () => {
  const names = (n: number) => Array.from({ length: n }, (_, i) => `/pydio-autoscaler/dev/storage/members/i-${i}`);
  it.each([[0], [11]])('refuses %p names in one call', (n) => {
    expect(deleteParametersRefusal({ Names: names(n) })?.code).toBe('ValidationException');
  });
  it.each([[1], [10]])('lets %p names through', (n) => {
    expect(deleteParametersRefusal({ Names: names(n) })).toBeUndefined();
  });
});

describe('createTagsRefusal: what EC2 refuses and moto 5.2.1 takes', () => {
  const tags = (key: string, value = 'v') => new URLSearchParams({ Action: 'CreateTags', 'ResourceId.1': 'i-0123456789abcdef0', 'Tag.1.Key': key, 'Tag.1.Value': value });
  it.each([
    ['a 129-character key', tags('k'.repeat(129))],
    ['an aws: key', tags('aws:x')],
    ['an AWS: key', tags('AWS:x')],
    ['a 257-character value', tags('k', 'v'.repeat(257))],
  ])('refuses %s', (_what, request) => {
    expect(createTagsRefusal(request)?.code).toBe('InvalidParameterValue');
  });

  it("lets the product's state tags through", () => {
    expect(createTagsRefusal(tags('pydio-autoscaler:storage-state', 'joined'))).toBeUndefined();
  });
});

describe('the replies a refusal is sent as', () => {
  it('EC2 answers in its own Query error shape, which the EC2 adapter reads', async () => {
    const { ec2QueryError, ApiError } = await import('../../sandbox/control-plane/wire');
    const { parseXml, child } = await import('../../../lib/core/storage/xml');
    const reply = ec2QueryError(new ApiError('InvalidParameterValue', 'Tag keys starting with \'aws:\' are reserved for internal use'));
    expect(reply.status).toBe(400);
    const error = child(child(parseXml(reply.body, 'reply'), 'Errors', 'reply'), 'Error', 'reply');
    expect(child(error, 'Code', 'reply').text).toBe('InvalidParameterValue');
  });
});

describe('cloudWatchRefusal: what CloudWatch refuses and moto 5.2.1 takes', () => {
  const end = '2026-11-21T12:00:00Z';
  const start = (seconds: number) => new Date(Date.parse(end) - seconds * 1000).toISOString();
  it.each<[string, string, Record<string, unknown>, string]>([
    ['101 alarm names', 'DescribeAlarms', { AlarmNames: Array.from({ length: 101 }, (_, i) => `a${i}`) }, 'ValidationError'],
    ['1,441 datapoints', 'GetMetricStatistics', { Period: 60, StartTime: start(1441 * 60), EndTime: end }, 'InvalidParameterCombination'],
    ['period 45', 'GetMetricStatistics', { Period: 45, StartTime: start(450), EndTime: end }, 'InvalidParameterValue'],
    ['period 0', 'GetMetricStatistics', { Period: 0, StartTime: start(60), EndTime: end }, 'InvalidParameterValue'],
  ])('refuses %s', (_what, operation, input, code) => {
    expect(cloudWatchRefusal(operation, input)?.code).toBe(code);
  });

  it.each<[string, string, Record<string, unknown>]>([
    ['100 alarm names', 'DescribeAlarms', { AlarmNames: Array.from({ length: 100 }, (_, i) => `a${i}`) }],
    ['1,440 datapoints of 60 s', 'GetMetricStatistics', { Period: 60, StartTime: start(1440 * 60), EndTime: end }],
    ['high-resolution periods 1, 5, 10, 30', 'GetMetricStatistics', { Period: 10, StartTime: start(600), EndTime: end }],
    ['epoch-second times', 'GetMetricStatistics', { Period: 300, StartTime: Date.parse(end) / 1000 - 3600, EndTime: Date.parse(end) / 1000 }],
  ])('lets %s through', (_what, operation, input) => {
    expect(cloudWatchRefusal(operation, input)).toBeUndefined();
  });
});

describe('documentRefusal: what SSM refuses and moto 5.2.1 takes', () => {
  it('refuses a document over 64 KB with MaxDocumentSizeExceeded, counting UTF-8 bytes', () => {
    expect(documentRefusal({ Name: 'd', Content: 'x'.repeat(64 * 1024 + 1) })?.code).toBe('MaxDocumentSizeExceeded');
    expect(documentRefusal({ Name: 'd', Content: 'é'.repeat(32 * 1024 + 1) })?.code).toBe('MaxDocumentSizeExceeded');
  });

  it('lets a document of exactly 64 KB through', () => {
    expect(documentRefusal({ Name: 'd', Content: 'x'.repeat(64 * 1024) })).toBeUndefined();
  });
});

describe('queueAttributesRefusal: what SQS refuses and moto 5.2.1 takes', () => {
  it.each<[string, Record<string, unknown>]>([
    ['a retention of 14 days and a second', { MessageRetentionPeriod: '1209601' }],
    ['a retention under a minute', { MessageRetentionPeriod: '59' }],
    ['a visibility timeout over 12 hours', { VisibilityTimeout: '43201' }],
    ['a delay over 15 minutes', { DelaySeconds: '901' }],
    ['a long poll over 20 seconds', { ReceiveMessageWaitTimeSeconds: '21' }],
    ['a retention that is not a whole number', { MessageRetentionPeriod: '1e6' }],
  ])('refuses %s with InvalidAttributeValue', (_what, attributes) => {
    expect(queueAttributesRefusal(attributes)?.code).toBe('InvalidAttributeValue');
  });

  it("lets the stack's values through (14 days retention, 360 s visibility), and reads the query form's attributes", () => {
    expect(queueAttributesRefusal({ MessageRetentionPeriod: '1209600', VisibilityTimeout: '360', RedrivePolicy: '{}' })).toBeUndefined();
    expect(queryAttributes(new URLSearchParams({ Action: 'CreateQueue', 'Attribute.1.Name': 'MessageRetentionPeriod', 'Attribute.1.Value': '1209601' }))).toEqual({ MessageRetentionPeriod: '1209601' });
  });
});

describe('SNS MessageStructure=json, as SNS reads it (moto 5.2.1 checks only while delivering, and picks keys SNS ignores)', () => {
  const json = (message: unknown) => form({ MessageStructure: 'json', Message: typeof message === 'string' ? message : JSON.stringify(message) });

  it.each<[string, ReturnType<typeof json>, string]>([
    ['no default entry', json({ sqs: 'x' }), 'Invalid parameter: Message Structure - No default entry in JSON message body'],
    ['a default that is not a string', json({ default: { object: 'x' } }), 'Invalid parameter: Message Structure - No default entry in JSON message body'],
    ['a body that is not JSON', json('{"default": "x"} }'), 'Invalid parameter: Message Structure - JSON message body failed to parse'],
    ['a JSON array', json('["default"]'), 'Invalid parameter: Message Structure - JSON message body failed to parse'],
  ])('refuses %s with InvalidParameter, in SNS\'s words', (_what, request, message) => {
    expect(snsPublishRefusal(request)).toMatchObject({ code: 'InvalidParameter', message });
  });

  it('takes a default with other protocols, and plain messages that look like JSON', () => {
    expect(snsPublishRefusal(json({ default: 'text', https: '{}', sqs: '{}' }))).toBeUndefined();
    expect(snsPublishRefusal(form({ Message: '{"sqs":"no default, but no MessageStructure either"}' }))).toBeUndefined();
  });

  it('counts the message attributes in the 256 KB', () => {
    const attributes = { 'MessageAttributes.entry.1.Name': 'n', 'MessageAttributes.entry.1.Value.DataType': 'String', 'MessageAttributes.entry.1.Value.StringValue': 'v'.repeat(100) };
    expect(snsPublishRefusal(form({ Message: 'm'.repeat(262_144 - 110), ...attributes }))).toBeUndefined();
    expect(snsPublishRefusal(form({ Message: 'm'.repeat(262_144 - 100), ...attributes }))?.message).toBe('Invalid parameter: Message too long');
  });

  it('forwards only the string values of protocol keys, which are what SNS delivers', () => {
    const rewritten = snsPublishRewrite(json({ default: 'd', sqs: { field: 'value' }, https: 'h', note: 'n' }));
    expect(JSON.parse(rewritten?.get('Message') ?? '')).toEqual({ default: 'd', https: 'h' });
    expect(snsPublishRewrite(json({ default: 'd', sqs: 's' }))).toBeUndefined();
    expect(snsPublishRewrite(form({ Message: '{"sqs":{}}' }))).toBeUndefined();
  });
});
