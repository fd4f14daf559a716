import type { AlarmSignal } from '../../../../lib/core/scaling/alarm-event';
import {
  alarmRoleOf,
  cooldownLeftSeconds,
  decideScaling,
  isLifecyclePending,
  type ScalingSettings,
  type ScalingSnapshot,
} from '../../../../lib/core/scaling/decide';

const NOW = new Date('2026-11-21T10:00:00Z');
const SETTINGS: ScalingSettings = { stepOut: 1, largeStepOut: 3, largeStepFactor: 1.5, cooldownSeconds: 300, busyRecheckSeconds: 60, maxRechecks: 10 };

function signal(over: Partial<AlarmSignal> = {}): AlarmSignal {
  return { alarmName: 'cpu-high', state: 'ALARM', reason: 'Threshold Crossed', at: NOW.toISOString(), source: 'event', attempt: 0, ...over };
}

function snapshot(over: Partial<ScalingSnapshot> & { desired?: number; min?: number; max?: number; states?: string[] } = {}): ScalingSnapshot {
  const { desired = 2, min = 1, max = 4, states = ['InService', 'InService'], ...rest } = over;
  return {
    alarmRole: 'cpu-high',
    metricValue: 80,
    threshold: 70,
    group: { name: 'pydio-compute', min, max, desired, instances: states.map((lifecycleState, i) => ({ instanceId: `i-0${i}`, lifecycleState })) },
    activityInProgress: false,
    now: NOW,
    storageHealthy: { healthy: true },
    dataVolume: 'pydio-data',
    ...rest,
  };
}

const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000);

