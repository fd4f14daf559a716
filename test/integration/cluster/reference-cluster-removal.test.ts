/**
 * `sls remove` of a createCluster stage (the reference cluster) against the emulator, as
 * DeleteStack does it (test/sandbox/stack/remove.ts + remove-cluster.ts): with the storage
 * members protected from scale in (as the storage function leaves them) the storage group is not
 * emptied and the removal stops there; after the README's `aws autoscaling set-instance-protection
 * --no-protected-from-scale-in` a second removal takes the rest. Then every cluster resource answers
 * "not found", the database's final snapshot (DeletionPolicy Snapshot) stays, and so do the
 * Parameter Store records.
 */
import { spawn } from 'node:child_process';
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeLifecycleHooksCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeAddressesCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeLaunchTemplatesCommand,
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { DescribeListenersCommand, DescribeLoadBalancersCommand, DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PutParameterCommand, SSMClient, GetParameterCommand } from '@aws-sdk/client-ssm';
import { createAutoScalingPort } from '../../../lib/aws/autoscaling';
import { createSsmPort } from '../../../lib/aws/ssm';
import { healthName, memberName } from '../../../lib/core/records';
import type { Log } from '../../../lib/logger';
import { ClusterResources } from '../../sandbox/stack/deploy-cluster';
import { deployStack, type DeployedResource, type DeployedStack } from '../../sandbox/stack/deploy';
import { packageStack, type PackagedStack } from '../../sandbox/stack/package';
import { removeStack, RemoveError, type RemovedResource } from '../../sandbox/stack/remove';
import { finalSnapshotId } from '../../sandbox/stack/remove-cluster';
import { startHarness, startMoto, type Harness } from '../control-plane/harness';
import type { MotoServer } from '../../sandbox/control-plane/moto';

jest.setTimeout(600_000);

const STAGE = 'reference';
const STORAGE_IMAGE_PARAMETER = '/pas-test/storage-ami';
const STORAGE_GROUP = 'pydio-reference-storage';
const COMPUTE_GROUP = 'pydio-reference-compute';
/** AWS's shortest hook timeout, so a group empties in about 30 s once its instances are let go. */
const HOOK_SECONDS = '30';
const quiet: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

let moto: MotoServer;
let packaged: PackagedStack;
let h: Harness;
let stack: DeployedStack;
let storageMembers: string[];
let firstAttempt: unknown;
let removed: RemovedResource[];
let secondMs: number;

function aws(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_PAGER: '' };
    const child = spawn('/usr/bin/aws', [...args, '--endpoint-url', h.cp.url, '--region', 'eu-west-1'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

const answersNotFound = async (call: () => Promise<unknown>): Promise<boolean> =>
  call().then(
    () => false,
    (error: unknown) => /NotFound|does not exist|not found/i.test(`${error instanceof Error ? `${error.name} ${error.message}` : String(error)}`),
  );

/** Whether a cluster resource now answers "not found" (or, for a part of another resource, whether that resource is gone). */
async function isGone(r: DeployedResource): Promise<boolean> {
  const ec2 = new EC2Client(h.config);
  const elb = new ElasticLoadBalancingV2Client(h.config);
  const id = r.physicalId;
  switch (r.type) {
    case 'AWS::EC2::VPC':
    case 'AWS::EC2::VPCGatewayAttachment':
      return answersNotFound(() => ec2.send(new DescribeVpcsCommand({ VpcIds: [r.removeWith?.VpcId ?? id] })));
    case 'AWS::EC2::InternetGateway':
      return answersNotFound(() => ec2.send(new DescribeInternetGatewaysCommand({ InternetGatewayIds: [id] })));
    case 'AWS::EC2::Subnet':
      return answersNotFound(() => ec2.send(new DescribeSubnetsCommand({ SubnetIds: [id] })));
    case 'AWS::EC2::RouteTable':
      return answersNotFound(() => ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [id] })));
    case 'AWS::EC2::Route':
      return answersNotFound(() => ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [r.removeWith?.RouteTableId ?? ''] })));
    case 'AWS::EC2::SubnetRouteTableAssociation': {
      const out = await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'association.route-table-association-id', Values: [id] }] }));
      return (out.RouteTables ?? []).length === 0;
    }
    case 'AWS::EC2::EIP':
      return answersNotFound(() => ec2.send(new DescribeAddressesCommand({ AllocationIds: [r.attributes.AllocationId ?? ''] })));
    case 'AWS::EC2::NatGateway': {
      const out = await ec2.send(new DescribeNatGatewaysCommand({ NatGatewayIds: [id] })).catch(() => undefined);
      return out === undefined || (out.NatGateways ?? []).every((n) => n.State === 'deleted');
    }
    case 'AWS::EC2::VPCEndpoint': {
      const out = await ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [id] })).catch(() => undefined);
      return out === undefined || (out.VpcEndpoints ?? []).every((e) => String(e.State).toLowerCase() === 'deleted');
    }
    case 'AWS::EC2::SecurityGroup':
    case 'AWS::EC2::SecurityGroupIngress':
      return answersNotFound(() => ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [r.removeWith?.GroupId ?? id] })));
    case 'AWS::EC2::LaunchTemplate': {
      // AWS answers InvalidLaunchTemplateId.NotFound; moto 5.2.1 an empty list.
      const out = await ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [id] })).catch((error: unknown) => (/NotFound/.test(String(error)) ? undefined : Promise.reject(error)));
      return out === undefined || (out.LaunchTemplates ?? []).length === 0;
    }
    case 'AWS::AutoScaling::AutoScalingGroup': {
      const out = await new AutoScalingClient(h.config).send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [id] }));
      return (out.AutoScalingGroups ?? []).length === 0;
    }
    case 'AWS::ElasticLoadBalancingV2::LoadBalancer':
      return answersNotFound(() => elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [id] })));
    case 'AWS::ElasticLoadBalancingV2::TargetGroup':
      return answersNotFound(() => elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [id] })));
    case 'AWS::ElasticLoadBalancingV2::Listener':
      return answersNotFound(() => elb.send(new DescribeListenersCommand({ ListenerArns: [id] })));
    case 'AWS::RDS::DBInstance':
      return answersNotFound(() => rds('DescribeDBInstances', { DBInstanceIdentifier: id }));
    case 'AWS::RDS::DBSubnetGroup':
      return answersNotFound(() => rds('DescribeDBSubnetGroups', { DBSubnetGroupName: id }));
    default:
      return false; // the stack's own types are probed by test/integration/removal.test.ts; here they must merely be reported deleted
  }
}

