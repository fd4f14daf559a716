/** The shrink flow's steps: lock, plan, remove-brick start, watch the migration, commit, release the members; finish. */
import { logKeys, requestOf, viaOf, type StorageFlowState, type StorageOutcome, type StorageStepOf } from '../../core/storage/flow-state';
import { commandLine, type GlusterStep } from '../../core/storage/gluster-actions';
import { parseRemoveBrickStatus } from '../../core/storage/gluster-parse';
import * as storageMessages from '../../core/storage/messages';
import { planShrink } from '../../core/storage/shrink';
import { StepFailedError } from '../../errors';
import type { StepTable } from '../flow-runner';
import { pickMember, type StorageDeps } from './cluster';
import { GATHER_FAILED, keepRefusals, runGlusterStep, runPending, statusRefused } from './documents';
import { applyLayoutStep, layoutPatch, stageLayoutFix } from './layout-steps';
import { decideTask, finishStep, lockStep, planSnapshot } from './operation-steps';

/** The Gluster command of the shrink plan for `action`. */
function glusterOf(state: StorageFlowState, action: GlusterStep['action']): GlusterStep {
  const found = state.shrinkPlan?.steps.find((s): s is GlusterStep => s.kind === 'gluster' && s.action === action);
  if (!found) throw new StepFailedError(state.step, `the shrink plan has no ${action} step`);
  return found;
}

async function plan(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const { config, storage } = deps;
  const request = requestOf(state);
  const ready = await planSnapshot(state, deps);
  if (ready.kind !== 'ready') return ready;
  const planned = planShrink(ready.snapshot, request.volume, { headroom: storage.settings.shrinkHeadroom });
  if (planned.kind === 'refused') {
    await deps.notifier.publish(storageMessages.storageRefused(config.stage, 'shrink', request.volume, planned.reason));
    return { kind: 'done' };
  }
  // The quorum options the volumes lack for their layout are set first (apply-layout).
  const fix = stageLayoutFix(deps, ready.snapshot);
  await deps.notifier.publish(storageMessages.shrinkPlanned(config.stage, planned, request.dryRun, fix));
  if (request.dryRun) return { kind: 'done' };
  const released = planned.releasedInstanceIds;
  // Gluster commands run on a member that stays: a released one could not detach itself.
  const via = released.includes(ready.via.instanceId) ? await pickMember(deps, released) : ready.via;
  if (!via) {
    const reason = `no in-service storage member outside the set to release (${released.join(', ')}) with an online agent to run the shrink on`;
    await deps.notifier.publish(storageMessages.storageRefused(config.stage, 'shrink', request.volume, reason));
    return { kind: 'done' };
  }
  return { kind: 'next', patch: { shrinkPlan: planned, via, pending: planned.steps.filter((st): st is GlusterStep => st.kind === 'gluster' && st.action === 'peer-detach'), ...layoutPatch(fix) } };
}

async function removeBrickStart(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const request = requestOf(state);
  const step = glusterOf(state, 'remove-brick-start');
  const result = await runGlusterStep(state, deps, step, viaOf(state));
  if (result.kind !== 'result') return result;
  await deps.notifier.publish(storageMessages.storageStarted(deps.config.stage, 'shrink', request.volume, [commandLine(step)]));
  return { kind: 'next', patch: { lastProgressAt: deps.now().toISOString() } };
}

/**
 * Commit comes only after this step saw the migration completed without failures. A status read
 * that glusterd could not gather from a node (GATHER_FAILED) is no verdict on the migration: read
 * again, for at most the command timeout of refusals in a row; never a commit on it.
 */
async function awaitMigrated(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const result = await runGlusterStep(state, deps, glusterOf(state, 'remove-brick-status'), viaOf(state));
  if (result.kind === 'fail' && GATHER_FAILED.test(`${result.reason}\n${result.output ?? ''}`)) return statusRefused(state, deps, result.reason, result.output);
  if (result.kind !== 'result') return keepRefusals(state, result);
  return decideTask(state, deps, parseRemoveBrickStatus(result.stdout), 'remove-brick migration', 'shrink');
}

async function removeBrickCommit(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const result = await runGlusterStep(state, deps, glusterOf(state, 'remove-brick-commit'), viaOf(state));
  return result.kind === 'result' ? { kind: 'next' } : result;
}

async function releaseMembers(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  // First their peers leave the pool (one per pass), else they would stay behind
  // "Peer in Cluster (Disconnected)" and every later storage operation would refuse.
  if (state.pending?.length) {
    const peer = state.pending[0]?.peer ?? 'a peer';
    const ran = await runPending(state, deps);
    if (ran.kind === 'fail') {
      return { kind: 'fail', reason: `remove-brick committed (the data is on the remaining bricks), but the peer detach of ${peer} failed, so no member was terminated: ${ran.reason}` };
    }
    if (ran.kind !== 'next') return ran;
    deps.log.info('released member detached from the Gluster pool', { ...logKeys(state), peer });
    return { kind: 'next', skipTo: 'release-members', patch: { pending: ran.patch?.pending ?? [] } };
  }
  const ids = state.shrinkPlan?.releasedInstanceIds ?? [];
  if (ids.length) {
    await deps.autoScaling.setInstanceProtection(deps.storage.groupName, ids, false);
    for (const id of ids) await deps.autoScaling.terminateInstance(id, true);
  }
  return { kind: 'next' };
}

function finish(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const planned = state.shrinkPlan;
  return finishStep(state, deps, planned ? [`Removed ${planned.removed.join(' + ')}; released ${planned.releasedInstanceIds.join(', ') || 'no member'} (their peers detached from the pool).`] : []);
}

export const SHRINK: StepTable<StorageStepOf<'shrink'>, StorageFlowState, StorageDeps> = {
  lock: lockStep,
  plan,
  'apply-layout': (state, deps) => applyLayoutStep(state, deps),
  'remove-brick-start': removeBrickStart,
  'await-migrated': awaitMigrated,
  'remove-brick-commit': removeBrickCommit,
  'release-members': releaseMembers,
  finish,
};
