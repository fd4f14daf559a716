import { replicaSets, type Brick, type ClusterSnapshot, type StorageMember, type VolumeSnapshot } from './snapshot';
import type { TaskStatus } from './gluster-parse';
import { commandLine, type GlusterStep } from './gluster-actions';

export { commandLine, commandParameters, glusterArgs, type GlusterAction, type GlusterStep } from './gluster-actions';

/**
 * Pure planning for the storage tier: from a ClusterSnapshot and a request,
 * either a plan (what changes, why, and the exact Gluster commands) or a
 * refusal a person can act on. No I/O. A use case carries a plan out step by
 * step (Auto Scaling for capacity, SSM Run Command with storage-gluster-command
 * for Gluster steps) and re-plans from a fresh snapshot after each wait.
 */

export type PlanStep =
  | GlusterStep
  /** Set the storage group's desired capacity; new members join through the launch hook. */
  | { readonly kind: 'set-desired'; readonly desired: number; readonly launches: number; readonly zones: readonly string[] }
  /** Enlarge a member's data EBS volume, then grow its XFS file system (storage-grow-brick). */
  | { readonly kind: 'grow-brick'; readonly instanceId: string; readonly host: string; readonly toBytes: number }
  /** Let members go: drop scale-in protection and terminate them, decrementing desired capacity. */
  | { readonly kind: 'release-members'; readonly instanceIds: readonly string[]; readonly desired: number };

export type Refusal = { readonly kind: 'refused'; readonly reason: string };

export type Strategy = 'add-bricks' | 'grow-in-place';

export interface StorageSettings {
  /** Where bricks live on a storage node: `<brickRoot>/<volume>/brick`. */
  readonly brickRoot: string;
  /** Size of the data disk a new storage node brings (bytes). */
  readonly newBrickBytes: number;
  /** Most replica sets one request may add. */
  readonly maxSetsPerRequest: number;
  /** Grow in place: allowed at all, the size bricks grow to, and whether it is the default. */
  readonly growInPlace?: { readonly enabled: boolean; readonly toBytes: number; readonly preferred?: boolean };
  /** Share of remaining capacity kept free when shrinking (default 0.2). */
  readonly shrinkHeadroom?: number;
  /** `force` on create/add-brick (bricks on the root file system: sandboxes only). */
  readonly forceBricks?: boolean;
}

export interface ExpansionRequest {
  readonly volume: string;
  readonly sets: number;
  readonly allowSameZone?: boolean;
  /** Unset: the stage's preference (grow in place when enabled and preferred, else add bricks). */
  readonly strategy?: Strategy;
  /** Set when another storage operation holds the cluster lock. */
  readonly lockHeldBy?: string;
}

export interface NewSet {
  readonly zones: readonly string[];
  /** host:/path of each brick; `new:<zone>#n` while the member is still to be launched. */
  readonly bricks: readonly string[];
}

export interface ExpansionPlan {
  readonly kind: 'plan';
  readonly volume: string;
  readonly strategy: Strategy;
  readonly why: string;
  readonly replicaCount: number;
  readonly sets: readonly NewSet[];
  /** Zones of the members still to launch (empty when spare members suffice). */
  readonly launchZones: readonly string[];
  readonly groupName: string;
  readonly desiredBefore: number;
  readonly desiredAfter: number;
  readonly capacityBefore: number;
  readonly capacityAfter: number;
  /** True when the commands name members still to launch: re-plan once they joined. */
  readonly awaitsLaunch: boolean;
  readonly steps: readonly PlanStep[];
  readonly commands: readonly string[];
}

export type StorageOutcome =
  | { readonly kind: 'next'; readonly note?: string }
  | { readonly kind: 'wait'; readonly reason: string }
  | { readonly kind: 'fail'; readonly reason: string };

// --- commands ----------------------------------------------------------------

export function brickPath(settings: Pick<StorageSettings, 'brickRoot'>, volume: string): string {
  return `${settings.brickRoot.replace(/\/+$/, '')}/${volume}/brick`;
}

function describeStep(step: PlanStep): string {
  switch (step.kind) {
    case 'gluster': return commandLine(step);
    case 'set-desired': return `set desired capacity to ${step.desired} (${step.launches} new member${step.launches === 1 ? '' : 's'} in ${step.zones.join(' + ')})`;
    case 'grow-brick': return `grow the data volume of ${step.instanceId} (${step.host}) to ${formatBytes(step.toBytes)}, then xfs_growfs`;
    case 'release-members': return `release ${step.instanceIds.join(', ')} (desired capacity ${step.desired})`;
  }
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  const text = unit === 0 || Number.isInteger(value) ? String(value) : value.toFixed(1).replace(/\.0$/, '');
  return `${text} ${units[unit]}`;
}

