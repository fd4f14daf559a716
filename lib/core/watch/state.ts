/**
 * What the watch remembers from one run to the next (the `watch/state` record
 * of the coordination store, JSON, written with a TTL of a few periods):
 * counts and seen-sets, and the conditions it told ops about, so that each
 * change is told once and not every period. A record that is missing,
 * expired or unreadable starts the watch afresh: every rule then waits its
 * full count again, which errs on the side of doing nothing.
 */

/** What can make a cause cluster-wide (lib/core/watch/unhealthy-targets.ts). */
export type ClusterWideKind = 'volumes-down' | 'all-targets-unhealthy';
const CLUSTER_WIDE_KINDS: readonly string[] = ['volumes-down', 'all-targets-unhealthy'];

export interface ClusterWideCondition {
  /** Which causes hold: a change of this list is told. */
  readonly kinds: readonly ClusterWideKind[];
  /** Why no node is replaced: the sentence ops were told. */
  readonly cause: string;
  readonly since: string;
}

export interface WatchState {
  readonly version: 1;
  /** When the run that wrote it looked at the cluster. */
  readonly at: string;
  /** Waiting action keys no live flow held, with the run that first saw them so. */
  readonly unclaimed: Readonly<Record<string, string>>;
  /** Action keys the watch re-drove, and when. */
  readonly redriven: Readonly<Record<string, string>>;
  /** Compute instances whose target was unhealthy in consecutive runs, and how many. */
  readonly unhealthy: Readonly<Record<string, number>>;
  /** Compute instances seen InService, since the first run that saw them so (the grace period counts from there). */
  readonly inService: Readonly<Record<string, string>>;
  /** Compute instances the watch marked Unhealthy, and when. */
  readonly marked: Readonly<Record<string, string>>;
  /** Instances over the replacement cap ops were told about. */
  readonly heldBack: readonly string[];
  /** The cluster-wide condition ops were told about, while it lasts. */
  readonly clusterWide?: ClusterWideCondition;
}

export function emptyWatchState(at: Date): WatchState {
  return { version: 1, at: at.toISOString(), unclaimed: {}, redriven: {}, unhealthy: {}, inService: {}, marked: {}, heldBack: [] };
}

/** How long the record outlives its run: a few periods, so a stopped watch starts afresh. */
export function stateTtlSeconds(periodSeconds: number): number {
  return 5 * periodSeconds;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTime(value: unknown): value is string {
  return typeof value === 'string' && Number.isFinite(Date.parse(value));
}

function timeMap(value: unknown, field: string): Record<string, string> {
  if (!isRecord(value) || !Object.values(value).every(isTime)) throw new Error(`${field} is not a map of times`);
  return value as Record<string, string>;
}

/** Strict reading of a stored record: the state, or why it cannot be used. */
export function decodeWatchState(raw: string): { state: WatchState } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { problem: 'the watch state is not JSON' };
  }
  if (!isRecord(value)) return { problem: 'the watch state is not an object' };
  if (value.version !== 1) return { problem: `the watch state has version ${JSON.stringify(value.version)}, not 1` };
  try {
    if (!isTime(value.at)) throw new Error('at is not a time');
    const unhealthy = value.unhealthy;
    if (!isRecord(unhealthy) || !Object.values(unhealthy).every((n) => Number.isInteger(n) && (n as number) > 0)) throw new Error('unhealthy is not a map of counts');
    const heldBack = value.heldBack;
    if (!Array.isArray(heldBack) || !heldBack.every((id) => typeof id === 'string')) throw new Error('heldBack is not a list of instance ids');
    const clusterWide = value.clusterWide;
    if (clusterWide !== undefined && !(isRecord(clusterWide) && typeof clusterWide.cause === 'string' && isTime(clusterWide.since) && Array.isArray(clusterWide.kinds) && clusterWide.kinds.length > 0 && clusterWide.kinds.every((k) => CLUSTER_WIDE_KINDS.includes(k as string)))) {
      throw new Error('clusterWide is malformed');
    }
    return {
      state: {
        version: 1,
        at: value.at,
        unclaimed: timeMap(value.unclaimed, 'unclaimed'),
        redriven: timeMap(value.redriven, 'redriven'),
        unhealthy: unhealthy as Record<string, number>,
        inService: timeMap(value.inService, 'inService'),
        marked: timeMap(value.marked, 'marked'),
        heldBack: heldBack as string[],
        ...(clusterWide !== undefined ? { clusterWide: clusterWide as unknown as ClusterWideCondition } : {}),
      },
    };
  } catch (error) {
    return { problem: `the watch state is malformed: ${(error as Error).message}` };
  }
}

export function encodeWatchState(state: WatchState): string {
  return JSON.stringify(state);
}
