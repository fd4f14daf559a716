import type { AlarmSignal } from './alarm-event';

/**
 * The one scaling decision: from an alarm signal and a snapshot of the
 * cluster to what to do (or why not). Pure: no I/O, no clock of its own.
 */
export type AlarmRole = 'cpu-high' | 'cpu-low' | 'disk-high' | 'unknown';

export interface SnapshotInstance {
  readonly instanceId: string;
  readonly lifecycleState: string;
}

export interface GroupSnapshot {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly desired: number;
  readonly instances: readonly SnapshotInstance[];
}

export interface ScalingSnapshot {
  readonly alarmRole: AlarmRole;
  readonly metricValue?: number;
  readonly threshold?: number;
  /** The group the alarm scales (compute for CPU); undefined when it was not found. */
  readonly group?: GroupSnapshot;
  /** End of the group's last successful scaling activity. */
  readonly lastActivityEnd?: Date;
  /** A scaling activity of the group has not ended yet. */
  readonly activityInProgress: boolean;
  readonly now: Date;
  /**
   * The volumes' health from the last health read; 'unknown' (no read recent
   * enough, or no storage tier) neither blocks nor clears a scale-out: it goes
   * ahead and the decision says so (alarm.ts notes).
   */
  readonly storageHealthy: { readonly healthy: boolean | 'unknown'; readonly reason?: string };
  /** The Gluster volume a disk alarm expands. */
  readonly dataVolume: string;
}

export interface ScalingSettings {
  readonly stepOut: number;
  readonly largeStepOut: number;
  /** value >= threshold * largeStepFactor takes the large step. */
  readonly largeStepFactor: number;
  readonly cooldownSeconds: number;
  /** Re-check delay while something else is moving (activity running, lifecycle action pending). */
  readonly busyRecheckSeconds: number;
  /** Re-checks after which an alarm that stays in ALARM is left alone (every loop is bounded). */
  readonly maxRechecks: number;
}

export type SuppressionRule =
  | 'unknown-alarm'
  | 'group-missing'
  | 'at-maximum'
  | 'at-minimum'
  | 'activity-in-progress'
  | 'cooldown'
  | 'lifecycle-pending'
  | 'storage-unhealthy';

interface Base {
  readonly why: string;
  /** Look at the alarm again after this many seconds (still ALARM: act again). */
  readonly recheckAfterSeconds?: number;
}

export type ScalingDecision =
  | (Base & { readonly kind: 'scale'; readonly group: string; readonly direction: 'out' | 'in'; readonly from: number; readonly to: number })
  | (Base & { readonly kind: 'expand-storage'; readonly volume: string; readonly sets: 1 })
  | (Base & { readonly kind: 'suppressed'; readonly rule: SuppressionRule; readonly cooldownLeftSeconds?: number })
  | (Base & { readonly kind: 'none' });

/** Lifecycle states in which an instance is still joining or leaving. */
const IN_FLIGHT: ReadonlySet<string> = new Set([
  'Pending', 'Pending:Wait', 'Pending:Proceed', 'Terminating', 'Terminating:Wait', 'Terminating:Proceed',
  'Warmed:Pending', 'Warmed:Pending:Wait', 'Warmed:Pending:Proceed', 'Warmed:Terminating', 'Warmed:Terminating:Wait', 'Warmed:Terminating:Proceed',
]);

export function isLifecyclePending(state: string): boolean {
  return IN_FLIGHT.has(state);
}

/** Seconds of cooldown left (0 when none): last activity end + cooldown - now, rounded up. */
export function cooldownLeftSeconds(lastActivityEnd: Date | undefined, cooldownSeconds: number, now: Date): number {
  if (!lastActivityEnd) return 0;
  const left = (lastActivityEnd.getTime() + cooldownSeconds * 1000 - now.getTime()) / 1000;
  return left > 0 ? Math.ceil(left) : 0;
}

function formatValue(value: number | undefined): string {
  return value === undefined ? 'unknown' : String(Math.round(value * 100) / 100);
}

/** The step for a scale-out: the large one when the value is far above the threshold. */
export function scaleOutStep(metricValue: number | undefined, threshold: number | undefined, settings: ScalingSettings): { step: number; large: boolean } {
  const large = metricValue !== undefined && threshold !== undefined && threshold > 0 && metricValue >= threshold * settings.largeStepFactor;
  return large ? { step: settings.largeStepOut, large } : { step: settings.stepOut, large };
}

function withRecheck(decision: ScalingDecision, seconds: number | undefined, signal: AlarmSignal, settings: ScalingSettings): ScalingDecision {
  if (seconds === undefined) return decision;
  if (signal.attempt >= settings.maxRechecks) {
    return { ...decision, why: `${decision.why}; no further re-check: ${settings.maxRechecks} re-checks reached` };
  }
  return { ...decision, recheckAfterSeconds: Math.max(1, Math.ceil(seconds)) };
}

export function validateSettings(settings: ScalingSettings): void {
  const positive: Array<[string, number]> = [['stepOut', settings.stepOut], ['largeStepOut', settings.largeStepOut], ['busyRecheckSeconds', settings.busyRecheckSeconds]];
  for (const [name, value] of positive) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`scaling settings: ${name} must be a positive whole number, got ${value}`);
  }
  if (settings.largeStepOut < settings.stepOut) throw new RangeError(`scaling settings: largeStepOut (${settings.largeStepOut}) must not be below stepOut (${settings.stepOut})`);
  if (!(settings.largeStepFactor > 1)) throw new RangeError(`scaling settings: largeStepFactor must be above 1, got ${settings.largeStepFactor}`);
  if (!Number.isInteger(settings.cooldownSeconds) || settings.cooldownSeconds < 0) throw new RangeError(`scaling settings: cooldownSeconds must be a whole number >= 0, got ${settings.cooldownSeconds}`);
  if (!Number.isInteger(settings.maxRechecks) || settings.maxRechecks < 0) throw new RangeError(`scaling settings: maxRechecks must be a whole number >= 0, got ${settings.maxRechecks}`);
}

