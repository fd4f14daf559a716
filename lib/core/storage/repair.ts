/** Which offline bricks to restart (`gluster volume start <vol> force`), and why the others are not repaired. */
import { brickName, type BrickRef, type ClusterHealth, type HealthMember } from './health';
import type { GlusterStep } from './gluster-actions';

/**
 * A brick is restarted only where nothing but its process is wrong: the
 * volume is Started, the brick's member is InService with its SSM agent
 * online, and that member's glusterd answers (it is a connected peer). glusterd
 * then starts only the bricks it finds not running (glusterd_start_volume:
 * "Force option can be used to start dead bricks even if the volume is in
 * started state"); a running brick is left alone and no data moves. A dead
 * member is the group's to replace (the launch flow's replace-brick), a
 * stopped volume is ops' to start.
 */
export interface RepairSettings {
  /** Stage parameter glusterRepairBricks. */
  readonly enabled: boolean;
  /** Restarts of one brick within windowSeconds before it is left offline and told. */
  readonly maxRestarts: number;
  readonly windowSeconds: number;
}

/** Restarts of one brick within REPAIR_WINDOW_SECONDS before it is left offline (a brick that keeps dying has a cause a restart does not fix). */
export const REPAIR_MAX_RESTARTS = 3;
export const REPAIR_WINDOW_SECONDS = 3600;

export type BrickRepair =
  | { readonly kind: 'restart'; readonly brick: BrickRef }
  | { readonly kind: 'not-repaired'; readonly brick: BrickRef; readonly reason: string };

/** The brick's log on its member, where a brick that keeps dying says why. */
export function brickLog(path: string): string {
  return `/var/log/glusterfs/bricks/${path.replace(/^\/+/, '').replace(/\//g, '-')}.log`;
}

export function decideRepairs(
  health: ClusterHealth,
  members: readonly HealthMember[],
  restartsOf: (brick: BrickRef) => number,
  settings: RepairSettings,
): BrickRepair[] {
  const out: BrickRepair[] = [];
  for (const v of health.volumes) {
    for (const brick of v.bricksOffline) {
      const no = (reason: string): BrickRepair => ({ kind: 'not-repaired', brick, reason });
      const member = members.find((m) => m.host === brick.host);
      const peer = health.peers.find((p) => p.host === brick.host);
      const restarts = restartsOf(brick);
      if (v.status !== 'Started') out.push(no(`volume ${v.volume} is ${v.status}: starting a volume is left to ops`));
      else if (v.serverQuorumLost) {
        // glusterd refuses `volume start force` without quorum ("Quorum not met. Volume operation not allowed.") and starts the bricks itself once it is back.
        out.push(no(`glusterd stopped it: server quorum lost (${v.serverQuorumLost.connected} of ${v.serverQuorumLost.peers} peers connected); glusterd starts it again once the pool has quorum (the missing member back, or replaced by the group)`));
      }
      else if (!member) out.push(no(`no member of the storage group has the address ${brick.host}`));
      else if (member.lifecycleState !== 'InService') out.push(no(`member ${member.instanceId} is ${member.lifecycleState}, not InService`));
      else if (!member.agentOnline) out.push(no(`the SSM agent of member ${member.instanceId} is not online`));
      else if (peer) out.push(no(`glusterd of member ${member.instanceId} does not answer (peer ${peer.state}): the member itself is down, the group replaces it`));
      else if (!settings.enabled) out.push(no('brick repair is off (stage parameter glusterRepairBricks)'));
      else if (restarts >= settings.maxRestarts) {
        out.push(no(`restarted ${restarts} time${restarts > 1 ? 's' : ''} in the last ${Math.round(settings.windowSeconds / 60)} minutes and offline again: see ${brickLog(brick.path)} on ${member.instanceId}`));
      } else out.push({ kind: 'restart', brick });
    }
  }
  return out;
}

/** One `volume start <vol> force` per volume with bricks to restart: it starts every dead brick of the volume at once. */
export function restartSteps(repairs: readonly BrickRepair[]): GlusterStep[] {
  const volumes = [...new Set(repairs.filter((r) => r.kind === 'restart').map((r) => r.brick.volume))];
  return volumes.map((volume) => ({ kind: 'gluster', action: 'volume-start-force', volume }));
}

/** "brick 10.0.1.5:/bricks/pydio-data/brick of pydio-data on i-0abc" */
export function describeBrick(b: BrickRef): string {
  return `brick ${brickName(b)} of ${b.volume}${b.instanceId ? ` on ${b.instanceId}` : ''}`;
}
