import { randomUUID } from 'node:crypto';
import type { AutoScalingPort, ScalingPort, TerminationPort } from '../../aws/autoscaling';
import type { InstanceTagPort, VolumePort } from '../../aws/ec2-volumes';
import type { NotifierPort } from '../../aws/sns';
import type { QueuePort } from '../../aws/sqs';
import type { CommandInvocation, ParameterPort, SsmPort } from '../../aws/ssm';
import type { Config } from '../../config';
import { decideInvocation, outputTail } from '../../core/decisions';
import { secondsSince } from '../../core/flow';
import { healthName, memberName, membersPath, summaryName, type HealthRecord, type MemberRecord } from '../../core/records';
import { parseCommandResult, parseStatusBundle, type StatusBundle } from '../../core/storage/gluster-parse';
import { commandParameters, commandLine, type GlusterStep } from '../../core/storage/gluster-actions';
import { clusterGuard } from '../../core/storage/guards';
import { buildClusterSnapshot, type ClusterSnapshot, type GroupInstance } from '../../core/storage/snapshot';
import { AutoscalerError, StepFailedError } from '../../errors';
import type { Log } from '../../logger';
import { continuesInNextPart, STATUS_STEPS } from '../../core/storage/status-frame';
import type { StorageConfig } from './config';
import type { StorageFlowState, StorageOutcome } from './state';
import { encodeSummary, summarizeSnapshot } from './status';

/**
 * Everything the storage use cases touch, through ports. `sleep` is only used
 * by the bounded synchronous status read of a direct dry-run invoke.
 */
export interface StorageDeps {
  readonly config: Config;
  readonly storage: StorageConfig;
  readonly autoScaling: AutoScalingPort & ScalingPort & TerminationPort;
  readonly ssm: SsmPort & ParameterPort;
  readonly notifier: NotifierPort;
  readonly queue: QueuePort;
  /** EBS volumes, for grow in place only (built when STORAGE_GROW_IN_PLACE is not off). */
  readonly volumes?: VolumePort;
  /** Instance tags (the member's state, for ops in the EC2 console); absent: members are not tagged. */
  readonly tags?: InstanceTagPort;
  readonly log: Log;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
}

