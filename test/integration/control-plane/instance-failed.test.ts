/**
 * An instance failing its EC2 status checks, as the emulator plays it
 * (LifecycleService.instanceFailed): the group marks it Unhealthy and
 * terminates it through its terminate hook with the desired capacity
 * unchanged, then launches a replacement in the zone that lost it; an
 * ABANDONed launch is replaced in its own zone too (moto alone would use the
 * group's first subnet).
 */
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import { createStageEnvironment, type StageEnvironment } from '../../sandbox/control-plane/aws-setup';
import type { MotoServer } from '../../sandbox/control-plane/moto';
import { drainQueue, startHarness, startMoto, type Harness } from './harness';

jest.setTimeout(60_000);

type Ev = { 'detail-type': string; detail: Record<string, string> };

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
beforeEach(async () => {
  h = await startHarness(moto);
  env = await createStageEnvironment(h.cp.url, {
    prefix: 'h4f',
    launchHook: { name: 'launch', heartbeatTimeoutSeconds: 600, defaultResult: 'ABANDON' },
    terminateHook: { name: 'terminate', heartbeatTimeoutSeconds: 600, defaultResult: 'CONTINUE' },
  });
  asg = new AutoScalingClient(h.config);
});
afterEach(async () => {
  await h?.cp.stop();
});

async function instances(): Promise<{ id: string; state: string; health: string; zone: string }[]> {
  const out = await asg.send(new DescribeAutoScalingInstancesCommand({}));
  return (out.AutoScalingInstances ?? []).map((i) => ({ id: i.InstanceId ?? '', state: i.LifecycleState ?? '', health: i.HealthStatus ?? '', zone: i.AvailabilityZone ?? '' }));
}

async function desired(): Promise<number | undefined> {
  const out = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [env.groupName] }));
  return out.AutoScalingGroups?.[0]?.DesiredCapacity;
}

const complete = (instanceId: string, hook: 'launch' | 'terminate', result: 'CONTINUE' | 'ABANDON') =>
  asg.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: env.groupName, LifecycleHookName: hook, InstanceId: instanceId, LifecycleActionResult: result }));

/** Two InService instances, one per zone; returns them by zone. */
async function twoInService(): Promise<Record<string, string>> {
  await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: env.groupName, DesiredCapacity: 2 }));
  const launches = (await drainQueue(h.cp.url, env.lifecycleQueue.queueUrl, 2)) as Ev[];
  for (const e of launches) await complete(e.detail.EC2InstanceId ?? '', 'launch', 'CONTINUE');
  const now = await instances();
  expect(now.map((i) => i.state)).toEqual(['InService', 'InService']);
  return Object.fromEntries(now.map((i) => [i.zone, i.id]));
}

test.each(['eu-west-1a', 'eu-west-1b'])('a failed instance in %s: Unhealthy, terminated through its hook, replaced in the same zone, desired unchanged', async (zone) => {
  const byZone = await twoInService();
  const failed = byZone[zone]!;

  await h.cp.instanceFailed(failed);
  const [t] = (await drainQueue(h.cp.url, env.lifecycleQueue.queueUrl, 1)) as Ev[];
  expect(t?.['detail-type']).toBe('EC2 Instance-terminate Lifecycle Action');
  expect(t?.detail).toMatchObject({ EC2InstanceId: failed, LifecycleHookName: 'terminate' });
  expect((await instances()).find((i) => i.id === failed)).toMatchObject({ state: 'Terminating:Wait', health: 'Unhealthy' });
  expect(await desired()).toBe(2);
  // Reported again while it terminates: nothing new happens.
  await h.cp.instanceFailed(failed);
  expect(await drainQueue(h.cp.url, env.lifecycleQueue.queueUrl, 1, 1500)).toEqual([]);

  await complete(failed, 'terminate', 'CONTINUE');
  const [launch] = (await drainQueue(h.cp.url, env.lifecycleQueue.queueUrl, 1)) as Ev[];
  expect(launch?.['detail-type']).toBe('EC2 Instance-launch Lifecycle Action');
  const replacement = launch?.detail.EC2InstanceId ?? '';
  const now = await instances();
  expect(now.find((i) => i.id === failed)).toBeUndefined();
  expect(now.find((i) => i.id === replacement)).toMatchObject({ state: 'Pending:Wait', zone });
  expect(await desired()).toBe(2);
  expect(h.hosts.terminated).toEqual([failed]);
  expect(h.hosts.launched.at(-1)).toMatchObject({ instanceId: replacement, availabilityZone: zone });
});

test('an ABANDONed launch in the second zone is replaced in that zone, not the group\'s first subnet', async () => {
  await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: env.groupName, DesiredCapacity: 2 }));
  const launches = (await drainQueue(h.cp.url, env.lifecycleQueue.queueUrl, 2)) as Ev[];
  const zoneOf = async (id: string) => (await instances()).find((i) => i.id === id)?.zone;
  const inB = [];
  for (const e of launches) if ((await zoneOf(e.detail.EC2InstanceId ?? '')) === 'eu-west-1b') inB.push(e.detail.EC2InstanceId ?? '');
  expect(inB).toHaveLength(1);

  await complete(inB[0]!, 'launch', 'ABANDON');
  const [launch] = (await drainQueue(h.cp.url, env.lifecycleQueue.queueUrl, 1)) as Ev[];
  expect(await zoneOf(launch?.detail.EC2InstanceId ?? '')).toBe('eu-west-1b');
});

test('an instance no group knows is refused by id', async () => {
  await expect(h.cp.instanceFailed('i-0123456789abcdef0')).rejects.toThrow(/No managed instance found for instance ID: i-0123456789abcdef0/);
});