// --- capacity ------------------------------------------------------------------

/** Usable bytes of a volume: over its replica sets, the smallest brick of each set. */
export function usableCapacity(volume: Pick<VolumeSnapshot, 'bricks' | 'replicaCount'>): number {
  return replicaSets(volume.bricks, volume.replicaCount).reduce((sum, set) => sum + Math.min(...set.map((b) => b.sizeTotal)), 0);
}

/** Used bytes of a volume: over its sets, the fullest replica of each. */
export function usedBytes(volume: Pick<VolumeSnapshot, 'bricks' | 'replicaCount'>): number {
  return replicaSets(volume.bricks, volume.replicaCount).reduce((sum, set) => sum + Math.max(...set.map((b) => b.sizeTotal - b.sizeFree)), 0);
}

// --- guard rails ----------------------------------------------------------------

function volumeNamed(snapshot: ClusterSnapshot, name: string): VolumeSnapshot | Refusal {
  const volume = snapshot.volumes.find((v) => v.name === name);
  if (volume) return volume;
  const known = snapshot.volumes.map((v) => v.name).join(', ') || 'none';
  return { kind: 'refused', reason: `unknown volume ${JSON.stringify(name)} (volumes: ${known})` };
}

function isRefusal(x: unknown): x is Refusal {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'refused';
}

function refused(reason: string): Refusal {
  return { kind: 'refused', reason };
}

/** The rails every storage operation shares: one operation at a time, a whole and quiet cluster. */
export function clusterGuard(snapshot: ClusterSnapshot, lockHeldBy: string | undefined, ignoreHosts: readonly string[] = []): Refusal | undefined {
  if (lockHeldBy) return refused(`another storage operation holds the cluster lock (${lockHeldBy}): one storage operation at a time`);
  const down = snapshot.members.filter((m) => m.peerState === 'disconnected' && !ignoreHosts.includes(m.host));
  if (down.length) return refused(`member${down.length > 1 ? 's' : ''} ${down.map((m) => `${m.instanceId} (${m.host}, ${m.zone})`).join(', ')} disconnected from the Gluster pool`);
  const stray = (snapshot.strayPeers ?? []).filter((p) => !p.connected && !ignoreHosts.includes(p.host));
  if (stray.length) return refused(`peer${stray.length > 1 ? 's' : ''} ${stray.map((p) => p.host).join(', ')} disconnected from the Gluster pool and not in the storage group (replace or detach first)`);
  const missing = snapshot.members.filter((m) => m.lifecycleState === 'InService' && m.peerState === 'absent');
  if (missing.length) return refused(`in-service member${missing.length > 1 ? 's' : ''} ${missing.map((m) => `${m.instanceId} (${m.host})`).join(', ')} not in the Gluster pool`);
  for (const v of snapshot.volumes) {
    if (v.rebalance === 'in-progress') return refused(`a rebalance of ${v.name} is in progress`);
  }
  for (const v of snapshot.volumes) {
    if (v.healPending > 0) return refused(`a heal of ${v.name} is in progress (${v.healPending} entries pending)`);
    if ((v.healUnreachable ?? 0) > 0) return refused(`heal state of ${v.name} unknown: ${v.healUnreachable} brick(s) could not report`);
  }
  for (const v of snapshot.volumes) {
    const offline = v.bricks.filter((b) => !b.online && !ignoreHosts.includes(b.host));
    if (offline.length) return refused(`brick${offline.length > 1 ? 's' : ''} ${offline.map((b) => `${b.host}:${b.path}`).join(', ')} of ${v.name} offline`);
  }
  return undefined;
}

// --- placement -------------------------------------------------------------------

/**
 * Zones for `count` new members: each goes to the zone with the fewest
 * members so far (ties: the order of `zones`), as the group's AZ balancing does.
 */
