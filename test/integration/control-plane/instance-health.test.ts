/**
 * SetInstanceHealth as the emulator answers and acts on it (control-plane
 * instance-health.ts, lifecycle.ts): moto 5.2.1 only stores the status; AWS
 * refuses an instance within its grace period when asked to respect it, and
 * replaces an Unhealthy InService instance through its terminate hook.
 * Also the event bus's fault switch: a lifecycle event lost before any queue.
 */
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  SetDesiredCapacityCommand,
  SetInstanceHealthCommand,
  SetInstanceProtectionCommand,
  UpdateAutoScalingGroupCommand,
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
    prefix: 'h10h',
    launchHook: { name: 'launch', heartbeatTimeoutSeconds: 600, defaultResult: 'ABANDON' },
    terminateHook: { name: 'terminate', heartbeatTimeoutSeconds: 600, defaultResult: 'CONTINUE' },
  });
  asg = new AutoScalingClient(h.config);
  // moto stores 300 when a group is created without (or with 0): AWS's API default is 0.
  await asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: env.groupName, HealthCheckGracePeriod: 0 }));
});
afterEach(async () => {
  await h?.cp.stop();
});

async function instance(id: string): Promise<{ state: string; health: string } | undefined> {
  const out = await asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [id] }));
  const i = out.AutoScalingInstances?.[0];
  return i && { state: i.LifecycleState ?? '', health: i.HealthStatus ?? '' };
}

async function desired(): Promise<number | undefined> {
  const out = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [env.groupName] }));
  return out.AutoScalingGroups?.[0]?.DesiredCapacity;
}

const complete = (instanceId: string, hook: 'launch' | 'terminate', result: 'CONTINUE' | 'ABANDON') =>
  asg.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: env.groupName, LifecycleHookName: hook, InstanceId: instanceId, LifecycleActionResult: result }));

const setHealth = (instanceId: string, status: string, respect?: boolean) =>
  asg.send(new SetInstanceHealthCommand({ InstanceId: instanceId, HealthStatus: status, ...(respect !== undefined ? { ShouldRespectGracePeriod: respect } : {}) }));

/** Launches `count` instances and lets them go InService; returns their ids. */
async function inService(count: number): Promise<string[]> {
  await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: env.groupName, DesiredCapacity: count }));
  const launches = (await drainQueue(h.cp.url, env.lifecycleQueue.queueUrl, count)) as Ev[];
  const ids = launches.map((e) => e.detail.EC2InstanceId ?? '');
  for (const id of ids) await complete(id, 'launch', 'CONTINUE');
  return ids;
}

test('Unhealthy on an InService instance: terminated through its terminate hook (scale-in protection or not) and replaced, desired unchanged', async () => {
  const [sick, other] = await inService(2);
  await asg.send(new SetInstanceProtectionCommand({ AutoScalingGroupName: env.groupName, InstanceIds: [sick!], ProtectedFromScaleIn: true }));

  await setHealth(sick!, 'Unhealthy', true);
  const [terminate] = (await drainQueue(h.cp.url, env.lifecycleQueue.queueUrl, 1)) as Ev[];
  expect(terminate?.['detail-type']).toBe('EC2 Instance-terminate Lifecycle Action');
  expect(terminate?.detail).toMatchObject({ EC2InstanceId: sick, LifecycleHookName: 'terminate' });
  expect(await instance(sick!)).toEqual({ state: 'Terminating:Wait', health: 'Unhealthy' });
  expect(await instance(other!)).toEqual({ state: 'InService', health: 'Healthy' });
  expect(await desired()).toBe(2);

  await complete(sick!, 'terminate', 'CONTINUE');
  const [launch] = (await drainQueue(h.cp.url, env.lifecycleQueue.queueUrl, 1)) as Ev[];
  expect(launch?.['detail-type']).toBe('EC2 Instance-launch Lifecycle Action');
  expect(await instance(sick!)).toBeUndefined();
  expect(await instance(launch?.detail.EC2InstanceId ?? '')).toEqual({ state: 'Pending:Wait', health: 'Healthy' });
  expect(await desired()).toBe(2);
  expect(h.hosts.terminated).toEqual([sick]);
});

