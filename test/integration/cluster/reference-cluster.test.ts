/**
 * The reference cluster (serverless.yml stage `reference`: createCluster) deployed into the
 * emulator (moto behind the control-plane front, simulated hosts) by the sandbox's deploy,
 * as far as the emulator goes, and read back through the services' own Describe calls:
 * the network, the security groups (Gluster's ports from members and clients only), the
 * launch templates (user data, brick volume), the groups with their hooks in place before
 * their first instance (the launch events reach the functions' queues), the load balancer
 * with its sticky target group and check.txt health check, the database. What the deploy
 * does not create is listed with the reason and pinned, so a new gap shows.
 */
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, DescribeLifecycleHooksCommand } from '@aws-sdk/client-auto-scaling';
import {
  DescribeImagesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import {
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { APP_PROFILES } from '../../../lib/config/compute';
import { deployStack, type DeployedStack } from '../../sandbox/stack/deploy';
import { packageStack, type PackagedStack } from '../../sandbox/stack/package';
import { drainQueue, startHarness, startMoto, type Harness } from '../control-plane/harness';
import type { MotoServer } from '../../sandbox/control-plane/moto';

jest.setTimeout(300_000);

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { rendered } = require('../../../ssm-documents/user-data.js') as { rendered: Record<'compute' | 'storage', string> };

const STORAGE_IMAGE_PARAMETER = '/pas-test/storage-ami';

/** What the deploy records instead of creating, and why (a type not here that is not created fails the test). */
const NOT_CREATED: Record<string, string> = {
  'AWS::IAM::Role': 'recorded: the sandbox creates no IAM; function roles are evaluated by the front, instance roles are only recorded (no host signs with them)',
  'AWS::IAM::InstanceProfile': 'recorded: no IAM in the sandbox; the launch templates name its ARN',
  'AWS::Lambda::Function': 'recorded: the sandbox runs the bundled handlers itself (test/sandbox/lambda)',
  'AWS::Lambda::Version': 'recorded: functions are invoked by name',
  'AWS::Lambda::EventSourceMapping': 'recorded: the sandbox runner polls the queue',
  'AWS::Lambda::Permission': "recorded: the front checks an invoke (the watch's schedule) against the function's resource policy",
  'AWS::Lambda::EventInvokeConfig': "recorded: the runner retries an asynchronous invoke as it says",
  'AWS::S3::Bucket': 'recorded: the packaged zips are read from the package directory',
  'AWS::S3::BucketPolicy': 'recorded: no deployment bucket',
  'AWS::CloudWatch::Dashboard': 'skipped: moto has no dashboards; test/sandbox/dashboard/render.ts draws it from the template',
  'AWS::SNS::Subscription': 'skipped: an e-mail subscription nobody would confirm',
};

let moto: MotoServer;
let packaged: PackagedStack;
let amiId: string;

beforeAll(async () => {
  moto = await startMoto();
  const ec2 = new EC2Client({ region: 'eu-west-1', endpoint: moto.url, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  // One of moto's own images: an instance can be launched from it.
  amiId = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.find((i) => i.ImageId?.startsWith('ami-'))?.ImageId ?? '';
  ec2.destroy();
  expect(amiId).toMatch(/^ami-/);
  packaged = await packageStack({ stage: 'reference', params: { computeImageId: amiId, storageImageParameter: STORAGE_IMAGE_PARAMETER } });
}, 400_000);

afterAll(async () => {
  await moto?.stop();
});

interface Deployment {
  readonly h: Harness;
  readonly stack: DeployedStack;
  readonly ec2: EC2Client;
  readonly asg: AutoScalingClient;
  readonly elb: ElasticLoadBalancingV2Client;
}

async function deploy(params: Record<string, string> = {}): Promise<Deployment> {
  const h = await startHarness(moto);
  // CloudFormation resolves {{resolve:ssm:...}} when it creates the launch template: the parameter must exist.
  await new SSMClient(h.config).send(new PutParameterCommand({ Name: STORAGE_IMAGE_PARAMETER, Value: amiId, Type: 'String' }));
  const stack = await deployStack({ endpoint: h.cp.url, template: packaged.template, params });
  return { h, stack, ec2: new EC2Client(h.config), asg: new AutoScalingClient(h.config), elb: new ElasticLoadBalancingV2Client(h.config) };
}

const id = (d: Deployment, logicalId: string) => d.stack.physicalId(logicalId);
const rules = (perms: IpPermission[] | undefined) =>
  (perms ?? [])
    .map((p) => ({ ports: `${p.FromPort}-${p.ToPort}`, from: [...(p.UserIdGroupPairs ?? []).map((g) => g.GroupId), ...(p.IpRanges ?? []).map((r) => r.CidrIp)].sort() }))
    .sort((a, b) => a.ports.localeCompare(b.ports));

describe('the reference cluster deployed into the emulator (two zones, HTTP)', () => {
  let d: Deployment;
  beforeAll(async () => {
    d = await deploy();
  }, 200_000);
  afterAll(async () => {
    await d?.h.cp.stop();
  });

  it('creates every resource of the template the emulator supports; what it does not is listed with its reason', () => {
    const notCreated = Object.values(d.stack.resources).filter((r) => r.status !== 'created' && r.status !== 'skipped-condition');
    const report = notCreated.map((r) => `${r.logicalId} (${r.type}): ${NOT_CREATED[r.type] ?? 'NOT EXPLAINED'}`);
    console.info(`reference cluster: ${Object.values(d.stack.resources).filter((r) => r.status === 'created').length} resources created in the emulator; not created:\n  ${report.join('\n  ')}`);
    expect(report.filter((line) => line.endsWith('NOT EXPLAINED'))).toEqual([]);
    for (const logicalId of ['ClusterVpc', 'ClusterNatGateway', 'ClusterS3Endpoint', 'ClusterStorageSecurityGroup', 'ClusterBricksFromClients', 'ClusterComputeLaunchTemplate', 'ClusterStorageGroup', 'ClusterComputeGroup', 'ClusterLoadBalancer', 'ClusterTargetGroup', 'ClusterHttpListener', 'ClusterDatabase']) {
      expect([logicalId, d.stack.resources[logicalId]?.status]).toEqual([logicalId, 'created']);
    }
    // two zones, no certificate: no third subnet, no HTTPS listener
    for (const logicalId of ['ClusterPublicSubnetC', 'ClusterPrivateSubnetC', 'ClusterHttpsListener', 'ClusterHttpRedirectListener', 'ComputeLaunchHook', 'StorageLaunchHook']) {
      expect([logicalId, d.stack.resources[logicalId]?.status]).toEqual([logicalId, 'skipped-condition']);
    }
  });

  it('a VPC of six /20 subnets in two zones: public ones routed to the internet gateway, private ones to the NAT gateway', async () => {
    const vpc = (await d.ec2.send(new DescribeVpcsCommand({ VpcIds: [id(d, 'ClusterVpc')] }))).Vpcs?.[0];
    expect(vpc?.CidrBlock).toBe('10.80.0.0/16');
    const subnets = (await d.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [id(d, 'ClusterVpc')] }] }))).Subnets ?? [];
    const of = (logicalId: string) => subnets.find((s) => s.SubnetId === id(d, logicalId));
    expect(['ClusterPublicSubnetA', 'ClusterPublicSubnetB', 'ClusterPrivateSubnetA', 'ClusterPrivateSubnetB'].map((l) => [of(l)?.CidrBlock, of(l)?.AvailabilityZone])).toEqual([
      ['10.80.0.0/20', 'eu-west-1a'],
      ['10.80.16.0/20', 'eu-west-1b'],
      ['10.80.48.0/20', 'eu-west-1a'],
      ['10.80.64.0/20', 'eu-west-1b'],
    ]);
    const tables = (await d.ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [id(d, 'ClusterPublicRouteTable'), id(d, 'ClusterPrivateRouteTable')] }))).RouteTables ?? [];
    const table = (logicalId: string) => tables.find((t) => t.RouteTableId === id(d, logicalId))!;
    const defaultRoute = (logicalId: string) => table(logicalId).Routes?.find((r) => r.DestinationCidrBlock === '0.0.0.0/0');
    expect(defaultRoute('ClusterPublicRouteTable')?.GatewayId).toBe(id(d, 'ClusterInternetGateway'));
    expect(defaultRoute('ClusterPrivateRouteTable')?.NatGatewayId).toBe(id(d, 'ClusterNatGateway'));
    expect(table('ClusterPrivateRouteTable').Associations?.map((a) => a.SubnetId).sort()).toEqual([id(d, 'ClusterPrivateSubnetA'), id(d, 'ClusterPrivateSubnetB')].sort());
  });

  it('security groups: Gluster (24007, bricks 49152-60999) from members and compute nodes only, the app from the load balancer only, MySQL from the compute nodes only', async () => {
    const groups = (await d.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ['ClusterStorageSecurityGroup', 'ClusterComputeSecurityGroup', 'ClusterDatabaseSecurityGroup', 'ClusterLoadBalancerSecurityGroup'].map((l) => id(d, l)) }))).SecurityGroups ?? [];
    const ingress = (logicalId: string) => rules(groups.find((g) => g.GroupId === id(d, logicalId))?.IpPermissions);
    const members = id(d, 'ClusterStorageSecurityGroup');
    const compute = id(d, 'ClusterComputeSecurityGroup');
    expect(ingress('ClusterStorageSecurityGroup')).toEqual([
      { ports: '24007-24007', from: [members, compute].sort() },
      { ports: '49152-60999', from: [members, compute].sort() },
    ]);
    expect(ingress('ClusterComputeSecurityGroup')).toEqual([{ ports: '80-80', from: [id(d, 'ClusterLoadBalancerSecurityGroup')] }]);
    expect(ingress('ClusterDatabaseSecurityGroup')).toEqual([{ ports: '3306-3306', from: [compute] }]);
    expect(ingress('ClusterLoadBalancerSecurityGroup')).toEqual([{ ports: '80-80', from: ['0.0.0.0/0'] }]);
  });

  it('launch templates: the rendered user data of each role, IMDSv2, the instance profile, and on storage the blank encrypted gp3 brick volume at /dev/sdf', async () => {
    const version = async (logicalId: string) =>
      (await d.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id(d, logicalId), Versions: ['$Latest'] }))).LaunchTemplateVersions?.[0]?.LaunchTemplateData;
    const compute = await version('ClusterComputeLaunchTemplate');
    const storage = await version('ClusterStorageLaunchTemplate');
    expect(Buffer.from(compute?.UserData ?? '', 'base64').toString('utf8')).toBe(rendered.compute);
    expect(Buffer.from(storage?.UserData ?? '', 'base64').toString('utf8')).toBe(rendered.storage);
    expect([compute?.MetadataOptions?.HttpTokens, storage?.MetadataOptions?.HttpTokens]).toEqual(['required', 'required']);
    expect(compute?.ImageId).toBe(amiId);
    expect(storage?.ImageId).toBe(amiId); // {{resolve:ssm:/pas-test/storage-ami}}, read when the template was created
    expect(storage?.IamInstanceProfile?.Arn).toBe(d.stack.resources.ClusterStorageInstanceProfile?.attributes.Arn);
    expect(storage?.BlockDeviceMappings).toEqual([{ DeviceName: '/dev/sdf', Ebs: expect.objectContaining({ VolumeSize: 100, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true }) }]);
    expect(d.stack.roles.ClusterStorageRole?.managedPolicyArns).toEqual([
      'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore',
      'arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy',
    ]);
  });

  it('the groups start at MinSize over both zones with their hooks already there: every first instance waits in Pending:Wait and its launch event reached its function\'s queue', async () => {
    const groups = (await d.asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['pydio-reference-storage', 'pydio-reference-compute'] }))).AutoScalingGroups ?? [];
    const storage = groups.find((g) => g.AutoScalingGroupName === 'pydio-reference-storage')!;
    const compute = groups.find((g) => g.AutoScalingGroupName === 'pydio-reference-compute')!;
    expect([storage.MinSize, storage.MaxSize, storage.DesiredCapacity]).toEqual([2, 6, 2]);
    expect([compute.MinSize, compute.MaxSize, compute.DesiredCapacity]).toEqual([1, 4, 1]);
    expect(storage.Instances?.map((i) => i.AvailabilityZone).sort()).toEqual(['eu-west-1a', 'eu-west-1b']);
    const states = d.h.cp.lifecycleStates();
    for (const i of [...(storage.Instances ?? []), ...(compute.Instances ?? [])]) expect([i.InstanceId, states[i.InstanceId ?? '']]).toEqual([i.InstanceId, 'Pending:Wait']);
    const hooks = async (group: string) =>
      ((await d.asg.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: group }))).LifecycleHooks ?? []).map((h) => [h.LifecycleHookName, h.LifecycleTransition, h.HeartbeatTimeout, h.DefaultResult]).sort();
    expect(await hooks('pydio-reference-storage')).toEqual([
      ['pydio-autoscaler-reference-storage-launch', 'autoscaling:EC2_INSTANCE_LAUNCHING', 1800, 'ABANDON'],
      ['pydio-autoscaler-reference-storage-terminate', 'autoscaling:EC2_INSTANCE_TERMINATING', 600, 'CONTINUE'],
    ]);
    expect(await hooks('pydio-reference-compute')).toEqual([
      ['pydio-autoscaler-reference-compute-launch', 'autoscaling:EC2_INSTANCE_LAUNCHING', 900, 'ABANDON'],
      ['pydio-autoscaler-reference-compute-terminate', 'autoscaling:EC2_INSTANCE_TERMINATING', 900, 'CONTINUE'],
    ]);
    type Ev = { detail: { LifecycleHookName: string; EC2InstanceId: string } };
    const storageEvents = (await drainQueue(d.h.cp.url, id(d, 'StorageQueue'), 2)) as Ev[];
    expect(storageEvents.map((e) => e.detail.LifecycleHookName)).toEqual(['pydio-autoscaler-reference-storage-launch', 'pydio-autoscaler-reference-storage-launch']);
    expect(storageEvents.map((e) => e.detail.EC2InstanceId).sort()).toEqual((storage.Instances ?? []).map((i) => i.InstanceId).sort());
    const computeEvents = (await drainQueue(d.h.cp.url, id(d, 'LifecycleQueue'), 1)) as Ev[];
    expect(computeEvents.map((e) => [e.detail.LifecycleHookName, e.detail.EC2InstanceId])).toEqual([['pydio-autoscaler-reference-compute-launch', compute.Instances?.[0]?.InstanceId]]);
  });

  it('the load balancer forwards HTTP to a target group sticky on the app\'s session cookie with check.txt as health check, and the functions register there', async () => {
    const tgArn = id(d, 'ClusterTargetGroup');
    const tg = (await d.elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tgArn] }))).TargetGroups?.[0];
    expect(tg).toMatchObject({ Protocol: 'HTTP', Port: 80, HealthCheckPath: '/check.txt', HealthCheckIntervalSeconds: 10, HealthyThresholdCount: 2, Matcher: { HttpCode: '200' } });
    const attributes = Object.fromEntries(((await d.elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: tgArn }))).Attributes ?? []).map((a) => [a.Key, a.Value]));
    expect(attributes).toMatchObject({
      'stickiness.enabled': 'true',
      'stickiness.type': 'app_cookie',
      'stickiness.app_cookie.cookie_name': APP_PROFILES.pydio8.sessionCookie,
      'stickiness.app_cookie.duration_seconds': '86400',
      'deregistration_delay.timeout_seconds': '300',
    });
    const lbArn = id(d, 'ClusterLoadBalancer');
    const lb = Object.fromEntries(((await d.elb.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: lbArn }))).Attributes ?? []).map((a) => [a.Key, a.Value]));
    expect(lb['idle_timeout.timeout_seconds']).toBe('60');
    const listeners = (await d.elb.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn }))).Listeners ?? [];
    expect(listeners.map((l) => [l.Protocol, l.Port, l.DefaultActions?.[0]?.Type, l.DefaultActions?.[0]?.TargetGroupArn])).toEqual([['HTTP', 80, 'forward', tgArn]]);
    for (const fn of ['lifecycle', 'status', 'storage']) expect([fn, d.stack.functions[fn]?.environment.TARGET_GROUP_ARN]).toEqual([fn, tgArn]);
    expect(JSON.stringify(d.stack.roles.LifecycleFunctionRole?.policies)).toContain(tgArn);
    expect(d.stack.outputs.ClusterUrl).toBe(`http://${d.stack.resources.ClusterLoadBalancer?.attributes.DNSName}`);
  });

  it('the MySQL database: an endpoint, and its master password only in Secrets Manager', () => {
    expect(d.stack.outputs.ClusterDatabaseEndpoint).toMatch(/\./);
    expect(d.stack.outputs.ClusterDatabaseSecretArn).toMatch(/^arn:aws:secretsmanager:eu-west-1:\d{12}:secret:/);
    const database = (packaged.template.Resources as Record<string, { Properties: Record<string, unknown> }>).ClusterDatabase!.Properties;
    expect(database).toMatchObject({ ManageMasterUserPassword: true, MultiAZ: 'false', PubliclyAccessible: false, StorageEncrypted: true });
    expect(Object.keys(database)).not.toContain('MasterUserPassword');
  });
});

test('with three zones the cluster adds a third public and private subnet (eu-west-1c) and its groups span all three zones', async () => {
  await moto.reset();
  const d = await deploy({ ClusterZones: '3' });
  try {
    expect(['ClusterPublicSubnetC', 'ClusterPrivateSubnetC'].map((l) => d.stack.resources[l]?.status)).toEqual(['created', 'created']);
    const subnets = (await d.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [id(d, 'ClusterPrivateSubnetC')] }))).Subnets ?? [];
    expect([subnets[0]?.CidrBlock, subnets[0]?.AvailabilityZone]).toEqual(['10.80.80.0/20', 'eu-west-1c']);
    const group = (await d.asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['pydio-reference-storage'] }))).AutoScalingGroups?.[0];
    expect(group?.VPCZoneIdentifier?.split(',').sort()).toEqual(['ClusterPrivateSubnetA', 'ClusterPrivateSubnetB', 'ClusterPrivateSubnetC'].map((l) => id(d, l)).sort());
  } finally {
    await d.h.cp.stop();
  }
});