describe('decideScaling', () => {
  it.each<[string, AlarmSignal, ScalingSnapshot, Record<string, unknown>]>([
    // --- scale-out steps
    ['CPU high: step out by one', signal(), snapshot(), { kind: 'scale', direction: 'out', from: 2, to: 3, recheckAfterSeconds: 300 }],
    ['far above the threshold (>= 1.5 x): large step', signal(), snapshot({ metricValue: 105 }), { kind: 'scale', from: 2, to: 4 }],
    ['just below 1.5 x: normal step', signal(), snapshot({ metricValue: 104.9 }), { kind: 'scale', to: 3 }],
    ['unknown value: normal step', signal(), snapshot({ metricValue: undefined }), { kind: 'scale', to: 3 }],
    ['large step clamped to the maximum', signal(), snapshot({ metricValue: 200, desired: 3 }), { kind: 'scale', from: 3, to: 4, why: expect.stringContaining('clamped to maximum 4') }],
    // --- bounds
    ['at max -> suppressed, no re-check', signal(), snapshot({ desired: 4 }), { kind: 'suppressed', rule: 'at-maximum', why: expect.stringContaining('already at maximum 4'), recheckAfterSeconds: undefined }],
    ['above max (desired 5, max 4) counts as at max', signal(), snapshot({ desired: 5 }), { kind: 'suppressed', rule: 'at-maximum' }],
    ['CPU low at min -> suppressed', signal({ alarmName: 'cpu-low' }), snapshot({ alarmRole: 'cpu-low', desired: 1 }), { kind: 'suppressed', rule: 'at-minimum', why: expect.stringContaining('already at minimum 1') }],
    // --- scale-in
    ['CPU low: scale in by one', signal({ alarmName: 'cpu-low' }), snapshot({ alarmRole: 'cpu-low', desired: 3, states: ['InService', 'InService', 'InService'] }), { kind: 'scale', direction: 'in', from: 3, to: 2, recheckAfterSeconds: 300 }],
    ['pending launch blocks scale-in', signal({ alarmName: 'cpu-low' }), snapshot({ alarmRole: 'cpu-low', desired: 3, states: ['InService', 'Pending:Wait'] }), { kind: 'suppressed', rule: 'lifecycle-pending', why: expect.stringContaining('i-01 Pending:Wait'), recheckAfterSeconds: 60 }],
    ['pending termination blocks scale-in', signal({ alarmName: 'cpu-low' }), snapshot({ alarmRole: 'cpu-low', desired: 3, states: ['Terminating:Wait'] }), { kind: 'suppressed', rule: 'lifecycle-pending' }],
    ['pending lifecycle does not block scale-out', signal(), snapshot({ states: ['Pending:Wait'] }), { kind: 'scale', direction: 'out' }],
    // --- cooldown
    ['cooldown: suppressed with the seconds left, re-check then', signal(), snapshot({ lastActivityEnd: ago(100) }), { kind: 'suppressed', rule: 'cooldown', cooldownLeftSeconds: 200, why: expect.stringContaining('200s left of 300s'), recheckAfterSeconds: 200 }],
    ['cooldown over: acts', signal(), snapshot({ lastActivityEnd: ago(301) }), { kind: 'scale', to: 3 }],
    ['cooldown applies to scale-in too', signal({ alarmName: 'cpu-low' }), snapshot({ alarmRole: 'cpu-low', desired: 3, lastActivityEnd: ago(299) }), { kind: 'suppressed', rule: 'cooldown', recheckAfterSeconds: 1 }],
    ['activity in progress: suppressed, re-check soon', signal(), snapshot({ activityInProgress: true }), { kind: 'suppressed', rule: 'activity-in-progress', recheckAfterSeconds: 60 }],
    // --- storage
    ['unhealthy storage blocks compute scale-out', signal(), snapshot({ storageHealthy: { healthy: false, reason: 'brick 10.0.1.10:/bricks/pydio-data/brick offline' } }), { kind: 'suppressed', rule: 'storage-unhealthy', why: expect.stringMatching(/brick 10.0.1.10.*more web nodes would not help/), recheckAfterSeconds: 300 }],
    ['unknown storage health (no recent read) neither blocks nor is needed for a scale-out', signal(), snapshot({ storageHealthy: { healthy: 'unknown', reason: 'the last Gluster health read is 900s old' } }), { kind: 'scale', direction: 'out', to: 3 }],
    ['unhealthy storage does not block scale-in', signal({ alarmName: 'cpu-low' }), snapshot({ alarmRole: 'cpu-low', desired: 3, storageHealthy: { healthy: false, reason: 'x' } }), { kind: 'scale', direction: 'in' }],
    ['disk high: expand the data volume by one set', signal({ alarmName: 'disk-high' }), snapshot({ alarmRole: 'disk-high', metricValue: 91, threshold: 80, group: undefined }), { kind: 'expand-storage', volume: 'pydio-data', sets: 1, recheckAfterSeconds: 300 }],
    // --- states and unknowns
    ['OK: none, no re-check', signal({ state: 'OK' }), snapshot(), { kind: 'none', why: expect.stringContaining('is OK: no action, no further re-check'), recheckAfterSeconds: undefined }],
    ['INSUFFICIENT_DATA: none', signal({ state: 'INSUFFICIENT_DATA' }), snapshot(), { kind: 'none', recheckAfterSeconds: undefined }],
    ['OK on a re-check stops the chain', signal({ state: 'OK', source: 'recheck', attempt: 4 }), snapshot({ lastActivityEnd: ago(400) }), { kind: 'none', recheckAfterSeconds: undefined }],
    ['unknown alarm: suppressed with the reason', signal({ alarmName: 'someone-elses' }), snapshot({ alarmRole: 'unknown' }), { kind: 'suppressed', rule: 'unknown-alarm', why: expect.stringContaining('not one of the configured scaling alarms') }],
    ['missing group: suppressed', signal(), snapshot({ group: undefined }), { kind: 'suppressed', rule: 'group-missing' }],
    // --- re-checks
    ['re-check still ALARM after cooldown: acts again', signal({ source: 'recheck', attempt: 2 }), snapshot({ desired: 3, lastActivityEnd: ago(300) }), { kind: 'scale', from: 3, to: 4, recheckAfterSeconds: 300 }],
    ['re-check still in cooldown: waits the rest', signal({ source: 'recheck', attempt: 1 }), snapshot({ lastActivityEnd: ago(250) }), { kind: 'suppressed', rule: 'cooldown', recheckAfterSeconds: 50 }],
    ['re-check limit reached: acts, but no further re-check', signal({ source: 'recheck', attempt: 10 }), snapshot(), { kind: 'scale', recheckAfterSeconds: undefined, why: expect.stringContaining('10 re-checks reached') }],
  ])('%s', (_name, input, snap, expected) => {
    const decision = decideScaling(input, snap, SETTINGS);
    const { recheckAfterSeconds, ...rest } = expected;
    expect(decision).toMatchObject(rest);
    if ('recheckAfterSeconds' in expected) expect(decision.recheckAfterSeconds).toBe(recheckAfterSeconds);
  });

  it('never leaves the bounds, whatever the steps', () => {
    for (const desired of [0, 1, 2, 3, 4, 5]) {
      for (const metricValue of [71, 110, 500]) {
        for (const role of ['cpu-high', 'cpu-low'] as const) {
          const d = decideScaling(signal(), snapshot({ alarmRole: role, desired, min: 1, max: 4, metricValue }), { ...SETTINGS, stepOut: 2, largeStepOut: 7 });
          if (d.kind === 'scale') {
            expect(d.to).toBeGreaterThanOrEqual(1);
            expect(d.to).toBeLessThanOrEqual(4);
            expect(d.to).not.toBe(d.from);
          }
        }
      }
    }
  });

  it.each<[string, Partial<ScalingSettings>, RegExp]>([
    ['stepOut 0', { stepOut: 0 }, /stepOut must be a positive whole number/],
    ['large step below step', { stepOut: 3, largeStepOut: 2 }, /largeStepOut \(2\) must not be below stepOut \(3\)/],
    ['factor 1', { largeStepFactor: 1 }, /largeStepFactor must be above 1/],
    ['negative cooldown', { cooldownSeconds: -1 }, /cooldownSeconds/],
  ])('refuses settings with %s', (_what, over, message) => {
    expect(() => decideScaling(signal(), snapshot(), { ...SETTINGS, ...over })).toThrow(message);
  });
});

describe('helpers', () => {
  it.each([
    [undefined, 300, 0],
    [ago(0), 300, 300],
    [ago(299.5), 300, 1],
    [ago(300), 300, 0],
    [ago(1000), 300, 0],
    [ago(10), 0, 0],
  ])('cooldownLeftSeconds(end %p, cooldown %p) = %p', (end, cooldown, expected) => {
    expect(cooldownLeftSeconds(end, cooldown, NOW)).toBe(expected);
  });

  it.each([
    ['Pending:Wait', true], ['Terminating:Wait', true], ['Pending', true], ['Terminating:Proceed', true],
    ['InService', false], ['Standby', false], ['Terminated', false], ['Detached', false],
  ])('isLifecyclePending(%s) = %p', (state, expected) => {
    expect(isLifecyclePending(state)).toBe(expected);
  });

  const names = { cpuHigh: 'a-high', cpuLow: 'a-low', diskHigh: 'b-disk' };
  it.each([
    ['a-high', names, 'cpu-high'], ['a-low', names, 'cpu-low'], ['b-disk', names, 'disk-high'], ['other', names, 'unknown'],
    ['', { ...names, diskHigh: '' }, 'unknown'],
  ] as const)('alarmRoleOf(%j)', (name, configured, expected) => {
    expect(alarmRoleOf(name, configured)).toBe(expected);
  });
});
