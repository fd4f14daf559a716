import {
  advance,
  decodeContinuation,
  encodeContinuation,
  isContinuation,
  startFlow,
  type FlowState,
} from '../../../lib/core/compute-flow';
import {
  decodeIntakeRetry,
  encodeIntakeRetry,
  heartbeatWarning,
  isIntakeRetry,
  jitteredBackoffSeconds,
  LATE_SHARE,
  needsHeartbeat,
  waitDelaySeconds,
} from '../../../lib/core/flow';
import type { LifecycleEvent } from '../../../lib/core/lifecycle-event';
import { MalformedEventError } from '../../../lib/errors';

const launch: LifecycleEvent = {
  kind: 'lifecycle',
  transition: 'launch',
  groupName: 'pydio-compute',
  hookName: 'launch-hook',
  instanceId: 'i-0123456789abcdef0',
  token: 'tok-1',
  time: '2026-11-21T10:00:00Z',
};
const t0 = new Date('2026-11-21T10:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

describe('startFlow / advance', () => {
  it('walks the launch flow in order and ends after complete', () => {
    let state: FlowState | undefined = startFlow(launch, 'msg-1', 900, t0);
    const seen: string[] = [];
    while (state) {
      seen.push(state.step);
      state = advance(state, { kind: 'next' }, t0);
    }
    expect(seen).toEqual(['await-agent', 'mount-volumes', 'configure-app', 'register-target', 'await-healthy', 'complete']);
  });

  it('walks the terminate flow in order', () => {
    const first = startFlow({ ...launch, transition: 'terminate' }, 'msg-1', 900, t0);
    expect(first.flow).toBe('compute-terminate');
    expect(first.step).toBe('deregister-target');
  });

  it('drops the command id, resets attempts and keeps patches and warnings on advance', () => {
    const state: FlowState = { ...startFlow(launch, 'm', 900, t0), step: 'mount-volumes', commandId: 'c-1', attempt: 4 };
    const next = advance(state, { kind: 'next', patch: { registered: true }, warning: 'w1' }, at(30));
    expect(next).toMatchObject({ step: 'configure-app', attempt: 0, registered: true, warnings: ['w1'], stepStartedAt: at(30).toISOString() });
    expect(next?.commandId).toBeUndefined();
  });

  it('honours skipTo and refuses a step of another flow', () => {
    const state = startFlow({ ...launch, transition: 'terminate' }, 'm', 900, t0);
    expect(advance(state, { kind: 'next', skipTo: 'drain-node' }, t0)?.step).toBe('drain-node');
    expect(() => advance(state, { kind: 'next', skipTo: 'mount-volumes' }, t0)).toThrow(/not part of flow compute-terminate/);
  });
});

describe('waitDelaySeconds: a tenth of the wait so far, between base and max', () => {
  it.each([
    [0, 10, 120, 10],
    [30, 10, 120, 10],
    [100, 10, 120, 10],
    [101, 10, 120, 11],
    [250, 10, 120, 25],
    [1199, 10, 120, 120],
    [7200, 10, 120, 120],
    [-3, 10, 120, 10],
    [40, 1, 2, 2],
    [5, 1, 2, 1],
  ])('%is into the step with base %i and max %i waits %is', (waited, base, max, expected) => {
    expect(waitDelaySeconds(waited, base, max)).toBe(expected);
  });

  it('keeps every look within a tenth of the wait (or the base) of the moment the state came true', () => {
    for (const trueAt of [3, 17, 95, 240, 1000, 3000]) {
      let t = 0;
      while (t < trueAt) t += waitDelaySeconds(t, 10, 120);
      expect(t - trueAt).toBeLessThanOrEqual(Math.max(10, Math.ceil(trueAt * LATE_SHARE) + 1));
    }
  });
});

/** A seeded uniform source in [0, 1) (mulberry32): many draws, the same every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('jitteredBackoffSeconds (full jitter)', () => {
  it.each([
    [0, 10, 120, 10],
    [1, 10, 120, 20],
    [3, 10, 120, 80],
    [4, 10, 120, 120],
    [50, 10, 120, 120],
    [2, 1, 2, 2],
  ])('attempt %i, base %i, cap %i: 10,000 draws stay in [1, %i] and reach both ends', (attempt, base, max, cap) => {
    const random = seeded(attempt * 1000 + base);
    const draws = Array.from({ length: 10_000 }, () => jitteredBackoffSeconds(attempt, base, max, random));
    expect(draws.every((d) => Number.isInteger(d) && d >= 1 && d <= cap)).toBe(true);
    expect(Math.min(...draws)).toBe(1);
    expect(Math.max(...draws)).toBe(cap);
    // Spread over the whole range, not piled at the cap: the mean is near the middle.
    const mean = draws.reduce((sum, d) => sum + d, 0) / draws.length;
    expect(mean).toBeGreaterThan(cap / 2 - cap / 10);
    expect(mean).toBeLessThan(cap / 2 + cap / 10 + 1);
  });

  it('maps the random draw onto 0..cap, never under the 1 s floor', () => {
    expect(jitteredBackoffSeconds(2, 10, 120, () => 0)).toBe(1);
    expect(jitteredBackoffSeconds(2, 10, 120, () => 0.5)).toBe(20);
    expect(jitteredBackoffSeconds(2, 10, 120, () => 0.999999)).toBe(40);
    expect(jitteredBackoffSeconds(0, 0, 0, () => 0.7)).toBe(1);
  });

  it.each([[1], [-0.1], [Number.NaN]])('refuses a random source that returned %p', (value) => {
    expect(() => jitteredBackoffSeconds(1, 10, 120, () => value)).toThrow(/random source must return a number in \[0, 1\)/);
  });
});

describe('intake retries (a throttled first delivery, re-sent)', () => {
  it('round-trips the original body with the owner and attempt, and is not a continuation', () => {
    const body = JSON.parse(encodeIntakeRetry({ owner: 'msg-1', attempt: 2, body: { source: 'aws.autoscaling' } })) as Record<string, unknown>;
    expect(isIntakeRetry(body)).toBe(true);
    expect(isContinuation(body)).toBe(false);
    expect(isIntakeRetry({ source: 'aws.autoscaling' })).toBe(false);
    expect(decodeIntakeRetry(body)).toEqual({ owner: 'msg-1', attempt: 2, body: { source: 'aws.autoscaling' } });
  });

  it.each([
    ['no owner', { attempt: 1, body: {} }, /owner is missing/],
    ['attempt 0', { owner: 'm', attempt: 0, body: {} }, /attempt 0 is not a positive whole number/],
    ['no original message', { owner: 'm', attempt: 1 }, /original message is missing/],
    ['a retry inside a retry', { owner: 'm', attempt: 1, body: { 'pydio-autoscaler/intake-retry': 1 } }, /original message is missing/],
  ])('rejects %s', (_name, fields, message) => {
    expect(() => decodeIntakeRetry({ 'pydio-autoscaler/intake-retry': 1, ...fields })).toThrow(MalformedEventError);
    expect(() => decodeIntakeRetry({ 'pydio-autoscaler/intake-retry': 1, ...fields })).toThrow(message);
  });
});

describe('needsHeartbeat', () => {
  const base = startFlow(launch, 'm', 600, t0);
  it.each([
    ['fresh flow, short delay', 0, 10, false],
    ['just under half the timeout', 280, 19, false],
    ['reaches half the timeout', 280, 20, true],
    ['long after the last heartbeat', 500, 1, true],
  ])('%s', (_name, elapsed, delay, expected) => {
    expect(needsHeartbeat(base, delay, at(elapsed))).toBe(expected);
  });
  it('never asks when the hook has no timeout', () => {
    expect(needsHeartbeat({ ...base, heartbeatTimeoutSeconds: 0 }, 10_000, at(10_000))).toBe(false);
  });
});

describe('heartbeatWarning', () => {
  it('warns when the retry interval is at least half the hook timeout', () => {
    expect(heartbeatWarning(120, 60)).toMatch(/at least half the hook's heartbeat timeout/);
    expect(heartbeatWarning(900, 120)).toBeUndefined();
  });
});

describe('continuations', () => {
  it('round-trips a flow state', () => {
    const state = { ...startFlow(launch, 'm', 900, t0), commandId: 'cmd-1', warnings: ['x'] };
    const body = JSON.parse(encodeContinuation(state));
    expect(isContinuation(body)).toBe(true);
    expect(decodeContinuation(body)).toEqual(state);
  });

  it('does not mistake an EventBridge event for a continuation', () => {
    expect(isContinuation({ source: 'aws.autoscaling' })).toBe(false);
  });

  it.each([
    ['no state', {}, /state is missing/],
    ['unknown flow', { state: { flow: 'x' } }, /unknown flow "x"/],
    ['unknown step', { state: { flow: 'compute-launch', step: 'drain-node' } }, /step "drain-node" is not part of flow compute-launch/],
    ['missing times', { state: { flow: 'compute-launch', step: 'complete' } }, /startedAt is missing/],
  ])('rejects %s', (_name, body, message) => {
    expect(() => decodeContinuation(body as { state: unknown })).toThrow(MalformedEventError);
    expect(() => decodeContinuation(body as { state: unknown })).toThrow(message);
  });

  it.each([[-1], [1.5], ['3']])('rejects a throttledWaits of %j, naming it', (value) => {
    const state = { ...startFlow(launch, 'm', 900, t0), throttledWaits: value };
    expect(() => decodeContinuation({ state })).toThrow(/throttledWaits must be a whole number of waits/);
  });

  it('rejects an incomplete event inside the state', () => {
    const state = { ...startFlow(launch, 'm', 900, t0), event: { kind: 'lifecycle' } };
    expect(() => decodeContinuation({ state })).toThrow(/lifecycle event is incomplete/);
  });

  it.each([[{ intervalSeconds: 0, healthyThreshold: 5 }], [{ intervalSeconds: 30 }], ['30']])('rejects a healthCheck of %j, naming it', (value) => {
    const state = { ...startFlow(launch, 'm', 900, t0), healthCheck: value };
    expect(() => decodeContinuation({ state })).toThrow(/healthCheck must hold whole positive intervalSeconds and healthyThreshold/);
  });

  it('carries the health check through a continuation', () => {
    const state = { ...startFlow(launch, 'm', 900, t0), healthCheck: { intervalSeconds: 30, healthyThreshold: 5 } };
    expect(decodeContinuation(JSON.parse(encodeContinuation(state)) as { state: unknown })).toEqual(state);
  });
});
