import type { AutoScalingPort, GroupDescription } from '../ports/autoscaling';
import type { RegisteredTarget, TargetListPort } from '../ports/elbv2';
import type { StatusConfig } from '../config/status';
import { isLifecyclePending } from '../core/scaling/decide';
import { errorMessage, MalformedEventError } from '../errors';
import type { Log } from '../logger';
import type { StorageStatus, StorageStatusPort } from '../ports/storage';

export interface StatusDeps {
  readonly config: StatusConfig;
  readonly autoScaling: Pick<AutoScalingPort, 'describeGroup'>;
  readonly targets: TargetListPort;
  readonly storage: StorageStatusPort;
  readonly log: Log;
  readonly now: () => Date;
}

/** A part of the answer that could not be read says why, instead of failing the whole status. */
export type Section<T> = ({ readonly available: true } & T) | { readonly available: false; readonly reason: string };

export interface GroupStatus {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly desired: number;
  readonly instances: ReadonlyArray<{
    readonly instanceId: string;
    readonly availabilityZone: string;
    readonly lifecycleState: string;
    readonly healthStatus: string;
    readonly protectedFromScaleIn: boolean;
    readonly lifecyclePending: boolean;
  }>;
  readonly lifecycleStates: Readonly<Record<string, number>>;
}

export interface ClusterStatus {
  readonly stage: string;
  readonly at: string;
  readonly dryRun: boolean;
  readonly groups: {
    readonly compute: Section<GroupStatus>;
    /** Absent when the stage has no storage group. */
    readonly storage?: Section<GroupStatus>;
  };
  readonly targets: Section<{ readonly targetGroupArn: string; readonly healthy: number; readonly targets: readonly RegisteredTarget[] }>;
  readonly storage: StorageStatus;
}

function groupStatus(group: GroupDescription): GroupStatus {
  const lifecycleStates: Record<string, number> = {};
  for (const instance of group.instances) lifecycleStates[instance.lifecycleState] = (lifecycleStates[instance.lifecycleState] ?? 0) + 1;
  return {
    name: group.name,
    min: group.minSize,
    max: group.maxSize,
    desired: group.desiredCapacity,
    instances: group.instances.map((instance) => ({ ...instance, lifecyclePending: isLifecyclePending(instance.lifecycleState) })),
    lifecycleStates,
  };
}

async function section<T>(what: string, log: Log, read: () => Promise<Section<T>>): Promise<Section<T>> {
  try {
    return await read();
  } catch (error) {
    log.warn(`status: ${what} could not be read`, { error });
    return { available: false, reason: `${what} could not be read: ${errorMessage(error)}` };
  }
}

async function readGroup(name: string, deps: StatusDeps): Promise<Section<GroupStatus>> {
  return section(`group ${name}`, deps.log, async () => {
    const group = await deps.autoScaling.describeGroup(name);
    return group ? { available: true, ...groupStatus(group) } : { available: false, reason: `group ${name} does not exist` };
  });
}

/** Only an empty invoke payload (or {}) is accepted: the status takes no arguments. */
export function checkStatusRequest(event: unknown): void {
  if (event === undefined || event === null) return;
  if (typeof event !== 'object' || Array.isArray(event) || Object.keys(event).length > 0) {
    throw new MalformedEventError(`status takes no arguments: invoke it with {} (got ${JSON.stringify(event)?.slice(0, 80)})`);
  }
}

/** The cluster as our functions see it. Read-only. */
export async function describeCluster(deps: StatusDeps): Promise<ClusterStatus> {
  const { config, log } = deps;
  const [compute, storageGroup, targets, storage] = await Promise.all([
    readGroup(config.computeGroupName, deps),
    config.storageGroupName ? readGroup(config.storageGroupName, deps) : Promise.resolve(undefined),
    section('target group', log, async () => {
      const list = await deps.targets.describeTargets(config.targetGroupArn);
      return { available: true as const, targetGroupArn: config.targetGroupArn, healthy: list.filter((t) => t.state === 'healthy').length, targets: list };
    }),
    deps.storage.describeStorage().catch((error: unknown): StorageStatus => {
      log.warn('status: storage could not be read', { error });
      return { available: false, reason: `storage could not be read: ${errorMessage(error)}` };
    }),
  ]);
  return {
    stage: config.stage,
    at: deps.now().toISOString(),
    dryRun: config.dryRun,
    groups: { compute, ...(storageGroup ? { storage: storageGroup } : {}) },
    targets,
    storage,
  };
}
