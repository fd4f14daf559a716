/**
 * The volumes' layout as storage steps (issue 10): 'apply-layout' sets the
 * quorum options the stage's volumes lack (every flow that changes volumes
 * runs it before its own commands, a join after its bootstrap), the `layout`
 * request's flow, and 'lift-server-quorum' for a replacement the pool refuses.
 */
import { secondsSince } from '../../core/flow';
import { logKeys, requestOf, viaOf, volumeLabel, type StorageFlowState, type StorageOutcome, type StorageStep, type StorageStepOf } from '../../core/storage/flow-state';
import { commandLine } from '../../core/storage/gluster-actions';
import { clusterGuard } from '../../core/storage/guards';
import { fixOf, layoutFixes, planServerQuorumLift, serverQuorumHolds, SERVER_QUORUM_TYPE, type LayoutFix } from '../../core/storage/layout';
import * as storageMessages from '../../core/storage/messages';
import type { ClusterSnapshot } from '../../core/storage/snapshot';
import type { StepTable } from '../flow-runner';
import type { StorageDeps } from './cluster';
import { runGlusterStep } from './documents';
import { finishStep, lockStep, planSnapshot } from './operation-steps';
import { readSnapshotStep } from './status-read';

/** The quorum options the stage's volumes lack (other volumes of the pool are not the stage's to change). */
export function stageLayoutFix(deps: StorageDeps, snapshot: ClusterSnapshot): LayoutFix {
  return layoutFixes(snapshot.volumes.filter((v) => deps.storage.volumes.includes(v.name)));
}

/** The state a planned fix starts 'apply-layout' with (nothing when there is nothing to set). */
export function layoutPatch(fix: LayoutFix): Partial<StorageFlowState> {
  return fix.changes.length ? { layout: { changes: fix.changes, pending: fix.steps } } : {};
}

/**
 * Runs the planned volume-set commands one per pass on the flow's member,
 * tells ops once what was set (and what it costs), then goes on to `then`
 * (the next step when undefined).
 */
export async function applyLayoutStep(state: StorageFlowState, deps: StorageDeps, then?: StorageStep): Promise<StorageOutcome> {
  const layout = state.layout;
  const onward = (patch: Partial<StorageFlowState> = {}): StorageOutcome => ({ kind: 'next', ...(then ? { skipTo: then } : {}), patch });
  if (!layout) return onward();
  const [head, ...rest] = layout.pending;
  if (head) {
    const result = await runGlusterStep(state, deps, head, viaOf(state));
    if (result.kind !== 'result') return result;
    deps.log.info('quorum option set', { ...logKeys(state), command: commandLine(head) });
    return { kind: 'next', skipTo: state.step, patch: { layout: { ...layout, pending: rest } } };
  }
  if (!layout.told && layout.changes.length) {
    await deps.notifier.publish(storageMessages.layoutApplied(deps.config.stage, layout.changes, state.quorumLift !== undefined));
    return onward({ layout: { ...layout, told: true } });
  }
  return onward();
}

/**
 * A join that finds the volumes (bootstrap's "done"): it sets the quorum
 * options they lack, on a whole cluster only (the guard rails of every
 * operation), so that setting them stops no brick and cuts off no set. Server
 * quorum that this join lifted goes back as soon as it holds, even with the
 * dead peer still in the pool (a failed detach): only that option then.
 */
export function layoutAtJoin(state: StorageFlowState, deps: StorageDeps, snapshot: ClusterSnapshot): StorageOutcome {
  const fix = stageLayoutFix(deps, snapshot);
  if (fix.changes.length === 0) return { kind: 'next', skipTo: 'protect' };
  const refusal = clusterGuard(snapshot, undefined);
  if (!refusal) return { kind: 'next', skipTo: 'apply-layout', patch: layoutPatch(fix) };
  const lifted = state.quorumLift?.volumes ?? [];
  const restore = fixOf(fix.changes.filter((c) => c.option === SERVER_QUORUM_TYPE && lifted.includes(c.volume)));
  const warning = `quorum options not set yet (${refusal.reason}); the next storage operation sets them`;
  if (restore.changes.length && serverQuorumHolds(snapshot)) return { kind: 'next', skipTo: 'apply-layout', patch: layoutPatch(restore), ...(restore.changes.length < fix.changes.length ? { warning } : {}) };
  return { kind: 'next', skipTo: 'protect', warning };
}

