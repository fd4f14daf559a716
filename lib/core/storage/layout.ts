/**
 * Volume layouts that keep split-brain out (issue 10), decided from the zones
 * the storage group spans, and the quorum options each layout needs.
 *
 * - `arbiter` (three zones or more): replica 3 arbiter 1, every set two data
 *   bricks and an arbiter (names and metadata only) in three distinct zones;
 *   Gluster itself sets client quorum `auto` on it (glusterdocs
 *   arbiter-volumes-and-quorum.md: "Enabling the arbiter feature automatically
 *   configures client-quorum to 'auto'").
 * - `quorum` (two zones): replica 2 with client quorum `auto` (a set takes
 *   writes only while its FIRST brick is up) and server quorum (glusterd stops
 *   its bricks while it sees fewer than 51% of the pool).
 *
 * An existing volume keeps the layout it has (expansion, replacement and shrink
 * keep it); `layoutFixes` lists the options it lacks, which every storage
 * operation sets before its own commands.
 */
import type { GlusterStep, VolumeSetOption } from './gluster-actions';
import { refused, type Refusal } from './guards';
import type { ClusterSnapshot, VolumeSnapshot } from './snapshot';

export type LayoutKind = 'arbiter' | 'quorum';

export interface Layout {
  readonly kind: LayoutKind;
  /** Bricks per replica set: 3 (two data bricks and the arbiter) or 2. */
  readonly replica: 2 | 3;
  /** 1: the last brick of each set is the arbiter. */
  readonly arbiter: 0 | 1;
}

export const ARBITER_LAYOUT: Layout = { kind: 'arbiter', replica: 3, arbiter: 1 };
export const QUORUM_LAYOUT: Layout = { kind: 'quorum', replica: 2, arbiter: 0 };

/** The Gluster option names this module sets (storage-gluster-command allows exactly these in volume-set). */
export const CLIENT_QUORUM_TYPE: VolumeSetOption = 'cluster.quorum-type';
/** Read only (a `fixed` client quorum's brick count). */
export const CLIENT_QUORUM_COUNT = 'cluster.quorum-count';
export const SERVER_QUORUM_TYPE: VolumeSetOption = 'cluster.server-quorum-type';
/** Pool-wide: set on `all`, listed in every volume's options once set. */
export const SERVER_QUORUM_RATIO: VolumeSetOption = 'cluster.server-quorum-ratio';
/** More than half of the pool: two members both, three two, four three. */
export const SERVER_QUORUM_RATIO_VALUE = '51%';
/** The volume name `volume set` takes for pool-wide options. */
export const ALL_VOLUMES = 'all';

/** The layout new volumes get in a storage group spanning these zones. */
export function layoutForZones(zones: readonly string[]): Layout | Refusal {
  const distinct = [...new Set(zones)];
  if (distinct.length >= 3) return ARBITER_LAYOUT;
  if (distinct.length === 2) return QUORUM_LAYOUT;
  return refused(`storage group spans ${distinct.length} zone${distinct.length === 1 ? '' : 's'}${distinct.length ? ` (${distinct.join(', ')})` : ''}: replicas need two zones (replica 2 with quorum) or three (replica 3 arbiter 1)`);
}

export function describeLayout(layout: Layout): string {
  return layout.kind === 'arbiter'
    ? 'replica 3 arbiter 1 (two data bricks and an arbiter per set, three zones)'
    : 'replica 2 with client quorum auto and server quorum (two zones)';
}

/** What an existing volume is: an arbiter volume, replica 2 (the quorum layout, options set or not), or another replica count. */
export type VolumeLayout = Layout | { readonly kind: 'replica'; readonly replica: number; readonly arbiter: 0 };

export function layoutOfVolume(volume: Pick<VolumeSnapshot, 'replicaCount' | 'arbiterCount'>): VolumeLayout {
  if ((volume.arbiterCount ?? 0) > 0) return ARBITER_LAYOUT;
  if (volume.replicaCount === 2) return QUORUM_LAYOUT;
  return { kind: 'replica', replica: volume.replicaCount, arbiter: 0 };
}