function rds(action: string, params: Record<string, string>): Promise<string> {
  const cluster = new ClusterResources({ endpoint: h.cp.url, region: 'eu-west-1', accountId: '123456789012' });
  return cluster.rds(action, params, action).finally(() => cluster.destroy());
}

beforeAll(async () => {
  moto = await startMoto();
  const ec2 = new EC2Client({ region: 'eu-west-1', endpoint: moto.url, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  const amiId = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.find((i) => i.ImageId?.startsWith('ami-'))?.ImageId ?? '';
  ec2.destroy();
  packaged = await packageStack({
    stage: STAGE,
    params: {
      computeImageId: amiId,
      storageImageParameter: STORAGE_IMAGE_PARAMETER,
      launchHeartbeatTimeout: HOOK_SECONDS,
      terminateHeartbeatTimeout: HOOK_SECONDS,
      storageLaunchHeartbeatTimeout: HOOK_SECONDS,
      storageTerminateHeartbeatTimeout: HOOK_SECONDS,
      // a hook's timeout must exceed twice the longest retry wait (checked at package time)
      retryBaseSeconds: '1',
      retryMaxSeconds: '10',
    },
  });
  h = await startHarness(moto);
  await new SSMClient(h.config).send(new PutParameterCommand({ Name: STORAGE_IMAGE_PARAMETER, Value: amiId, Type: 'String' }));
  stack = await deployStack({ endpoint: h.cp.url, template: packaged.template });

  // The functions would set each first instance up and let it go on: CONTINUE its launch action.
  const asg = new AutoScalingClient(h.config);
  for (const group of [STORAGE_GROUP, COMPUTE_GROUP]) {
    const hook = (await asg.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: group }))).LifecycleHooks?.find((x) => x.LifecycleTransition === 'autoscaling:EC2_INSTANCE_LAUNCHING');
    const instances = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }))).AutoScalingGroups?.[0]?.Instances ?? [];
    for (const i of instances) {
      await asg.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: group, LifecycleHookName: hook?.LifecycleHookName, InstanceId: i.InstanceId, LifecycleActionResult: 'CONTINUE' }));
    }
  }
  storageMembers = ((await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [STORAGE_GROUP] }))).AutoScalingGroups?.[0]?.Instances ?? []).map((i) => i.InstanceId ?? '').sort();
  expect(storageMembers).toHaveLength(2);
  // What the storage function leaves: its members protected from scale in, its records.
  await createAutoScalingPort(asg, { dryRun: false, log: quiet }).setInstanceProtection(STORAGE_GROUP, storageMembers, true);
  const ssm = createSsmPort(new SSMClient(h.config), { dryRun: false, log: quiet });
  await ssm.putParameter(healthName(STAGE), '{"healthy":true}');
  for (const id of storageMembers) await ssm.putParameter(memberName(STAGE, id), JSON.stringify({ instanceId: id, state: 'joined' }));

  // npx sls remove --stage reference, with the members still protected
  firstAttempt = await removeStack({ endpoint: h.cp.url, template: packaged.template, stack, groupEmptyTimeoutMs: 120_000 }).then(
    (r) => r,
    (error: unknown) => error,
  );
  // The README's step, then the removal again
  const unprotect = await aws(['autoscaling', 'set-instance-protection', '--no-protected-from-scale-in', '--auto-scaling-group-name', STORAGE_GROUP, '--instance-ids', ...storageMembers]);
  expect([unprotect.code, unprotect.stderr]).toEqual([0, '']);
  const started = Date.now();
  removed = await removeStack({
    endpoint: h.cp.url,
    template: packaged.template,
    stack,
    groupEmptyTimeoutMs: 120_000,
    ...(firstAttempt instanceof RemoveError ? { only: firstAttempt.remaining } : {}),
  });
  secondMs = Date.now() - started;
  console.info(`reference cluster removal: the second DeleteStack took ${secondMs} ms; ${removed.filter((r) => r.outcome !== 'not-in-emulator').length} resources`);
}, 600_000);

