/** What the storage use cases touch (StorageDeps), the storage group as they see it, and the members' records. */
import type { RandomSource } from '../../core/flow';
import type { AutoScalingPort, ScalingPort, TerminationPort } from '../../ports/autoscaling';
import type { CoordinationPort } from '../../ports/coordination';
import type { InstanceTagPort, VolumePort } from '../../ports/ec2-volumes';
import type { MetricsSink } from '../../ports/metrics';
import type { NotifierPort } from '../../ports/sns';
import type { QueuePort } from '../../ports/sqs';
import type { ParameterPort, SsmPort } from '../../ports/ssm';
import type { Config } from '../../config/compute';
import { memberName, membersPath, type MemberRecord } from '../../core/records';
import type { Node } from '../../core/storage/flow-state';
import type { ClusterSnapshot, GroupInstance } from '../../core/storage/snapshot';
import { AutoscalerError } from '../../errors';
import type { Log } from '../../logger';
import type { StorageConfig } from '../../config/storage';

/**
 * Everything the storage use cases touch, through ports. `sleep` is only used
 * by the bounded synchronous status read of a direct dry-run invoke.
 */
export interface StorageDeps {
  readonly config: Config;
  readonly storage: StorageConfig;
  readonly autoScaling: AutoScalingPort & ScalingPort & TerminationPort;
  readonly ssm: SsmPort & ParameterPort;
  /** The lifecycle claims, the cluster lock and the bootstrap claim (the coordination table). */
  readonly coordination: CoordinationPort;
  readonly notifier: NotifierPort;
  readonly queue: QueuePort;
  /** Our own metrics (EMF): the health read's Gluster gauges. */
  readonly metrics: MetricsSink;
  /** EBS volumes, for grow in place only (built when STORAGE_GROW_IN_PLACE is not off). */
  readonly volumes?: VolumePort;
  /** Instance tags (the member's state, for ops in the EC2 console); absent: members are not tagged. */
  readonly tags?: InstanceTagPort;
  readonly log: Log;
  readonly now: () => Date;
  /** The jitter of throttled waits (Math.random when absent; a fixed source in tests). */
  readonly random?: RandomSource;
  readonly sleep: (ms: number) => Promise<void>;
}

// --- member records (Parameter Store) -----------------------------------------------

export async function recordMember(deps: StorageDeps, record: MemberRecord): Promise<void> {
  await deps.ssm.putParameter(memberName(deps.config.stage, record.instanceId), JSON.stringify(record));
}

export async function readMembers(deps: StorageDeps): Promise<MemberRecord[]> {
  const out: MemberRecord[] = [];
  for (const { name, value } of await deps.ssm.listParameters(membersPath(deps.config.stage))) {
    try {
      const r = JSON.parse(value) as Partial<MemberRecord>;
      if (typeof r.instanceId === 'string' && typeof r.host === 'string' && typeof r.zone === 'string' && typeof r.lastSeen === 'string') {
        out.push({ instanceId: r.instanceId, host: r.host, zone: r.zone, state: r.state === 'departed' ? 'departed' : 'joined', lastSeen: r.lastSeen });
        continue;
      }
    } catch {
      // fall through: reported below
    }
    deps.log.warn('ignored an unreadable storage member record', { name });
  }
  return out;
}

// --- the storage group ---------------------------------------------------------------

export interface GroupView {
  readonly capacity: ClusterSnapshot['group'];
  readonly instances: GroupInstance[];
  /** Instances whose SSM agent is Online. */
  readonly online: ReadonlySet<string>;
  /** Live instances left out of `instances`: their SSM agent reports no address. */
  readonly unaddressed: { readonly instanceId: string; readonly lifecycleState: string }[];
}

/** The storage group with each instance's private IP (from the SSM agent); instances without one are left out. */
export async function describeStorageGroup(deps: StorageDeps): Promise<GroupView> {
  const { groupName } = deps.storage;
  const group = await deps.autoScaling.describeGroup(groupName);
  if (!group) throw new AutoscalerError(`storage group ${groupName} does not exist`);
  const live = group.instances.filter((i) => i.lifecycleState !== 'Terminated');
  const agents = live.length ? await deps.ssm.describeManagedInstances(live.map((i) => i.instanceId)) : [];
  const ip = new Map(agents.filter((a) => a.ipAddress).map((a) => [a.instanceId, a.ipAddress as string]));
  const instances: GroupInstance[] = live
    .filter((i) => ip.has(i.instanceId))
    .map((i) => ({ instanceId: i.instanceId, host: ip.get(i.instanceId) as string, zone: i.availabilityZone, lifecycleState: i.lifecycleState, protected: i.protectedFromScaleIn }));
  return {
    capacity: { name: group.name, min: group.minSize, max: group.maxSize, desired: group.desiredCapacity, zones: group.availabilityZones },
    instances,
    online: new Set(agents.filter((a) => a.online).map((a) => a.instanceId)),
    unaddressed: live.filter((i) => !ip.has(i.instanceId)).map((i) => ({ instanceId: i.instanceId, lifecycleState: i.lifecycleState })),
  };
}

/** One in-service member with an online agent (lowest instance id first), not among `exclude`. */
export async function pickMember(deps: StorageDeps, exclude: readonly string[] = []): Promise<Node | undefined> {
  const group = await deps.autoScaling.describeGroup(deps.storage.groupName);
  const ids = (group?.instances ?? [])
    .filter((i) => i.lifecycleState === 'InService' && !exclude.includes(i.instanceId))
    .map((i) => i.instanceId)
    .sort();
  if (ids.length === 0) return undefined;
  const agents = await deps.ssm.describeManagedInstances(ids);
  for (const id of ids) {
    const agent = agents.find((a) => a.instanceId === id);
    if (agent?.online && agent.ipAddress) return { instanceId: id, host: agent.ipAddress };
  }
  return undefined;
}
