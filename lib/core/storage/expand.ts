/** The expansion plan: a volume grows by replica sets (add bricks) or by larger bricks (grow in place). */
import { formatBytes } from './bytes';
import { dataBricks, usableCapacity } from './capacity';
import { clusterGuard, isRefusal, refused, volumeNamed, type Refusal } from './guards';
import { layoutOfVolume } from './layout';
import { pickBricksForNewSet, placeNewMembers, type Candidate } from './placement';
import { brickPath, type StorageSettings } from './settings';
import { replicaSets, type Brick, type ClusterSnapshot, type StorageMember, type VolumeSnapshot } from './snapshot';
import { describeStep, type PlanStep } from './steps';

export type Strategy = 'add-bricks' | 'grow-in-place';

/** What the planner is asked; the alarm function's request to the storage tier is ExpansionRequest (lib/ports/storage.ts). */
export interface ExpansionPlanRequest {
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
  /** host:/path of each brick; `new:<zone>#n` while the member is still to be launched. In an arbiter volume the last one is the arbiter. */
  readonly bricks: readonly string[];
}

export interface ExpansionPlan {
  readonly kind: 'plan';
  readonly volume: string;
  readonly strategy: Strategy;
  readonly why: string;
  readonly replicaCount: number;
  /** 1 when the volume is replica 3 arbiter 1: each new set is two data bricks and an arbiter, as before. */
  readonly arbiterCount: number;
  /** Something ops should know about the volume's layout (a replica 2 volume in a group spanning three zones). */
  readonly note?: string;
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

function chooseStrategy(request: ExpansionPlanRequest, settings: StorageSettings): { strategy: Strategy; why: string } | Refusal {
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

export function planExpansion(snapshot: ClusterSnapshot, request: ExpansionPlanRequest, settings: StorageSettings): ExpansionPlan | Refusal {
  const found = volumeNamed(snapshot, request.volume);
  if (isRefusal(found)) return found;
  const volume = found;
  if (!Number.isInteger(request.sets) || request.sets < 1) return refused(`sets must be a whole number of at least 1, got ${request.sets}`);
  if (request.sets > settings.maxSetsPerRequest) return refused(`${request.sets} replica sets asked for, at most ${settings.maxSetsPerRequest} per request`);
  const guard = clusterGuard(snapshot, request.lockHeldBy);
  if (guard) return guard;
  const chosen = chooseStrategy(request, settings);
  if (isRefusal(chosen)) return chosen;
  const { group } = snapshot;
  const layout = layoutOfVolume(volume);
  const note = layout.kind === 'quorum' && new Set(group.zones).size >= 3
    ? `${volume.name} keeps its layout (replica 2 with quorum) although ${group.name} spans ${new Set(group.zones).size} zones; converting it to replica 3 arbiter 1 is the operator's step (README: "Migrating existing volumes")`
    : undefined;
  const base: PlanBase = {
    kind: 'plan', volume: volume.name, replicaCount: volume.replicaCount, arbiterCount: layout.arbiter, groupName: group.name, desiredBefore: group.desired, capacityBefore: usableCapacity(volume), ...chosen, ...(note ? { note } : {}),
  };
  if (chosen.strategy === 'grow-in-place') return planGrowInPlace(snapshot, volume, (settings.growInPlace as { toBytes: number }).toBytes, base);
  return planAddBricks(snapshot, volume, request, settings, base);
}

/** What both strategies' plans share. */
type PlanBase = Pick<ExpansionPlan, 'kind' | 'volume' | 'strategy' | 'why' | 'replicaCount' | 'arbiterCount' | 'note' | 'groupName' | 'desiredBefore' | 'capacityBefore'>;

/** Grow in place: the data bricks of the replica set with the least free space get toBytes (larger EBS volumes); an arbiter holds no file data and keeps its size. */
function planGrowInPlace(snapshot: ClusterSnapshot, volume: VolumeSnapshot, toBytes: number, base: PlanBase): ExpansionPlan | Refusal {
  const { group } = snapshot;
  // The set with the least free space grows.
  const sets = replicaSets(volume.bricks, volume.replicaCount).map((set) => dataBricks(set));
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
    capacityAfter: base.capacityBefore - smallest + toBytes,
    awaitsLaunch: false,
    steps,
    commands: steps.map(describeStep),
  };
}

/** Add bricks: new replica sets on spare members, then on members still to launch; a rebalance follows. */
function planAddBricks(snapshot: ClusterSnapshot, volume: VolumeSnapshot, request: ExpansionPlanRequest, settings: StorageSettings, base: PlanBase): ExpansionPlan | Refusal {
  const { group } = snapshot;
  const replica = volume.replicaCount;
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
  const capacityAfter = base.capacityBefore + request.sets * settings.newBrickBytes;
  const force = settings.forceBricks ? { force: true } : {};
  // An arbiter volume gets whole sets of two data bricks and an arbiter (the last), like its first set.
  const arbiter = base.arbiterCount ? { arbiter: base.arbiterCount } : {};
  const steps: PlanStep[] = [
    ...(launches > 0 ? [{ kind: 'set-desired' as const, desired: desiredAfter, launches, zones: launchZones }] : []),
    { kind: 'gluster', action: 'add-brick', volume: volume.name, replica, ...arbiter, bricks, ...force },
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
