/**
 * IAM enforced in the sandbox: the stack as packaged (test stage, with a
 * storage group) is deployed into moto + the front, and calls are made with
 * each function's own credentials. What each role must never do is refused
 * with the error its service uses; what it needs still goes through.
 */
import { AutoScalingClient, CompleteLifecycleActionCommand, DescribeAutoScalingGroupsCommand, DescribeLifecycleHooksCommand, SetDesiredCapacityCommand, SetInstanceHealthCommand, TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { CreateTagsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, GetParametersByPathCommand, PutParameterCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { clientConfig, createComputeGroup, createLaunchTemplate, createNetwork, createTargetGroup } from '../../sandbox/control-plane/aws-setup';
import { startControlPlane, type ControlPlane } from '../../sandbox/control-plane/front';
import { startMoto, type MotoServer } from '../../sandbox/control-plane/moto';
import { SimulatedDataPlane, SimulatedExecutor, SimulatedHosts } from '../../sandbox/control-plane/simulated';
import { identitiesOf } from '../../sandbox/iam/enforcer';
import { accessKeyIdOf } from '../../sandbox/iam/identity';
import { deployStack, type DeployedStack } from '../../sandbox/stack/deploy';
import { packageStack } from '../../sandbox/stack/package';
import { GROUP, OTHER_GROUP, STAGE, STAGE_PARAMS, TARGET_GROUP_PLACEHOLDER } from '../flows/harness';

jest.setTimeout(120_000);

const STORAGE_GROUP = 'h6-storage';

let moto: MotoServer;
let cp: ControlPlane;
let stack: DeployedStack;
let otherTargetGroupArn: string;
let computeInstance: string;
let storageInstance: string;

/** SDK client config signed as `fn`'s execution role. */
function as(fn: 'lifecycle' | 'alarm' | 'status' | 'storage' | 'watch') {
  const deployed = stack.functions[fn];
  if (deployed === undefined) throw new Error(`no ${fn} function in the stack`);
  return { ...clientConfig(cp.url), credentials: { accessKeyId: accessKeyIdOf(deployed), secretAccessKey: 'testing', sessionToken: 'testing' } };
}

async function instanceOf(group: string): Promise<string> {
  const out = await new AutoScalingClient(clientConfig(cp.url)).send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }));
  const id = out.AutoScalingGroups?.[0]?.Instances?.[0]?.InstanceId;
  if (id === undefined) throw new Error(`${group} has no instance`);
  return id;
}

/** The refusal a call gets: its error name and HTTP status (undefined: it was not refused by IAM). */
async function refusal(call: Promise<unknown>): Promise<{ name: string; status: number | undefined } | undefined> {
  try {
    await call;
    return undefined;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    if (!/not authorized|AccessDenied|UnauthorizedOperation|AuthorizationError/.test(`${e.name} ${e.message}`)) return undefined;
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  }
}

beforeAll(async () => {
  const packaged = await packageStack({ stage: STAGE, params: STAGE_PARAMS });
  moto = await startMoto();
  const executor = new SimulatedExecutor({ agentDelayMs: 0 });
  cp = await startControlPlane({ motoUrl: moto.url, executor, dataPlane: new SimulatedDataPlane({}), hosts: new SimulatedHosts(executor), agentPollMs: 50 });
  const network = await createNetwork(cp.url);
  const lt = await createLaunchTemplate(cp.url, 'h6-iam-lt');
  const subnetIds = network.subnets.map((s) => s.subnetId);
  const targetGroupArn = await createTargetGroup(cp.url, { name: 'h6-iam-tg', vpcId: network.vpcId });
  otherTargetGroupArn = await createTargetGroup(cp.url, { name: 'h6-iam-other-tg', vpcId: network.vpcId });
  await createComputeGroup(cp.url, { name: GROUP, launchTemplateId: lt, subnetIds, min: 0, max: 2, desired: 1 });
  await createComputeGroup(cp.url, { name: STORAGE_GROUP, launchTemplateId: lt, subnetIds, min: 0, max: 2, desired: 1 });
  await createComputeGroup(cp.url, { name: OTHER_GROUP, launchTemplateId: lt, subnetIds, min: 0, max: 2, desired: 0 });
  stack = await deployStack({ endpoint: cp.url, template: packaged.template, params: { StorageGroupName: STORAGE_GROUP }, replace: { [TARGET_GROUP_PLACEHOLDER]: targetGroupArn } });
  cp.enforceIam(identitiesOf(stack));
  computeInstance = await instanceOf(GROUP);
  storageInstance = await instanceOf(STORAGE_GROUP);
}, 400_000);

