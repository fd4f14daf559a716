/** The status summary the storage function records, and the status function's read-only view of the recorded storage state. */
import type { ParameterPort } from '../../ports/ssm';
import { healthName, membersPath, summaryName } from '../../core/records';
import type { ClusterSnapshot } from '../../core/storage/snapshot';
import type { Log } from '../../logger';
import type { StorageBrickStatus, StoragePeerStatus, StorageStatus, StorageStatusPort, StorageTaskStatus, StorageVolumeStatus } from '../../ports/storage';

/**
 * The last Gluster status the storage function read, as it records it in
 * Parameter Store (`<prefix>/summary`, next to `health`), and the status
 * function's read-only view of it: no Gluster command, no SendCommand, only
 * GetParameter / GetParametersByPath.
 */

/** A standard-tier String parameter holds at most 4 KB. */
export const SUMMARY_MAX_BYTES = 4096;

export interface StatusSummary {
  readonly at: string;
  readonly peers: readonly StoragePeerStatus[];
  readonly volumes: readonly StorageVolumeStatus[];
  readonly bricks: readonly StorageBrickStatus[];
  readonly tasks: readonly StorageTaskStatus[];
  /** Set when the full list did not fit in one parameter: what was left out. */
  readonly truncated?: string;
}

/** Pure: the parts of a snapshot ops look at. */
export function summarizeSnapshot(snapshot: ClusterSnapshot, at: Date): StatusSummary {
  const peers: StoragePeerStatus[] = [
    ...snapshot.members.map((m) => ({ host: m.host, state: m.peerState })),
    ...(snapshot.strayPeers ?? []).map((p) => ({ host: p.host, state: `${p.connected ? 'connected' : 'disconnected'}, not in the storage group` })),
  ];
  const volumes = snapshot.volumes.map((v): StorageVolumeStatus => ({
    name: v.name,
    status: v.status ?? 'unknown',
    replicaCount: v.replicaCount,
    healthy: (v.status === undefined || v.status === 'Started') && v.bricks.every((b) => b.online) && v.rebalance !== 'failed',
  }));
  const bricks = snapshot.volumes.flatMap((v) => v.bricks.map((b): StorageBrickStatus => ({ volume: v.name, host: b.host, path: b.path, online: b.online })));
  const tasks: StorageTaskStatus[] = [];
  for (const v of snapshot.volumes) {
    if (v.rebalance !== 'none') tasks.push({ volume: v.name, kind: 'rebalance', status: v.rebalance });
    if (v.healPending > 0) tasks.push({ volume: v.name, kind: 'heal', status: `${v.healPending} entries pending` });
    if ((v.healUnreachable ?? 0) > 0) tasks.push({ volume: v.name, kind: 'heal', status: `unknown on ${v.healUnreachable} unreachable brick(s)` });
  }
  return { at: at.toISOString(), peers, volumes, bricks, tasks };
}

/**
 * JSON of the summary within SUMMARY_MAX_BYTES: when the whole list is too
 * long, online bricks are left out first (offline ones are what matters), then
 * every brick; the record says so.
 */
export function encodeSummary(summary: StatusSummary): string {
  const fits = (s: StatusSummary) => Buffer.byteLength(JSON.stringify(s)) <= SUMMARY_MAX_BYTES;
  if (fits(summary)) return JSON.stringify(summary);
  const offlineOnly: StatusSummary = {
    ...summary,
    bricks: summary.bricks.filter((b) => !b.online),
    truncated: `only the offline bricks are listed (${summary.bricks.length} bricks do not fit in ${SUMMARY_MAX_BYTES} bytes)`,
  };
  if (fits(offlineOnly)) return JSON.stringify(offlineOnly);
  const noBricks: StatusSummary = { ...summary, bricks: [], truncated: `no brick is listed (${summary.bricks.length} bricks do not fit in ${SUMMARY_MAX_BYTES} bytes)` };
  if (fits(noBricks)) return JSON.stringify(noBricks);
  throw new Error(`the storage status summary does not fit in ${SUMMARY_MAX_BYTES} bytes even without bricks (${summary.peers.length} peers, ${summary.volumes.length} volumes)`);
}

