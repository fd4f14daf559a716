/** The expand flow's steps: lock, plan, then grow in place or launch members, add bricks and rebalance; finish. */
import { readLagSeconds, secondsSince } from '../../core/flow';
import { storageJoinsKey, storageLayoutGateKey } from '../../core/records';
import { planExpansion, type ExpansionPlanRequest } from '../../core/storage/expand';
import { requestOf, viaOf, type StorageFlowState, type StorageOutcome, type StorageStepOf } from '../../core/storage/flow-state';
import { commandLine, type GlusterStep } from '../../core/storage/gluster-actions';
import type { TaskStatus } from '../../core/storage/gluster-parse';
import { grownFacts, startGrowProgress } from '../../core/storage/grow';
import * as storageMessages from '../../core/storage/messages';
import { StepFailedError } from '../../errors';
import type { StepTable } from '../flow-runner';
import type { StorageDeps } from './cluster';
import { runGlusterStep } from './documents';
import { GROW } from './grow-steps';
import { applyLayoutStep, layoutPatch, stageLayoutFix } from './layout-steps';
import { decideTask, finishStep, lockStep, planSnapshot } from './operation-steps';
import { readSnapshotStep } from './status-read';

/** The request's strategy (unset: the stage's preference) until planned; then the plan's, so a re-plan keeps it. */
function expansionRequest(state: StorageFlowState): ExpansionPlanRequest {
  const request = requestOf(state);
  return { volume: request.volume, sets: request.sets, allowSameZone: request.allowSameZone, strategy: state.expansion?.strategy ?? request.strategy };
}

async function plan(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const { config, storage } = deps;
  const request = requestOf(state);
  const ready = await planSnapshot(state, deps);
  if (ready.kind !== 'ready') return ready;
  const planned = planExpansion(ready.snapshot, expansionRequest(state), storage.settings);
  if (planned.kind === 'refused') {
    await deps.notifier.publish(storageMessages.storageRefused(config.stage, 'expand', request.volume, planned.reason));
    return { kind: 'done' };
  }
  // The quorum options the volumes lack for their layout are set first (apply-layout).
  const fix = stageLayoutFix(deps, ready.snapshot);
  await deps.notifier.publish(storageMessages.expansionPlanned(config.stage, planned, request.dryRun, fix));
  if (request.dryRun) return { kind: 'done' };
  const patch = { expansion: planned, via: ready.via, ...layoutPatch(fix) };
  if (planned.strategy === 'grow-in-place') return { kind: 'next', skipTo: 'apply-layout', patch: { ...patch, grow: startGrowProgress(planned) } };
  // New members are launched first: the quorum options are set while they boot (their join takes
  // far longer), before any Gluster command of the expansion's own (add-brick).
  return planned.awaitsLaunch ? { kind: 'next', patch } : { kind: 'next', skipTo: 'apply-layout', patch };
}

/**
 * apply-layout, then the expansion's own way: grow in place, wait for the members launched, or add
 * bricks on spares. A plan that awaits members not launched yet (a flow that was at apply-layout
 * when the order was the other way round) launches them first.
 */
async function applyLayout(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const planned = state.expansion;
  if (!planned) throw new StepFailedError(state.step, 'no expansion plan');
  if (planned.awaitsLaunch && !state.membersLaunched) return { kind: 'next', skipTo: 'launch-members' };
  const outcome = await applyLayoutStep(state, deps, planned.strategy === 'grow-in-place' ? 'grow-volumes' : planned.awaitsLaunch ? 'await-members' : 'add-brick');
  // The options are set: the members launched meanwhile may probe (launch-members closed the gate).
  if (state.membersLaunched && state.layout?.changes.length && outcome.kind === 'next' && outcome.skipTo !== state.step) {
    await deps.coordination.write(storageLayoutGateKey(state.operationId), 'applied', deps.storage.timing.lockStaleSeconds);
  }
  return outcome;
}

async function launchMembers(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const { storage } = deps;
  const inStep = secondsSince(state.stepStartedAt, deps.now());
  const planned = state.expansion;
  if (!planned) throw new StepFailedError(state.step, 'no expansion plan');
  // Options to set while the members boot: they do not peer-probe until apply-layout says
  // 'applied' (records.ts storageLayoutGateKey): glusterd can hang a volume set beside a probe.
  if (state.layout?.pending.length) await deps.coordination.write(storageLayoutGateKey(state.operationId), 'applying', storage.timing.lockStaleSeconds);
  const answer = await deps.autoScaling.setDesiredCapacity(storage.groupName, planned.desiredAfter, false);
  if (answer === 'in-progress') {
    if (inStep > storage.timing.joinTimeoutSeconds) return { kind: 'fail', reason: `the storage group kept refusing desired ${planned.desiredAfter}: a scaling activity is in progress` };
    return { kind: 'wait', reason: 'a scaling activity of the storage group is in progress' };
  }
  return { kind: 'next', skipTo: 'apply-layout', patch: { membersLaunched: true } };
}

