/**
 * One watch run, decided: the cluster as read (snapshot), what the previous
 * run remembered (state), the settings and the time in; the actions to take
 * (each one SNS notice and one log line) and the state to remember out.
 * No I/O. What an action achieved is recorded afterwards with
 * `settleAction`, so a refused or failed action is not remembered as done.
 */
import { judgeLostEvents, type RedriveAction } from './lost-events';
import { validateWatchSettings, type WatchSettings, type WatchSnapshot } from './snapshot';
import { emptyWatchState, type WatchState } from './state';
import { judgeTargets, type TargetAction } from './unhealthy-targets';

export type WatchAction = RedriveAction | TargetAction;

export interface WatchDecision {
  readonly actions: readonly WatchAction[];
  readonly next: WatchState;
  /** What the run saw and left alone, for its summary log line. */
  readonly notes: readonly string[];
}

export function decideWatch(snapshot: WatchSnapshot, previous: WatchState | undefined, settings: WatchSettings, now: Date): WatchDecision {
  validateWatchSettings(settings);
  const before = previous ?? emptyWatchState(now);
  const lost = judgeLostEvents(snapshot, before, settings, now);
  const targets = judgeTargets(snapshot, before, settings, now);
  const next: WatchState = {
    version: 1,
    at: now.toISOString(),
    unclaimed: lost.unclaimed,
    redriven: lost.redriven,
    unhealthy: targets.unhealthy,
    inService: targets.inService,
    marked: targets.marked,
    heldBack: targets.heldBack,
    ...(targets.clusterWide ? { clusterWide: targets.clusterWide } : {}),
  };
  return { actions: [...lost.actions, ...targets.actions], next, notes: [...lost.notes, ...targets.notes] };
}

/** What carrying out an action came to (lib/usecases/watch.ts). */
export type ActionOutcome =
  /** Done as decided. */
  | 'done'
  /** Not done, for a reason that may pass (SetInstanceHealth within the grace period, a hook not found): tried again next run. */
  | 'not-done';

/** The state after `action` came to `outcome`: a re-drive or a mark is remembered only once done. */
export function settleAction(state: WatchState, action: WatchAction, outcome: ActionOutcome, now: Date): WatchState {
  if (outcome !== 'done') return state;
  const at = now.toISOString();
  switch (action.kind) {
    case 'redrive':
      return { ...state, redriven: { ...state.redriven, [action.key]: at } };
    case 'mark-unhealthy': {
      const { [action.instanceId]: _counted, ...unhealthy } = state.unhealthy;
      return { ...state, unhealthy, marked: { ...state.marked, [action.instanceId]: at } };
    }
    default:
      return state;
  }
}
