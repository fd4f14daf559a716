/** The bootstrap plan: the first volumes of an empty cluster, once enough members in distinct zones joined. */
import { commandLine, type GlusterStep } from './gluster-actions';
import { brickPath } from './settings';
import type { StorageMember } from './snapshot';

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

/** An instance of the storage group as the pool-start rule reads it. */
export interface GroupMemberState {
  readonly instanceId: string;
  readonly lifecycleState: string;
}

/**
 * Whether a joining node with no in-service member to be probed from may start
 * the Gluster pool itself. Members of a new group launch together (a stack
 * creates the group with its desired capacity at once): if each started a pool
 * of its own, no pool would ever hold two members and no volume would be made.
 * So only the launching member with the lowest instance id starts the pool;
 * the others wait until it is in service and are probed from it. A member in
 * service (whose agent is not online right now) means a pool exists already:
 * starting another would split the cluster, so the node waits too.
 */
export function poolStart(self: string, members: readonly GroupMemberState[]): { readonly kind: 'start' } | { readonly kind: 'wait'; readonly reason: string } {
  const others = members.filter((m) => m.instanceId !== self);
  const inService = others.filter((m) => m.lifecycleState === 'InService').map((m) => m.instanceId).sort();
  if (inService.length > 0) {
    return { kind: 'wait', reason: `${inService.join(', ')} in service but no member has an online SSM agent to probe this node from` };
  }
  const founder = [self, ...others.filter((m) => m.lifecycleState.startsWith('Pending')).map((m) => m.instanceId)].sort()[0];
  if (founder !== undefined && founder !== self) {
    return { kind: 'wait', reason: `${founder} launched with this node and starts the pool (lowest instance id); this node is probed from it once it is in service` };
  }
  return { kind: 'start' };
}