/**
 * New members join through their own storage-launch flows; re-plan until none is awaited. Between
 * looks the flow is parked under its joins key: each member that joins wakes it (launch-flow.ts
 * complete), the safety net looks after RETRY_MAX_SECONDS. A member whose lifecycle action is
 * completed but that Auto Scaling has not put InService yet (Pending:Proceed) is looked at again
 * within seconds: its own wake has come already.
 */
async function awaitMembers(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const { storage } = deps;
  const inStep = secondsSince(state.stepStartedAt, deps.now());
  const readAt = state.command?.sentAt;
  const read = await readSnapshotStep(state, deps, viaOf(state));
  if (read.kind !== 'snapshot') return read;
  const planned = planExpansion(read.snapshot, expansionRequest(state), storage.settings);
  if (planned.kind === 'plan' && !planned.awaitsLaunch) return { kind: 'next', patch: { expansion: planned } };
  const why = planned.kind === 'refused' ? planned.reason : `${planned.launchZones.length} new member(s) not joined yet`;
  if (inStep > storage.timing.joinTimeoutSeconds) return { kind: 'fail', reason: `new members did not join within ${storage.timing.joinTimeoutSeconds}s: ${why}` };
  const proceeding = read.snapshot.members.filter((m) => m.peerState === 'connected' && m.lifecycleState === 'Pending:Proceed');
  if (proceeding.length > 0) {
    return { kind: 'wait', reason: `${why}: ${proceeding.map((m) => m.instanceId).join(', ')} joined, not InService yet`, delaySeconds: Math.max(1, readLagSeconds(state.attempt, deps.config.timing.retryBaseSeconds)) };
  }
  return { kind: 'wait', reason: why, wakeOn: storageJoinsKey(state.operationId), ...(readAt !== undefined ? { wakeSince: readAt } : {}) };
}

async function addBrick(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const add = state.expansion?.steps.find((s): s is GlusterStep => s.kind === 'gluster' && s.action === 'add-brick');
  if (!add) throw new StepFailedError(state.step, 'the expansion plan has no add-brick step');
  const result = await runGlusterStep(state, deps, add, viaOf(state));
  return result.kind === 'result' ? { kind: 'next' } : result;
}

async function rebalanceStart(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const request = requestOf(state);
  const step: GlusterStep = { kind: 'gluster', action: 'rebalance-start', volume: request.volume };
  const result = await runGlusterStep(state, deps, step, viaOf(state));
  if (result.kind !== 'result') return result;
  await deps.notifier.publish(storageMessages.storageStarted(deps.config.stage, 'rebalance', request.volume, [commandLine(step)]));
  return { kind: 'next', patch: { lastProgressAt: deps.now().toISOString() } };
}

/** A volume with no rebalance section (not started): no task reported. */
const NO_TASK: TaskStatus = { state: 'none', statusText: 'not reported', nodes: [], files: 0, size: 0, failures: 0, runtimeSeconds: 0 };

/**
 * The rebalance, read from storage-gluster-status: gluster's rebalance status
 * lists every node of the pool (about 330 characters a node, glusterfs 10.3;
 * test/unit/core/storage/fixtures/rebalance-status-completed.xml), which passes
 * one step's 24,000 characters near 70 nodes; the status document prints it
 * compressed and in parts.
 */
async function watchRebalance(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const request = requestOf(state);
  const read = await readSnapshotStep(state, deps, viaOf(state));
  if (read.kind !== 'snapshot') return read;
  return decideTask(state, deps, read.bundle.rebalance[request.volume] ?? NO_TASK, 'rebalance', 'rebalance');
}

function finish(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  if (state.expansion?.strategy === 'grow-in-place') return finishStep(state, deps, grownFacts(state.expansion, state.grow));
  return finishStep(state, deps, state.expansion ? [storageMessages.describeExpansion(state.expansion), 'Rebalance completed.'] : []);
}

export const EXPAND: StepTable<StorageStepOf<'expand'>, StorageFlowState, StorageDeps> = {
  lock: lockStep,
  plan,
  'apply-layout': applyLayout,
  ...GROW,
  'launch-members': launchMembers,
  'await-members': awaitMembers,
  'add-brick': addBrick,
  'rebalance-start': rebalanceStart,
  'await-rebalanced': watchRebalance,
  finish,
};