/** A percentage as glusterd prints it ("51%", "51"); NaN when it is none. */
function percent(value: string | undefined): number {
  const m = /^([0-9]{1,3}(?:\.[0-9]+)?)%?$/.exec(value?.trim() ?? '');
  return m ? Number(m[1]) : NaN;
}

/**
 * Whether writes to a set need a majority of its bricks (or the first brick of
 * an even set). Gluster's defaults when unset: none for an even replica count,
 * auto for an odd one (tests/basic/afr/quorum.t) and for arbiter volumes.
 */
export function hasClientQuorum(volume: Pick<VolumeSnapshot, 'replicaCount' | 'arbiterCount' | 'options'>): boolean {
  const type = volume.options?.[CLIENT_QUORUM_TYPE];
  if (type === undefined) return (volume.arbiterCount ?? 0) > 0 || volume.replicaCount % 2 === 1;
  if (type === 'auto') return true;
  // fixed: writes need quorum-count bricks; more than half of the set keeps one side only.
  if (type === 'fixed') return Number(volume.options?.[CLIENT_QUORUM_COUNT]) * 2 > volume.replicaCount;
  return false;
}

export function hasServerQuorum(volume: Pick<VolumeSnapshot, 'options'>): boolean {
  return volume.options?.[SERVER_QUORUM_TYPE] === 'server';
}

/** One option a volume lacks for its layout. */
export interface LayoutChange {
  readonly volume: string;
  readonly option: string;
  readonly from: string | undefined;
  readonly to: string;
}

export interface LayoutFix {
  readonly changes: readonly LayoutChange[];
  /** volume-set commands, in the order they run: client quorum, the pool's ratio, then server quorum. */
  readonly steps: readonly GlusterStep[];
}

/**
 * The options the volumes lack for their layout: a replica 2 volume gets client
 * quorum auto and server quorum (with the pool's ratio above 50% first); an
 * arbiter or other odd replica volume whose client quorum was turned off gets it
 * back. Nothing for a volume already right; an empty fix when all are.
 */
export function layoutFixes(volumes: readonly Pick<VolumeSnapshot, 'name' | 'replicaCount' | 'arbiterCount' | 'options'>[]): LayoutFix {
  const client: LayoutChange[] = [];
  const server: LayoutChange[] = [];
  let ratio: LayoutChange | undefined;
  for (const volume of volumes) {
    const layout = layoutOfVolume(volume);
    if (!hasClientQuorum(volume)) client.push({ volume: volume.name, option: CLIENT_QUORUM_TYPE, from: volume.options?.[CLIENT_QUORUM_TYPE], to: 'auto' });
    if (layout.kind !== 'quorum') continue;
    const current = volume.options?.[SERVER_QUORUM_RATIO];
    if (!ratio && !(percent(current) > 50)) ratio = { volume: ALL_VOLUMES, option: SERVER_QUORUM_RATIO, from: current, to: SERVER_QUORUM_RATIO_VALUE };
    if (!hasServerQuorum(volume)) server.push({ volume: volume.name, option: SERVER_QUORUM_TYPE, from: volume.options?.[SERVER_QUORUM_TYPE], to: 'server' });
  }
  return fixOf([...client, ...(ratio ? [ratio] : []), ...server]);
}

/** The fix that makes these changes, one volume-set each, in their order. */
export function fixOf(changes: readonly LayoutChange[]): LayoutFix {
  return { changes, steps: changes.map((c): GlusterStep => ({ kind: 'gluster', action: 'volume-set', volume: c.volume, option: c.option, value: c.to })) };
}

/** "pydio-data: cluster.quorum-type none -> auto" */
export function describeChange(change: LayoutChange): string {
  return `${change.volume}: ${change.option} ${change.from ?? '(unset)'} -> ${change.to}`;
}

/**
 * Whether server quorum may be lifted so that a replacement can join a pool
 * that lost it (glusterd refuses new peers then, and a dead member's bricks
 * can only be taken over by a new peer). Safe only when every peer the pool
 * misses is gone from the storage group (terminated, or never an instance of
 * it): no other side is left that could write. A member still in service but
 * cut off is a partition: server quorum stays.
 */
