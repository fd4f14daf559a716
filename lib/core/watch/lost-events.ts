/**
 * Rule (a), lost lifecycle events. Auto Scaling delivers lifecycle events on a
 * best-effort basis: an instance can wait in Pending:Wait or Terminating:Wait
 * with no flow ever started for it. A flow holds its action's key
 * (lib/core/records.ts) from its first delivery to its end and renews it on
 * every delivery, so a waiting instance whose key nobody holds has no flow.
 * The watch re-drives it only when two consecutive runs saw it so (an event
 * merely in flight is not doubled; a lost one costs one period), and not
 * again before a claim would have expired (claimTtlSeconds).
 */
import type { LifecycleTransition } from '../lifecycle-event';
import { lifecycleClaimKey, storageClaimKey } from '../records';
import { WAIT_STATES, type Tier, type WatchedGroup, type WatchSettings, type WatchSnapshot } from './snapshot';
import type { WatchState } from './state';

export interface RedriveAction {
  readonly kind: 'redrive';
  readonly tier: Tier;
  readonly groupName: string;
  readonly instanceId: string;
  readonly transition: LifecycleTransition;
  /** The action's key in the coordination store. */
  readonly key: string;
  /** The run that first saw no flow hold it. */
  readonly unclaimedSince: string;
}

export interface LostEventsVerdict {
  readonly actions: readonly RedriveAction[];
  readonly unclaimed: Readonly<Record<string, string>>;
  /** Earlier re-drives still within claimTtlSeconds (older ones are forgotten). */
  readonly redriven: Readonly<Record<string, string>>;
  /** What the run saw and did not act on, for its log line. */
  readonly notes: readonly string[];
}

export function actionKey(tier: Tier, instanceId: string, transition: LifecycleTransition): string {
  return tier === 'compute' ? lifecycleClaimKey({ instanceId, transition }) : storageClaimKey({ instanceId, transition });
}

function secondsBetween(from: string, now: Date): number {
  return (now.getTime() - Date.parse(from)) / 1000;
}

export function judgeLostEvents(snapshot: WatchSnapshot, previous: WatchState, settings: WatchSettings, now: Date): LostEventsVerdict {
  const at = now.toISOString();
  const actions: RedriveAction[] = [];
  const unclaimed: Record<string, string> = {};
  const notes: string[] = [];
  const redriven = Object.fromEntries(Object.entries(previous.redriven).filter(([, when]) => secondsBetween(when, now) < settings.claimTtlSeconds));
  const groups: WatchedGroup[] = snapshot.storage ? [snapshot.compute, snapshot.storage] : [snapshot.compute];

  for (const group of groups) {
    for (const instance of group.instances) {
      const transition = WAIT_STATES[instance.lifecycleState];
      if (transition === undefined) continue;
      const key = actionKey(group.tier, instance.instanceId, transition);
      if (snapshot.heldActions.has(key)) continue;
      const firstSeen = previous.unclaimed[key];
      unclaimed[key] = firstSeen ?? at;
      const lastRedrive = redriven[key];
      if (lastRedrive !== undefined) {
        notes.push(`${instance.instanceId} (${instance.lifecycleState}) has no flow yet; re-driven ${Math.round(secondsBetween(lastRedrive, now))}s ago, not again before ${settings.claimTtlSeconds}s`);
        continue;
      }
      if (firstSeen === undefined) {
        notes.push(`${instance.instanceId} (${instance.lifecycleState}) has no flow: re-driven if the next run sees it so`);
        continue;
      }
      actions.push({ kind: 'redrive', tier: group.tier, groupName: group.name, instanceId: instance.instanceId, transition, key, unclaimedSince: firstSeen });
    }
  }
  return { actions, unclaimed, redriven, notes };
}