afterAll(async () => {
  await cp?.stop();
  await moto?.stop();
});

const doc = (name: string) => `pydio-autoscaler-${STAGE}-${name}`;
const hook = { LifecycleHookName: 'h', LifecycleActionResult: 'CONTINUE', LifecycleActionToken: '00000000-0000-0000-0000-000000000000' };

describe('the lifecycle role', () => {
  test('runs no document on the storage group\'s instances, not even its own', async () => {
    expect(await refusal(new SSMClient(as('lifecycle')).send(new SendCommandCommand({ DocumentName: doc('configure-app'), InstanceIds: [storageInstance] })))).toEqual({ name: 'AccessDeniedException', status: 400 });
  });
  test('completes no lifecycle action of the storage group', async () => {
    expect(await refusal(new AutoScalingClient(as('lifecycle')).send(new CompleteLifecycleActionCommand({ ...hook, AutoScalingGroupName: STORAGE_GROUP, InstanceId: storageInstance })))).toEqual({ name: 'AccessDenied', status: 403 });
  });
  test('writes no storage record (health, members) and no Parameter Store parameter at all', async () => {
    expect(await refusal(new SSMClient(as('lifecycle')).send(new PutParameterCommand({ Name: `/pydio-autoscaler/${STAGE}/storage/health`, Value: 'x', Type: 'String' })))).toEqual({ name: 'AccessDeniedException', status: 400 });
    expect(await refusal(new SSMClient(as('lifecycle')).send(new PutParameterCommand({ Name: `/pydio-autoscaler/${STAGE}/lifecycle/i-0123456789abcdef0/launch`, Value: 'x', Type: 'String' })))).toEqual({ name: 'AccessDeniedException', status: 400 });
  });
  test('runs no document that is not ours (AWS-RunShellScript) on its own instances', async () => {
    expect(await refusal(new SSMClient(as('lifecycle')).send(new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: [computeInstance], Parameters: { commands: ['id'] } })))).toEqual({ name: 'AccessDeniedException', status: 400 });
  });
  test('sets the capacity of no group', async () => {
    expect(await refusal(new AutoScalingClient(as('lifecycle')).send(new SetDesiredCapacityCommand({ AutoScalingGroupName: OTHER_GROUP, DesiredCapacity: 1 })))).toEqual({ name: 'AccessDenied', status: 403 });
  });
  test('registers no target in another target group', async () => {
    expect(await refusal(new ElasticLoadBalancingV2Client(as('lifecycle')).send(new RegisterTargetsCommand({ TargetGroupArn: otherTargetGroupArn, Targets: [{ Id: computeInstance, Port: 80 }] })))).toEqual({ name: 'AccessDenied', status: 403 });
  });
  test('still runs its own document on a compute instance and completes its group\'s hooks', async () => {
    expect(await refusal(new SSMClient(as('lifecycle')).send(new SendCommandCommand({ DocumentName: doc('drain-node'), InstanceIds: [computeInstance] })))).toBeUndefined();
    expect(await refusal(new AutoScalingClient(as('lifecycle')).send(new CompleteLifecycleActionCommand({ ...hook, AutoScalingGroupName: GROUP, InstanceId: computeInstance })))).toBeUndefined();
  });
});

/** A hold as the coordination adapter writes it (lib/aws/coordination.ts). */
const hold = (key: string) => ({ TableName: stack.physicalId('CoordinationTable'), Item: { key: { S: key }, owner: { S: 'it' }, expiresAt: { N: '9999999999' } } });
const itemKey = (key: string) => ({ TableName: stack.physicalId('CoordinationTable'), Key: { key: { S: key } } });

