/**
 * What the sandbox asks IAM for each call (test/sandbox/iam/checks.ts): the
 * action, the resources the Service Authorization Reference names for it, and
 * the condition keys; calls it cannot name a resource for fail loudly.
 */
import { authorizationChecks, IamMappingError, LITERAL_STAR, type ResourceLookup } from '../../sandbox/iam/checks';
import { parseCall, type ApiCall } from '../../sandbox/iam/request';

const SCOPE = { region: 'eu-west-1', accountId: '123456789012' };
const GROUP_ARN = 'arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:abcd:autoScalingGroupName/compute';
const LOOKUP: ResourceLookup = {
  groupArn: async (name) => (name === 'compute' ? GROUP_ARN : undefined),
  groupOfInstance: async (id) => (id === 'i-0aaaaaaaaaaaaaaaa' ? 'compute' : undefined),
  tagsOf: async (id): Promise<Record<string, string>> => (id === 'i-0aaaaaaaaaaaaaaaa' ? { 'aws:autoscaling:groupName': 'compute' } : {}),
  partitionKeyOf: async (table) => (table === 'coord' ? 'key' : undefined),
};
const TABLE_ARN = 'arn:aws:dynamodb:eu-west-1:123456789012:table/coord';
const AUTH = (service: string) => `AWS4-HMAC-SHA256 Credential=ASIA0000000000000000/20260101/eu-west-1/${service}/aws4_request, SignedHeaders=host, Signature=x`;

function query(service: string, form: Record<string, string>): ApiCall {
  return parseCall({ authorization: AUTH(service), 'content-type': 'application/x-www-form-urlencoded' }, Buffer.from(new URLSearchParams(form).toString()));
}
function json(service: string, target: string, body: Record<string, unknown>): ApiCall {
  return parseCall({ authorization: AUTH(service), 'x-amz-target': target }, Buffer.from(JSON.stringify(body)));
}