export function decideScaling(signal: AlarmSignal, snapshot: ScalingSnapshot, settings: ScalingSettings): ScalingDecision {
  validateSettings(settings);
  const { alarmRole: role } = snapshot;
  const facts = `${signal.alarmName}: value ${formatValue(snapshot.metricValue)} vs threshold ${formatValue(snapshot.threshold)}`;

  if (signal.state !== 'ALARM') {
    return { kind: 'none', why: `alarm ${signal.alarmName} is ${signal.state}: no action, no further re-check` };
  }
  if (role === 'unknown') {
    return { kind: 'suppressed', rule: 'unknown-alarm', why: `alarm ${signal.alarmName} is not one of the configured scaling alarms: no action` };
  }

  if (role === 'disk-high') {
    // The storage expansion has its own guard rails (one expansion at a time, healthy volume, capacity ...).
    return withRecheck(
      { kind: 'expand-storage', volume: snapshot.dataVolume, sets: 1, why: `brick disk usage high (${facts}): expand ${snapshot.dataVolume} by one replica set` },
      Math.max(settings.cooldownSeconds, settings.busyRecheckSeconds),
      signal,
      settings,
    );
  }

  const group = snapshot.group;
  if (!group) {
    return { kind: 'suppressed', rule: 'group-missing', why: `the group scaled by ${signal.alarmName} was not found: no action` };
  }
  const desired = Math.min(group.max, Math.max(group.min, group.desired));
  const out = role === 'cpu-high';

  if (out && desired >= group.max) {
    return { kind: 'suppressed', rule: 'at-maximum', why: `${group.name} already at maximum ${group.max} (${facts})` };
  }
  if (!out && desired <= group.min) {
    return { kind: 'suppressed', rule: 'at-minimum', why: `${group.name} already at minimum ${group.min} (${facts})` };
  }

  if (snapshot.activityInProgress) {
    return withRecheck(
      { kind: 'suppressed', rule: 'activity-in-progress', why: `a scaling activity of ${group.name} is still in progress (${facts})` },
      settings.busyRecheckSeconds,
      signal,
      settings,
    );
  }
  const left = cooldownLeftSeconds(snapshot.lastActivityEnd, settings.cooldownSeconds, snapshot.now);
  if (left > 0) {
    return withRecheck(
      { kind: 'suppressed', rule: 'cooldown', cooldownLeftSeconds: left, why: `${group.name} is cooling down: ${left}s left of ${settings.cooldownSeconds}s (${facts})` },
      left,
      signal,
      settings,
    );
  }

  if (!out) {
    const pending = group.instances.filter((instance) => isLifecyclePending(instance.lifecycleState));
    if (pending.length > 0) {
      const list = pending.map((instance) => `${instance.instanceId} ${instance.lifecycleState}`).join(', ');
      return withRecheck(
        { kind: 'suppressed', rule: 'lifecycle-pending', why: `no scale-in while a lifecycle action is pending (${list})` },
        settings.busyRecheckSeconds,
        signal,
        settings,
      );
    }
    const to = Math.max(group.min, desired - 1);
    return withRecheck(
      { kind: 'scale', group: group.name, direction: 'in', from: group.desired, to, why: `CPU low (${facts}): scale in by one` },
      settings.cooldownSeconds,
      signal,
      settings,
    );
  }

  if (snapshot.storageHealthy.healthy === false) {
    return withRecheck(
      {
        kind: 'suppressed',
        rule: 'storage-unhealthy',
        why: `no scale-out while the storage volumes are unhealthy (${snapshot.storageHealthy.reason ?? 'no reason given'}): more web nodes would not help`,
      },
      Math.max(settings.cooldownSeconds, settings.busyRecheckSeconds),
      signal,
      settings,
    );
  }
  const { step, large } = scaleOutStep(snapshot.metricValue, snapshot.threshold, settings);
  const to = Math.min(group.max, desired + step);
  const clamped = to < desired + step ? `, clamped to maximum ${group.max}` : '';
  const stepText = large ? `large step +${step} (value >= ${settings.largeStepFactor} x threshold)` : `step +${step}`;
  return withRecheck(
    { kind: 'scale', group: group.name, direction: 'out', from: group.desired, to, why: `CPU high (${facts}): scale out by ${stepText}${clamped}` },
    settings.cooldownSeconds,
    signal,
    settings,
  );
}

export interface AlarmNames {
  readonly cpuHigh: string;
  readonly cpuLow: string;
  /** Empty when the stage has no storage group (no disk alarm). */
  readonly diskHigh: string;
}

/** Which configured alarm `alarmName` is; 'unknown' for any other name. */
export function alarmRoleOf(alarmName: string, names: AlarmNames): AlarmRole {
  if (alarmName === names.cpuHigh) return 'cpu-high';
  if (alarmName === names.cpuLow) return 'cpu-low';
  if (names.diskHigh !== '' && alarmName === names.diskHigh) return 'disk-high';
  return 'unknown';
}