describe('the coordination table (dynamodb:LeadingKeys)', () => {
  test('the lifecycle role takes and releases its claims (lifecycle/...) and nothing else: not the storage lock, no read', async () => {
    const ddb = new DynamoDBClient(as('lifecycle'));
    expect(await refusal(ddb.send(new PutItemCommand(hold('lifecycle/i-0123456789abcdef0/launch'))))).toBeUndefined();
    expect(await refusal(ddb.send(new DeleteItemCommand(itemKey('lifecycle/i-0123456789abcdef0/launch'))))).toBeUndefined();
    expect(await refusal(ddb.send(new PutItemCommand(hold('storage/lock'))))).toEqual({ name: 'AccessDeniedException', status: 400 });
    expect(await refusal(ddb.send(new DeleteItemCommand(itemKey('storage/bootstrap'))))).toEqual({ name: 'AccessDeniedException', status: 400 });
    expect(await refusal(ddb.send(new GetItemCommand(itemKey('lifecycle/i-0123456789abcdef0/launch'))))).toEqual({ name: 'AccessDeniedException', status: 400 });
  });
  test('the storage role takes, reads and releases storage/... only: never a compute claim, no Scan', async () => {
    const ddb = new DynamoDBClient(as('storage'));
    expect(await refusal(ddb.send(new PutItemCommand(hold('storage/lock'))))).toBeUndefined();
    expect(await refusal(ddb.send(new GetItemCommand(itemKey('storage/bootstrap'))))).toBeUndefined();
    expect(await refusal(ddb.send(new DeleteItemCommand(itemKey('storage/lock'))))).toBeUndefined();
    expect(await refusal(ddb.send(new PutItemCommand(hold('lifecycle/i-0123456789abcdef0/terminate'))))).toEqual({ name: 'AccessDeniedException', status: 400 });
    expect(await refusal(ddb.send(new ScanCommand({ TableName: stack.physicalId('CoordinationTable') })))).toEqual({ name: 'AccessDeniedException', status: 400 });
  });
  test('the alarm and status roles read nothing of it', async () => {
    for (const fn of ['alarm', 'status'] as const) {
      expect([fn, await refusal(new DynamoDBClient(as(fn)).send(new GetItemCommand(itemKey('storage/lock'))))]).toEqual([fn, { name: 'AccessDeniedException', status: 400 }]);
    }
  });
});

describe('the watch role', () => {
  test('marks instances of the compute group only (never a storage member), and sets no capacity', async () => {
    const asg = new AutoScalingClient(as('watch'));
    expect(await refusal(asg.send(new SetInstanceHealthCommand({ InstanceId: storageInstance, HealthStatus: 'Unhealthy', ShouldRespectGracePeriod: true })))).toEqual({ name: 'AccessDenied', status: 403 });
    // Allowed by IAM: Auto Scaling itself refuses it (the instance is within the group's grace period), nothing happens.
    await expect(asg.send(new SetInstanceHealthCommand({ InstanceId: computeInstance, HealthStatus: 'Unhealthy', ShouldRespectGracePeriod: true }))).rejects.toThrow(/less than the configured grace period/);
    expect(await refusal(asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: GROUP, DesiredCapacity: 1 })))).toEqual({ name: 'AccessDenied', status: 403 });
    expect(await refusal(asg.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: STORAGE_GROUP })))).toBeUndefined();
  });
  test('reads the flows\' claims, never takes or releases them, and writes only its own keys', async () => {
    const ddb = new DynamoDBClient(as('watch'));
    expect(await refusal(ddb.send(new GetItemCommand(itemKey('lifecycle/i-0123456789abcdef0/launch'))))).toBeUndefined();
    expect(await refusal(ddb.send(new GetItemCommand(itemKey('storage/lifecycle/i-0123456789abcdef0/terminate'))))).toBeUndefined();
    expect(await refusal(ddb.send(new PutItemCommand(hold('lifecycle/i-0123456789abcdef0/launch'))))).toEqual({ name: 'AccessDeniedException', status: 400 });
    expect(await refusal(ddb.send(new DeleteItemCommand(itemKey('storage/lifecycle/i-0123456789abcdef0/launch'))))).toEqual({ name: 'AccessDeniedException', status: 400 });
    expect(await refusal(ddb.send(new GetItemCommand(itemKey('storage/lock'))))).toEqual({ name: 'AccessDeniedException', status: 400 });
    expect(await refusal(ddb.send(new PutItemCommand(hold('watch/run'))))).toBeUndefined();
    expect(await refusal(ddb.send(new GetItemCommand(itemKey('watch/state'))))).toBeUndefined();
    expect(await refusal(ddb.send(new DeleteItemCommand(itemKey('watch/run'))))).toBeUndefined();
  });
  test('sends to the lifecycle and storage queues only, reads the storage health record and writes no parameter', async () => {
    const sqs = new SQSClient({ ...as('watch'), useQueueUrlAsEndpoint: false });
    expect(await refusal(sqs.send(new SendMessageCommand({ QueueUrl: stack.physicalId('StorageQueue'), MessageBody: '{"healthCheck":{"requestedAt":"2026-11-21T10:00:00.000Z"}}' })))).toBeUndefined();
    expect(await refusal(sqs.send(new SendMessageCommand({ QueueUrl: stack.physicalId('DecisionQueue'), MessageBody: '{}' })))).toEqual({ name: 'AccessDenied', status: 400 });
    const ssm = new SSMClient(as('watch'));
    expect(await refusal(ssm.send(new GetParameterCommand({ Name: `/pydio-autoscaler/${STAGE}/storage/health` })))).toBeUndefined();
    expect(await refusal(ssm.send(new PutParameterCommand({ Name: `/pydio-autoscaler/${STAGE}/storage/health`, Value: 'x', Type: 'String' })))).toEqual({ name: 'AccessDeniedException', status: 400 });
  });
});

