/** Gluster's health from one status read: per volume bricks offline, entries to heal, split-brain entries with their paths; peers the pool cannot reach. */
import { METRIC, type MetricName } from '../scaling/metric-names';
import type { HealSummary, StatusBundle, VolumeInfo } from './gluster-parse';
import { serverQuorumMet } from './layout';
import { replicaSets } from './snapshot';
import { splitBrainFiles } from './split-brain';

/**
 * Pure: the status bundle (storage-gluster-status, parsed) and the storage
 * group's members in, one ClusterHealth out. The health flow
 * (lib/usecases/storage/health-flow.ts) publishes its figures as metrics,
 * records it, tells a change once (health-record.ts) and restarts offline
 * bricks of live members (repair.ts).
 */

/** A member of the storage group as the health read sees it. */
export interface HealthMember {
  readonly instanceId: string;
  /** Private IPv4 (the name its bricks carry); '' when its agent reports none. */
  readonly host: string;
  readonly zone: string;
  /** Auto Scaling lifecycle state. */
  readonly lifecycleState: string;
  /** Its SSM agent is Online. */
  readonly agentOnline: boolean;
}

export interface BrickRef {
  readonly volume: string;
  readonly host: string;
  readonly path: string;
  /** The storage member at `host`, when one is. */
  readonly instanceId?: string;
}

export interface VolumeHealth {
  readonly volume: string;
  /** Started, Stopped or Created. */
  readonly status: string;
  readonly bricks: number;
  readonly bricksOffline: readonly BrickRef[];
  /** Per replica set the brick that counts most (each brick counts what it holds for the others), summed over sets; bricks that answered only. */
  readonly healEntries: number;
  /** Bricks whose heal state could not be read (they are offline or unreachable). */
  readonly healUnknownBricks: number;
  /** As healEntries, the split-brain ones. */
  readonly splitBrainEntries: number;
  /** The distinct files of the split-brain listing, by path (`<gfid:...>` when no brick resolved it), sorted. */
  readonly splitBrainFiles: readonly string[];
  /** Set when the volume is in server quorum and the pool lacks it: glusterd has stopped its bricks itself. */
  readonly serverQuorumLost?: { readonly connected: number; readonly peers: number };
}

/**
 * A volume with cluster.server-quorum-type server has its bricks stopped by glusterd while fewer
 * than ceil(peers x cluster.server-quorum-ratio) peers are connected (more than half when no
 * ratio is set), and started again by glusterd once quorum returns (catalogue gluster.yml,
 * gluster.server-quorum.ratio and gluster.server-quorum.stops-bricks).
 */
export function serverQuorumLost(info: VolumeInfo, pool: StatusBundle['pool']): VolumeHealth['serverQuorumLost'] {
  if (info.options['cluster.server-quorum-type'] !== 'server' || pool.length === 0) return undefined;
  const peers = pool.length;
  const connected = pool.filter((p) => p.connected).length;
  const ratio = info.options['cluster.server-quorum-ratio'];
  return serverQuorumMet(connected, peers, ratio === undefined ? undefined : Number.parseFloat(ratio)) ? undefined : { connected, peers };
}

export interface PeerProblem {
  readonly host: string;
  readonly instanceId?: string;
  /** disconnected: in the pool, not connected; absent: an in-service member that is not in the pool at all. */
  readonly state: 'disconnected' | 'absent';
}

export interface ClusterHealth {
  /** The member that answered. */
  readonly readOn: { readonly instanceId: string; readonly host: string };
  readonly volumes: readonly VolumeHealth[];
  /** Configured volumes that do not exist (not created yet, or deleted). */
  readonly missingVolumes: readonly string[];
  readonly peers: readonly PeerProblem[];
}

/** A brick as `host:/path`. */
export const brickName = (b: Pick<BrickRef, 'host' | 'path'>) => `${b.host}:${b.path}`;

