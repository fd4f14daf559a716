/**
 * The lifecycle claim in the coordination table: taken for CLAIM_TTL_SECONDS
 * by the first delivery, kept by every delivery, given back at the end; a dead
 * flow's claim expires and the action is taken over (the watch's re-drive,
 * which carries no token); the old flow, if it comes back, stops quietly.
 */
import type { LifecycleActionRef } from '../../../lib/ports/autoscaling';
import { handleLifecycleMessage } from '../../../lib/usecases/lifecycle';
import { FakeCloud, INSTANCE, lifecycleEvent } from './fake-cloud';

const KEY = `lifecycle/${INSTANCE}/launch`;

/** The event as the watch re-drives it: EventBridge's shape, its own source, no token. */
function redriven(transition: 'launch' | 'terminate'): string {
  const event = JSON.parse(lifecycleEvent(transition)) as { source: string; detail: Record<string, unknown> };
  delete event.detail.LifecycleActionToken;
  return JSON.stringify({ ...event, source: 'pydio-autoscaler.watch' });
}

function later(cloud: FakeCloud, seconds: number): void {
  cloud.now = new Date(cloud.now.getTime() + seconds * 1000);
}

describe('the lifecycle claim', () => {
  it('is taken by the first delivery for CLAIM_TTL_SECONDS and renewed by every later delivery', async () => {
    // Prepare
    const cloud = new FakeCloud();
    cloud.agentOnlineAfter = 3;
    const deps = cloud.deps({ CLAIM_TTL_SECONDS: '300' });
    const start = Math.floor(cloud.now.getTime() / 1000);
    // Act
    await handleLifecycleMessage({ messageId: 'first', body: lifecycleEvent('launch') }, deps);
    const taken = await cloud.coordination.holder(KEY);
    later(cloud, 200);
    await handleLifecycleMessage({ messageId: 'c1', body: cloud.queued.shift()!.body }, deps);
    const renewed = await cloud.coordination.holder(KEY);
    // Assess
    expect(taken).toEqual({ key: KEY, owner: 'first', expiresAt: start + 300 });
    expect(renewed).toEqual({ key: KEY, owner: 'first', expiresAt: start + 200 + 300 });
  });

  it('outlives a flow that keeps delivering longer than its TTL (each delivery renews it)', async () => {
    const cloud = new FakeCloud();
    cloud.agentOnlineAfter = 12;
    const deps = cloud.deps({ CLAIM_TTL_SECONDS: '130' });
    await handleLifecycleMessage({ messageId: 'first', body: lifecycleEvent('launch') }, deps);
    for (let i = 0; i < 40 && cloud.queued.length > 0; i += 1) {
      const next = cloud.queued.shift()!;
      later(cloud, next.delaySeconds);
      await handleLifecycleMessage({ messageId: next.id, body: next.body }, deps);
    }
    expect(cloud.completed).toBe('CONTINUE');
    expect(cloud.coordination.log.filter((l) => l.startsWith('take')).length).toBeGreaterThan(10);
    expect(cloud.coordination.items.has(KEY)).toBe(false);
  });

  it('of a live flow refuses a duplicate; once the flow died and its claim expired, the re-drive takes over and completes by instance id', async () => {
    // Prepare: the first flow dies after its first delivery (its continuation is lost).
    const cloud = new FakeCloud();
    const deps = cloud.deps({ CLAIM_TTL_SECONDS: '900' });
    expect(await handleLifecycleMessage({ messageId: 'first', body: lifecycleEvent('launch') }, deps)).toBe('waiting');
    cloud.queued.length = 0;
    // Act 1: a re-drive while the claim is live is a duplicate.
    later(cloud, 899);
    const early = await handleLifecycleMessage({ messageId: 'watch-1', body: redriven('launch') }, deps);
    // Act 2: after expiry the re-drive owns the action and runs the flow to its end.
    later(cloud, 2);
    const outcomes = [await handleLifecycleMessage({ messageId: 'watch-2', body: redriven('launch') }, deps)];
    for (let i = 0; i < 30 && cloud.queued.length > 0; i += 1) {
      const next = cloud.queued.shift()!;
      later(cloud, next.delaySeconds);
      outcomes.push(await handleLifecycleMessage({ messageId: next.id, body: next.body }, deps));
    }
    // Assess
    expect(early).toBe('skipped');
    expect(outcomes.at(-1)).toBe('completed');
    expect(cloud.completed).toBe('CONTINUE');
    const completion = cloud.calls.find((c) => c.op === 'completeLifecycleAction')!.args as LifecycleActionRef;
    expect(completion.instanceId).toBe(INSTANCE);
    expect(completion).not.toHaveProperty('token');
    expect(cloud.coordination.items.has(KEY)).toBe(false);
  });

  it('lost to a re-driven flow: the old flow\'s next delivery stops quietly (no step, no completion, no notice, the new claim kept)', async () => {
    // Prepare: the old flow waits long (its continuation delayed past the claim's TTL); the re-drive took the action.
    const cloud = new FakeCloud();
    cloud.agentOnlineAfter = 50;
    const deps = cloud.deps({ CLAIM_TTL_SECONDS: '130' });
    await handleLifecycleMessage({ messageId: 'old', body: lifecycleEvent('launch') }, deps);
    const oldContinuation = cloud.queued.shift()!;
    later(cloud, 131);
    expect(await handleLifecycleMessage({ messageId: 'watch', body: redriven('launch') }, deps)).toBe('waiting');
    const callsBefore = cloud.calls.length;
    const noticesBefore = cloud.notifications.length;
    const queuedBefore = cloud.queued.length;
    const pollsBefore = cloud.agentPolls;
    // Act
    const outcome = await handleLifecycleMessage({ messageId: oldContinuation.id, body: oldContinuation.body }, deps);
    // Assess
    expect(outcome).toBe('skipped');
    expect(cloud.calls.length).toBe(callsBefore);
    expect(cloud.agentPolls).toBe(pollsBefore);
    expect(cloud.notifications.length).toBe(noticesBefore);
    expect(cloud.queued.length).toBe(queuedBefore);
    expect((await cloud.coordination.holder(KEY))?.owner).toBe('watch');
  });

  it('expired but taken by nobody: the slow flow takes it back and goes on', async () => {
    const cloud = new FakeCloud();
    cloud.agentOnlineAfter = 1;
    const deps = cloud.deps({ CLAIM_TTL_SECONDS: '130' });
    await handleLifecycleMessage({ messageId: 'slow', body: lifecycleEvent('launch') }, deps);
    later(cloud, 500);
    const outcome = await handleLifecycleMessage({ messageId: 'c', body: cloud.queued.shift()!.body }, deps);
    expect(outcome).toBe('waiting');
    expect((await cloud.coordination.holder(KEY))?.owner).toBe('slow');
  });

  it('a continuation from before the coordination table (no claim in it) takes its claim and goes on', async () => {
    const cloud = new FakeCloud();
    const deps = cloud.deps();
    await handleLifecycleMessage({ messageId: 'first', body: lifecycleEvent('launch') }, deps);
    cloud.coordination.items.clear();
    // A continuation of that time was parked on nothing: no command record to consume either.
    const body = JSON.parse(cloud.queued.shift()!.body) as { state: Record<string, unknown> };
    delete body.state.awaiting;
    const outcome = await handleLifecycleMessage({ messageId: 'c', body: JSON.stringify(body) }, deps);
    expect(outcome).not.toBe('skipped');
    expect((await cloud.coordination.holder(KEY))?.owner).toBe('first');
  });

  it('a failed flow gives its claim back, so the next event for the instance is not refused', async () => {
    const cloud = new FakeCloud();
    cloud.commandScript['doc-mount'] = { polls: 1, result: { status: 'Failed', exitCode: 1, stdout: '', stderr: 'no route' } };
    const deps = cloud.deps();
    await handleLifecycleMessage({ messageId: 'first', body: lifecycleEvent('launch') }, deps);
    for (let i = 0; i < 10 && cloud.queued.length > 0; i += 1) await handleLifecycleMessage({ messageId: `c${i}`, body: cloud.queued.shift()!.body }, deps);
    expect(cloud.completed).toBe('ABANDON');
    expect(cloud.coordination.items.has(KEY)).toBe(false);
  });

  it('is keyed by transition: a terminate flow is not refused by the launch claim of the same instance', async () => {
    const cloud = new FakeCloud();
    cloud.coordination.holdAs(KEY, 'someone', 900);
    cloud.lifecycleState = 'Terminating:Wait';
    expect(await handleLifecycleMessage({ messageId: 't', body: lifecycleEvent('terminate') }, cloud.deps())).not.toBe('skipped');
    expect((await cloud.coordination.holder(`lifecycle/${INSTANCE}/terminate`))?.owner).toBe('t');
  });
});
