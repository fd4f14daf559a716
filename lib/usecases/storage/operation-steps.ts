/** Steps every storage operation (expand, shrink) shares: take the lock, read the status to plan from, watch a Gluster task, finish. */
import { secondsSince } from '../../core/flow';
import { fromWatch, requestOf, volumeLabel, type Node, type StorageFlowState, type StorageOutcome } from '../../core/storage/flow-state';
import type { TaskStatus } from '../../core/storage/gluster-parse';
import * as storageMessages from '../../core/storage/messages';
import type { ClusterSnapshot } from '../../core/storage/snapshot';
import { decideRebalance } from '../../core/storage/watch';
import { pickMember, type StorageDeps } from './cluster';
import { acquireLock, releaseLock } from './lock';
import { readSnapshotStep } from './status-read';

/** lock: one storage operation at a time; a refusal is notified and ends the flow. */
export async function lockStep(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const request = requestOf(state);
  const lock = await acquireLock(deps, state.operationId);
  if (lock.kind === 'held') {
    const reason = `another storage operation holds the cluster lock (${lock.holder}): one storage operation at a time`;
    await deps.notifier.publish(storageMessages.storageRefused(deps.config.stage, request.action, volumeLabel(request), reason));
    return { kind: 'done' };
  }
  return { kind: 'next', patch: { lockHeld: true } };
}

/** The first status read of an operation: on a healthy member, chosen once. */
export async function planSnapshot(state: StorageFlowState, deps: StorageDeps): Promise<{ kind: 'ready'; snapshot: ClusterSnapshot; via: Node } | StorageOutcome> {
  const via = state.via ?? (await pickMember(deps));
  if (!via) {
    const request = requestOf(state);
    const reason = `no in-service storage member with an online agent in ${deps.storage.groupName} to read the volumes from`;
    await deps.notifier.publish(storageMessages.storageRefused(deps.config.stage, request.action, volumeLabel(request), reason));
    return { kind: 'done' };
  }
  const read = await readSnapshotStep({ ...state, via }, deps, via);
  if (read.kind !== 'snapshot') return read.kind === 'wait' ? { ...read, patch: { ...read.patch, via } } : read;
  return { kind: 'ready', snapshot: read.snapshot, via };
}

/** A running rebalance or remove-brick migration: wait (progress told every progressEverySeconds), go on when completed, fail on failure or past the bound. */
export async function decideTask(state: StorageFlowState, deps: StorageDeps, status: TaskStatus, what: string, kind: 'rebalance' | 'shrink'): Promise<StorageOutcome> {
  const { config, storage } = deps;
  const request = requestOf(state);
  const now = deps.now();
  const inStep = secondsSince(state.stepStartedAt, now);
  if (status.state === 'none' && inStep < 60) return { kind: 'wait', reason: `${what} not reported yet` };
  const decided = decideRebalance(status, what);
  if (decided.kind === 'wait') {
    if (inStep > storage.timing.migrationTimeoutSeconds) return { kind: 'fail', reason: `${what} still running after ${Math.round(inStep)}s (bound ${storage.timing.migrationTimeoutSeconds}s)` };
    const last = state.lastProgressAt ?? state.stepStartedAt;
    if (secondsSince(last, now) >= storage.timing.progressEverySeconds) {
      await deps.notifier.publish(storageMessages.storageProgress(config.stage, kind, request.volume, status, inStep));
      return { kind: 'wait', reason: decided.reason, patch: { lastProgressAt: now.toISOString() } };
    }
    return { kind: 'wait', reason: decided.reason };
  }
  return fromWatch(decided);
}

/** finish: tell ops what changed, give the lock back. */
export async function finishStep(state: StorageFlowState, deps: StorageDeps, facts: readonly string[]): Promise<StorageOutcome> {
  const request = requestOf(state);
  await deps.notifier.publish(storageMessages.storageSucceeded(deps.config.stage, request.action, volumeLabel(request), secondsSince(state.startedAt, deps.now()), facts));
  await releaseLock(deps, state.operationId);
  return { kind: 'next', patch: { lockHeld: false } };
}