/** Per replica set the largest of its bricks' counts, summed over the sets. */
function perSetMax(info: VolumeInfo, heal: HealSummary | undefined, count: (b: HealSummary['bricks'][number]) => number): number {
  if (!heal) return 0;
  const sets = replicaSets(info.bricks, info.replicaCount);
  return sets.reduce((sum, set) => {
    const counts = set.map((b) => heal.bricks.find((h) => h.host === b.host && h.path === b.path)).filter((h) => h !== undefined && h.connected).map((h) => count(h!));
    return sum + Math.max(0, ...counts);
  }, 0);
}

export function assessHealth(bundle: StatusBundle, members: readonly HealthMember[], wanted: readonly string[], readOn: { instanceId: string; host: string }): ClusterHealth {
  const byHost = new Map(members.filter((m) => m.host !== '').map((m) => [m.host, m]));
  const volumes = bundle.volumes
    .filter((v) => wanted.includes(v.name))
    .map((info): VolumeHealth => {
      const detail = bundle.details[info.name];
      const heal = bundle.heal[info.name];
      const split = bundle.splitBrain[info.name];
      const quorumLost = serverQuorumLost(info, bundle.pool);
      // A brick counts as online only when its node answered and reported it running (a stopped volume's bricks are all offline).
      const offline = info.bricks
        .filter((b) => !(info.status === 'Started' && detail?.bricks.some((d) => d.host === b.host && d.path === b.path && d.online)))
        .map((b): BrickRef => {
          const member = byHost.get(b.host);
          return { volume: info.name, host: b.host, path: b.path, ...(member ? { instanceId: member.instanceId } : {}) };
        });
      return {
        volume: info.name,
        status: info.status,
        bricks: info.bricks.length,
        bricksOffline: offline,
        healEntries: perSetMax(info, heal, (b) => b.total),
        healUnknownBricks: heal ? heal.unreachable : info.status === 'Started' ? info.bricks.length : 0,
        splitBrainEntries: perSetMax(info, heal, (b) => b.splitBrain),
        splitBrainFiles: split ? splitBrainFiles(split).map((f) => f.path) : [],
        ...(quorumLost ? { serverQuorumLost: quorumLost } : {}),
      };
    });
  const missingVolumes = wanted.filter((w) => !bundle.volumes.some((v) => v.name === w));

  const peers: PeerProblem[] = [];
  const inPool = new Set<string>();
  for (const peer of bundle.pool) {
    const host = peer.isLocal ? readOn.host : peer.hostname;
    inPool.add(host);
    if (peer.connected) continue;
    const member = byHost.get(host);
    peers.push({ host, state: 'disconnected', ...(member ? { instanceId: member.instanceId } : {}) });
  }
  for (const m of members) {
    if (m.lifecycleState === 'InService' && m.host !== '' && !inPool.has(m.host)) peers.push({ host: m.host, instanceId: m.instanceId, state: 'absent' });
  }
  peers.sort((a, b) => a.host.localeCompare(b.host));
  return { readOn, volumes, missingVolumes, peers };
}

// --- what is wrong, in words and as stable keys ------------------------------------------

/** One thing wrong with the cluster. The key is what a change of health is measured on; the text is what ops read. */
export interface HealthProblem {
  readonly key: string;
  readonly text: string;
}

/** Split-brain paths a notice names; the rest are counted ("and N more"). */
export const SPLIT_BRAIN_NAMED = 20;

/**
 * What is wrong: a volume missing or not started, a brick offline, a peer
 * disconnected or absent, entries in split-brain (the count is part of the
 * key: new split-brain files are news). Entries to heal alone are not a
 * problem (self-heal works them off; they are a metric).
 */
