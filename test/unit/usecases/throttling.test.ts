/**
 * A call AWS throttled (after the SDK's own retries) is a wait, not a failure:
 * the flow tries the same step again after a full-jitter delay, and a first
 * delivery goes back to its queue keeping the message id that owns its claim.
 * The errors are built as the adapters build them (wrapError over an SDK-shaped
 * error), so the classification in lib/aws/call.ts is exercised too.
 */
import { wrapError } from '../../../lib/aws/call';
import { decodeContinuation, isContinuation, type FlowState } from '../../../lib/core/compute-flow';
import { decodeIntakeRetry, encodeIntakeRetry, isIntakeRetry, MAX_INTAKE_RETRIES, MAX_THROTTLED_WAITS } from '../../../lib/core/flow';
import { AwsCallError } from '../../../lib/errors';
import type { LifecycleDeps } from '../../../lib/usecases/compute/common';
import type { MessageOutcome } from '../../../lib/usecases/flow-runner';
import { handleLifecycleMessage } from '../../../lib/usecases/lifecycle';
import { awsError } from '../aws/helpers';
import { FakeCloud, lifecycleEvent } from './fake-cloud';
import { INSTANCE } from './fake-cloud';

const KEY = `lifecycle/${INSTANCE}/launch`;

/** What an adapter throws when AWS throttled `operation` past the SDK's retries. */
const throttled = (operation: string) => wrapError(operation, awsError('ThrottlingException', 'Rate exceeded'));

/** Makes the next `times` calls of `call` throw `error`, then lets them through. */
function failNext<A extends unknown[], R>(call: (...args: A) => Promise<R>, times: number, error: () => Error): (...args: A) => Promise<R> {
  let left = times;
  return async (...args: A) => {
    if (left > 0) {
      left -= 1;
      throw error();
    }
    return call(...args);
  };
}

function depsWith(cloud: FakeCloud, random: () => number = () => 0.5, env: Record<string, string> = {}): LifecycleDeps {
  return { ...cloud.deps(env), random };
}

/** Deliver every queued message in order (the clock advanced by each delay), up to `max`. */
async function drain(cloud: FakeCloud, deps: LifecycleDeps, max = 60): Promise<MessageOutcome[]> {
  const outcomes: MessageOutcome[] = [];
  for (let i = 0; i < max && cloud.queued.length > 0; i += 1) {
    const next = cloud.queued.shift()!;
    cloud.now = new Date(cloud.now.getTime() + next.delaySeconds * 1000);
    outcomes.push(await handleLifecycleMessage({ messageId: next.id, body: next.body }, deps));
  }
  return outcomes;
}

function queuedState(cloud: FakeCloud, index = 0): FlowState {
  const body = JSON.parse(cloud.queued[index].body) as unknown;
  if (!isContinuation(body)) throw new Error('not a continuation');
  return decodeContinuation(body);
}

const started = (cloud: FakeCloud) => cloud.notifications.filter((n) => n.eventType === 'lifecycle.started').length;