export function placeNewMembers(zones: readonly string[], existingPerZone: Readonly<Record<string, number>>, count: number): string[] {
  if (zones.length === 0) throw new RangeError('placeNewMembers: no zones');
  const load = new Map(zones.map((z) => [z, existingPerZone[z] ?? 0]));
  const out: string[] = [];
  for (let i = 0; i < count; i += 1) {
    let best = zones[0] as string;
    for (const z of zones) if ((load.get(z) as number) < (load.get(best) as number)) best = z;
    out.push(best);
    load.set(best, (load.get(best) as number) + 1);
  }
  return out;
}

export interface Candidate {
  readonly host: string;
  readonly zone: string;
}

/**
 * Groups candidates into replica sets, each set's members in distinct zones
 * (greedy: the zones with the most candidates left first). With allowSameZone,
 * sets may repeat a zone when nothing else is possible.
 */
export function pickBricksForNewSet<T extends Candidate>(
  candidates: readonly T[],
  replicaCount: number,
  allowSameZone = false,
): { kind: 'sets'; sets: T[][] } | Refusal {
  if (replicaCount < 1) return refused(`replica count ${replicaCount} is not a positive number`);
  if (candidates.length % replicaCount !== 0) {
    return refused(`${candidates.length} new members do not form whole replica sets of ${replicaCount}`);
  }
  const byZone = new Map<string, T[]>();
  for (const c of candidates) byZone.set(c.zone, [...(byZone.get(c.zone) ?? []), c]);
  const sets: T[][] = [];
  const setCount = candidates.length / replicaCount;
  for (let s = 0; s < setCount; s += 1) {
    const zones = [...byZone.entries()].filter(([, list]) => list.length > 0).sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]));
    const set: T[] = [];
    for (const [, list] of zones.slice(0, replicaCount)) set.push(list.shift() as T);
    if (set.length < replicaCount) {
      if (!allowSameZone) {
        const zoneList = [...new Set(candidates.map((c) => c.zone))].join(', ');
        return refused(`cannot place replica set ${s + 1} of ${setCount} with its ${replicaCount} replicas in distinct zones (new members' zones: ${zoneList}); pass allowSameZone to accept replicas sharing a zone`);
      }
      for (const [, list] of [...byZone.entries()].sort((a, b) => b[1].length - a[1].length)) {
        while (set.length < replicaCount && list.length > 0) set.push(list.shift() as T);
      }
    }
    sets.push(set);
  }
  return { kind: 'sets', sets };
}

// --- expansion ---------------------------------------------------------------------

function membersPerZone(members: readonly StorageMember[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of members) if (!m.lifecycleState.startsWith('Terminating')) out[m.zone] = (out[m.zone] ?? 0) + 1;
  return out;
}

/** Connected in-service members holding no brick of the volume: they can carry a new set now. */
function spareMembers(snapshot: ClusterSnapshot, volume: VolumeSnapshot): StorageMember[] {
  const used = new Set(volume.bricks.map((b) => b.host));
  return snapshot.members.filter((m) => m.peerState === 'connected' && m.lifecycleState === 'InService' && !used.has(m.host));
}

function chooseStrategy(request: ExpansionRequest, settings: StorageSettings): { strategy: Strategy; why: string } | Refusal {
  const grow = settings.growInPlace;
  if (request.strategy === 'grow-in-place') {
    if (!grow?.enabled) return refused('grow-in-place was asked for but is not enabled for this stage');
    return { strategy: 'grow-in-place', why: 'grow in place was asked for: the bricks of one replica set get larger EBS volumes, no new bricks, no rebalance' };
  }
  if (request.strategy === 'add-bricks') return { strategy: 'add-bricks', why: 'adding bricks was asked for: new replica sets, then a rebalance spreads the files' };
  if (grow?.enabled && grow.preferred) {
    if (request.sets !== 1) return { strategy: 'add-bricks', why: `the stage prefers growing in place, but that grows one replica set and ${request.sets} were asked for: adding bricks` };
    return { strategy: 'grow-in-place', why: 'the stage prefers growing in place: the bricks of one replica set get larger EBS volumes, no new bricks, no rebalance' };
  }
  return { strategy: 'add-bricks', why: 'the stage adds bricks (grow in place is not preferred): new replica sets, then a rebalance spreads the files' };
}

