/** The Gluster actions storage-gluster-command may run: the list, the parameters each reads, and its gluster argv. */

/**
 * The one list of actions. storage-gluster-command.yml (`Action.allowedValues`) and
 * storage-gluster-command.sh (its `case $action in` arms) repeat it for AWS and for the
 * host; test/unit/core/storage/gluster-actions.test.ts fails when either differs from
 * this list, or when the script builds another argv than `glusterArgs`.
 */
export const GLUSTER_ACTIONS = [
  'volume-create',
  'volume-start',
  'volume-start-force',
  'add-brick',
  'rebalance-start',
  'rebalance-status',
  'replace-brick',
  'heal-full',
  'remove-brick-start',
  'remove-brick-status',
  'remove-brick-commit',
  'peer-detach',
  'volume-set',
] as const;

export type GlusterAction = (typeof GLUSTER_ACTIONS)[number];

/** One Gluster step: what the command document receives as parameters. */
export interface GlusterStep {
  readonly kind: 'gluster';
  readonly action: GlusterAction;
  /** The volume; '' for peer-detach (a pool operation). */
  readonly volume: string;
  readonly replica?: number;
  /** volume-create/add-brick: 1 makes the last brick of each set of `replica` the arbiter (replica 3 arbiter 1). */
  readonly arbiter?: number;
  /** host:/path, in Gluster's order. For replace-brick: [old, new]. */
  readonly bricks?: readonly string[];
  /** Bricks on the root file system (sandboxes only). */
  readonly force?: boolean;
  /** peer-detach only: the IPv4 address of the peer leaving the pool. */
  readonly peer?: string;
  /** volume-set only: one of VOLUME_SET_OPTIONS, and its value (volume `all` for the pool-wide ratio). */
  readonly option?: string;
  readonly value?: string;
}

/**
 * The options volume-set may set, each with the values it accepts: what the
 * layouts (layout.ts) set and nothing else. The document's Option.allowedValues
 * and the script's checks repeat them; the unit test holds them equal. The ratio
 * is pool-wide (`volume set all ...`) and only a majority is accepted; the
 * other two are per volume (glusterd refuses them on `all`: "Not a valid option
 * for all volumes", fixtures/volume-set-quorum-type-on-all.xml).
 */
export const VOLUME_SET_OPTIONS = {
  'cluster.quorum-type': { values: /^auto$/, scope: 'volume' },
  'cluster.server-quorum-type': { values: /^(server|none)$/, scope: 'volume' },
  'cluster.server-quorum-ratio': { values: /^(5[1-9]|[6-9][0-9]|100)%$/, scope: 'all' },
} as const;
export type VolumeSetOption = keyof typeof VOLUME_SET_OPTIONS;

/** The document's parameters besides Action. */
export type GlusterParameter = 'Volume' | 'Replica' | 'Arbiter' | 'Bricks' | 'Force' | 'Peer' | 'Option' | 'Value';

export interface GlusterActionSpec {
  /** The parameters the action reads; the others keep their document defaults. */
  readonly parameters: readonly GlusterParameter[];
  /** The gluster argv after `gluster --mode=script`, exactly as the command script builds it. */
  readonly argv: (step: GlusterStep) => string[];
}

// Replica 0 is the document's "none" (commandParameters sends it for an unset replica): no `replica` words.
const replicaArgs = (step: GlusterStep): string[] => (step.replica ? ['replica', String(step.replica)] : []);
// `replica 3 arbiter 1`: the arbiter count follows the replica count (glusterfs tests/basic/afr/arbiter-cli.t).
const layoutArgs = (step: GlusterStep): string[] => [...replicaArgs(step), ...(step.replica && step.arbiter ? ['arbiter', String(step.arbiter)] : [])];
const bricksArgs = (step: GlusterStep): string[] => [...(step.bricks ?? [])];
const forceArgs = (step: GlusterStep): string[] => (step.force ? ['force'] : []);

export const GLUSTER_ACTION_SPECS: { readonly [A in GlusterAction]: GlusterActionSpec } = {
  'volume-create': {
    parameters: ['Volume', 'Replica', 'Arbiter', 'Bricks', 'Force'],
    argv: (s) => ['volume', 'create', s.volume, ...layoutArgs(s), ...bricksArgs(s), ...forceArgs(s)],
  },
  'volume-start': { parameters: ['Volume'], argv: (s) => ['volume', 'start', s.volume] },
  // Starts the bricks of a started volume that are not running (the health flow's brick repair).
  'volume-start-force': { parameters: ['Volume'], argv: (s) => ['volume', 'start', s.volume, 'force'] },
  'add-brick': {
    parameters: ['Volume', 'Replica', 'Arbiter', 'Bricks', 'Force'],
    argv: (s) => ['volume', 'add-brick', s.volume, ...layoutArgs(s), ...bricksArgs(s), ...forceArgs(s)],
  },
  'rebalance-start': { parameters: ['Volume'], argv: (s) => ['volume', 'rebalance', s.volume, 'start'] },
  'rebalance-status': { parameters: ['Volume'], argv: (s) => ['volume', 'rebalance', s.volume, 'status'] },
  'replace-brick': { parameters: ['Volume', 'Bricks'], argv: (s) => ['volume', 'replace-brick', s.volume, ...bricksArgs(s), 'commit', 'force'] },
  'heal-full': { parameters: ['Volume'], argv: (s) => ['volume', 'heal', s.volume, 'full'] },
  'remove-brick-start': {
    parameters: ['Volume', 'Replica', 'Bricks'],
    argv: (s) => ['volume', 'remove-brick', s.volume, ...replicaArgs(s), ...bricksArgs(s), 'start'],
  },
  'remove-brick-status': {
    parameters: ['Volume', 'Replica', 'Bricks'],
    argv: (s) => ['volume', 'remove-brick', s.volume, ...replicaArgs(s), ...bricksArgs(s), 'status'],
  },
  'remove-brick-commit': {
    parameters: ['Volume', 'Replica', 'Bricks'],
    argv: (s) => ['volume', 'remove-brick', s.volume, ...replicaArgs(s), ...bricksArgs(s), 'commit'],
  },
  'peer-detach': { parameters: ['Peer'], argv: (s) => ['peer', 'detach', s.peer ?? ''] },
  'volume-set': { parameters: ['Volume', 'Option', 'Value'], argv: (s) => ['volume', 'set', s.volume, s.option ?? '', s.value ?? ''] },
};

/** The gluster argv (after `gluster --mode=script`) for a step, exactly as the command script builds it. */
export function glusterArgs(step: GlusterStep): string[] {
  return GLUSTER_ACTION_SPECS[step.action].argv(step);
}

export function commandLine(step: GlusterStep): string {
  return ['gluster', '--mode=script', ...glusterArgs(step)].join(' ');
}

/** Parameters of the storage-gluster-command document for a step. */
export function commandParameters(step: GlusterStep): Record<string, string> {
  return {
    Action: step.action,
    Volume: step.volume,
    Replica: step.replica !== undefined ? String(step.replica) : '0',
    Bricks: (step.bricks ?? []).join(','),
    Force: step.force ? 'yes' : 'no',
    ...(step.arbiter ? { Arbiter: String(step.arbiter) } : {}),
    ...(step.peer !== undefined ? { Peer: step.peer } : {}),
    ...(step.option !== undefined ? { Option: step.option, Value: step.value ?? '' } : {}),
  };
}