describe('a throttled step', () => {
  it.each([
    ['the lowest draw', 0, 1],
    ['the highest draw', 0.999999, 5],
  ])('waits on the same step, one attempt more, a jittered delay in [1, cap] (%s), and throws nothing', async (_case, draw, delay) => {
    // Prepare: the agent check (first step) is throttled; RETRY_BASE_SECONDS 5 makes the cap of attempt 0 5 s.
    const cloud = new FakeCloud();
    cloud.ssm.describeManagedInstances = failNext(cloud.ssm.describeManagedInstances, 1, () => throttled('DescribeInstanceInformation'));
    // Act
    const outcome = await handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, depsWith(cloud, () => draw));
    // Assess
    expect(outcome).toBe('waiting');
    expect(cloud.queued).toHaveLength(1);
    expect(cloud.queued[0].delaySeconds).toBe(delay);
    expect(queuedState(cloud)).toMatchObject({ step: 'await-agent', attempt: 1, owner: 'msg-1' });
    expect(cloud.completed).toBeUndefined();
  });

  it('names the throttled operation in the wait', async () => {
    const cloud = new FakeCloud();
    const seen: unknown[] = [];
    const deps = { ...depsWith(cloud), log: { ...cloud.log, info: (message: string, keys?: Record<string, unknown>) => void seen.push([message, keys]) } } as LifecycleDeps;
    cloud.ssm.describeManagedInstances = failNext(cloud.ssm.describeManagedInstances, 1, () => throttled('DescribeInstanceInformation'));
    await handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, deps);
    expect(seen).toContainEqual(['waiting', expect.objectContaining({ reason: expect.stringContaining('AWS throttled DescribeInstanceInformation') })]);
  });

  it('throttled twice, then answered: the flow completes with CONTINUE', async () => {
    const cloud = new FakeCloud();
    cloud.targets.describeTargetHealth = failNext(cloud.targets.describeTargetHealth, 2, () => throttled('DescribeTargetHealth'));
    const deps = depsWith(cloud);
    const first = await handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, deps);
    const rest = await drain(cloud, deps);
    expect([first, ...rest].filter((o) => o === 'waiting').length).toBeGreaterThanOrEqual(2);
    expect(rest.at(-1)).toBe('completed');
    expect(cloud.completed).toBe('CONTINUE');
    expect(cloud.coordination.items.has(KEY)).toBe(false);
  });

  it('while polling a command keeps the command in flight (no second SendCommand)', async () => {
    const cloud = new FakeCloud();
    cloud.commandScript['doc-mount'] = { polls: 2, result: { status: 'Success', exitCode: 0, stdout: 'ok', stderr: '' } };
    cloud.ssm.getInvocation = failNext(cloud.ssm.getInvocation, 1, () => throttled('GetCommandInvocation'));
    const deps = depsWith(cloud);
    await handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, deps);
    expect(queuedState(cloud)).toMatchObject({ step: 'mount-volumes', commandId: 'cmd-1' });
    await drain(cloud, deps);
    expect(cloud.completed).toBe('CONTINUE');
    expect(cloud.mutatingCalls()).toEqual(['sendCommand', 'sendCommand', 'registerTarget', 'completeLifecycleAction']);
  });

  it('on a continuation, before its steps (the claim kept in the coordination table), also waits', async () => {
    const cloud = new FakeCloud();
    cloud.agentOnlineAfter = 1;
    const deps = depsWith(cloud);
    await handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, deps);
    const take = cloud.coordination.take.bind(cloud.coordination);
    cloud.coordination.take = failNext(take, 1, () => throttled('UpdateItem'));
    const next = cloud.queued.shift()!;
    const outcome = await handleLifecycleMessage({ messageId: next.id, body: next.body }, deps);
    expect(outcome).toBe('waiting');
    expect(queuedState(cloud)).toMatchObject({ step: 'await-agent', attempt: 2 });
    await drain(cloud, deps);
    expect(cloud.completed).toBe('CONTINUE');
  });

  it('a throttled heartbeat does not lose the wait: the command just sent is kept (not sent again), the heartbeat is recorded on the next delivery', async () => {
    // Prepare: a 10 s hook timeout makes every wait need a heartbeat; the first one is throttled.
    const cloud = new FakeCloud();
    cloud.heartbeatTimeout = 10;
    cloud.commandScript['doc-mount'] = { polls: 2, result: { status: 'Success', exitCode: 0, stdout: 'ok', stderr: '' } };
    cloud.autoScaling.recordHeartbeat = failNext(cloud.autoScaling.recordHeartbeat, 1, () => throttled('RecordLifecycleActionHeartbeat'));
    const deps = depsWith(cloud);
    // Act
    const first = await handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, deps);
    const waiting = queuedState(cloud);
    const rest = await drain(cloud, deps);
    // Assess
    expect(first).toBe('waiting');
    expect(waiting).toMatchObject({ step: 'mount-volumes', commandId: 'cmd-1' });
    expect(rest.at(-1)).toBe('completed');
    expect(cloud.completed).toBe('CONTINUE');
    expect(cloud.mutatingCalls().filter((op) => op === 'sendCommand')).toHaveLength(2);
    expect(cloud.calls.filter((c) => c.op === 'recordHeartbeat').length).toBeGreaterThan(0);
  });

  it(`waits at most ${MAX_THROTTLED_WAITS} times in a row, then throws to the queue (re-delivery, dead letter): a flow never waits for ever`, async () => {
    const cloud = new FakeCloud();
    cloud.ssm.describeManagedInstances = failNext(cloud.ssm.describeManagedInstances, 1000, () => throttled('DescribeInstanceInformation'));
    const deps = depsWith(cloud);
    const outcomes: string[] = [await handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, deps)];
    let thrown: unknown;
    for (let i = 0; i < MAX_THROTTLED_WAITS + 5 && thrown === undefined; i += 1) {
      const next = cloud.queued.shift()!;
      try {
        outcomes.push(await handleLifecycleMessage({ messageId: next.id, body: next.body }, deps));
      } catch (error) {
        thrown = error;
        // What the queue re-delivers is the message that threw: put it back as SQS would.
        cloud.queued.unshift(next);
      }
    }
    expect(outcomes).toEqual(Array.from({ length: MAX_THROTTLED_WAITS }, () => 'waiting'));
    expect(thrown).toBeInstanceOf(AwsCallError);
    expect(queuedState(cloud)).toMatchObject({ step: 'await-agent', throttledWaits: MAX_THROTTLED_WAITS });
  });

  it('a wait for another reason ends the run of throttled waits (the count is of waits in a row)', async () => {
    const cloud = new FakeCloud();
    cloud.agentOnlineAfter = 3;
    cloud.ssm.describeManagedInstances = failNext(cloud.ssm.describeManagedInstances, 1, () => throttled('DescribeInstanceInformation'));
    const deps = depsWith(cloud);
    await handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, deps);
    expect(queuedState(cloud)).toMatchObject({ step: 'await-agent', throttledWaits: 1 });
    const next = cloud.queued.shift()!;
    await handleLifecycleMessage({ messageId: next.id, body: next.body }, deps);
    expect(queuedState(cloud).step).toBe('await-agent');
    expect(queuedState(cloud).throttledWaits).toBeUndefined();
  });

  it('an AwsCallError that is not throttling still throws (the queue re-delivers the message)', async () => {
    const cloud = new FakeCloud();
    cloud.ssm.describeManagedInstances = failNext(cloud.ssm.describeManagedInstances, 1, () => wrapError('DescribeInstanceInformation', awsError('AccessDeniedException', 'not authorized')));
    const delivery = handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, depsWith(cloud));
    await expect(delivery).rejects.toThrow(AwsCallError);
    await expect(handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, depsWith(cloud))).resolves.toBe('waiting');
    expect(cloud.queued.every((q) => isContinuation(JSON.parse(q.body)))).toBe(true);
  });
});