export function healthProblems(health: ClusterHealth): HealthProblem[] {
  const problems: HealthProblem[] = [];
  for (const v of health.missingVolumes) problems.push({ key: `volume ${v} missing`, text: `volume ${v} does not exist` });
  for (const v of health.volumes) {
    if (v.status !== 'Started') problems.push({ key: `volume ${v.volume} ${v.status}`, text: `volume ${v.volume} is ${v.status}, not Started` });
    else {
      for (const b of v.bricksOffline) {
        problems.push({ key: `brick ${v.volume} ${brickName(b)} offline`, text: `brick ${brickName(b)} of ${v.volume} offline (${b.instanceId ? `member ${b.instanceId}` : 'no member of the storage group at that address'})` });
      }
    }
    if (v.splitBrainEntries > 0) {
      const named = v.splitBrainFiles.slice(0, SPLIT_BRAIN_NAMED);
      const more = Math.max(0, v.splitBrainEntries - named.length);
      problems.push({
        key: `split-brain ${v.volume} ${v.splitBrainEntries}`,
        text: [
          `${v.splitBrainEntries} entr${v.splitBrainEntries === 1 ? 'y' : 'ies'} of ${v.volume} in split-brain (not resolved: choose the good copy by hand, see gluster volume heal ${v.volume} split-brain):`,
          ...named.map((p) => `    ${p}`),
          ...(more > 0 ? [`    ... and ${more} more`] : []),
        ].join('\n'),
      });
    }
  }
  for (const p of health.peers) {
    const who = p.instanceId ? `member ${p.instanceId} (${p.host})` : `peer ${p.host} (not in the storage group)`;
    problems.push({ key: `peer ${p.host} ${p.state}`, text: p.state === 'absent' ? `${who} is in service but not in the Gluster pool` : `${who} disconnected from the Gluster pool` });
  }
  return problems;
}

// --- metrics ----------------------------------------------------------------------------

/** One gauge: a metric name of METRIC (scaling/metric-names.ts) and its value, per volume or for the pool. */
export interface HealthGauge {
  readonly name: MetricName;
  readonly value: number;
  /** The volume, or undefined for the pool-wide value (the alarms' and the overview widget's series). */
  readonly volume?: string;
}

/**
 * Per volume (dimension Volume) bricks offline, entries to heal and
 * split-brain entries; pool-wide (no Volume) their sums and the peers
 * disconnected or absent. A missing volume publishes nothing of its own.
 */
export function healthGauges(health: ClusterHealth): HealthGauge[] {
  const gauges: HealthGauge[] = [];
  const total = { offline: 0, heal: 0, split: 0 };
  for (const v of health.volumes) {
    gauges.push({ name: METRIC.glusterBricksOffline, value: v.bricksOffline.length, volume: v.volume });
    gauges.push({ name: METRIC.glusterHealEntries, value: v.healEntries, volume: v.volume });
    gauges.push({ name: METRIC.glusterSplitBrainEntries, value: v.splitBrainEntries, volume: v.volume });
    total.offline += v.bricksOffline.length;
    total.heal += v.healEntries;
    total.split += v.splitBrainEntries;
  }
  gauges.push({ name: METRIC.glusterBricksOffline, value: total.offline });
  gauges.push({ name: METRIC.glusterHealEntries, value: total.heal });
  gauges.push({ name: METRIC.glusterSplitBrainEntries, value: total.split });
  gauges.push({ name: METRIC.glusterPeersDisconnected, value: health.peers.length });
  return gauges;
}

/** One line for the record, the subject and the alarm side: what is wrong ("healthy" when nothing). */
export function healthSummary(health: ClusterHealth): string {
  const parts: string[] = [];
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  if (health.missingVolumes.length) parts.push(`missing volume${health.missingVolumes.length > 1 ? 's' : ''} ${health.missingVolumes.join(', ')}`);
  for (const v of health.volumes) if (v.status !== 'Started') parts.push(`${v.volume} ${v.status}`);
  const offline = health.volumes.filter((v) => v.status === 'Started' && v.bricksOffline.length > 0);
  const bricks = offline.reduce((n, v) => n + v.bricksOffline.length, 0);
  if (bricks) parts.push(`${plural(bricks, 'brick', 'bricks')} offline (${offline.map((v) => v.volume).join(', ')})`);
  const split = health.volumes.filter((v) => v.splitBrainEntries > 0);
  const entries = split.reduce((n, v) => n + v.splitBrainEntries, 0);
  if (entries) parts.push(`${plural(entries, 'split-brain entry', 'split-brain entries')} (${split.map((v) => v.volume).join(', ')})`);
  if (health.peers.length) parts.push(`${plural(health.peers.length, 'peer', 'peers')} disconnected`);
  return parts.length ? parts.join('; ') : 'healthy';
}
