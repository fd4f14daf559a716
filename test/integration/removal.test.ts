/**
 * The runbook's removal (README "### Removal") against the emulator: a stage with a storage
 * group deployed by the sandbox's deploy (moto behind the control-plane front), the records the
 * functions keep outside the stack written through the product's own adapters and names
 * (Parameter Store records, the storage-state tags, scale-in protection), then `sls remove`
 * as CloudFormation's DeleteStack (test/sandbox/stack/remove.ts). Every stack resource must
 * answer "not found" afterwards, exactly what the README says stays must still be there, and
 * the README's own cleanup commands, run with the AWS CLI against the emulator, must clear it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeLifecycleHooksCommand,
  SetDesiredCapacityCommand,
  type Instance as AsgInstance,
} from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeTagsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeTargetGroupsCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeRuleCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetSubscriptionAttributesCommand, GetTopicAttributesCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DescribeDocumentCommand, GetParameterCommand, GetParametersByPathCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { createAutoScalingPort } from '../../lib/aws/autoscaling';
import { createEc2Transport, createInstanceTagPort } from '../../lib/aws/ec2-volumes';
import { createSsmPort } from '../../lib/aws/ssm';
import { ec2Endpoint } from '../../lib/config/ec2-endpoint';
import { BOOTSTRAP_KEY, healthName, memberName, summaryName, type MemberRecord } from '../../lib/core/records';
import type { Log } from '../../lib/logger';
import { MEMBER_SINCE_TAG, MEMBER_STATE_TAG } from '../../lib/usecases/storage/launch-flow';
import { createComputeGroup, createLaunchTemplate, createNetwork, createTargetGroup } from '../sandbox/control-plane/aws-setup';
import type { MotoServer } from '../sandbox/control-plane/moto';
import { deployStack, type DeployedResource, type DeployedStack } from '../sandbox/stack/deploy';
import { packageStack, type PackagedStack } from '../sandbox/stack/package';
import { removeStack, type RemovedResource } from '../sandbox/stack/remove';
import { startHarness, startMoto, type Harness } from './control-plane/harness';

jest.setTimeout(400_000);

const STAGE = 'h6rm';
const COMPUTE_GROUP = 'h6rm-compute';
const STORAGE_GROUP = 'h6rm-storage';
const TARGET_GROUP_PLACEHOLDER = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/h6rm-placeholder/0000000000000000';
const AWS_CLI = '/usr/bin/aws';
/** Another stage's record: the README's cleanup of this stage must leave it. */
const OTHER_STAGE_RECORD = healthName('h6other');
/** Members that left long ago keep their record (state departed): with the two live ones, more than one delete-parameters call. */
const DEPARTED = Array.from({ length: 10 }, (_, i) => `i-0departed${String(i).padStart(7, '0')}`);

const quiet: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