afterAll(async () => {
  await h?.cp.stop();
  await moto?.stop();
});

test('with its members protected from scale in, the storage group is not emptied: the removal stops there (DELETE_FAILED) naming them', () => {
  expect(firstAttempt).toBeInstanceOf(RemoveError);
  const error = firstAttempt as RemoveError;
  expect(error.message).toMatch(/^ClusterStorageGroup \(AWS::AutoScaling::AutoScalingGroup\) DELETE_FAILED: .*protected from scale in/);
  for (const id of storageMembers) expect(error.message).toContain(id);
  expect(error.remaining).toEqual(expect.arrayContaining(['ClusterStorageGroup', 'ClusterStorageLaunchTemplate', 'ClusterPrivateSubnetA', 'ClusterVpc']));
  expect(error.done.map((r) => r.logicalId)).not.toContain('ClusterStorageGroup');
});

test('after the README\'s set-instance-protection the second removal takes every cluster resource: each answers "not found"', async () => {
  const created = Object.values(stack.resources).filter((r) => r.status === 'created' && (firstAttempt as RemoveError).remaining.includes(r.logicalId));
  expect(removed.filter((r) => r.outcome === 'deleted' || r.outcome === 'snapshot-then-deleted').map((r) => r.logicalId).sort()).toEqual(created.map((r) => r.logicalId).sort());
  const stillThere: string[] = [];
  for (const r of Object.values(stack.resources).filter((x) => x.status === 'created')) {
    if (r.logicalId.startsWith('Cluster') && !(await isGone(r))) stillThere.push(`${r.logicalId} (${r.type})`);
  }
  expect(stillThere).toEqual([]);
  const ec2 = new EC2Client(h.config);
  const states = ((await ec2.send(new DescribeInstancesCommand({ InstanceIds: storageMembers }))).Reservations ?? []).flatMap((x) => x.Instances ?? []).map((i) => i.State?.Name);
  expect(states).toEqual(['terminated', 'terminated']);
});

test('the database is deleted after a final snapshot (DeletionPolicy Snapshot), which stays; the Parameter Store records stay', async () => {
  // CloudFormation deletes in parallel what does not depend on the group: the database may go in either attempt.
  const db = [...(firstAttempt as RemoveError).done, ...removed].find((r) => r.logicalId === 'ClusterDatabase');
  expect(db).toMatchObject({ outcome: 'snapshot-then-deleted', snapshotId: finalSnapshotId(stack.physicalId('ClusterDatabase')) });
  const xml = await rds('DescribeDBSnapshots', { DBSnapshotIdentifier: db?.snapshotId ?? '' });
  expect(xml).toContain(`<DBSnapshotIdentifier>${db?.snapshotId}</DBSnapshotIdentifier>`);
  expect(xml).toContain(`<DBInstanceIdentifier>${stack.physicalId('ClusterDatabase')}</DBInstanceIdentifier>`);
  const got = await new SSMClient(h.config).send(new GetParameterCommand({ Name: healthName(STAGE) }));
  expect(got.Parameter?.Value).toBe('{"healthy":true}');
});
