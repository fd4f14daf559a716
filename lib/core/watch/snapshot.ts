/**
 * What one watch run looks at (the cluster as read at `now`) and the settings
 * it judges with. Plain data: the use case (lib/usecases/watch.ts) reads it
 * through the ports, the rules of this folder decide from it.
 */
import type { LifecycleTransition } from '../lifecycle-event';

export type Tier = 'compute' | 'storage';

export interface WatchedInstance {
  readonly instanceId: string;
  /** Auto Scaling's LifecycleState: Pending:Wait, InService, Terminating:Wait ... */
  readonly lifecycleState: string;
  /** Auto Scaling's HealthStatus: Healthy or Unhealthy. */
  readonly healthStatus: string;
}

export interface WatchedGroup {
  readonly tier: Tier;
  readonly name: string;
  /** The group's HealthCheckGracePeriod (AWS's default is 0). */
  readonly healthCheckGracePeriodSeconds: number;
  readonly instances: readonly WatchedInstance[];
}

/** A target of the compute target group, as DescribeTargetHealth lists it. */
export interface WatchedTarget {
  readonly instanceId: string;
  /** initial, healthy, unhealthy, unused, draining, unavailable */
  readonly state: string;
  readonly reason?: string;
}

/** The last Gluster health the storage function recorded (lib/core/records.ts healthName). */
export type VolumesHealth =
  | { readonly state: 'healthy'; readonly at: string }
  | { readonly state: 'down'; readonly reason: string; readonly at: string }
  | { readonly state: 'unknown'; readonly reason: string };

export interface WatchSnapshot {
  readonly compute: WatchedGroup;
  /** Absent when the stage has no storage tier. */
  readonly storage?: WatchedGroup;
  /** Keys (lib/core/records.ts lifecycleHoldKey / storageLifecycleHoldKey) of the waiting actions a live flow holds. */
  readonly heldActions: ReadonlySet<string>;
  /** The compute target group's targets; absent when they could not be read (the health rule then waits). */
  readonly targets?: readonly WatchedTarget[];
  /** Absent when the stage has no storage tier. */
  readonly volumes?: VolumesHealth;
}

export interface WatchSettings {
  /** The watch's period (stage param watchPeriodMinutes), in seconds. */
  readonly periodSeconds: number;
  /** Consecutive runs a target must be seen unhealthy before its instance is marked Unhealthy. */
  readonly unhealthyChecks: number;
  /** At most this share of the InService compute instances is being replaced at once (at least one instance). */
  readonly maxReplaceShare: number;
  /** A flow's claim lives this long without renewal; a re-driven action is not re-driven again before. */
  readonly claimTtlSeconds: number;
}

/** The lifecycle state in which a group waits for a hook of `transition`, per waiting state. */
export const WAIT_STATES: Readonly<Record<string, LifecycleTransition>> = {
  'Pending:Wait': 'launch',
  'Terminating:Wait': 'terminate',
};

export function validateWatchSettings(settings: WatchSettings): void {
  const whole: Array<[string, number, number]> = [['periodSeconds', settings.periodSeconds, 60], ['unhealthyChecks', settings.unhealthyChecks, 1], ['claimTtlSeconds', settings.claimTtlSeconds, 1]];
  for (const [name, value, min] of whole) {
    if (!Number.isInteger(value) || value < min) throw new RangeError(`watch settings: ${name} must be a whole number of at least ${min}, got ${value}`);
  }
  if (!(settings.maxReplaceShare > 0 && settings.maxReplaceShare <= 1)) {
    throw new RangeError(`watch settings: maxReplaceShare must be above 0 and at most 1, got ${settings.maxReplaceShare}`);
  }
}
