/** Cluster states for the watch's rule tables: small builders, every default healthy and quiet. */
import type { VolumesHealth, WatchedInstance, WatchedTarget, WatchSettings, WatchSnapshot } from '../../../../lib/core/watch/snapshot';
import { emptyWatchState, type WatchState } from '../../../../lib/core/watch/state';

export const NOW = new Date('2026-11-21T10:00:00Z');
export const SETTINGS: WatchSettings = { periodSeconds: 60, unhealthyChecks: 3, maxReplaceShare: 0.34, claimTtlSeconds: 900 };

/** An ISO time `seconds` before NOW. */
export const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();

export function instance(instanceId: string, lifecycleState = 'InService', healthStatus = 'Healthy'): WatchedInstance {
  return { instanceId, lifecycleState, healthStatus };
}

export function target(instanceId: string, state: string): WatchedTarget {
  return { instanceId, state, ...(state === 'unhealthy' ? { reason: 'Target.FailedHealthChecks' } : {}) };
}

export interface ClusterShape {
  readonly compute?: readonly WatchedInstance[];
  readonly storage?: readonly WatchedInstance[];
  readonly held?: readonly string[];
  /** Default: every InService compute instance healthy. `null`: could not be read. */
  readonly targets?: readonly WatchedTarget[] | null;
  readonly volumes?: VolumesHealth;
  readonly grace?: number;
}

export function cluster(shape: ClusterShape = {}): WatchSnapshot {
  const compute = shape.compute ?? [instance('i-01'), instance('i-02'), instance('i-03')];
  const targets = shape.targets === null ? undefined : (shape.targets ?? compute.filter((i) => i.lifecycleState === 'InService').map((i) => target(i.instanceId, 'healthy')));
  return {
    compute: { tier: 'compute', name: 'pydio-compute', healthCheckGracePeriodSeconds: shape.grace ?? 0, instances: compute },
    ...(shape.storage ? { storage: { tier: 'storage', name: 'pydio-storage', healthCheckGracePeriodSeconds: 0, instances: shape.storage } } : {}),
    heldActions: new Set(shape.held ?? []),
    ...(targets ? { targets } : {}),
    ...(shape.volumes ? { volumes: shape.volumes } : {}),
  };
}

/** A previous run's state, written one period before NOW. */
export function remembered(over: Partial<WatchState> = {}): WatchState {
  return { ...emptyWatchState(new Date(NOW.getTime() - 60_000)), ...over };
}