/** Strict reading of a recorded summary: undefined names what is wrong. */
export function decodeSummary(raw: string): { summary: StatusSummary } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { problem: 'the recorded storage status summary is not JSON' };
  }
  const v = value as Partial<Record<keyof StatusSummary, unknown>>;
  if (typeof v !== 'object' || v === null) return { problem: 'the recorded storage status summary is not an object' };
  if (typeof v.at !== 'string' || !Number.isFinite(Date.parse(v.at))) return { problem: 'the recorded storage status summary has no valid time (at)' };
  for (const key of ['peers', 'volumes', 'bricks', 'tasks'] as const) {
    if (!Array.isArray(v[key])) return { problem: `the recorded storage status summary has no ${key} list` };
  }
  const peers = (v.peers as unknown[]).every((p) => isRecord(p) && typeof p.host === 'string' && typeof p.state === 'string');
  const volumes = (v.volumes as unknown[]).every((x) => isRecord(x) && typeof x.name === 'string' && typeof x.status === 'string' && typeof x.replicaCount === 'number' && typeof x.healthy === 'boolean');
  const bricks = (v.bricks as unknown[]).every((b) => isRecord(b) && typeof b.volume === 'string' && typeof b.host === 'string' && typeof b.path === 'string' && typeof b.online === 'boolean');
  const tasks = (v.tasks as unknown[]).every((t) => isRecord(t) && typeof t.volume === 'string' && (t.kind === 'rebalance' || t.kind === 'heal') && typeof t.status === 'string');
  const bad = Object.entries({ peers, volumes, bricks, tasks }).find(([, ok]) => !ok);
  if (bad) return { problem: `the recorded storage status summary has a malformed ${bad[0]} entry` };
  return { summary: value as StatusSummary };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A recorded member as the status shows it. */
export interface MemberView {
  readonly instanceId: string;
  readonly host: string;
  readonly zone: string;
  readonly state: string;
  readonly lastSeen: string;
}

/** The storage part of the status: the summary, how old it is, the recorded health and members. */
export type RecordedStorageStatus = Extract<StorageStatus, { available: true }> & {
  readonly recordedAt: string;
  readonly ageSeconds: number;
  readonly healthy: boolean | 'unknown';
  readonly healthReason?: string;
  readonly members: readonly MemberView[];
  readonly ignoredMemberRecords?: number;
  readonly truncated?: string;
};

export interface StorageStatusDeps {
  readonly stage: string;
  readonly ssm: Pick<ParameterPort, 'getParameter' | 'listParameters'>;
  readonly log: Log;
  readonly now: () => Date;
}

export const NO_SUMMARY_YET = 'no storage status recorded yet: the storage function records one on every Gluster status read (join, expansion, dry run)';

/** StorageStatusPort for the status function, read-only. */
export function createStorageStatus(deps: StorageStatusDeps): StorageStatusPort {
  async function readMembers(): Promise<{ members: MemberView[]; ignored: number }> {
    const members: MemberView[] = [];
    let ignored = 0;
    for (const { name, value } of await deps.ssm.listParameters(membersPath(deps.stage))) {
      let r: unknown;
      try {
        r = JSON.parse(value);
      } catch {
        r = undefined;
      }
      if (isRecord(r) && typeof r.instanceId === 'string' && typeof r.host === 'string' && typeof r.zone === 'string' && typeof r.state === 'string' && typeof r.lastSeen === 'string') {
        members.push({ instanceId: r.instanceId, host: r.host, zone: r.zone, state: r.state, lastSeen: r.lastSeen });
      } else {
        ignored += 1;
        deps.log.warn('status: ignored an unreadable storage member record', { name });
      }
    }
    members.sort((a, b) => a.instanceId.localeCompare(b.instanceId));
    return { members, ignored };
  }

  async function readHealth(): Promise<{ healthy: boolean | 'unknown'; reason?: string }> {
    const raw = await deps.ssm.getParameter(healthName(deps.stage));
    if (raw === undefined) return { healthy: 'unknown', reason: 'no health recorded yet' };
    try {
      const h = JSON.parse(raw) as unknown;
      if (isRecord(h) && typeof h.healthy === 'boolean') {
        return { healthy: h.healthy, ...(typeof h.reason === 'string' ? { reason: h.reason } : {}) };
      }
    } catch {
      // reported below
    }
    return { healthy: 'unknown', reason: 'the recorded health is unreadable' };
  }

  return {
    async describeStorage(): Promise<StorageStatus> {
      const [raw, health, { members, ignored }] = await Promise.all([deps.ssm.getParameter(summaryName(deps.stage)), readHealth(), readMembers()]);
      if (raw === undefined) return { available: false, reason: NO_SUMMARY_YET };
      const decoded = decodeSummary(raw);
      if ('problem' in decoded) return { available: false, reason: decoded.problem };
      const { summary } = decoded;
      const status: RecordedStorageStatus = {
        available: true,
        peers: summary.peers,
        volumes: summary.volumes,
        bricks: summary.bricks,
        tasks: summary.tasks,
        recordedAt: summary.at,
        ageSeconds: Math.max(0, Math.round((deps.now().getTime() - Date.parse(summary.at)) / 1000)),
        healthy: health.healthy,
        ...(health.reason ? { healthReason: health.reason } : {}),
        members,
        ...(ignored > 0 ? { ignoredMemberRecords: ignored } : {}),
        ...(summary.truncated ? { truncated: summary.truncated } : {}),
      };
      return status;
    },
  };
}