describe('the alarm role', () => {
  test('sets the capacity of its two groups only', async () => {
    const asg = new AutoScalingClient(as('alarm'));
    expect(await refusal(asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: OTHER_GROUP, DesiredCapacity: 1 })))).toEqual({ name: 'AccessDenied', status: 403 });
    expect(await refusal(asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: GROUP, DesiredCapacity: 1 })))).toBeUndefined();
  });
  test('reads its own alarms, not every alarm', async () => {
    const cw = new CloudWatchClient(as('alarm'));
    expect(await refusal(cw.send(new DescribeAlarmsCommand({})))).toEqual({ name: 'AccessDenied', status: 400 });
    expect(await refusal(cw.send(new DescribeAlarmsCommand({ AlarmNames: [`pydio-autoscaler-${STAGE}-compute-cpu-high`] })))).toBeUndefined();
  });
  test('sends to no queue but its own and the storage queue', async () => {
    expect(await refusal(new SQSClient({ ...as('alarm'), useQueueUrlAsEndpoint: false }).send(new SendMessageCommand({ QueueUrl: stack.physicalId('LifecycleQueue'), MessageBody: '{}' })))).toEqual({ name: 'AccessDenied', status: 400 });
  });
});

describe('the storage role', () => {
  test('sets the capacity of the storage group only', async () => {
    expect(await refusal(new AutoScalingClient(as('storage')).send(new SetDesiredCapacityCommand({ AutoScalingGroupName: GROUP, DesiredCapacity: 0 })))).toEqual({ name: 'AccessDenied', status: 403 });
  });
  test('terminates no instance of another group (the resource is the instance\'s group)', async () => {
    expect(await refusal(new AutoScalingClient(as('storage')).send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: computeInstance, ShouldDecrementDesiredCapacity: true })))).toEqual({ name: 'AccessDenied', status: 403 });
  });
  test('runs its documents on storage instances only', async () => {
    const ssm = new SSMClient(as('storage'));
    expect(await refusal(ssm.send(new SendCommandCommand({ DocumentName: doc('storage-gluster-status'), InstanceIds: [computeInstance] })))).toEqual({ name: 'AccessDeniedException', status: 400 });
    expect(await refusal(ssm.send(new SendCommandCommand({ DocumentName: doc('configure-app'), InstanceIds: [storageInstance] })))).toEqual({ name: 'AccessDeniedException', status: 400 });
  });
  test('installs and configures the CloudWatch agent on storage instances with the two AWS-owned documents (account-less ARNs), and runs no other AWS document', async () => {
    const ssm = new SSMClient(as('storage'));
    expect(await refusal(ssm.send(new SendCommandCommand({ DocumentName: 'AWS-ConfigureAWSPackage', InstanceIds: [storageInstance], Parameters: { action: ['Install'], name: ['AmazonCloudWatchAgent'] } })))).toBeUndefined();
    expect(await refusal(ssm.send(new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: [storageInstance], Parameters: { commands: ['id'] } })))).toEqual({ name: 'AccessDeniedException', status: 400 });
    expect(await refusal(ssm.send(new SendCommandCommand({ DocumentName: 'AWS-ConfigureAWSPackage', InstanceIds: [computeInstance], Parameters: { action: ['Install'], name: ['AmazonCloudWatchAgent'] } })))).toEqual({ name: 'AccessDeniedException', status: 400 });
  });
  test('installs and configures the CloudWatch agent on storage instances with the two AWS-owned documents (account-less ARNs), and runs no other AWS document', async () => {
    const ssm = new SSMClient(as('storage'));
    expect(await refusal(ssm.send(new SendCommandCommand({ DocumentName: 'AWS-ConfigureAWSPackage', InstanceIds: [storageInstance], Parameters: { action: ['Install'], name: ['AmazonCloudWatchAgent'] } })))).toBeUndefined();
    expect(await refusal(ssm.send(new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: [storageInstance], Parameters: { commands: ['id'] } })))).toEqual({ name: 'AccessDeniedException', status: 400 });
    expect(await refusal(ssm.send(new SendCommandCommand({ DocumentName: 'AWS-ConfigureAWSPackage', InstanceIds: [computeInstance], Parameters: { action: ['Install'], name: ['AmazonCloudWatchAgent'] } })))).toEqual({ name: 'AccessDeniedException', status: 400 });
  });
  test('tags storage instances with its two keys only', async () => {
    const ec2 = new EC2Client(as('storage'));
    expect(await refusal(ec2.send(new CreateTagsCommand({ Resources: [computeInstance], Tags: [{ Key: 'pydio-autoscaler:storage-state', Value: 'joined' }] })))).toEqual({ name: 'UnauthorizedOperation', status: 403 });
    expect(await refusal(ec2.send(new CreateTagsCommand({ Resources: [storageInstance], Tags: [{ Key: 'Name', Value: 'x' }] })))).toEqual({ name: 'UnauthorizedOperation', status: 403 });
    expect(await refusal(ec2.send(new CreateTagsCommand({ Resources: [storageInstance], Tags: [{ Key: 'pydio-autoscaler:storage-state', Value: 'joined' }] })))).toBeUndefined();
  });
});