export function planExpansion(snapshot: ClusterSnapshot, request: ExpansionRequest, settings: StorageSettings): ExpansionPlan | Refusal {
  const found = volumeNamed(snapshot, request.volume);
  if (isRefusal(found)) return found;
  const volume = found;
  if (!Number.isInteger(request.sets) || request.sets < 1) return refused(`sets must be a whole number of at least 1, got ${request.sets}`);
  if (request.sets > settings.maxSetsPerRequest) return refused(`${request.sets} replica sets asked for, at most ${settings.maxSetsPerRequest} per request`);
  const guard = clusterGuard(snapshot, request.lockHeldBy);
  if (guard) return guard;
  const chosen = chooseStrategy(request, settings);
  if (isRefusal(chosen)) return chosen;
  const replica = volume.replicaCount;
  const capacityBefore = usableCapacity(volume);
  const { group } = snapshot;
  const base = { kind: 'plan' as const, volume: volume.name, replicaCount: replica, groupName: group.name, desiredBefore: group.desired, capacityBefore, ...chosen };

  if (chosen.strategy === 'grow-in-place') {
    const toBytes = (settings.growInPlace as { toBytes: number }).toBytes;
    // The set with the least free space grows.
    const sets = replicaSets(volume.bricks, replica);
    const target = [...sets].sort((a, b) => Math.min(...a.map((x) => x.sizeFree)) - Math.min(...b.map((x) => x.sizeFree)))[0] as Brick[];
    const smallest = Math.min(...target.map((b) => b.sizeTotal));
    if (toBytes <= smallest) return refused(`grow in place to ${formatBytes(toBytes)} would not enlarge ${volume.name}: its fullest replica set already has ${formatBytes(smallest)} bricks`);
    const members = target.map((b) => snapshot.members.find((m) => m.host === b.host));
    const missing = target.filter((_, i) => !members[i]);
    if (missing.length) return refused(`bricks ${missing.map((b) => b.host).join(', ')} of ${volume.name} belong to no member of ${group.name}: cannot grow their volumes`);
    const steps: PlanStep[] = target.map((b, i) => ({ kind: 'grow-brick', instanceId: (members[i] as StorageMember).instanceId, host: b.host, toBytes }));
    return {
      ...base,
      sets: [{ zones: members.map((m) => (m as StorageMember).zone), bricks: target.map((b) => `${b.host}:${b.path}`) }],
      launchZones: [],
      desiredAfter: group.desired,
      capacityAfter: capacityBefore - smallest + toBytes,
      awaitsLaunch: false,
      steps,
      commands: steps.map(describeStep),
    };
  }

  const distinctZones = new Set(group.zones);
  if (!request.allowSameZone && distinctZones.size < replica) {
    return refused(`${volume.name} keeps ${replica} replicas in distinct zones but storage group ${group.name} spans ${distinctZones.size} zone${distinctZones.size === 1 ? '' : 's'} (${group.zones.join(', ') || 'none'}); pass allowSameZone to accept replicas sharing a zone`);
  }
  const wanted = request.sets * replica;
  const spares = spareMembers(snapshot, volume).slice(0, wanted);
  const launches = wanted - spares.length;
  const desiredAfter = group.desired + launches;
  if (desiredAfter > group.max) {
    return refused(`${request.sets} replica set${request.sets > 1 ? 's' : ''} of ${replica} need${request.sets > 1 ? '' : 's'} ${launches} new member${launches === 1 ? '' : 's'}: desired ${group.desired} -> ${desiredAfter} is above the maximum ${group.max} of ${group.name}`);
  }
  const launchZones = placeNewMembers(group.zones.length ? group.zones : ['unknown'], membersPerZone(snapshot.members), launches);
  const candidates: Candidate[] = [
    ...spares.map((m) => ({ host: m.host, zone: m.zone })),
    ...launchZones.map((zone, i) => ({ host: `new:${zone}#${i + 1}`, zone })),
  ];
  const picked = pickBricksForNewSet(candidates, replica, request.allowSameZone ?? false);
  if (isRefusal(picked)) return picked;
  const path = brickPath(settings, volume.name);
  const bricks = picked.sets.flat().map((c) => `${c.host}:${path}`);
  // A spare's disk is as large as it is; a new member brings newBrickBytes. Spares' sizes are unknown
  // until they hold a brick: count them at newBrickBytes too (the group launches one template).
  const capacityAfter = capacityBefore + request.sets * settings.newBrickBytes;
  const force = settings.forceBricks ? { force: true } : {};
  const steps: PlanStep[] = [
    ...(launches > 0 ? [{ kind: 'set-desired' as const, desired: desiredAfter, launches, zones: launchZones }] : []),
    { kind: 'gluster', action: 'add-brick', volume: volume.name, replica, bricks, ...force },
    { kind: 'gluster', action: 'rebalance-start', volume: volume.name },
    { kind: 'gluster', action: 'rebalance-status', volume: volume.name },
  ];
  return {
    ...base,
    sets: picked.sets.map((set) => ({ zones: set.map((c) => c.zone), bricks: set.map((c) => `${c.host}:${path}`) })),
    launchZones,
    desiredAfter,
    capacityAfter,
    awaitsLaunch: launches > 0,
    steps,
    commands: steps.map(describeStep),
  };
}

