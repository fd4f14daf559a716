/**
 * Rule (b), unhealthy compute nodes. The target group is deliberately not
 * attached to the compute group (nodes register only when ready), so ELB
 * health never reaches Auto Scaling: the watch carries it. A compute instance
 * InService and past the group's health check grace period, whose target was
 * `unhealthy` (failed health checks: not initial, draining, unused or
 * unavailable) in `unhealthyChecks` consecutive runs, is marked Unhealthy;
 * the group then terminates it through its terminate hook (the normal drain)
 * and launches a replacement.
 *
 * Guard rails: at most `maxReplaceShare` of the InService instances (at least
 * one) are being replaced at once, counting those already Unhealthy or
 * terminating; and none at all while the cause is cluster-wide (every
 * registered target unhealthy, or the volumes down), which is told instead,
 * once when it starts or changes and once when it ends.
 */
import type { WatchSettings, WatchSnapshot } from './snapshot';
import type { ClusterWideCondition, ClusterWideKind, WatchState } from './state';

export interface MarkUnhealthyAction {
  readonly kind: 'mark-unhealthy';
  readonly groupName: string;
  readonly instanceId: string;
  /** Consecutive runs its target was seen unhealthy. */
  readonly checks: number;
  /** The target group's reason for the last unhealthy reading. */
  readonly reason: string;
  /** The replacement cap this run, and the instances it already counts. */
  readonly limit: number;
  readonly replacing: readonly string[];
}

export interface ClusterWideAction {
  readonly kind: 'cluster-wide';
  readonly change: 'started' | 'changed';
  readonly cause: string;
  /** Compute instances whose target is unhealthy now. */
  readonly unhealthy: readonly string[];
}

export interface ClusterRecoveredAction {
  readonly kind: 'cluster-recovered';
  /** The condition that ended. */
  readonly was: ClusterWideCondition;
}

export interface HeldBackAction {
  readonly kind: 'held-back';
  /** Instances newly held back by the cap (those told before are not told again). */
  readonly instanceIds: readonly string[];
  readonly limit: number;
  readonly replacing: readonly string[];
}

export type TargetAction = MarkUnhealthyAction | ClusterWideAction | ClusterRecoveredAction | HeldBackAction;

export interface TargetsVerdict {
  readonly actions: readonly TargetAction[];
  readonly unhealthy: Readonly<Record<string, number>>;
  readonly inService: Readonly<Record<string, string>>;
  readonly marked: Readonly<Record<string, string>>;
  readonly heldBack: readonly string[];
  readonly clusterWide?: ClusterWideCondition;
  readonly notes: readonly string[];
}

/** The most instances being replaced at once: `share` of the InService ones, rounded down, at least one. */
export function replacementLimit(inServiceCount: number, share: number): number {
  // A share such as 0.34 of 3 is 1.02: the small epsilon keeps 0.5 of 4 at 2 despite floating point.
  return Math.max(1, Math.floor(inServiceCount * share + 1e-9));
}

/** What makes the cause cluster-wide: stable names (a change is told), and the sentence ops read. */
export interface ClusterWideCause {
  readonly kinds: readonly ClusterWideKind[];
  readonly text: string;
}

/** Why no node may be replaced now (the cause is not the node), or undefined. */
export function clusterWideCause(snapshot: WatchSnapshot): ClusterWideCause | undefined {
  const kinds: ClusterWideKind[] = [];
  const texts: string[] = [];
  if (snapshot.volumes?.state === 'down') {
    kinds.push('volumes-down');
    texts.push(`the Gluster volumes are down (${snapshot.volumes.reason}, recorded ${snapshot.volumes.at})`);
  }
  const judged = (snapshot.targets ?? []).filter((t) => t.state === 'healthy' || t.state === 'unhealthy');
  if (judged.length > 0 && judged.every((t) => t.state === 'unhealthy')) {
    kinds.push('all-targets-unhealthy');
    texts.push(`every registered target is unhealthy (${judged.length} of ${judged.length})`);
  }
  return kinds.length > 0 ? { kinds, text: texts.join('; ') } : undefined;
}

function sameKinds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((kind, i) => kind === b[i]);
}

function isTerminating(state: string): boolean {
  return state.startsWith('Terminating') || state === 'Terminated';
}