describe('the status role', () => {
  test('is read-only: no parameter written, nothing published', async () => {
    expect(await refusal(new SSMClient(as('status')).send(new PutParameterCommand({ Name: `/pydio-autoscaler/${STAGE}/storage/health`, Value: '{}', Type: 'String', Overwrite: true })))).toEqual({ name: 'AccessDeniedException', status: 400 });
    expect(await refusal(new SNSClient(as('status')).send(new PublishCommand({ TopicArn: stack.physicalId('NotificationsTopic'), Message: 'x' })))).toEqual({ name: 'AuthorizationErrorException', status: 403 });
  });
  test('lists the storage members by their path (the path is the resource)', async () => {
    expect(await refusal(new SSMClient(as('status')).send(new GetParametersByPathCommand({ Path: `/pydio-autoscaler/${STAGE}/storage/members`, Recursive: true })))).toBeUndefined();
    expect(await refusal(new SSMClient(as('status')).send(new GetParametersByPathCommand({ Path: `/pydio-autoscaler/${STAGE}`, Recursive: true })))).toEqual({ name: 'AccessDeniedException', status: 400 });
  });
  test('reads the storage health record', async () => {
    expect(await refusal(new SSMClient(as('status')).send(new GetParameterCommand({ Name: `/pydio-autoscaler/${STAGE}/storage/health` })).catch((e: { name: string }) => {
      if (e.name === 'ParameterNotFound') return undefined;
      throw e;
    }))).toBeUndefined();
  });
});

test('a function key the front was not told about is refused as an invalid token', async () => {
  const config = { ...clientConfig(cp.url), credentials: { accessKeyId: 'ASIA0123456789ABCDEF', secretAccessKey: 'x' } };
  await expect(new AutoScalingClient(config).send(new DescribeAutoScalingGroupsCommand({}))).rejects.toMatchObject({ name: 'InvalidClientTokenId' });
});

test('the sandbox\'s own calls (not a function\'s) are not checked', async () => {
  await expect(new AutoScalingClient(clientConfig(cp.url)).send(new SetDesiredCapacityCommand({ AutoScalingGroupName: OTHER_GROUP, DesiredCapacity: 0 }))).resolves.toBeDefined();
});
