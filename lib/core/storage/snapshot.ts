import { MalformedEventError } from '../../errors';
import type { StatusBundle, TaskStatus } from './gluster-parse';

/**
 * What the storage planner sees: one picture of the storage tier, assembled by
 * a use case from the storage Auto Scaling group (instances, zones, scale-in
 * protection) and the Gluster status of one healthy member
 * (storage-gluster-status.sh, parsed by gluster-parse.ts). Pure data.
 */
export type PeerState = 'connected' | 'disconnected' | 'absent';

export interface StorageMember {
  readonly instanceId: string;
  /** Private IPv4: the name the member was probed with and its bricks carry. */
  readonly host: string;
  readonly zone: string;
  /** Auto Scaling lifecycle state (InService, Pending:Wait, Terminating:Wait ...). */
  readonly lifecycleState: string;
  readonly peerState: PeerState;
  /** Protected from scale-in. */
  readonly protected: boolean;
}

export interface Brick {
  readonly host: string;
  readonly path: string;
  readonly online: boolean;
  /** Bytes of the brick's file system; 0 when unknown (its node did not answer). */
  readonly sizeTotal: number;
  readonly sizeFree: number;
  /** The arbiter of its replica set (volume info's isArbiter): names and metadata only, no file data. */
  readonly arbiter?: boolean;
}

export type RebalanceState = 'none' | 'in-progress' | 'completed' | 'failed';

export interface VolumeSnapshot {
  readonly name: string;
  readonly replicaCount: number;
  /** 1 for replica 3 arbiter 1 (the last brick of each set is the arbiter), else 0 or absent. */
  readonly arbiterCount?: number;
  /** In Gluster's order: replica sets are consecutive groups of replicaCount. */
  readonly bricks: readonly Brick[];
  /** Options reconfigured on the volume, as volume info lists them (pool-wide ones included). */
  readonly options?: Readonly<Record<string, string>>;
  readonly rebalance: RebalanceState;
  /** Entries waiting for self-heal on the bricks that answered. */
  readonly healPending: number;
  /** Bricks whose heal state could not be read (counted as "heal unknown"). */
  readonly healUnreachable?: number;
  /** Started, Stopped or Created. */
  readonly status?: string;
}

export interface GroupCapacity {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly desired: number;
  /** Availability zones the storage group may launch into. */
  readonly zones: readonly string[];
}

/** A pool entry that is no member of the group (e.g. a terminated node still probed). */
export interface StrayPeer {
  readonly host: string;
  readonly connected: boolean;
}

export interface ClusterSnapshot {
  readonly group: GroupCapacity;
  readonly members: readonly StorageMember[];
  readonly volumes: readonly VolumeSnapshot[];
  readonly strayPeers?: readonly StrayPeer[];
}

/** An instance of the storage group as the Auto Scaling adapter describes it. */
export interface GroupInstance {
  readonly instanceId: string;
  readonly host: string;
  readonly zone: string;
  readonly lifecycleState: string;
  readonly protected: boolean;
}

/** Replica sets of a volume: consecutive groups of replicaCount bricks. */
export function replicaSets<T>(bricks: readonly T[], replicaCount: number): T[][] {
  if (!Number.isInteger(replicaCount) || replicaCount < 1) throw new MalformedEventError(`replica count must be a whole number >= 1, got ${replicaCount}`);
  if (bricks.length % replicaCount !== 0) {
    throw new MalformedEventError(`${bricks.length} bricks do not form whole replica sets of ${replicaCount}`);
  }
  const sets: T[][] = [];
  for (let i = 0; i < bricks.length; i += replicaCount) sets.push(bricks.slice(i, i + replicaCount));
  return sets;
}

function rebalanceState(task: TaskStatus | undefined): RebalanceState {
  if (!task) return 'none';
  // A stopped rebalance leaves the layout half-moved: treat it like a failure to look at.
  return task.state === 'stopped' ? 'failed' : task.state;
}

/**
 * Joins the group's instances with the Gluster status bundle. `localHost` is
 * the IP of the member that ran the status script (`pool list` calls it
 * "localhost").
 */
export function buildClusterSnapshot(
  group: GroupCapacity,
  instances: readonly GroupInstance[],
  bundle: StatusBundle,
  localHost: string,
): ClusterSnapshot {
  if (!instances.some((i) => i.host === localHost)) {
    throw new MalformedEventError(`status was read on ${localHost}, which is not an instance of storage group ${group.name}`);
  }
  const pool = new Map<string, boolean>();
  for (const peer of bundle.pool) {
    const host = peer.isLocal ? localHost : peer.hostname;
    pool.set(host, peer.connected && (peer.isLocal || peer.state === 'Peer in Cluster'));
  }
  const members = instances.map((i): StorageMember => {
    const inPool = pool.get(i.host);
    return {
      instanceId: i.instanceId,
      host: i.host,
      zone: i.zone,
      lifecycleState: i.lifecycleState,
      peerState: inPool === undefined ? 'absent' : inPool ? 'connected' : 'disconnected',
      protected: i.protected,
    };
  });
  const known = new Set(instances.map((i) => i.host));
  const strayPeers = [...pool.entries()].filter(([host]) => !known.has(host)).map(([host, connected]) => ({ host, connected }));
  const volumes = bundle.volumes.map((info): VolumeSnapshot => {
    const detail = bundle.details[info.name];
    const heal = bundle.heal[info.name];
    const bricks = info.bricks.map((b): Brick => {
      const status = detail?.bricks.find((d) => d.host === b.host && d.path === b.path);
      const role = b.isArbiter ? { arbiter: true } : {};
      return status
        ? { host: b.host, path: b.path, online: status.online, sizeTotal: status.sizeTotal, sizeFree: status.sizeFree, ...role }
        : { host: b.host, path: b.path, online: false, sizeTotal: 0, sizeFree: 0, ...role };
    });
    return {
      name: info.name,
      replicaCount: info.replicaCount,
      arbiterCount: info.arbiterCount,
      bricks,
      options: info.options,
      rebalance: rebalanceState(bundle.rebalance[info.name]),
      healPending: heal?.pending ?? 0,
      healUnreachable: heal?.unavailable !== undefined ? info.bricks.length : heal?.unreachable ?? 0,
      status: info.status,
    };
  });
  return { group, members, volumes, strayPeers };
}