export function planServerQuorumLift(
  snapshot: ClusterSnapshot,
  stageVolumes: readonly string[],
  /** Live instances of the group whose address is unknown (no SSM agent report): any of them could be a peer cut off. */
  unaddressed: readonly { readonly instanceId: string; readonly lifecycleState: string }[] = [],
): { readonly kind: 'lift'; readonly volumes: readonly string[]; readonly steps: readonly GlusterStep[]; readonly reason: string } | { readonly kind: 'keep'; readonly reason: string } {
  const volumes = snapshot.volumes.filter((v) => stageVolumes.includes(v.name) && hasServerQuorum(v)).map((v) => v.name);
  if (volumes.length === 0) return { kind: 'keep', reason: 'no volume of the stage is in server quorum' };
  // glusterd takes no new peer while ANY volume of the pool is in server quorum; another's is not ours to lift.
  const foreign = snapshot.volumes.filter((v) => !stageVolumes.includes(v.name) && hasServerQuorum(v)).map((v) => v.name);
  if (foreign.length) {
    return { kind: 'keep', reason: `volume${foreign.length > 1 ? 's' : ''} ${foreign.join(', ')} of the pool, not this stage's, ${foreign.length > 1 ? 'are' : 'is'} in server quorum too: the pool takes no new peer while any volume is; lift ${foreign.length > 1 ? 'them' : 'it'} by hand (gluster volume set <v> cluster.server-quorum-type none)` };
  }
  const leaving = (state: string) => /^Terminat|^Detach/.test(state);
  const cutOff = snapshot.members.filter((m) => m.peerState === 'disconnected' && !leaving(m.lifecycleState));
  if (cutOff.length) {
    return { kind: 'keep', reason: `member${cutOff.length > 1 ? 's' : ''} ${cutOff.map((m) => `${m.instanceId} (${m.host}, ${m.zone}, ${m.lifecycleState})`).join(', ')} still in the storage group but cut off from the pool: a partition, not a dead member` };
  }
  const unknown = unaddressed.filter((i) => !leaving(i.lifecycleState));
  if (unknown.length) {
    return { kind: 'keep', reason: `instance${unknown.length > 1 ? 's' : ''} ${unknown.map((i) => `${i.instanceId} (${i.lifecycleState})`).join(', ')} of the storage group with no known address: a peer the pool misses may be alive there` };
  }
  const gone = [
    ...snapshot.members.filter((m) => m.peerState === 'disconnected').map((m) => `${m.host} (${m.instanceId}, ${m.lifecycleState})`),
    ...(snapshot.strayPeers ?? []).filter((p) => !p.connected).map((p) => `${p.host} (no instance of the group)`),
  ];
  if (gone.length === 0) return { kind: 'keep', reason: 'no peer of the pool is disconnected: server quorum is not what refuses' };
  return {
    kind: 'lift',
    volumes,
    steps: volumes.map((volume): GlusterStep => ({ kind: 'gluster', action: 'volume-set', volume, option: SERVER_QUORUM_TYPE, value: 'none' })),
    reason: `The pool misses only ${gone.join(', ')}, gone from the storage group: nothing there can write again.`,
  };
}

/**
 * Whether glusterd would count server quorum as met in this picture (one view
 * for the pool: live peers against ceil(pool x 51%)): the pool is every member
 * in it and every stray peer, the live ones those connected.
 */
export function serverQuorumHolds(snapshot: Pick<ClusterSnapshot, 'members' | 'strayPeers'>): boolean {
  const inPool = snapshot.members.filter((m) => m.peerState !== 'absent');
  const stray = snapshot.strayPeers ?? [];
  const live = inPool.filter((m) => m.peerState === 'connected').length + stray.filter((p) => p.connected).length;
  return serverQuorumMet(live, inPool.length + stray.length, Number.parseInt(SERVER_QUORUM_RATIO_VALUE, 10));
}

/**
 * glusterd's count: server quorum is met with at least ceil(peers x ratio%) peers connected,
 * or more than half of them where cluster.server-quorum-ratio is not set.
 */
export function serverQuorumMet(connected: number, peers: number, ratioPercent?: number): boolean {
  const needed = ratioPercent !== undefined && Number.isFinite(ratioPercent) ? Math.ceil((peers * ratioPercent) / 100) : Math.floor(peers / 2) + 1;
  return connected >= needed;
}