/** plan (layout request): the options the volumes lack, under the guard rails; a dry run tells and stops. */
async function planLayout(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const request = requestOf(state);
  const ready = await planSnapshot(state, deps);
  if (ready.kind !== 'ready') return ready;
  // Setting server quorum with a peer down could stop bricks at once: the guard rails of every operation.
  const refusal = clusterGuard(ready.snapshot, undefined);
  if (refusal) {
    await deps.notifier.publish(storageMessages.storageRefused(deps.config.stage, 'layout', volumeLabel(request), refusal.reason));
    return { kind: 'done' };
  }
  const fix = stageLayoutFix(deps, ready.snapshot);
  await deps.notifier.publish(storageMessages.layoutPlanned(deps.config.stage, fix, request.dryRun));
  if (request.dryRun || fix.changes.length === 0) return { kind: 'done' };
  return { kind: 'next', patch: { via: ready.via, ...layoutPatch(fix) } };
}

function finishLayout(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  return finishStep(state, deps, (state.layout?.changes ?? []).map((c) => `Set ${c.volume}: ${c.option} ${c.to}.`));
}

/** {"action":"layout"}: set now what the next storage operation would set first. */
export const LAYOUT: StepTable<StorageStepOf<'layout'>, StorageFlowState, StorageDeps> = {
  lock: lockStep,
  plan: planLayout,
  'apply-layout': (state, deps) => applyLayoutStep(state, deps),
  finish: finishLayout,
};

/** Glusterd's answer to a peer probe while server quorum is lost (glusterd-handler.c, GF_PROBE_QUORUM_NOT_MET). */
export const PROBE_QUORUM_NOT_MET = /Cluster quorum is not met\. Changing peers is not allowed in this state/;

/**
 * lift-server-quorum (storage launch, entered from peer-probe only): the pool
 * refused this node because server quorum is lost. When every peer it misses
 * is a member the group has let go (terminated, or no instance of the group),
 * nothing on the other side can write again: server quorum is lifted on the
 * stage's volumes (allowed without quorum), ops are told, and the probe runs
 * again; the join's apply-layout sets it back once the replacement healed.
 * A live member cut off (a partition) keeps server quorum: the step waits,
 * then fails at the join timeout.
 */
export async function liftServerQuorum(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const via = viaOf(state);
  const lift = state.quorumLift;
  if (lift?.planned) {
    const [head, ...rest] = lift.pending;
    if (head) {
      const result = await runGlusterStep(state, deps, head, via);
      if (result.kind !== 'result') return result;
      return { kind: 'next', skipTo: 'lift-server-quorum', patch: { quorumLift: { ...lift, pending: rest } } };
    }
    await deps.notifier.publish(storageMessages.serverQuorumLifted(deps.config.stage, lift.volumes, via.host, lift.reason ?? '', lift.volumes.map((v) => commandLine({ kind: 'gluster', action: 'volume-set', volume: v, option: 'cluster.server-quorum-type', value: 'none' }))));
    // The probe again, a fresh command.
    return { kind: 'next', skipTo: 'peer-probe', patch: { command: undefined } };
  }
  const read = await readSnapshotStep(state, deps, via);
  if (read.kind !== 'snapshot') return read;
  const decided = planServerQuorumLift(read.snapshot, deps.storage.volumes, read.group.unaddressed);
  if (decided.kind === 'lift') {
    return { kind: 'next', skipTo: 'lift-server-quorum', patch: { quorumLift: { volumes: decided.volumes, pending: decided.steps, planned: true, reason: decided.reason } } };
  }
  const inStep = secondsSince(state.stepStartedAt, deps.now());
  if (inStep > deps.storage.timing.joinTimeoutSeconds) return { kind: 'fail', reason: `the pool refuses new peers (server quorum lost) and server quorum may not be lifted: ${decided.reason}` };
  // A fresh status read on the next delivery.
  return { kind: 'wait', reason: `the pool refuses new peers (server quorum lost): ${decided.reason}`, patch: { command: undefined } };
}