export function judgeTargets(snapshot: WatchSnapshot, previous: WatchState, settings: WatchSettings, now: Date): TargetsVerdict {
  const at = now.toISOString();
  const notes: string[] = [];
  const actions: TargetAction[] = [];
  const group = snapshot.compute;
  const present = new Set(group.instances.map((i) => i.instanceId));
  const inServiceInstances = group.instances.filter((i) => i.lifecycleState === 'InService');

  // Seen InService since: the grace period counts from the first run that saw it so (never earlier than AWS's own clock).
  const inService: Record<string, string> = {};
  for (const instance of inServiceInstances) inService[instance.instanceId] = previous.inService[instance.instanceId] ?? at;
  const marked = Object.fromEntries(Object.entries(previous.marked).filter(([id]) => present.has(id)));

  if (snapshot.targets === undefined) {
    notes.push('target health could not be read: unhealthy counts kept as they were');
    const unhealthy = Object.fromEntries(Object.entries(previous.unhealthy).filter(([id]) => present.has(id)));
    return { actions, unhealthy, inService, marked, heldBack: previous.heldBack.filter((id) => present.has(id)), ...(previous.clusterWide ? { clusterWide: previous.clusterWide } : {}), notes };
  }

  // Cluster-wide: tell instead of replacing, once per change; counts restart after it.
  const cause = clusterWideCause(snapshot);
  const unhealthyTargets = snapshot.targets.filter((t) => t.state === 'unhealthy');
  if (cause !== undefined) {
    const told = previous.clusterWide;
    const same = told !== undefined && sameKinds(told.kinds, cause.kinds);
    const clusterWide: ClusterWideCondition = same ? told : { kinds: cause.kinds, cause: cause.text, since: told?.since ?? at };
    if (!same) actions.push({ kind: 'cluster-wide', change: told === undefined ? 'started' : 'changed', cause: cause.text, unhealthy: unhealthyTargets.map((t) => t.instanceId) });
    notes.push(`cluster-wide: ${cause.text}; no node is replaced`);
    return { actions, unhealthy: {}, inService, marked, heldBack: [], clusterWide, notes };
  }
  if (previous.clusterWide !== undefined) actions.push({ kind: 'cluster-recovered', was: previous.clusterWide });

  // Consecutive unhealthy readings of InService, Healthy instances past the grace period.
  const targetOf = new Map(snapshot.targets.map((t) => [t.instanceId, t]));
  const unhealthy: Record<string, number> = {};
  const reasons = new Map<string, string>();
  for (const instance of inServiceInstances) {
    const id = instance.instanceId;
    const target = targetOf.get(id);
    if (target?.state !== 'unhealthy' || instance.healthStatus !== 'Healthy' || marked[id] !== undefined) continue;
    const inGraceFor = group.healthCheckGracePeriodSeconds - (now.getTime() - Date.parse(inService[id] ?? at)) / 1000;
    if (inGraceFor > 0) {
      notes.push(`${id}: target unhealthy, within the group's health check grace period (${Math.ceil(inGraceFor)}s left)`);
      continue;
    }
    unhealthy[id] = (previous.unhealthy[id] ?? 0) + 1;
    reasons.set(id, target.reason ?? 'unhealthy');
  }

  // The cap counts what is already leaving: instances Unhealthy, terminating, or marked by us and not yet seen so.
  const replacing = group.instances
    .filter((i) => i.healthStatus === 'Unhealthy' || isTerminating(i.lifecycleState) || marked[i.instanceId] !== undefined)
    .map((i) => i.instanceId)
    .sort();
  const limit = replacementLimit(inServiceInstances.length, settings.maxReplaceShare);
  const due = Object.entries(unhealthy)
    .filter(([, count]) => count >= settings.unhealthyChecks)
    .sort(([a, ca], [b, cb]) => cb - ca || a.localeCompare(b));
  const room = Math.max(0, limit - replacing.length);
  for (const [id, count] of due.slice(0, room)) {
    actions.push({ kind: 'mark-unhealthy', groupName: group.name, instanceId: id, checks: count, reason: reasons.get(id) ?? 'unhealthy', limit, replacing });
  }
  for (const [id, count] of Object.entries(unhealthy)) {
    if (count < settings.unhealthyChecks) notes.push(`${id}: target unhealthy ${count} of ${settings.unhealthyChecks} consecutive runs`);
  }
  const heldBack = due.slice(room).map(([id]) => id);
  const newlyHeld = heldBack.filter((id) => !previous.heldBack.includes(id));
  if (newlyHeld.length > 0) actions.push({ kind: 'held-back', instanceIds: newlyHeld, limit, replacing });
  if (heldBack.length > 0) notes.push(`held back by the cap of ${limit}: ${heldBack.join(', ')}`);
  return { actions, unhealthy, inService, marked, heldBack, notes };
}
