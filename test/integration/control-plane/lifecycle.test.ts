import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  RecordLifecycleActionHeartbeatCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { createStageEnvironment, type StageEnvironment } from '../../sandbox/control-plane/aws-setup';
import type { MotoServer } from '../../sandbox/control-plane/moto';
import { drainQueue, eventually, startHarness, startMoto, type Harness } from './harness';

jest.setTimeout(60_000);

let moto: MotoServer;
let h: Harness;
let env: StageEnvironment;
let asg: AutoScalingClient;

beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

async function setUp(hooks: { launchTimeout?: number; launchDefault?: 'CONTINUE' | 'ABANDON'; terminateTimeout?: number } = {}): Promise<void> {
  h = await startHarness(moto);
  env = await createStageEnvironment(h.cp.url, {
    prefix: 'h4t',
    launchHook: { name: 'launch', heartbeatTimeoutSeconds: hooks.launchTimeout ?? 600, defaultResult: hooks.launchDefault ?? 'ABANDON' },
    terminateHook: { name: 'terminate', heartbeatTimeoutSeconds: hooks.terminateTimeout ?? 600, defaultResult: 'CONTINUE' },
  });
  asg = new AutoScalingClient(h.config);
}
afterEach(async () => {
  await h?.cp.stop();
});

async function states(): Promise<Record<string, string>> {
  const out = await asg.send(new DescribeAutoScalingInstancesCommand({}));
  return Object.fromEntries((out.AutoScalingInstances ?? []).map((i) => [i.InstanceId ?? '', i.LifecycleState ?? '']));
}

async function desired(): Promise<number | undefined> {
  const out = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [env.groupName] }));
  return out.AutoScalingGroups?.[0]?.DesiredCapacity;
}

type Ev = { 'detail-type': string; source: string; account: string; region: string; resources: string[]; version: string; id: string; time: string; detail: Record<string, string> };

async function scaleOutTo(n: number): Promise<Ev[]> {
  await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: env.groupName, DesiredCapacity: n }));
  return (await drainQueue(h.cp.url, env.lifecycleQueue.queueUrl, n)) as Ev[];
}

test('desired 0 -> 2 gives two Pending:Wait instances and two launch events through the EventBridge rule', async () => {
  await setUp();
  const events = await scaleOutTo(2);

  expect(events).toHaveLength(2);
  const s = await states();
  expect(Object.values(s)).toEqual(['Pending:Wait', 'Pending:Wait']);
  for (const e of events) {
    expect(e).toMatchObject({ version: '0', source: 'aws.autoscaling', 'detail-type': 'EC2 Instance-launch Lifecycle Action', account: '123456789012', region: 'eu-west-1' });
    expect(e.resources[0]).toMatch(/^arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:.*autoScalingGroupName\/h4t-compute$/);
    expect(e.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(e.detail).toMatchObject({ AutoScalingGroupName: 'h4t-compute', LifecycleHookName: 'launch', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', Origin: 'EC2', Destination: 'AutoScalingGroup' });
    expect(e.detail.LifecycleActionToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(Object.keys(s)).toContain(e.detail.EC2InstanceId);
  }
  expect(h.hosts.launched.map((l) => l.instanceId).sort()).toEqual(Object.keys(s).sort());
  expect(h.hosts.launched[0]?.privateIp).toMatch(/^10\.71\.[12]\.\d+$/);
  // Spread over the group's two zones, as AWS does (moto alone puts both in the first subnet).
  expect(h.hosts.launched.map((l) => l.availabilityZone).sort()).toEqual(['eu-west-1a', 'eu-west-1b']);
  expect(h.cp.journal).toHaveLength(2);
  expect(h.cp.journal[0]?.deliveries).toEqual([expect.objectContaining({ ok: true, ruleName: 'h4t-lifecycle' })]);
});

test('a new instance is never InService before its launch hooks: Pending while its host is set up, then Pending:Wait', async () => {
  await setUp();
  // A host that takes its time to come up (a namespace host on a busy machine takes seconds).
  const slow = h.hosts.onInstanceLaunched.bind(h.hosts);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  h.hosts.onInstanceLaunched = async (instance) => {
    await gate;
    await slow(instance);
  };
  const scaling = asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: env.groupName, DesiredCapacity: 1 }));
  // While the host is held, every look at the group (as another member's flow picks a member) answers Pending.
  const seen = await eventually(async () => {
    const s = await states();
    return Object.keys(s).length === 1 ? s : undefined;
  }, 'the launched instance in DescribeAutoScalingInstances');
  expect(Object.values(seen)).toEqual(['Pending']);
  const group = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [env.groupName] }))).AutoScalingGroups?.[0];
  expect(group?.Instances?.map((i) => i.LifecycleState)).toEqual(['Pending']);
  release();
  await scaling;
  const events = (await drainQueue(h.cp.url, env.lifecycleQueue.queueUrl, 1)) as Ev[];
  expect(Object.values(await states())).toEqual(['Pending:Wait']);
  expect(events.map((e) => e.detail.EC2InstanceId)).toEqual(Object.keys(seen));
});