test('within the grace period: refused as AWS refuses it, unless told not to respect it', async () => {
  await asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: env.groupName, HealthCheckGracePeriod: 3600 }));
  const [young] = await inService(1);
  await expect(setHealth(young!, 'Unhealthy')).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringMatching(/^The age of the instance \(\d+ seconds\) is less than the configured grace period of 3600 seconds$/) });
  expect(await instance(young!)).toEqual({ state: 'InService', health: 'Healthy' });
  expect(await drainQueue(h.cp.url, env.lifecycleQueue.queueUrl, 1, 1500)).toEqual([]);

  await setHealth(young!, 'Unhealthy', false);
  const [terminate] = (await drainQueue(h.cp.url, env.lifecycleQueue.queueUrl, 1)) as Ev[];
  expect(terminate?.detail).toMatchObject({ EC2InstanceId: young });
});

test('the grace period counts from InService, not from the launch', async () => {
  await asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: env.groupName, HealthCheckGracePeriod: 2 }));
  await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: env.groupName, DesiredCapacity: 1 }));
  const [launch] = (await drainQueue(h.cp.url, env.lifecycleQueue.queueUrl, 1)) as Ev[];
  const id = launch?.detail.EC2InstanceId ?? '';
  await new Promise((r) => setTimeout(r, 2500));
  await complete(id, 'launch', 'CONTINUE');
  await expect(setHealth(id, 'Unhealthy', true)).rejects.toThrow(/less than the configured grace period of 2 seconds/);
  await new Promise((r) => setTimeout(r, 2100));
  await setHealth(id, 'Unhealthy', true);
  expect((await instance(id))?.state).toBe('Terminating:Wait');
});

test('an instance marked Unhealthy while in Pending:Wait is replaced once it reaches InService', async () => {
  await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: env.groupName, DesiredCapacity: 1 }));
  const [launch] = (await drainQueue(h.cp.url, env.lifecycleQueue.queueUrl, 1)) as Ev[];
  const id = launch?.detail.EC2InstanceId ?? '';
  await setHealth(id, 'Unhealthy', false);
  expect(await instance(id)).toEqual({ state: 'Pending:Wait', health: 'Unhealthy' });
  expect(await drainQueue(h.cp.url, env.lifecycleQueue.queueUrl, 1, 1500)).toEqual([]);
  await complete(id, 'launch', 'CONTINUE');
  const [terminate] = (await drainQueue(h.cp.url, env.lifecycleQueue.queueUrl, 1)) as Ev[];
  expect(terminate?.detail).toMatchObject({ EC2InstanceId: id, LifecycleHookName: 'terminate' });
});

test('Healthy changes nothing', async () => {
  const [id] = await inService(1);
  await setHealth(id!, 'Healthy', true);
  expect(await instance(id!)).toEqual({ state: 'InService', health: 'Healthy' });
  expect(await drainQueue(h.cp.url, env.lifecycleQueue.queueUrl, 1, 1500)).toEqual([]);
});

test.each([
  ['an instance no group manages', 'i-0123456789abcdef0', 'Unhealthy', /^Instance Id not found - No managed instance found for instance ID: i-0123456789abcdef0$/],
  ['an instance id over 19 characters', 'i-0123456789abcdef01', 'Unhealthy', /at 'instanceId' failed to satisfy constraint: Member must have length less than or equal to 19/],
  ['a status that is neither Healthy nor Unhealthy', 'i-0123456789abcdef0', 'Sick', /HealthStatus Sick is not valid/],
])('refused with ValidationError: %s', async (_what, id, status, message) => {
  await expect(setHealth(id, status)).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringMatching(message) });
});

test('the event bus fault: the next matching lifecycle event is lost before any queue, and the journal says so', async () => {
  h.cp.dropNextEvent('the next launch event', (event) => event['detail-type'] === 'EC2 Instance-launch Lifecycle Action');
  await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: env.groupName, DesiredCapacity: 2 }));
  const delivered = (await drainQueue(h.cp.url, env.lifecycleQueue.queueUrl, 2, 3000)) as Ev[];
  expect(delivered).toHaveLength(1);
  const dropped = h.cp.journal.filter((e) => e.dropped !== undefined);
  expect(dropped.map((e) => [e.dropped, e.deliveries.length])).toEqual([['the next launch event', 0]]);
  const lost = String(dropped[0]?.event.detail.EC2InstanceId);
  expect(delivered[0]?.detail.EC2InstanceId).not.toBe(lost);
  expect((await instance(lost))?.state).toBe('Pending:Wait');
});