export interface Node {
  readonly instanceId: string;
  readonly host: string;
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

// --- documents as steps: send -> wait -> read invocation ----------------------------------

export type DocumentResult = { readonly kind: 'result'; readonly stdout: string } | Exclude<StorageOutcome, { kind: 'next' } | { kind: 'done' }>;

/**
 * One document run as part of a step: the first call sends it and asks to
 * wait; later calls read the invocation until it ended.
 */
export async function runDocumentStep(
  state: StorageFlowState,
  deps: StorageDeps,
  documentName: string,
  on: Node,
  parameters: Record<string, string>,
  what: string,
  /** The step whose output a successful run returns (default: the last). */
  report?: string,
): Promise<DocumentResult> {
  const { config } = deps;
  if (!state.command) {
    const commandId = await deps.ssm.sendCommand({
      documentName,
      instanceId: on.instanceId,
      parameters,
      timeoutSeconds: config.timing.commandTimeoutSeconds,
      comment: `pydio-autoscaler ${state.flow} ${state.step} ${on.instanceId}`,
    });
    deps.log.info('command sent', { flow: state.flow, step: state.step, instanceId: on.instanceId, commandId, documentName, what });
    return {
      kind: 'wait',
      reason: `${what} sent to ${on.instanceId}`,
      delaySeconds: Math.max(1, config.timing.retryBaseSeconds),
      patch: { command: { id: commandId, instanceId: on.instanceId, host: on.host, sentAt: deps.now().toISOString() } },
    };
  }
  const invocation = await deps.ssm.getInvocation(state.command.id, state.command.instanceId, report);
  return readInvocation(invocation, state, deps, what);
}

/** glusterd's cluster-wide transaction lock is busy: another member's command holds it for a moment. */
export const GLUSTER_BUSY = /Another transaction is in progress|Locking failed on|has been locked by another/i;

/**
 * A command refused only because glusterd was busy is sent again on a later
 * delivery (the command is forgotten so the step re-sends it), within the
 * step's command timeout; after that it is a failure like any other.
 */
function busyOrFail(state: StorageFlowState, deps: StorageDeps, message: string, fail: DocumentResult): DocumentResult {
  if (!GLUSTER_BUSY.test(message)) return fail;
  if (secondsSince(state.stepStartedAt, deps.now()) > deps.config.timing.commandTimeoutSeconds) return fail;
  deps.log.info('glusterd busy with another transaction: retrying', { flow: state.flow, step: state.step });
  return { kind: 'wait', reason: 'glusterd is busy with another transaction', patch: { command: undefined } };
}

function readInvocation(invocation: CommandInvocation, state: StorageFlowState, deps: StorageDeps, what: string): DocumentResult {
  const elapsed = secondsSince(state.command?.sentAt ?? state.stepStartedAt, deps.now());
  const decided = decideInvocation(invocation, what, elapsed, deps.config.timing.commandTimeoutSeconds);
  if (decided.kind === 'wait') return { kind: 'wait', reason: decided.reason, patch: { command: state.command } };
  if (decided.kind !== 'fail') return { kind: 'result', stdout: invocation.stdout };
  // Gluster explains a refusal in its XML answer: say that, not only the exit code.
  const gluster = glusterMessage(invocation.stdout);
  const fail: DocumentResult = { kind: 'fail', reason: gluster ? `${decided.reason}: gluster says ${JSON.stringify(gluster)}` : decided.reason, output: decided.output ?? outputTail(invocation) };
  return busyOrFail(state, deps, `${gluster ?? ''}\n${invocation.stdout}\n${invocation.stderr}`, fail);
}

function glusterMessage(stdout: string): string | undefined {
  if (!stdout.includes('<cliOutput>')) return undefined;
  try {
    const result = parseCommandResult(stdout.slice(stdout.indexOf('<?xml') >= 0 ? stdout.indexOf('<?xml') : stdout.indexOf('<cliOutput>')));
    return result.ok ? undefined : result.message || `errno ${result.errno}`;
  } catch {
    return undefined;
  }
}

/** One allow-listed Gluster command (storage-gluster-command) run on `on`. */
export async function runGlusterStep(state: StorageFlowState, deps: StorageDeps, step: GlusterStep, on: Node): Promise<DocumentResult> {
  const result = await runDocumentStep(state, deps, deps.storage.documents.glusterCommand, on, commandParameters(step), commandLine(step));
  if (result.kind !== 'result') return result;
  // Idempotent skips (volume already created/started) print no XML.
  if (result.stdout.trim() === '') return result;
  const parsed = parseCommandResult(result.stdout, commandLine(step));
  if (!parsed.ok) {
    const reason = `${commandLine(step)}: gluster refused: ${parsed.message || `errno ${parsed.errno}`}`;
    return busyOrFail(state, deps, reason, { kind: 'fail', reason });
  }
  return result;
}

export type SnapshotResult =
  | { readonly kind: 'snapshot'; readonly snapshot: ClusterSnapshot; readonly bundle: StatusBundle; readonly group: GroupView }
  | Exclude<StorageOutcome, { kind: 'next' } | { kind: 'done' }>;

/** storage-gluster-status's parameters; ReadId names this read's parts on the member (any unique name). */
export function statusParameters(deps: StorageDeps): Record<string, string> {
  return { Volumes: deps.storage.volumes.join(','), ReadId: randomUUID() };
}

/**
 * The whole framed status of a finished storage-gluster-status command: the
 * first step's output, then each part step's while the frame goes on.
 */
export async function readStatusParts(deps: StorageDeps, commandId: string, instanceId: string, first: string): Promise<string> {
  let read = first;
  for (const step of STATUS_STEPS.slice(1)) {
    if (!continuesInNextPart(read)) break;
    read += await deps.ssm.getStepOutput(commandId, instanceId, step);
  }
  return read;
}

/** Runs storage-gluster-status on `on` (send -> wait -> read -> parse) and joins it with the group. */
export async function readSnapshotStep(state: StorageFlowState, deps: StorageDeps, on: Node): Promise<SnapshotResult> {
  const command = state.command;
  const result = await runDocumentStep(state, deps, deps.storage.documents.glusterStatus, on, statusParameters(deps), 'gluster status', STATUS_STEPS[0]);
  if (result.kind !== 'result') return result;
  try {
    const stdout = command ? await readStatusParts(deps, command.id, command.instanceId, result.stdout) : result.stdout;
    return await snapshotFromStatus(deps, stdout, on);
  } catch (error) {
    if (!(error instanceof StepFailedError)) throw error;
    const busy = busyOrFail(state, deps, error.message, { kind: 'fail', reason: error.message });
    if (busy.kind === 'wait') return busy;
    throw error;
  }
}

export async function snapshotFromStatus(deps: StorageDeps, stdout: string, on: Node): Promise<SnapshotResult> {
  const bundle = parseStatusBundle(stdout);
  const group = await describeStorageGroup(deps);
  // The member that answered may be the launching node, still outside InService: it is in the group anyway.
  const snapshot = buildClusterSnapshot(group.capacity, group.instances, bundle, on.host);
  await recordHealth(deps, snapshot);
  return { kind: 'snapshot', snapshot, bundle, group };
}

async function recordHealth(deps: StorageDeps, snapshot: ClusterSnapshot): Promise<void> {
  const refusal = clusterGuard(snapshot, undefined);
  const missing = deps.storage.volumes.filter((v) => !snapshot.volumes.some((s) => s.name === v));
  const reason = refusal?.reason ?? (missing.length ? `volume${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not created yet` : undefined);
  const now = deps.now();
  const record: HealthRecord = { healthy: reason === undefined, ...(reason ? { reason } : {}), at: now.toISOString() };
  try {
    await deps.ssm.putParameter(healthName(deps.config.stage), JSON.stringify(record));
    // What the status function shows (peers, volumes, bricks, rebalance/heal), read-only there.
    await deps.ssm.putParameter(summaryName(deps.config.stage), encodeSummary(summarizeSnapshot(snapshot, now)));
  } catch (error) {
    // The records only inform the alarm side and the status; the operation goes on.
    deps.log.warn('could not record the storage health and status summary', { error });
  }
}