// --- replacement -------------------------------------------------------------------

export interface ReplacementPlan {
  readonly kind: 'plan';
  readonly dead: StorageMember;
  readonly replacement: StorageMember;
  /** Volume -> the bricks taken over. */
  readonly bricks: ReadonlyArray<{ readonly volume: string; readonly from: string; readonly to: string }>;
  readonly steps: readonly GlusterStep[];
  readonly commands: readonly string[];
}

export function planReplacement(
  snapshot: ClusterSnapshot,
  deadInstanceId: string,
  replacement: StorageMember,
  settings: Pick<StorageSettings, 'brickRoot'>,
  lockHeldBy?: string,
): ReplacementPlan | Refusal {
  const dead = snapshot.members.find((m) => m.instanceId === deadInstanceId);
  if (!dead) return refused(`instance ${deadInstanceId} is not a known storage member`);
  if (dead.instanceId === replacement.instanceId || dead.host === replacement.host) {
    return refused(`the replacement ${replacement.instanceId} (${replacement.host}) is the dead member itself`);
  }
  if (replacement.zone !== dead.zone) {
    return refused(`the replacement ${replacement.instanceId} is in ${replacement.zone}, the dead member ${dead.instanceId} was in ${dead.zone}: the replica would leave its zone`);
  }
  if (replacement.peerState !== 'connected') return refused(`the replacement ${replacement.instanceId} (${replacement.host}) is ${replacement.peerState} in the Gluster pool: probe it first`);
  if (lockHeldBy) return refused(`another storage operation holds the cluster lock (${lockHeldBy}): one storage operation at a time`);
  const taken: Array<{ volume: string; from: string; to: string }> = [];
  for (const volume of snapshot.volumes) {
    if (volume.bricks.some((b) => b.host === replacement.host)) {
      return refused(`the replacement ${replacement.instanceId} (${replacement.host}) already holds a brick of ${volume.name}`);
    }
    for (const set of replicaSets(volume.bricks, volume.replicaCount)) {
      const mine = set.filter((b) => b.host === dead.host);
      if (mine.length === 0) continue;
      const survivors = set.filter((b) => b.host !== dead.host && b.online);
      if (survivors.length === 0) {
        return refused(`no online replica left in the ${volume.name} set ${set.map((b) => `${b.host}:${b.path}`).join(' + ')}: self-heal would have no source`);
      }
      for (const b of mine) taken.push({ volume: volume.name, from: `${b.host}:${b.path}`, to: `${replacement.host}:${brickPath(settings, volume.name)}` });
    }
  }
  if (taken.length === 0) return refused(`the dead member ${dead.instanceId} (${dead.host}) holds no bricks: nothing to replace`);
  const steps: GlusterStep[] = [
    ...taken.map((t): GlusterStep => ({ kind: 'gluster', action: 'replace-brick', volume: t.volume, bricks: [t.from, t.to] })),
    ...[...new Set(taken.map((t) => t.volume))].map((volume): GlusterStep => ({ kind: 'gluster', action: 'heal-full', volume })),
  ];
  return { kind: 'plan', dead, replacement, bricks: taken, steps, commands: steps.map(commandLine) };
}

// --- shrink -------------------------------------------------------------------------

export interface ShrinkPlan {
  readonly kind: 'plan';
  readonly volume: string;
  readonly removed: readonly string[];
  readonly usedBytes: number;
  readonly capacityBefore: number;
  readonly capacityAfter: number;
  /** Members left without any brick, released after the commit. */
  readonly releasedInstanceIds: readonly string[];
  readonly desiredBefore: number;
  readonly desiredAfter: number;
  readonly steps: readonly PlanStep[];
  readonly commands: readonly string[];
}

