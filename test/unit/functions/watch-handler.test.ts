import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { WATCH_ENV } from '../config/watch-env';

const context = { functionName: 'watch', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
const SCHEDULED = {
  version: '0', id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '123456789012',
  time: '2026-11-21T10:00:00Z', region: 'eu-west-1', resources: ['arn:aws:events:eu-west-1:123456789012:rule/pydio-autoscaler-test-watch'], detail: {},
};

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

function loadHandler(env: Record<string, string | undefined>, isolated = false) {
  Object.assign(process.env, env, { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', POWERTOOLS_LOG_LEVEL: 'SILENT' });
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  let mod: typeof import('../../../functions/watch/handler') | undefined;
  if (isolated) {
    jest.isolateModules(() => {
      mod = require('../../../functions/watch/handler');
    });
  } else {
    mod = require('../../../functions/watch/handler');
  }
  return mod!;
}

describe('watch handler', () => {
  const asg = mockClient(AutoScalingClient);
  const elb = mockClient(ElasticLoadBalancingV2Client);
  const ddb = mockClient(DynamoDBClient);
  const sqs = mockClient(SQSClient);
  const ssm = mockClient(SSMClient);
  beforeEach(() => {
    for (const m of [asg, elb, ddb, sqs, ssm]) m.reset();
    asg.on(DescribeAutoScalingGroupsCommand).callsFake((input: { AutoScalingGroupNames: string[] }) => ({
      AutoScalingGroups: [{ AutoScalingGroupName: input.AutoScalingGroupNames[0], MinSize: 1, MaxSize: 4, DesiredCapacity: 1, CreatedTime: new Date(), DefaultCooldown: 300, HealthCheckType: 'EC2', AvailabilityZones: ['eu-west-1a'], Instances: [] }],
    }));
    elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
    ddb.on(PutItemCommand).resolves({});
    ddb.on(GetItemCommand).resolves({});
    ddb.on(DeleteItemCommand).resolves({});
    sqs.on(SendMessageCommand).resolves({ MessageId: 'q-1' });
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('not found'), { name: 'ParameterNotFound' }));
  });

  it('stops at cold start with an error naming a missing setting', () => {
    expect(() => loadHandler({ ...WATCH_ENV, COORDINATION_TABLE: undefined }, true)).toThrow('COORDINATION_TABLE is required but not set');
  });

  it('runs once per Scheduled Event: sends nothing on a quiet cluster, remembers its state, gives its run hold back', async () => {
    const { handler } = loadHandler(WATCH_ENV);
    const report = await handler(SCHEDULED, context);
    expect(report).toEqual({ outcome: 'done', actions: [], notes: [] });
    const sent = sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
    // No Gluster health request: the storage function has no health flow in this version and would refuse it.
    expect(sent).toEqual([]);
    const written = ddb.commandCalls(PutItemCommand).map((c) => c.args[0].input.Item?.key?.S);
    expect(written).toEqual(['watch/run', 'watch/state']);
    expect(ddb.commandCalls(DeleteItemCommand).map((c) => c.args[0].input.Key?.key?.S)).toEqual(['watch/run']);
  });

  it('refuses anything but the Scheduled Event or {}, naming it, and changes nothing', async () => {
    const { handler } = loadHandler(WATCH_ENV);
    await expect(handler({ ...SCHEDULED, source: 'aws.autoscaling' }, context)).rejects.toThrow('source "aws.autoscaling" is not aws.events');
    expect(sqs.commandCalls(SendMessageCommand)).toEqual([]);
    expect(ddb.commandCalls(PutItemCommand)).toEqual([]);
  });
});
