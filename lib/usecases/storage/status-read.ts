/** A Gluster status read as a storage step: storage-gluster-status run on a member, read whole, joined with the group, recorded. */
import { randomUUID } from 'node:crypto';
import { summaryName } from '../../core/records';
import type { Node, StorageFlowState, StorageOutcome } from '../../core/storage/flow-state';
import { parseStatusBundle, type StatusBundle } from '../../core/storage/gluster-parse';
import { buildClusterSnapshot, type ClusterSnapshot } from '../../core/storage/snapshot';
import { continuesInNextPart, STATUS_STEPS } from '../../core/storage/status-frame';
import { StepFailedError } from '../../errors';
import { describeStorageGroup, type GroupView, type StorageDeps } from './cluster';
import { busyOrFail, GATHER_FAILED, keepRefusals, runDocumentStep, statusRefused } from './documents';
import { encodeSummary, summarizeSnapshot } from './status';

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
  const result = await runDocumentStep(state, deps, deps.storage.documents.glusterStatus, on, statusParameters(deps), 'gluster status', { report: STATUS_STEPS[0] });
  if (result.kind !== 'result') return keepRefusals(state, result);
  try {
    const stdout = command ? await readStatusParts(deps, command.id, command.instanceId, result.stdout) : result.stdout;
    return await snapshotFromStatus(deps, stdout, on);
  } catch (error) {
    if (!(error instanceof StepFailedError)) throw error;
    // A rebalance status glusterd could not gather from a node says nothing of the volumes: read again (bounded).
    if (GATHER_FAILED.test(error.message)) {
      const refused = statusRefused(state, deps, error.message);
      if (refused.kind === 'wait') return refused;
      throw new StepFailedError(state.step, refused.reason);
    }
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
  await recordSummary(deps, snapshot);
  return { kind: 'snapshot', snapshot, bundle, group };
}

/**
 * What the status function shows (peers, volumes, bricks, rebalance/heal),
 * read-only there. The health record is the health flow's alone
 * (health-flow.ts): one writer keeps its told state exact.
 */
async function recordSummary(deps: StorageDeps, snapshot: ClusterSnapshot): Promise<void> {
  try {
    await deps.ssm.putParameter(summaryName(deps.config.stage), encodeSummary(summarizeSnapshot(snapshot, deps.now())));
  } catch (error) {
    // The summary only informs the status; the operation goes on.
    deps.log.warn('could not record the storage status summary', { error });
  }
}