export function planShrink(
  snapshot: ClusterSnapshot,
  volumeName: string,
  options: { readonly headroom?: number; readonly lockHeldBy?: string } = {},
): ShrinkPlan | Refusal {
  const found = volumeNamed(snapshot, volumeName);
  if (isRefusal(found)) return found;
  const volume = found;
  const headroom = options.headroom ?? 0.2;
  if (!(headroom >= 0 && headroom < 1)) return refused(`headroom must be in [0, 1), got ${headroom}`);
  const guard = clusterGuard(snapshot, options.lockHeldBy);
  if (guard) return guard;
  const sets = replicaSets(volume.bricks, volume.replicaCount);
  if (sets.length < 2) return refused(`${volume.name} has a single replica set: removing it would remove the volume`);
  const last = sets[sets.length - 1] as Brick[];
  const remaining = { bricks: sets.slice(0, -1).flat(), replicaCount: volume.replicaCount };
  const used = usedBytes(volume);
  const capacityAfter = usableCapacity(remaining);
  const limit = capacityAfter * (1 - headroom);
  if (used > limit) {
    return refused(`${volume.name} holds ${formatBytes(used)}; without its last replica set it would have ${formatBytes(capacityAfter)} usable, and at most ${formatBytes(limit)} may be used to keep ${Math.round(headroom * 100)}% headroom`);
  }
  const removed = last.map((b) => `${b.host}:${b.path}`);
  const stillUsed = new Set(snapshot.volumes.flatMap((v) => (v.name === volume.name ? remaining.bricks : v.bricks).map((b) => b.host)));
  const released = snapshot.members.filter((m) => last.some((b) => b.host === m.host) && !stillUsed.has(m.host));
  const desiredAfter = snapshot.group.desired - released.length;
  if (desiredAfter < snapshot.group.min) {
    return refused(`releasing ${released.length} member(s) would take ${snapshot.group.name} to ${desiredAfter}, below its minimum ${snapshot.group.min}`);
  }
  const common = { kind: 'gluster' as const, volume: volume.name, replica: volume.replicaCount, bricks: removed };
  const steps: PlanStep[] = [
    { ...common, action: 'remove-brick-start' },
    { ...common, action: 'remove-brick-status' },
    { ...common, action: 'remove-brick-commit' },
    // Released members' peers leave the pool before their instances go: left behind
    // "Disconnected", they would make every later storage operation refuse.
    ...released
      .filter((m) => m.peerState !== 'absent' && m.host !== '')
      .map((m): PlanStep => ({ kind: 'gluster', action: 'peer-detach', volume: '', peer: m.host })),
    ...(released.length ? [{ kind: 'release-members' as const, instanceIds: released.map((m) => m.instanceId), desired: desiredAfter }] : []),
  ];
  return {
    kind: 'plan',
    volume: volume.name,
    removed,
    usedBytes: used,
    capacityBefore: usableCapacity(volume),
    capacityAfter,
    releasedInstanceIds: released.map((m) => m.instanceId),
    desiredBefore: snapshot.group.desired,
    desiredAfter,
    steps,
    commands: steps.map(describeStep),
  };
}

// --- watching -------------------------------------------------------------------------

/** A rebalance or remove-brick migration: wait while it runs, go on when it completed, stop on failure. */
export function decideRebalance(status: Pick<TaskStatus, 'state' | 'statusText' | 'files' | 'failures' | 'nodes'>, what = 'rebalance'): StorageOutcome {
  switch (status.state) {
    case 'completed':
      if (status.failures > 0) return { kind: 'fail', reason: `${what} completed with ${status.failures} failure(s): check the rebalance log before going on` };
      return { kind: 'next', note: `${what} completed (${status.files} files moved)` };
    case 'in-progress': {
      const running = status.nodes.filter((n) => n.state === 'in-progress').map((n) => n.node);
      return { kind: 'wait', reason: `${what} in progress: ${status.files} files moved${running.length ? `, still running on ${running.join(', ')}` : ''}` };
    }
    case 'failed': {
      const bad = status.nodes.filter((n) => n.state === 'failed').map((n) => n.node);
      return { kind: 'fail', reason: `${what} failed${bad.length ? ` on ${bad.join(', ')}` : ''} (${status.statusText})` };
    }
    case 'stopped':
      return { kind: 'fail', reason: `${what} was stopped before it completed` };
    case 'none':
      return { kind: 'fail', reason: `no ${what} is running: ${status.statusText}` };
  }
}

