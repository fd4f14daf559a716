/**
 * The emulated lifecycle hook's timeouts, on a fake clock: the heartbeat timeout applies the
 * DefaultResult, a heartbeat restarts it, and the global timeout (min(100 x HeartbeatTimeout, 48 h)
 * from the start of the wait) applies it however many heartbeats come. No moto is reached: a
 * launch answered CONTINUE only leaves the overlay.
 */
import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { globalTimeoutSeconds, LifecycleService, type Forward, type Transition } from '../../sandbox/control-plane/lifecycle';
import type { LifecycleFact } from '../../sandbox/control-plane/scaling-activities';

const INSTANCE = 'i-0123456789abcdef0';
const GROUP: AutoScalingGroup = {
  AutoScalingGroupName: 'g',
  AutoScalingGroupARN: 'arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:0:autoScalingGroupName/g',
} as AutoScalingGroup;
const noMoto: Forward = async () => {
  throw new Error('this test reaches no moto');
};

interface Internals {
  openActions(g: AutoScalingGroup, instanceId: string, transition: Transition, hooks: unknown[], decrement: boolean): Promise<void>;
}

function start(heartbeatTimeoutSeconds: number) {
  const completed: Array<{ at: number; result: string }> = [];
  const service = new LifecycleService({
    clientConfig: { region: 'eu-west-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } },
    hosts: { onInstanceLaunched: async () => undefined, onInstanceTerminated: async () => undefined },
    now: () => Date.now(),
    emit: async () => undefined,
    log: () => undefined,
    onFact: (fact: LifecycleFact) => {
      if (fact.kind === 'hook-completed') completed.push({ at: Date.now(), result: fact.result });
    },
  });
  const open = (service as unknown as Internals).openActions(GROUP, INSTANCE, 'autoscaling:EC2_INSTANCE_LAUNCHING', [{ name: 'launch', heartbeatTimeoutSeconds, defaultResult: 'CONTINUE' }], false);
  const heartbeat = () => service.handle('RecordLifecycleActionHeartbeat', new URLSearchParams({ AutoScalingGroupName: 'g', LifecycleHookName: 'launch', InstanceId: INSTANCE }), noMoto);
  return { service, open, heartbeat, completed };
}

beforeEach(() => jest.useFakeTimers({ now: 0 }));
afterEach(() => jest.useRealTimers());

it('the global timeout is 100 x HeartbeatTimeout, at most 48 h', () => {
  expect(globalTimeoutSeconds(30)).toBe(3000);
  expect(globalTimeoutSeconds(7200)).toBe(172_800);
  expect(globalTimeoutSeconds(1800)).toBe(172_800);
});

it('without a heartbeat the DefaultResult applies after HeartbeatTimeout', async () => {
  const { service, open, completed } = start(30);
  await open;
  await jest.advanceTimersByTimeAsync(29_999);
  expect(service.states()).toEqual({ [INSTANCE]: 'Pending:Wait' });
  await jest.advanceTimersByTimeAsync(1);
  expect(completed).toEqual([{ at: 30_000, result: 'CONTINUE' }]);
  expect(service.states()).toEqual({});
  service.stop();
});

it('heartbeats every 20 s keep the instance waiting only until the global timeout (100 x 30 s), then the DefaultResult applies and heartbeats are refused', async () => {
  const { service, open, heartbeat, completed } = start(30);
  await open;
  for (let elapsed = 0; elapsed < 3100 && completed.length === 0; elapsed += 20) {
    await jest.advanceTimersByTimeAsync(20_000);
    if (completed.length === 0) await heartbeat();
  }
  expect(completed).toEqual([{ at: 3_000_000, result: 'CONTINUE' }]);
  await expect(heartbeat()).rejects.toMatchObject({ code: 'ValidationError', message: `No active Lifecycle Action found with instance ID ${INSTANCE}` });
  service.stop();
});