let moto: MotoServer;
let packaged: PackagedStack;
let h: Harness;
let stack: DeployedStack;
let targetGroupArn: string;
let members: AsgInstance[];
let removed: RemovedResource[];
let removeMs: number;
/** Resources whose "not found" probe already answered "not found" before the removal (a probe that cannot fail). */
let goneBefore: string[];
/** The compute instance left waiting in Pending:Wait on the stack's launch hook when the stack was removed. */
let waiting: string;

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The AWS CLI (Debian's awscli) against the emulator, with the fake credentials and no pager. */
async function aws(args: readonly string[]): Promise<string> {
  const env = { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_PAGER: '' };
  const r = await run(AWS_CLI, [...args, '--endpoint-url', h.cp.url, '--region', 'eu-west-1', '--output', 'json'], env);
  if (r.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${String(r.code)}: ${r.stderr.trim()}`);
  return r.stdout;
}

const notFound = async (call: () => Promise<unknown>, code: string | RegExp): Promise<boolean> => {
  try {
    await call();
    return false;
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    return typeof code === 'string' ? name === code : code.test(name);
  }
};

/** Whether a resource the deploy created now answers "not found" through its service's own Describe/Get call. */
async function isGone(r: DeployedResource): Promise<boolean> {
  const config = h.config;
  switch (r.type) {
    case 'AWS::SQS::Queue':
      return notFound(() => new SQSClient(config).send(new GetQueueUrlCommand({ QueueName: r.attributes.QueueName })), /QueueDoesNotExist|NonExistentQueue/);
    case 'AWS::SQS::QueuePolicy':
      // The policy is an attribute of its queues: gone with them (each queue is checked above).
      return (await Promise.all((r.removeWith?.Queues ?? '').split(' ').map((url) => notFound(() => new SQSClient(config).send(new GetQueueUrlCommand({ QueueName: url.split('/').pop() })), /QueueDoesNotExist|NonExistentQueue/)))).every(Boolean);
    case 'AWS::SNS::Topic':
      return notFound(() => new SNSClient(config).send(new GetTopicAttributesCommand({ TopicArn: r.physicalId })), 'NotFoundException');
    case 'AWS::SNS::Subscription':
      return notFound(() => new SNSClient(config).send(new GetSubscriptionAttributesCommand({ SubscriptionArn: r.physicalId })), 'NotFoundException');
    case 'AWS::SSM::Document':
      return notFound(() => new SSMClient(config).send(new DescribeDocumentCommand({ Name: r.physicalId })), 'InvalidDocument');
    case 'AWS::SSM::Parameter':
      return notFound(() => new SSMClient(config).send(new GetParameterCommand({ Name: r.physicalId })), 'ParameterNotFound');
    case 'AWS::Events::Rule':
      return notFound(() => new EventBridgeClient(config).send(new DescribeRuleCommand({ Name: r.physicalId })), 'ResourceNotFoundException');
    case 'AWS::AutoScaling::LifecycleHook': {
      const out = await new AutoScalingClient(config).send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: r.removeWith?.AutoScalingGroupName, LifecycleHookNames: [r.physicalId] }));
      return (out.LifecycleHooks ?? []).length === 0;
    }
    case 'AWS::CloudWatch::Alarm': {
      const out = await new CloudWatchClient(config).send(new DescribeAlarmsCommand({ AlarmNames: [r.physicalId] }));
      return [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])].length === 0;
    }
    case 'AWS::Logs::LogGroup': {
      const out = await new CloudWatchLogsClient(config).send(new DescribeLogGroupsCommand({ logGroupNamePrefix: r.physicalId }));
      return !(out.logGroups ?? []).some((g) => g.logGroupName === r.physicalId);
    }
    case 'AWS::DynamoDB::Table':
      return notFound(() => new DynamoDBClient(config).send(new DescribeTableCommand({ TableName: r.physicalId })), 'ResourceNotFoundException');
    default:
      throw new Error(`${r.logicalId}: the test has no "not found" probe for ${r.type}: add one`);
  }
}

async function parametersUnder(path: string): Promise<string[]> {
  const ssm = new SSMClient(h.config);
  const names: string[] = [];
  let token: string | undefined;
  for (let page = 0; page < 20; page += 1) {
    const out = await ssm.send(new GetParametersByPathCommand({ Path: path, Recursive: true, MaxResults: 10, ...(token ? { NextToken: token } : {}) }));
    names.push(...(out.Parameters ?? []).map((p) => p.Name ?? ''));
    token = out.NextToken;
    if (!token) break;
  }
  return names.sort();
}

async function storageTags(instanceIds: readonly string[]): Promise<string[]> {
  const out = await new EC2Client(h.config).send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [...instanceIds] }, { Name: 'key', Values: [MEMBER_STATE_TAG, MEMBER_SINCE_TAG] }] }));
  return (out.Tags ?? []).map((t) => `${t.ResourceId} ${t.Key}`).sort();
}

async function computeInstances(): Promise<AsgInstance[]> {
  const out = await new AutoScalingClient(h.config).send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [COMPUTE_GROUP] }));
  return out.AutoScalingGroups?.[0]?.Instances ?? [];
}

async function storageGroup() {
  const out = await new AutoScalingClient(h.config).send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [STORAGE_GROUP] }));
  return out.AutoScalingGroups?.[0];
}

beforeAll(async () => {
  packaged = await packageStack({
    stage: STAGE,
    params: { computeGroupName: COMPUTE_GROUP, storageGroupName: STORAGE_GROUP, targetGroupArn: TARGET_GROUP_PLACEHOLDER },
  });
  moto = await startMoto();
  h = await startHarness(moto);
  const endpoint = h.cp.url;

  // What exists before the stack and is never the stack's: the network, the groups, the target group.
  const network = await createNetwork(endpoint);
  const subnetIds = network.subnets.map((s) => s.subnetId);
  const launchTemplateId = await createLaunchTemplate(endpoint, 'h6rm-lt');
  targetGroupArn = await createTargetGroup(endpoint, { name: 'h6rm-tg', vpcId: network.vpcId });
  await createComputeGroup(endpoint, { name: COMPUTE_GROUP, launchTemplateId, subnetIds, min: 0, max: 2, desired: 0 });
  await createComputeGroup(endpoint, { name: STORAGE_GROUP, launchTemplateId, subnetIds, min: 0, max: 3, desired: 2 });

  const started = Date.now();
  stack = await deployStack({ endpoint, template: packaged.template, replace: { [TARGET_GROUP_PLACEHOLDER]: targetGroupArn } });
  console.info(`removal test: stage ${STAGE} deployed in ${Date.now() - started} ms (${Object.values(stack.resources).filter((r) => r.status === 'created').length} resources created)`);

  members = (await storageGroup())?.Instances ?? [];
  expect(members).toHaveLength(2);
  const ids = members.map((m) => m.InstanceId ?? '');

  // What the storage function writes outside the stack, through its own adapters and names.
  const ssm = createSsmPort(new SSMClient(h.config), { dryRun: false, log: quiet });
  const now = new Date().toISOString();
  for (const m of members) {
    const record: MemberRecord = { instanceId: m.InstanceId ?? '', host: `10.71.1.${ids.indexOf(m.InstanceId ?? '') + 10}`, zone: m.AvailabilityZone ?? '', state: 'joined', lastSeen: now };
    await ssm.putParameter(memberName(STAGE, record.instanceId), JSON.stringify(record));
  }
  for (const id of DEPARTED) await ssm.putParameter(memberName(STAGE, id), JSON.stringify({ instanceId: id, host: '10.71.2.99', zone: 'eu-west-1b', state: 'departed', lastSeen: now }));
  await ssm.putParameter(healthName(STAGE), JSON.stringify({ healthy: true, at: now }));
  await ssm.putParameter(summaryName(STAGE), JSON.stringify({ at: now }));
  await new SSMClient(h.config).send(new PutParameterCommand({ Name: OTHER_STAGE_RECORD, Value: '{"healthy":true}', Type: 'String' }));
  const tags = createInstanceTagPort(createEc2Transport(ec2Endpoint({ AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_EC2: endpoint }), { credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } }), { dryRun: false, log: quiet });
  for (const id of ids) await tags.tagInstance(id, { [MEMBER_STATE_TAG]: 'joined', [MEMBER_SINCE_TAG]: now });
  await createAutoScalingPort(new AutoScalingClient(h.config), { dryRun: false, log: quiet }).setInstanceProtection(STORAGE_GROUP, ids, true);
  // What lives in the stack: the bootstrap record in the coordination table, a message left in a dead-letter queue.
  await new DynamoDBClient(h.config).send(new PutItemCommand({ TableName: stack.physicalId('CoordinationTable'), Item: { key: { S: BOOTSTRAP_KEY }, volumes: { S: 'created' } } }));
  await new SQSClient({ ...h.config, useQueueUrlAsEndpoint: false }).send(new SendMessageCommand({ QueueUrl: stack.physicalId('LifecycleDeadLetterQueue'), MessageBody: '{"left":"behind"}' }));

  // A scale-out nobody answers (the functions do not run here): its instance waits on the stack's launch hook.
  await new AutoScalingClient(h.config).send(new SetDesiredCapacityCommand({ AutoScalingGroupName: COMPUTE_GROUP, DesiredCapacity: 1 }));
  waiting = (await computeInstances())[0]?.InstanceId ?? '';
  expect([waiting, h.cp.lifecycleStates()[waiting]]).toEqual([expect.stringMatching(/^i-/), 'Pending:Wait']);

  goneBefore = [];
  for (const r of Object.values(stack.resources)) if (r.status === 'created' && (await isGone(r))) goneBefore.push(r.logicalId);

  // npx sls remove --stage h6rm
  const removing = Date.now();
  removed = await removeStack({ endpoint, template: packaged.template, stack });
  removeMs = Date.now() - removing;
  console.info(`removal test: removed in ${removeMs} ms: ${removed.filter((r) => r.outcome === 'deleted').length} deleted, ${removed.filter((r) => r.outcome === 'retained').length} retained`);
}, 400_000);

afterAll(async () => {
  await h?.cp.stop();
  await moto?.stop();
});

test('every resource the stack created answers "not found" afterwards, the coordination table and the queues (with their messages) included', async () => {
  const created = Object.values(stack.resources).filter((r) => r.status === 'created');
  expect(created.map((r) => r.type)).toEqual(expect.arrayContaining(['AWS::DynamoDB::Table', 'AWS::SQS::Queue', 'AWS::AutoScaling::LifecycleHook', 'AWS::SSM::Document', 'AWS::SSM::Parameter', 'AWS::Events::Rule', 'AWS::CloudWatch::Alarm', 'AWS::SNS::Topic', 'AWS::Logs::LogGroup']));
  expect(removed.filter((r) => r.outcome === 'deleted').map((r) => r.logicalId).sort()).toEqual(created.map((r) => r.logicalId).sort());
  expect(goneBefore).toEqual([]);
  const stillThere: string[] = [];
  for (const r of created) if (!(await isGone(r))) stillThere.push(`${r.logicalId} (${r.type})`);
  expect(stillThere).toEqual([]);
});

test('removal runs in the reverse order of creation: a hook before nothing it needs, a queue policy before its queue, a rule before its target queue', () => {
  const order = removed.map((r) => r.logicalId);
  const before = (a: string, b: string) => expect([a, b, order.indexOf(a) < order.indexOf(b)]).toEqual([a, b, true]);
  const policies = removed.filter((r) => r.type === 'AWS::SQS::QueuePolicy');
  expect(policies.length).toBeGreaterThan(0);
  for (const p of policies) {
    const queues = (stack.resources[p.logicalId]?.removeWith?.Queues ?? '').split(' ');
    for (const q of Object.values(stack.resources).filter((r) => r.type === 'AWS::SQS::Queue' && queues.includes(r.physicalId))) before(p.logicalId, q.logicalId);
  }
  before('LifecycleQueue', 'LifecycleDeadLetterQueue');
});

test("an instance waiting on the stack's launch hook does not hang: deleting the hook completes its action with ABANDON, and its replacement comes up with no hook, never set up by the autoscaler", async () => {
  const now = await computeInstances();
  expect(now.map((i) => i.InstanceId)).not.toContain(waiting);
  expect(now.map((i) => [i.LifecycleState, h.cp.lifecycleStates()[i.InstanceId ?? '']])).toEqual([['InService', undefined]]);
  const hooks = await new AutoScalingClient(h.config).send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: COMPUTE_GROUP }));
  expect(hooks.LifecycleHooks).toEqual([]);
  const health = await new ElasticLoadBalancingV2Client(h.config).send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  expect(health.TargetHealthDescriptions ?? []).toEqual([]);
});

test('what the README says stays behind is still there: the Parameter Store records, the storage-state tags, scale-in protection, the groups, instances and target group', async () => {
  const ids = members.map((m) => m.InstanceId ?? '').sort();
  expect(await parametersUnder(`/pydio-autoscaler/${STAGE}/`)).toEqual(
    [healthName(STAGE), summaryName(STAGE), ...[...ids, ...DEPARTED].map((id) => memberName(STAGE, id))].sort(),
  );
  expect(await storageTags(ids)).toEqual(ids.flatMap((id) => [`${id} ${MEMBER_STATE_TAG}`, `${id} ${MEMBER_SINCE_TAG}`]).sort());
  const group = await storageGroup();
  expect(group?.Instances?.map((i) => [i.InstanceId, i.ProtectedFromScaleIn]).sort()).toEqual(ids.map((id) => [id, true]));
  const compute = await new AutoScalingClient(h.config).send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [COMPUTE_GROUP] }));
  expect(compute.AutoScalingGroups).toHaveLength(1);
  const tg = await new ElasticLoadBalancingV2Client(h.config).send(new DescribeTargetGroupsCommand({ TargetGroupArns: [targetGroupArn] }));
  expect(tg.TargetGroups).toHaveLength(1);
});

test("the README's cleanup commands, run with the AWS CLI, clear exactly this stage's records, tags and protection", async () => {
  expect(existsSync(AWS_CLI)).toBe(true);
  const ids = members.map((m) => m.InstanceId ?? '').sort();
  // aws ssm get-parameters-by-path --path /pydio-autoscaler/<stage>/ --recursive --query 'Parameters[].Name'
  const names = JSON.parse(await aws(['ssm', 'get-parameters-by-path', '--path', `/pydio-autoscaler/${STAGE}/`, '--recursive', '--query', 'Parameters[].Name'])) as string[];
  expect(names.sort()).toEqual(await parametersUnder(`/pydio-autoscaler/${STAGE}/`));
  expect(names.length).toBeGreaterThan(10);
  // aws ssm delete-parameters --names ... (10 names a call): 11 are refused, as AWS does
  await expect(aws(['ssm', 'delete-parameters', '--names', ...names.slice(0, 11)])).rejects.toThrow(/ValidationException.*less than or equal to 10/);
  for (let i = 0; i < names.length; i += 10) {
    const out = JSON.parse(await aws(['ssm', 'delete-parameters', '--names', ...names.slice(i, i + 10)])) as { DeletedParameters: string[]; InvalidParameters: string[] };
    expect([out.DeletedParameters.length, out.InvalidParameters]).toEqual([names.slice(i, i + 10).length, []]);
  }
  // aws ec2 delete-tags
  await aws(['ec2', 'delete-tags', '--resources', ...ids, '--tags', `Key=${MEMBER_STATE_TAG}`, `Key=${MEMBER_SINCE_TAG}`]);
  // aws autoscaling set-instance-protection --no-protected-from-scale-in --auto-scaling-group-name ... --instance-ids ...
  await aws(['autoscaling', 'set-instance-protection', '--no-protected-from-scale-in', '--auto-scaling-group-name', STORAGE_GROUP, '--instance-ids', ...ids]);

  expect(await parametersUnder(`/pydio-autoscaler/${STAGE}/`)).toEqual([]);
  expect(await parametersUnder('/pydio-autoscaler/h6other/')).toEqual([OTHER_STAGE_RECORD]);
  expect(await storageTags(ids)).toEqual([]);
  expect((await storageGroup())?.Instances?.map((i) => i.ProtectedFromScaleIn)).toEqual([false, false]);
  console.info(`removal test: remove took ${removeMs} ms`);
});

test('the groups stay the user\'s: DeleteAutoScalingGroup without --force-delete is refused while a group still has instances (ResourceInUse), as Auto Scaling does', async () => {
  await expect(aws(['autoscaling', 'delete-auto-scaling-group', '--auto-scaling-group-name', STORAGE_GROUP])).rejects.toThrow(/ResourceInUse.*You cannot delete an AutoScalingGroup while there are instances/);
  expect((await storageGroup())?.Instances).toHaveLength(2);
});
