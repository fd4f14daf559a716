/** The bootstrap plan: the first volumes of an empty cluster, in the layout of the zones the group spans, once enough members in distinct zones joined. */
import { commandLine, type GlusterStep } from './gluster-actions';
import { isRefusal, type Refusal } from './guards';
import { describeLayout, layoutFixes, SERVER_QUORUM_RATIO, type Layout } from './layout';
import { brickPath } from './settings';
import type { StorageMember, VolumeSnapshot } from './snapshot';

export interface BootstrapPlan {
  readonly kind: 'plan';
  readonly layout: Layout;
  /** In brick order: with an arbiter layout the last one holds the arbiter bricks. */
  readonly members: readonly StorageMember[];
  readonly steps: readonly GlusterStep[];
  readonly commands: readonly string[];
}

/**
 * The first volumes of an empty cluster: once `layout.replica` connected
 * members in distinct zones exist, create each volume not yet existing in the
 * layout (replica 3 arbiter 1, or replica 2 with its quorum options set before
 * the first start) and start it. `layout` is layoutForZones of the group's
 * zones; a refusal (one zone) waits with its reason.
 */
export function bootstrapPlan(
  members: readonly StorageMember[],
  layout: Layout | Refusal,
  options: { readonly volumes: readonly string[]; readonly brickRoot: string; readonly existing?: readonly Pick<VolumeSnapshot, 'name' | 'options'>[]; readonly force?: boolean },
): BootstrapPlan | { readonly kind: 'wait'; readonly reason: string } | { readonly kind: 'done'; readonly reason: string } {
  const existing = options.existing ?? [];
  const todo = options.volumes.filter((v) => !existing.some((e) => e.name === v));
  if (todo.length === 0) return { kind: 'done', reason: `volumes ${options.volumes.join(', ')} already exist` };
  if (isRefusal(layout)) return { kind: 'wait', reason: `the volumes cannot be created: ${layout.reason}` };
  const ready = members
    .filter((m) => m.peerState === 'connected' && !m.lifecycleState.startsWith('Terminating'))
    .sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  const chosen: StorageMember[] = [];
  for (const m of ready) if (chosen.length < layout.replica && !chosen.some((c) => c.zone === m.zone)) chosen.push(m);
  if (chosen.length < layout.replica) {
    const zones = [...new Set(ready.map((m) => m.zone))];
    return { kind: 'wait', reason: `${layout.replica} connected members in distinct zones are needed to create the volumes as ${describeLayout(layout)}; ${ready.length} connected in ${zones.length} zone(s)${zones.length ? ` (${zones.join(', ')})` : ''}` };
  }
  const force = options.force ? { force: true } : {};
  const arbiter = layout.arbiter ? { arbiter: layout.arbiter } : {};
  // The pool-wide ratio, once set, shows in every existing volume's options.
  const ratio = existing.map((e) => e.options?.[SERVER_QUORUM_RATIO]).find((r) => r !== undefined);
  const fix = layoutFixes(todo.map((name) => ({ name, replicaCount: layout.replica, arbiterCount: layout.arbiter, options: ratio ? { [SERVER_QUORUM_RATIO]: ratio } : {} })));
  const steps: GlusterStep[] = [
    ...todo.map((volume): GlusterStep => ({ kind: 'gluster', action: 'volume-create', volume, replica: layout.replica, ...arbiter, bricks: chosen.map((m) => `${m.host}:${brickPath(options, volume)}`), ...force })),
    ...fix.steps,
    ...todo.map((volume): GlusterStep => ({ kind: 'gluster', action: 'volume-start', volume })),
  ];
  return { kind: 'plan', layout, members: chosen, steps, commands: steps.map(commandLine) };
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