describe('authorization checks', () => {
  it.each<[string, ApiCall, { action: string; resource: string }[]]>([
    ['a group action on the group named, with its id', query('autoscaling', { Action: 'SetDesiredCapacity', AutoScalingGroupName: 'compute', DesiredCapacity: '1' }), [{ action: 'autoscaling:SetDesiredCapacity', resource: GROUP_ARN }]],
    ['an unknown group: still decided on its name', query('autoscaling', { Action: 'CompleteLifecycleAction', AutoScalingGroupName: 'other' }), [{ action: 'autoscaling:CompleteLifecycleAction', resource: 'arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/other' }]],
    ['terminate: the group of the instance', query('autoscaling', { Action: 'TerminateInstanceInAutoScalingGroup', InstanceId: 'i-0aaaaaaaaaaaaaaaa' }), [{ action: 'autoscaling:TerminateInstanceInAutoScalingGroup', resource: GROUP_ARN }]],
    ['SetInstanceHealth: the group of the instance', query('autoscaling', { Action: 'SetInstanceHealth', InstanceId: 'i-0aaaaaaaaaaaaaaaa', HealthStatus: 'Unhealthy' }), [{ action: 'autoscaling:SetInstanceHealth', resource: GROUP_ARN }]],
    ['a Describe without resource type: *', query('autoscaling', { Action: 'DescribeAutoScalingGroups' }), [{ action: 'autoscaling:DescribeAutoScalingGroups', resource: '*' }]],
    ['SQS: the queue from its URL, a batch as its single action', json('sqs', 'AmazonSQS.DeleteMessageBatch', { QueueUrl: 'http://127.0.0.1:4566/123456789012/q1', Entries: [] }), [{ action: 'sqs:DeleteMessage', resource: 'arn:aws:sqs:eu-west-1:123456789012:q1' }]],
    ['a parameter without its leading slash', json('ssm', 'AmazonSSM.PutParameter', { Name: '/pas/t/lifecycle/i-1/tok' }), [{ action: 'ssm:PutParameter', resource: 'arn:aws:ssm:eu-west-1:123456789012:parameter/pas/t/lifecycle/i-1/tok' }]],
    ['GetParametersByPath: the path', json('ssm', 'AmazonSSM.GetParametersByPath', { Path: '/pas/t/storage/members' }), [{ action: 'ssm:GetParametersByPath', resource: 'arn:aws:ssm:eu-west-1:123456789012:parameter/pas/t/storage/members' }]],
    ['SendCommand: the document, then each instance', json('ssm', 'AmazonSSM.SendCommand', { DocumentName: 'doc', InstanceIds: ['i-0aaaaaaaaaaaaaaaa'] }), [
      { action: 'ssm:SendCommand', resource: 'arn:aws:ssm:eu-west-1:123456789012:document/doc' },
      { action: 'ssm:SendCommand', resource: 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0aaaaaaaaaaaaaaaa' },
    ]],
    ['CloudWatch signs as monitoring; all alarms is the literal alarm:*', json('monitoring', 'GraniteServiceVersion20100801.DescribeAlarms', {}), [{ action: 'cloudwatch:DescribeAlarms', resource: `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${LITERAL_STAR}` }]],
    ['Lambda delivering logs: CreateLogStream and PutLogEvents act on the log stream', json('logs', 'Logs_20140328.PutLogEvents', { logGroupName: '/aws/lambda/f', logStreamName: '2026/01/01/[$LATEST]ab', logEvents: [] }), [{ action: 'logs:PutLogEvents', resource: 'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/f:log-stream:2026/01/01/[$LATEST]ab' }]],
    ['DynamoDB PutItem: the table', json('dynamodb', 'DynamoDB_20120810.PutItem', { TableName: 'coord', Item: { key: { S: 'storage/lock' }, owner: { S: 'o' } } }), [{ action: 'dynamodb:PutItem', resource: TABLE_ARN }]],
    ['DynamoDB: a table named by its ARN', json('dynamodb', 'DynamoDB_20120810.GetItem', { TableName: TABLE_ARN, Key: { key: { S: 'k' } } }), [{ action: 'dynamodb:GetItem', resource: TABLE_ARN }]],
    ['DynamoDB Scan: the table, no key', json('dynamodb', 'DynamoDB_20120810.Scan', { TableName: 'coord' }), [{ action: 'dynamodb:Scan', resource: TABLE_ARN }]],
    ['ELBv2: the target group ARN given', query('elasticloadbalancing', { Action: 'RegisterTargets', TargetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/tg/1' }), [{ action: 'elasticloadbalancing:RegisterTargets', resource: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/tg/1' }]],
  ])('%s', async (_title, call, expected) => {
    const checks = await authorizationChecks(call, LOOKUP, SCOPE);
    expect(checks.map(({ action, resource }) => ({ action, resource }))).toEqual(expected);
  });

  it('gives the instance tags as ssm:resourceTag and aws:ResourceTag keys to SendCommand', async () => {
    const [, instance] = await authorizationChecks(json('ssm', 'AmazonSSM.SendCommand', { DocumentName: 'doc', InstanceIds: ['i-0aaaaaaaaaaaaaaaa'] }), LOOKUP, SCOPE);
    expect(instance?.context).toEqual({ 'ssm:resourceTag/aws:autoscaling:groupName': 'compute', 'aws:ResourceTag/aws:autoscaling:groupName': 'compute' });
  });

  it.each<[string, ApiCall]>([
    ['PutItem (Item)', json('dynamodb', 'DynamoDB_20120810.PutItem', { TableName: 'coord', Item: { key: { S: 'lifecycle/i-1/launch' }, owner: { S: 'm' } } })],
    ['DeleteItem (Key)', json('dynamodb', 'DynamoDB_20120810.DeleteItem', { TableName: 'coord', Key: { key: { S: 'lifecycle/i-1/launch' } } })],
    ['UpdateItem (Key)', json('dynamodb', 'DynamoDB_20120810.UpdateItem', { TableName: 'coord', Key: { key: { S: 'lifecycle/i-1/launch' } } })],
  ])('gives a DynamoDB item action the partition key value as dynamodb:LeadingKeys: %s', async (_what, call) => {
    const [check] = await authorizationChecks(call, LOOKUP, SCOPE);
    expect(check?.context).toEqual({ 'dynamodb:LeadingKeys': ['lifecycle/i-1/launch'] });
  });

  it('gives CreateTags the request tags and keys and the resource tags', async () => {
    const call = query('ec2', { Action: 'CreateTags', 'ResourceId.1': 'i-0aaaaaaaaaaaaaaaa', 'Tag.1.Key': 'k', 'Tag.1.Value': 'v' });
    const [check] = await authorizationChecks(call, LOOKUP, SCOPE);
    expect(check?.context).toMatchObject({ 'aws:TagKeys': ['k'], 'aws:RequestTag/k': 'v', 'aws:ResourceTag/aws:autoscaling:groupName': 'compute' });
  });

  it.each<[string, ApiCall]>([
    ['an action with a resource type and no builder', query('autoscaling', { Action: 'DeleteAutoScalingGroup', AutoScalingGroupName: 'compute' })],
    ['SendCommand by Targets', json('ssm', 'AmazonSSM.SendCommand', { DocumentName: 'doc', Targets: [{ Key: 'tag:x', Values: ['y'] }] })],
    ['an operation that is no IAM action', query('autoscaling', { Action: 'NoSuchThing' })],
    ['a service the sandbox does not know', query('kinesis', { Action: 'PutRecord' })],
    ['a DynamoDB item action without its partition key', json('dynamodb', 'DynamoDB_20120810.GetItem', { TableName: 'coord', Key: { other: { S: 'x' } } })],
    ['a DynamoDB action with a resource type and no builder', json('dynamodb', 'DynamoDB_20120810.Query', { TableName: 'coord' })],
  ])('fails loudly on %s', async (_title, call) => {
    await expect(authorizationChecks(call, LOOKUP, SCOPE)).rejects.toThrow(IamMappingError);
  });
});