export function decideHeal(healPending: number, elapsedSeconds: number, timeoutSeconds: number, unreachableBricks = 0): StorageOutcome {
  if (healPending === 0 && unreachableBricks === 0) return { kind: 'next', note: `heal complete after ${Math.round(elapsedSeconds)}s` };
  const what = unreachableBricks > 0 ? `${unreachableBricks} brick(s) not answering heal info` : `${healPending} entries pending heal`;
  if (elapsedSeconds > timeoutSeconds) return { kind: 'fail', reason: `heal not complete after ${Math.round(elapsedSeconds)}s (timeout ${timeoutSeconds}s): ${what}` };
  return { kind: 'wait', reason: what };
}

// --- bootstrap ------------------------------------------------------------------------

export interface BootstrapPlan {
  readonly kind: 'plan';
  readonly members: readonly StorageMember[];
  readonly steps: readonly GlusterStep[];
  readonly commands: readonly string[];
}

/**
 * The first volumes of an empty cluster: once replicaCount connected members
 * in distinct zones exist, create and start each volume not yet existing.
 */
export function bootstrapPlan(
  members: readonly StorageMember[],
  replicaCount: number,
  options: { readonly volumes: readonly string[]; readonly brickRoot: string; readonly existing?: readonly string[]; readonly force?: boolean },
): BootstrapPlan | { readonly kind: 'wait'; readonly reason: string } | { readonly kind: 'done'; readonly reason: string } {
  const todo = options.volumes.filter((v) => !(options.existing ?? []).includes(v));
  if (todo.length === 0) return { kind: 'done', reason: `volumes ${options.volumes.join(', ')} already exist` };
  const ready = members
    .filter((m) => m.peerState === 'connected' && !m.lifecycleState.startsWith('Terminating'))
    .sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  const chosen: StorageMember[] = [];
  for (const m of ready) if (chosen.length < replicaCount && !chosen.some((c) => c.zone === m.zone)) chosen.push(m);
  if (chosen.length < replicaCount) {
    const zones = [...new Set(ready.map((m) => m.zone))];
    return { kind: 'wait', reason: `${replicaCount} connected members in distinct zones are needed to create the volumes; ${ready.length} connected in ${zones.length} zone(s)${zones.length ? ` (${zones.join(', ')})` : ''}` };
  }
  const force = options.force ? { force: true } : {};
  const steps: GlusterStep[] = todo.flatMap((volume): GlusterStep[] => [
    { kind: 'gluster', action: 'volume-create', volume, replica: replicaCount, bricks: chosen.map((m) => `${m.host}:${brickPath(options, volume)}`), ...force },
    { kind: 'gluster', action: 'volume-start', volume },
  ]);
  return { kind: 'plan', members: chosen, steps, commands: steps.map(commandLine) };
}

// --- the dead member's peer ----------------------------------------------------------

export type PeerDetachDecision =
  | { readonly kind: 'detach'; readonly step: GlusterStep }
  | { readonly kind: 'skip'; readonly reason: string }
  | Refusal;

/**
 * After a replacement healed: the dead member's peer leaves the pool (else it
 * stays "Peer in Cluster (Disconnected)" and every later operation refuses to
 * run), but only once no volume names a brick on it, it is no live member of
 * the group, and it is still disconnected.
 */
export function planPeerDetach(snapshot: ClusterSnapshot, host: string): PeerDetachDecision {
  const member = snapshot.members.find((m) => m.host === host);
  if (member && !member.lifecycleState.startsWith('Terminat')) {
    return refused(`${host} is ${member.instanceId}, a ${member.lifecycleState} member of ${snapshot.group.name}: not detaching it`);
  }
  const holding = snapshot.volumes.filter((v) => v.bricks.some((b) => b.host === host)).map((v) => v.name);
  if (holding.length) return refused(`${host} still holds bricks of ${holding.join(', ')}: not detaching a peer that holds bricks`);
  const stray = snapshot.strayPeers?.find((p) => p.host === host);
  const inPool = stray !== undefined || (member !== undefined && member.peerState !== 'absent');
  if (!inPool) return { kind: 'skip', reason: `${host} is not in the Gluster pool any more` };
  if (stray?.connected || member?.peerState === 'connected') return refused(`${host} is connected to the pool again: not detaching a live peer`);
  return { kind: 'detach', step: { kind: 'gluster', action: 'peer-detach', volume: '', peer: host } };
}