test('CONTINUE -> InService; ABANDON -> replacement with its own event; second complete -> ValidationError', async () => {
  await setUp();
  const [a, b] = await scaleOutTo(2);
  if (a === undefined || b === undefined) throw new Error('expected two events');

  await asg.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: env.groupName, LifecycleHookName: 'launch', LifecycleActionToken: a.detail.LifecycleActionToken, LifecycleActionResult: 'CONTINUE' }));
  expect((await states())[a.detail.EC2InstanceId ?? '']).toBe('InService');

  await asg.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: env.groupName, LifecycleHookName: 'launch', InstanceId: b.detail.EC2InstanceId, LifecycleActionResult: 'ABANDON' }));
  const replacement = (await drainQueue(h.cp.url, env.lifecycleQueue.queueUrl, 1)) as Ev[];
  expect(replacement).toHaveLength(1);
  const newId = replacement[0]?.detail.EC2InstanceId ?? '';
  expect(newId).not.toBe(b.detail.EC2InstanceId);
  const s = await states();
  expect(s[b.detail.EC2InstanceId ?? '']).toBeUndefined();
  expect(s[newId]).toBe('Pending:Wait');
  expect(await desired()).toBe(2);
  expect(h.hosts.terminated).toEqual([b.detail.EC2InstanceId]);

  await expect(
    asg.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: env.groupName, LifecycleHookName: 'launch', InstanceId: a.detail.EC2InstanceId, LifecycleActionResult: 'CONTINUE' })),
  ).rejects.toMatchObject({ name: 'ValidationError', message: `No active Lifecycle Action found with instance ID ${a.detail.EC2InstanceId}` });
  await expect(
    asg.send(new RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: env.groupName, LifecycleHookName: 'launch', InstanceId: 'i-0123456789abcdef0' })),
  ).rejects.toMatchObject({ name: 'ValidationError' });
});

// 30 s is the shortest HeartbeatTimeout AWS accepts (and so the sandbox: lifecycle-limits.test.ts).
test('heartbeat timeout applies the DefaultResult; a heartbeat extends the deadline', async () => {
  await setUp({ launchTimeout: 30, launchDefault: 'CONTINUE' });
  const [a, b] = await scaleOutTo(2);
  if (a === undefined || b === undefined) throw new Error('expected two events');
  await new Promise((r) => setTimeout(r, 18_000));
  await asg.send(new RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: env.groupName, LifecycleHookName: 'launch', InstanceId: b.detail.EC2InstanceId }));
  await eventually(async () => ((await states())[a.detail.EC2InstanceId] === 'InService' ? true : undefined), 'default result CONTINUE', 16_000);
  expect((await states())[b.detail.EC2InstanceId]).toBe('Pending:Wait');
  await eventually(async () => ((await states())[b.detail.EC2InstanceId] === 'InService' ? true : undefined), 'heartbeat-extended timeout', 22_000);
}, 90_000);

test('scale-in: Terminating:Wait and a terminate event; completing removes the instance from moto', async () => {
  await setUp();
  const launches = await scaleOutTo(2);
  for (const e of launches) {
    await asg.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: env.groupName, LifecycleHookName: 'launch', InstanceId: e.detail.EC2InstanceId, LifecycleActionResult: 'CONTINUE' }));
  }
  await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: env.groupName, DesiredCapacity: 1 }));
  const [t] = (await drainQueue(h.cp.url, env.lifecycleQueue.queueUrl, 1)) as Ev[];
  if (t === undefined) throw new Error('no terminate event');
  expect(t['detail-type']).toBe('EC2 Instance-terminate Lifecycle Action');
  expect(t.detail).toMatchObject({ LifecycleHookName: 'terminate', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', Origin: 'AutoScalingGroup', Destination: 'EC2' });
  const victim = t.detail.EC2InstanceId ?? '';
  expect((await states())[victim]).toBe('Terminating:Wait');
  expect(await desired()).toBe(1);
  expect(h.hosts.terminated).toEqual([]);

  await asg.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: env.groupName, LifecycleHookName: 'terminate', InstanceId: victim, LifecycleActionResult: 'CONTINUE' }));
  const s = await states();
  expect(s[victim]).toBeUndefined();
  expect(Object.values(s)).toEqual(['InService']);
  expect(await desired()).toBe(1);
  expect(h.hosts.terminated).toEqual([victim]);
});

test('TerminateInstanceInAutoScalingGroup goes through the terminate hook too', async () => {
  await setUp();
  const [a] = await scaleOutTo(1);
  if (a === undefined) throw new Error('no launch event');
  await asg.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: env.groupName, LifecycleHookName: 'launch', InstanceId: a.detail.EC2InstanceId, LifecycleActionResult: 'CONTINUE' }));
  const out = await asg.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: a.detail.EC2InstanceId, ShouldDecrementDesiredCapacity: true }));
  expect(out.Activity?.StatusCode).toBe('InProgress');
  expect((await states())[a.detail.EC2InstanceId]).toBe('Terminating:Wait');
  const [t] = (await drainQueue(h.cp.url, env.lifecycleQueue.queueUrl, 1)) as Ev[];
  expect(t?.detail.EC2InstanceId).toBe(a.detail.EC2InstanceId);
  await asg.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: env.groupName, LifecycleHookName: 'terminate', LifecycleActionToken: t?.detail.LifecycleActionToken, LifecycleActionResult: 'CONTINUE' }));
  expect(await states()).toEqual({});
  expect(await desired()).toBe(0);
});
