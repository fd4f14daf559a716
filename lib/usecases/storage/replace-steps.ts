/** Replacement, part of the storage launch flow: a joining member takes over the bricks of a dead member of its zone, heals, detaches the dead peer. */
import { secondsSince } from '../../core/flow';
import { memberName } from '../../core/records';
import { fromWatch, logKeys, viaOf, type REPLACE_STEPS, type StorageFlowState, type StorageOutcome } from '../../core/storage/flow-state';
import * as storageMessages from '../../core/storage/messages';
import { planPeerDetach } from '../../core/storage/peer-detach';
import { planReplacement } from '../../core/storage/replace';
import type { ClusterSnapshot, StorageMember } from '../../core/storage/snapshot';
import { decideHeal } from '../../core/storage/watch';
import { StepFailedError } from '../../errors';
import type { StepTable } from '../flow-runner';
import { readMembers, type StorageDeps } from './cluster';
import { runPending } from './documents';
import { acquireLock, releaseLock } from './lock';
import { readSnapshotStep } from './status-read';

/**
 * After joining (the end of await-connected): a member that died in this zone
 * and still holds bricks is taken over by the new node (replace-brick each
 * brick, then a full heal), under the storage lock. No dead member: on to
 * bootstrap.
 */
export async function replacementCheck(state: StorageFlowState, deps: StorageDeps, snapshot: ClusterSnapshot, me: StorageMember): Promise<StorageOutcome> {
  const { config, storage } = deps;
  const live = new Set(snapshot.members.filter((m) => !m.lifecycleState.startsWith('Terminat')).map((m) => m.instanceId));
  const brickHosts = new Set(snapshot.volumes.flatMap((v) => v.bricks.map((b) => b.host)));
  const dead = (await readMembers(deps))
    .filter((r) => !live.has(r.instanceId) && r.instanceId !== me.instanceId && r.zone === me.zone && brickHosts.has(r.host))
    .sort((a, b) => a.lastSeen.localeCompare(b.lastSeen))[0];
  if (!dead) return { kind: 'next', skipTo: 'bootstrap' };

  const deadMember: StorageMember = { instanceId: dead.instanceId, host: dead.host, zone: dead.zone, lifecycleState: 'Terminated', peerState: 'disconnected', protected: false };
  const withDead: ClusterSnapshot = { ...snapshot, members: [...snapshot.members.filter((m) => m.instanceId !== dead.instanceId), deadMember] };
  const plan = planReplacement(withDead, dead.instanceId, me, storage.settings);
  if (plan.kind === 'refused') {
    await deps.notifier.publish(storageMessages.storageRefused(config.stage, 'replace', 'storage', plan.reason));
    return { kind: 'next', skipTo: 'bootstrap', warning: `replacement of ${dead.instanceId} refused: ${plan.reason}` };
  }
  const lock = await acquireLock(deps, state.operationId);
  if (lock.kind === 'held') {
    const inStep = secondsSince(state.stepStartedAt, deps.now());
    if (inStep > storage.timing.lockStaleSeconds) return { kind: 'fail', reason: `replacement of ${dead.instanceId} waited ${Math.round(inStep)}s for the storage lock held by ${lock.holder}` };
    return { kind: 'wait', reason: `replacement of ${dead.instanceId} waits for the storage lock held by ${lock.holder}` };
  }
  const volumes = [...new Set(plan.bricks.map((b) => b.volume))].join(', ');
  await deps.notifier.publish(storageMessages.storageStarted(config.stage, 'replace', volumes, plan.commands));
  return { kind: 'next', patch: { lockHeld: true, pending: plan.steps, replacement: { plan, lastSeen: dead.lastSeen } } };
}

async function awaitHealed(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const { config, storage } = deps;
  const now = deps.now();
  const inStep = secondsSince(state.stepStartedAt, now);
  const replacement = state.replacement;
  if (!replacement) return { kind: 'next', skipTo: 'protect' };
  const read = await readSnapshotStep(state, deps, viaOf(state));
  if (read.kind !== 'snapshot') return read;
  const volumes = new Set(replacement.plan.bricks.map((b) => b.volume));
  const watched = read.snapshot.volumes.filter((v) => volumes.has(v.name));
  const pending = watched.reduce((n, v) => n + v.healPending, 0);
  const unreachable = watched.reduce((n, v) => n + (v.healUnreachable ?? 0), 0);
  const decided = decideHeal(pending, inStep, storage.timing.healTimeoutSeconds, unreachable);
  if (decided.kind !== 'next') return fromWatch(decided);
  const degraded = secondsSince(replacement.lastSeen, now);
  await deps.notifier.publish(storageMessages.replacementSucceeded(config.stage, replacement.plan, degraded));
  await deps.ssm.deleteParameter(memberName(config.stage, replacement.plan.dead.instanceId));
  // The lock is kept for the pool change of the next step.
  return { kind: 'next' };
}

/**
 * After the heal: the dead member's peer leaves the pool (else it stays
 * "Peer in Cluster (Disconnected)" and every later storage operation refuses
 * to start), only when no volume names a brick on it any more. Ends the
 * replacement: the lock is released, whatever the outcome (a refusal is a
 * warning of the join, the replacement itself is done).
 */
async function detachDeadPeer(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const replacement = state.replacement;
  if (!replacement) return { kind: 'next', skipTo: 'protect' };
  const host = replacement.plan.dead.host;
  // On to bootstrap: with the volumes there, it sets back the quorum options a lift for this join took away.
  const finish = async (warning?: string): Promise<StorageOutcome> => {
    await releaseLock(deps, state.operationId);
    return { kind: 'next', skipTo: 'bootstrap', patch: { lockHeld: false, pending: [] }, ...(warning ? { warning } : {}) };
  };
  if (state.pending?.length) {
    const ran = await runPending(state, deps);
    // The bricks are taken over and healed: a failed detach must not abandon the replacement.
    if (ran.kind === 'fail') return finish(`dead peer ${host} left in the Gluster pool: the detach failed: ${ran.reason}`);
    if (ran.kind !== 'next' || ran.skipTo !== undefined) return ran;
    deps.log.info('dead peer detached from the Gluster pool', { ...logKeys(state), peer: host });
    return finish();
  }
  let read;
  try {
    read = await readSnapshotStep(state, deps, viaOf(state));
  } catch (error) {
    if (!(error instanceof StepFailedError)) throw error;
    return finish(`dead peer ${host} left in the Gluster pool: the status read failed: ${error.message}`);
  }
  if (read.kind === 'fail') return finish(`dead peer ${host} left in the Gluster pool: the status read failed: ${read.reason}`);
  if (read.kind !== 'snapshot') return read;
  const decided = planPeerDetach(read.snapshot, host);
  if (decided.kind === 'skip') return finish();
  if (decided.kind === 'refused') return finish(`dead peer ${host} left in the Gluster pool: ${decided.reason}`);
  // Same step again, now with the command to run.
  return { kind: 'next', skipTo: 'detach-dead-peer', patch: { pending: [decided.step] } };
}

export const REPLACE: StepTable<(typeof REPLACE_STEPS)[number], StorageFlowState, StorageDeps> = {
  'replace-bricks': runPending,
  'await-healed': awaitHealed,
  'detach-dead-peer': detachDeadPeer,
};