describe('a throttled first delivery (no flow state yet)', () => {
  it('goes back to the queue with the id that owns the claim; a genuine duplicate is skipped; the re-sent message starts the one flow', async () => {
    // Prepare: the claim is taken by msg-1, then Auto Scaling throttles the check that the hook still waits.
    const cloud = new FakeCloud();
    const deps = depsWith(cloud);
    cloud.autoScaling.describeInstance = failNext(cloud.autoScaling.describeInstance, 1, () => throttled('DescribeAutoScalingInstances'));
    // Act: first delivery, then EventBridge's duplicate of the same event (another message id), then the re-sent message.
    const first = await handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, deps);
    const resent = cloud.queued.shift()!;
    const duplicate = await handleLifecycleMessage({ messageId: 'msg-2', body: lifecycleEvent('launch') }, deps);
    cloud.now = new Date(cloud.now.getTime() + resent.delaySeconds * 1000);
    const retried = await handleLifecycleMessage({ messageId: resent.id, body: resent.body }, deps);
    const owner = queuedState(cloud).owner;
    const rest = await drain(cloud, deps);
    // Assess
    expect(first).toBe('waiting');
    expect(resent.delaySeconds).toBeGreaterThanOrEqual(1);
    expect(resent.delaySeconds).toBeLessThanOrEqual(5);
    const body = JSON.parse(resent.body) as Record<string, unknown>;
    expect(isIntakeRetry(body) && decodeIntakeRetry(body)).toMatchObject({ owner: 'msg-1', attempt: 1 });
    expect(duplicate).toBe('skipped');
    expect(retried).toBe('waiting');
    expect(owner).toBe('msg-1');
    expect(rest.at(-1)).toBe('completed');
    expect(cloud.completed).toBe('CONTINUE');
    expect(started(cloud)).toBe(1);
    expect(cloud.mutatingCalls().filter((op) => op === 'completeLifecycleAction')).toHaveLength(1);
    expect(cloud.coordination.items.has(KEY)).toBe(false);
  });

  it('throttled on the claim itself: whichever delivery takes the claim first runs the one flow, the other is skipped', async () => {
    const cloud = new FakeCloud();
    const deps = depsWith(cloud);
    const take = cloud.coordination.take.bind(cloud.coordination);
    cloud.coordination.take = failNext(take, 1, () => throttled('UpdateItem'));
    const first = await handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, deps);
    const resent = cloud.queued.shift()!;
    const duplicate = await handleLifecycleMessage({ messageId: 'msg-2', body: lifecycleEvent('launch') }, deps);
    const retried = await handleLifecycleMessage({ messageId: resent.id, body: resent.body }, deps);
    await drain(cloud, deps);
    expect(first).toBe('waiting');
    expect(duplicate).toBe('waiting');
    expect(retried).toBe('skipped');
    expect(started(cloud)).toBe(1);
    expect(cloud.completed).toBe('CONTINUE');
  });

  it('a duplicate that comes after the claim expired takes it over; the re-sent message that comes later is the one skipped', async () => {
    const cloud = new FakeCloud();
    const deps = depsWith(cloud, () => 0.5, { CLAIM_TTL_SECONDS: '130' });
    cloud.autoScaling.describeInstance = failNext(cloud.autoScaling.describeInstance, 1, () => throttled('DescribeAutoScalingInstances'));
    await handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, deps);
    const resent = cloud.queued.shift()!;
    cloud.now = new Date(cloud.now.getTime() + 200 * 1000);
    const duplicate = await handleLifecycleMessage({ messageId: 'msg-2', body: lifecycleEvent('launch') }, deps);
    const retried = await handleLifecycleMessage({ messageId: resent.id, body: resent.body }, deps);
    expect(duplicate).toBe('waiting');
    expect(retried).toBe('skipped');
    expect(queuedState(cloud).owner).toBe('msg-2');
    await drain(cloud, deps);
    expect(started(cloud)).toBe(1);
    expect(cloud.completed).toBe('CONTINUE');
  });

  it('throttled again on the re-sent message: re-sent once more, one attempt more, the same owner', async () => {
    const cloud = new FakeCloud();
    const deps = depsWith(cloud, () => 0.999999);
    cloud.autoScaling.describeLifecycleHook = failNext(cloud.autoScaling.describeLifecycleHook, 2, () => throttled('DescribeLifecycleHooks'));
    await handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, deps);
    const once = cloud.queued.shift()!;
    await handleLifecycleMessage({ messageId: once.id, body: once.body }, deps);
    const twice = cloud.queued.shift()!;
    expect([once.delaySeconds, twice.delaySeconds]).toEqual([5, 10]);
    expect(decodeIntakeRetry(JSON.parse(twice.body) as Record<string, unknown>)).toMatchObject({ owner: 'msg-1', attempt: 2 });
    await handleLifecycleMessage({ messageId: twice.id, body: twice.body }, deps);
    expect(queuedState(cloud).owner).toBe('msg-1');
    await drain(cloud, deps);
    expect(cloud.completed).toBe('CONTINUE');
  });

  it('is re-sent at most MAX_INTAKE_RETRIES times: throttled past that, it is thrown for the queue (an outage, not a burst)', async () => {
    const cloud = new FakeCloud();
    cloud.autoScaling.describeInstance = failNext(cloud.autoScaling.describeInstance, 2, () => throttled('DescribeAutoScalingInstances'));
    const retry = (attempt: number) => encodeIntakeRetry({ owner: 'msg-1', attempt, body: JSON.parse(lifecycleEvent('launch')) });
    const lastResend = await handleLifecycleMessage({ messageId: 'r-1', body: retry(MAX_INTAKE_RETRIES - 1) }, depsWith(cloud));
    const beyond = handleLifecycleMessage({ messageId: 'r-2', body: retry(MAX_INTAKE_RETRIES) }, depsWith(cloud));
    expect(lastResend).toBe('waiting');
    await expect(beyond).rejects.toThrow(/DescribeAutoScalingInstances: ThrottlingException/);
    expect(cloud.queued).toHaveLength(1);
  });

  it('a first delivery that fails for another reason is still thrown, not re-sent', async () => {
    const cloud = new FakeCloud();
    cloud.autoScaling.describeInstance = failNext(cloud.autoScaling.describeInstance, 1, () => wrapError('DescribeAutoScalingInstances', awsError('AccessDenied', 'no')));
    await expect(handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, depsWith(cloud))).rejects.toThrow(/AccessDenied/);
    expect(cloud.queued).toHaveLength(0);
  });
});
