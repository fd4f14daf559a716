import { agentTooOld, waitingState } from '../../core/decisions';
import { backoffSeconds, secondsSince } from '../../core/flow';
import { parseLifecycleSource, type LifecycleEvent } from '../../core/lifecycle-event';
import { parseJsonBody, rejectMalformed } from '../intake';
import { parseRemoveBrickStatus, type TaskStatus } from '../../core/storage/gluster-parse';
import * as storageMessages from '../../core/storage/messages';
import { bootstrapPlan } from '../../core/storage/bootstrap';
import { planExpansion } from '../../core/storage/expand';
import { commandLine, type GlusterStep } from '../../core/storage/gluster-actions';
import { planPeerDetach } from '../../core/storage/peer-detach';
import { planReplacement } from '../../core/storage/replace';
import { planShrink } from '../../core/storage/shrink';
import { decideHeal, decideRebalance, type StorageOutcome as PlanOutcome } from '../../core/storage/watch';
import type { ClusterSnapshot, StorageMember } from '../../core/storage/snapshot';
import { MalformedEventError, StepFailedError } from '../../errors';
import { bootstrapClaimName, lockName, memberName, storageClaimName } from '../../core/records';
import {
  pickMember,
  readMembers,
  readSnapshotStep,
  recordMember,
  runDocumentStep,
  runGlusterStep,
  type Node,
  type StorageDeps,
} from './cluster';
import { cloudWatchAgentStep } from './cloudwatch-agent';
import { growStep, grownFacts, startGrowProgress } from './grow';
import * as notices from './notices';
import { asRunByStage, parseStorageRequest } from './requests';
import {
  advanceStorage,
  decodeStorageContinuation,
  encodeStorageContinuation,
  isStorageContinuation,
  isStorageRequestMessage,
  startStorageFlow,
  type StorageFlowState,
  type StorageOutcome,
  type StorageRequest,
} from './state';

/** Tags a joined storage member carries (its state for ops; the flows read the Parameter Store record). */
export const MEMBER_STATE_TAG = 'pydio-autoscaler:storage-state';
export const MEMBER_SINCE_TAG = 'pydio-autoscaler:storage-state-since';

export interface QueueMessage {
  readonly messageId: string;
  readonly body: string;
}

export type StorageMessageOutcome = 'completed' | 'waiting' | 'skipped' | 'failed' | 'rejected';

// --- entry: one queue message ---------------------------------------------------------------

/**
 * One message of the StorageQueue: a storage-group lifecycle event, an
 * expansion/shrink request (alarm function or manual invoke), or the
 * continuation of a storage flow. Transient AWS errors are thrown so the
 * queue re-delivers the message.
 */
export async function handleStorageMessage(message: QueueMessage, deps: StorageDeps): Promise<StorageMessageOutcome> {
  let parsed: unknown;
  try {
    parsed = parseJsonBody(message.body);
  } catch (error) {
    return reject(deps, error, message.body);
  }

  if (isStorageContinuation(parsed)) {
    let state: StorageFlowState;
    try {
      state = decodeStorageContinuation(parsed);
    } catch (error) {
      return reject(deps, error, message.body);
    }
    deps.log.info('continuing storage flow', logKeys(state));
    return runStorageFlow(state, deps, true);
  }

  if (isStorageRequestMessage(parsed)) {
    let request: StorageRequest;
    try {
      request = asRunByStage(parseStorageRequest(parsed.request, 'queued request'), deps.config.dryRun);
    } catch (error) {
      return reject(deps, error, message.body);
    }
    const state = startStorageFlow(request.action, message.messageId, deps.now(), { request });
    deps.log.info('storage operation requested', logKeys(state));
    return runStorageFlow(state, deps, false);
  }

  let source;
  try {
    source = parseLifecycleSource(parsed);
  } catch (error) {
    return reject(deps, error, message.body);
  }
  if (source.kind === 'skip') {
    deps.log.info('skipped event', { reason: source.reason, asgName: source.groupName });
    return 'skipped';
  }
  return startLifecycleFlow(source, message.messageId, deps);
}

function reject(deps: StorageDeps, error: unknown, body: string): Promise<StorageMessageOutcome> {
  return rejectMalformed(deps, error, body, 'storage message');
}

async function startLifecycleFlow(event: LifecycleEvent, messageId: string, deps: StorageDeps): Promise<StorageMessageOutcome> {
  const { config, log } = deps;
  if (event.groupName !== deps.storage.groupName) {
    log.info('skipped event for a group the storage function does not manage', { asgName: event.groupName, instanceId: event.instanceId });
    return 'skipped';
  }
  const name = storageClaimName(config.stage, event);
  if (!(await deps.ssm.claim(name, messageId))) {
    const owner = await deps.ssm.claimOwner(name);
    if (owner !== messageId) {
      log.info('duplicate delivery: another message owns this storage lifecycle action', { instanceId: event.instanceId, owner });
      return 'skipped';
    }
  }
  const instance = await deps.autoScaling.describeInstance(event.instanceId);
  const expected = waitingState(event.transition);
  if (!instance || instance.lifecycleState !== expected) {
    const reason = `the lifecycle action is no longer pending (instance is ${instance ? instance.lifecycleState : 'unknown to Auto Scaling'}, expected ${expected})`;
    await deps.notifier.publish(notices.lifecycleSkipped(config.stage, event.instanceId, reason));
    await deps.ssm.release(name);
    return 'skipped';
  }
  const hook = await deps.autoScaling.describeLifecycleHook(event.groupName, event.hookName);
  const flow = event.transition === 'launch' ? 'storage-launch' : 'storage-terminate';
  const state = startStorageFlow(flow, messageId, deps.now(), {
    event,
    lastHeartbeatAt: deps.now().toISOString(),
    heartbeatTimeoutSeconds: hook?.heartbeatTimeoutSeconds ?? 3600,
    self: { instanceId: event.instanceId, host: '', zone: instance.availabilityZone },
  });
  log.info('storage flow started', logKeys(state));
  return runStorageFlow(state, deps, false);
}

function logKeys(state: StorageFlowState): Record<string, unknown> {
  return {
    flow: state.flow,
    step: state.step,
    operationId: state.operationId,
    ...(state.event ? { instanceId: state.event.instanceId, asgName: state.event.groupName, hookName: state.event.hookName } : {}),
    ...(state.request ? { volume: state.request.volume, dryRun: state.request.dryRun } : {}),
    ...(state.command ? { commandId: state.command.id } : {}),
  };
}

// --- the engine ---------------------------------------------------------------------------

async function runStorageFlow(initial: StorageFlowState, deps: StorageDeps, redelivered: boolean): Promise<StorageMessageOutcome> {
  const { log, config } = deps;
  let state = initial;

  if (redelivered && state.event) {
    const instance = await deps.autoScaling.describeInstance(state.event.instanceId);
    const expected = waitingState(state.event.transition);
    if (!instance || instance.lifecycleState !== expected) {
      const reason = `the lifecycle action ended outside this flow while at step ${state.step} (instance is ${instance ? instance.lifecycleState : 'gone'})`;
      log.warn('storage flow abandoned: lifecycle action no longer pending', { ...logKeys(state), reason });
      await deps.notifier.publish(notices.lifecycleSkipped(config.stage, state.event.instanceId, reason));
      await releaseHeld(state, deps);
      return 'skipped';
    }
  }
  // A holder refreshes the lock on every delivery, so only an abandoned lock grows stale.
  if (state.lockHeld) await deps.ssm.putParameter(lockName(config.stage), lockValue(state.operationId, deps.now()));

  for (let guard = 0; guard < 100; guard += 1) {
    let outcome: StorageOutcome;
    try {
      outcome = await runStep(state, deps);
    } catch (error) {
      if (error instanceof StepFailedError || error instanceof MalformedEventError) outcome = { kind: 'fail', reason: error.message };
      else throw error;
    }
    log.info('storage step outcome', { ...logKeys(state), outcome: outcome.kind, ...('reason' in outcome ? { reason: outcome.reason } : {}) });

    if (outcome.kind === 'fail') return failFlow(state, outcome.reason, outcome.output, deps);
    if (outcome.kind === 'done') {
      await releaseHeld({ ...state, ...outcome.patch }, deps, false);
      return 'completed';
    }
    if (outcome.kind === 'wait') {
      const delay = outcome.delaySeconds ?? backoffSeconds(state.attempt, config.timing.retryBaseSeconds, config.timing.retryMaxSeconds);
      // The command in flight is kept only when the step says so (in its patch).
      const { command: _consumed, ...rest } = state;
      let next: StorageFlowState = { ...rest, ...outcome.patch, attempt: state.attempt + 1 };
      if (next.event && needsHeartbeat(next, delay, deps.now())) {
        await deps.autoScaling.recordHeartbeat(refOf(next.event));
        next = { ...next, lastHeartbeatAt: deps.now().toISOString() };
      }
      await deps.queue.send(deps.storage.queueUrl, encodeStorageContinuation(next), delay);
      log.info('storage flow waiting', { ...logKeys(next), delaySeconds: delay, reason: outcome.reason });
      return 'waiting';
    }
    if (outcome.warning) log.warn(outcome.warning, logKeys(state));
    const next = advanceStorage(state, outcome, deps.now());
    if (next === undefined) return 'completed';
    state = next;
  }
  throw new StepFailedError(state.step, 'more than 100 steps in one delivery: a step loops without waiting');
}

function needsHeartbeat(state: StorageFlowState, delaySeconds: number, now: Date): boolean {
  const timeout = state.heartbeatTimeoutSeconds ?? 0;
  if (timeout <= 0 || !state.lastHeartbeatAt) return false;
  return secondsSince(state.lastHeartbeatAt, now) + delaySeconds >= timeout / 2;
}

function refOf(event: LifecycleEvent) {
  return { groupName: event.groupName, hookName: event.hookName, instanceId: event.instanceId, token: event.token };
}

function operationOf(state: StorageFlowState): storageMessages.StorageOperation {
  if (state.flow === 'expand' || state.flow === 'shrink') return state.flow;
  if (state.replacement) return 'replace';
  return 'bootstrap';
}

async function failFlow(state: StorageFlowState, reason: string, output: string | undefined, deps: StorageDeps): Promise<StorageMessageOutcome> {
  const { config, log } = deps;
  log.error('storage flow failed', { ...logKeys(state), reason });
  if (state.event) {
    const result = state.flow === 'storage-launch' ? 'ABANDON' : 'CONTINUE';
    await deps.autoScaling.completeLifecycleAction(refOf(state.event), result);
    await deps.notifier.publish(notices.memberFailed(config.stage, state.event.instanceId, state.step, reason, result, output));
    if (state.replacement || state.lockHeld) {
      const volume = [...new Set(state.replacement?.plan.bricks.map((b) => b.volume) ?? [])].join(', ') || 'storage';
      await deps.notifier.publish(storageMessages.storageFailed(config.stage, operationOf(state), volume, reason, output));
    }
  } else if (state.request) {
    await deps.notifier.publish(storageMessages.storageFailed(config.stage, operationOf(state), state.request.volume, `${state.step}: ${reason}`, output));
  }
  await releaseHeld(state, deps);
  return 'failed';
}

/** Gives back what the flow holds: the lock, an unfinished bootstrap claim, the lifecycle claim. */
async function releaseHeld(state: StorageFlowState, deps: StorageDeps, failed = true): Promise<void> {
  const { stage } = deps.config;
  if (state.lockHeld) await deps.ssm.release(lockName(stage));
  if (state.bootstrapClaimed && failed) await deps.ssm.release(bootstrapClaimName(stage));
  if (state.event) await deps.ssm.release(storageClaimName(stage, state.event));
}

// --- the cluster lock ---------------------------------------------------------------------

function lockValue(owner: string, now: Date): string {
  return `${owner} ${now.toISOString()}`;
}

function parseLock(value: string): { owner: string; at: string } {
  const space = value.lastIndexOf(' ');
  return space > 0 ? { owner: value.slice(0, space), at: value.slice(space + 1) } : { owner: value, at: '' };
}

export type LockAnswer = { readonly kind: 'acquired' } | { readonly kind: 'held'; readonly holder: string; readonly ageSeconds: number };

/** Reads who holds the lock (undefined: free, or stale and breakable). */
export async function lockHolder(deps: StorageDeps, owner: string): Promise<LockAnswer | undefined> {
  const current = await deps.ssm.claimOwner(lockName(deps.config.stage));
  if (current === undefined) return undefined;
  const held = parseLock(current);
  if (held.owner === owner) return undefined;
  const age = secondsSince(held.at, deps.now());
  if (!Number.isFinite(age) || age > deps.storage.timing.lockStaleSeconds) return undefined;
  return { kind: 'held', holder: held.owner, ageSeconds: age };
}

/** SsmPort.claim on the lock parameter; a lock not refreshed for lockStaleSeconds is broken, with a notification. */
export async function acquireLock(deps: StorageDeps, owner: string): Promise<LockAnswer> {
  const name = lockName(deps.config.stage);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    if (await deps.ssm.claim(name, lockValue(owner, deps.now()))) return { kind: 'acquired' };
    const current = await deps.ssm.claimOwner(name);
    if (current === undefined) continue; // released in between: claim again
    const held = parseLock(current);
    if (held.owner === owner) return { kind: 'acquired' }; // a re-delivery of our own first message
    const age = secondsSince(held.at, deps.now());
    if (Number.isFinite(age) && age <= deps.storage.timing.lockStaleSeconds) return { kind: 'held', holder: held.owner, ageSeconds: age };
    deps.log.warn('breaking a stale storage lock', { holder: held.owner, ageSeconds: age });
    await deps.ssm.release(name);
    if (await deps.ssm.claim(name, lockValue(owner, deps.now()))) {
      await deps.notifier.publish(notices.lockBroken(deps.config.stage, held.owner, Number.isFinite(age) ? age : 0, owner));
      return { kind: 'acquired' };
    }
  }
  const holder = parseLock((await deps.ssm.claimOwner(name)) ?? 'unknown').owner;
  return { kind: 'held', holder, ageSeconds: 0 };
}

// --- steps ------------------------------------------------------------------------------------

function planToStep(outcome: PlanOutcome): StorageOutcome {
  if (outcome.kind === 'next') return { kind: 'next' };
  if (outcome.kind === 'wait') return { kind: 'wait', reason: outcome.reason };
  return { kind: 'fail', reason: outcome.reason };
}

function viaOf(state: StorageFlowState): Node {
  if (state.via) return state.via;
  if (state.self?.host) return { instanceId: state.self.instanceId, host: state.self.host };
  throw new StepFailedError(state.step, 'no member to run Gluster commands on');
}

/** Runs the pending Gluster commands one per pass; 'next' when none is left. */
async function runPending(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const [head, ...rest] = state.pending ?? [];
  if (!head) return { kind: 'next', patch: { pending: [] } };
  const result = await runGlusterStep(state, deps, head, viaOf(state));
  if (result.kind !== 'result') return result;
  deps.log.info('gluster command done', { ...logKeys(state), command: commandLine(head) });
  // Same step again for the next command, or on.
  return rest.length ? { kind: 'next', skipTo: state.step, patch: { pending: rest } } : { kind: 'next', patch: { pending: [] } };
}

async function runStep(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  switch (state.flow) {
    case 'storage-launch': return launchStep(state, deps);
    case 'storage-terminate': return terminateStep(state, deps);
    case 'expand': return expandStep(state, deps);
    case 'shrink': return shrinkStep(state, deps);
  }
}

function selfOf(state: StorageFlowState): { instanceId: string; host: string; zone: string } {
  if (!state.self) throw new StepFailedError(state.step, 'the flow lost its instance');
  return state.self;
}

async function launchStep(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const { config, storage } = deps;
  const now = deps.now();
  const inStep = secondsSince(state.stepStartedAt, now);
  const self = selfOf(state);
  const selfNode = { instanceId: self.instanceId, host: self.host };

  switch (state.step) {
    case 'await-agent': {
      const [agent] = await deps.ssm.describeManagedInstances([self.instanceId]);
      const tooOld = agentTooOld(agent?.agentVersion);
      if (agent?.online && tooOld) return { kind: 'fail', reason: tooOld };
      if (agent?.online && agent.ipAddress) return { kind: 'next', patch: { self: { ...self, host: agent.ipAddress } } };
      if (inStep > config.timing.ssmOnlineTimeoutSeconds) {
        return { kind: 'fail', reason: `SSM agent not online (or without an IP address) after ${Math.round(inStep)}s` };
      }
      return { kind: 'wait', reason: 'SSM agent not online yet' };
    }

    case 'prepare-brick': {
      const result = await runDocumentStep(state, deps, storage.documents.prepareBrick, selfNode, {
        Device: storage.brickDevice,
        BrickRoot: storage.settings.brickRoot,
        Volumes: storage.volumes.join(','),
      }, storage.documents.prepareBrick);
      return result.kind === 'result' ? { kind: 'next' } : result;
    }

    case 'install-cloudwatch-agent':
    case 'configure-cloudwatch-agent':
      return cloudWatchAgentStep(state, deps, selfNode);

    case 'peer-probe': {
      let via = state.command ? { instanceId: state.command.instanceId, host: state.command.host } : await pickMember(deps, [self.instanceId]);
      if (!via) {
        // The first member: a pool of one, nothing to probe from.
        return { kind: 'next', skipTo: 'bootstrap', patch: { via: selfNode }, warning: 'no other healthy storage member: this node starts the pool' };
      }
      via = { instanceId: via.instanceId, host: via.host };
      const result = await runDocumentStep(state, deps, storage.documents.peerProbe, via, { Peers: self.host }, `peer probe of ${self.host} from ${via.instanceId}`);
      return result.kind === 'result' ? { kind: 'next', patch: { via } } : result;
    }

    case 'await-connected': {
      const read = await readSnapshotStep(state, deps, viaOf(state));
      if (read.kind !== 'snapshot') return read;
      const me = read.snapshot.members.find((m) => m.instanceId === self.instanceId);
      if (me?.peerState !== 'connected') {
        if (inStep > storage.timing.joinTimeoutSeconds) return { kind: 'fail', reason: `${self.host} is not "Peer in Cluster (Connected)" after ${Math.round(inStep)}s (${me?.peerState ?? 'not seen'})` };
        return { kind: 'wait', reason: `${self.host} is ${me?.peerState ?? 'not seen'} in the pool` };
      }
      return replacementCheck(state, deps, read.snapshot, me);
    }

    case 'replace-bricks':
      return runPending(state, deps);

    case 'await-healed': {
      const replacement = state.replacement;
      if (!replacement) return { kind: 'next', skipTo: 'protect' };
      const read = await readSnapshotStep(state, deps, viaOf(state));
      if (read.kind !== 'snapshot') return read;
      const volumes = new Set(replacement.plan.bricks.map((b) => b.volume));
      const watched = read.snapshot.volumes.filter((v) => volumes.has(v.name));
      const pending = watched.reduce((n, v) => n + v.healPending, 0);
      const unreachable = watched.reduce((n, v) => n + (v.healUnreachable ?? 0), 0);
      const decided = decideHeal(pending, inStep, storage.timing.healTimeoutSeconds, unreachable);
      if (decided.kind !== 'next') return planToStep(decided);
      const degraded = secondsSince(replacement.lastSeen, now);
      await deps.notifier.publish(storageMessages.replacementSucceeded(config.stage, replacement.plan, degraded));
      await deps.ssm.release(memberName(config.stage, replacement.plan.dead.instanceId));
      // The lock is kept for the pool change of the next step.
      return { kind: 'next' };
    }

    case 'detach-dead-peer':
      return detachDeadPeer(state, deps);

    case 'bootstrap': {
      const read = await readSnapshotStep(state, deps, viaOf(state));
      if (read.kind !== 'snapshot') return read;
      const plan = bootstrapPlan(read.snapshot.members, storage.replicaCount, {
        volumes: storage.volumes,
        brickRoot: storage.settings.brickRoot,
        existing: read.bundle.volumes.map((v) => v.name),
        force: storage.settings.forceBricks ?? false,
      });
      if (plan.kind === 'done') return { kind: 'next', skipTo: 'protect' };
      if (plan.kind === 'wait') return { kind: 'next', skipTo: 'protect', warning: `volumes not created yet: ${plan.reason}; a later member creates them` };
      // Once, whoever of the joining members gets there first.
      if (!(await deps.ssm.claim(bootstrapClaimName(config.stage), state.operationId))) {
        return { kind: 'next', skipTo: 'protect', warning: 'another member is creating the volumes' };
      }
      await deps.notifier.publish(storageMessages.storageStarted(config.stage, 'bootstrap', storage.volumes.join(', '), plan.commands));
      const first = plan.members[0] as StorageMember;
      return { kind: 'next', patch: { pending: plan.steps, bootstrapClaimed: true, via: { instanceId: first.instanceId, host: first.host } } };
    }

    case 'create-volumes': {
      const outcome = await runPending(state, deps);
      if (outcome.kind === 'next' && outcome.skipTo === undefined) {
        await deps.notifier.publish(storageMessages.storageSucceeded(config.stage, 'bootstrap', storage.volumes.join(', '), secondsSince(state.stepStartedAt, now), [
          `Volumes ${storage.volumes.join(', ')} created with replica ${storage.replicaCount} and started.`,
        ]));
      }
      return outcome;
    }

    case 'protect': {
      await deps.autoScaling.setInstanceProtection(storage.groupName, [self.instanceId], true);
      await recordMember(deps, { instanceId: self.instanceId, host: self.host, zone: self.zone, state: 'joined', lastSeen: now.toISOString() });
      // The tag is for people (the record above is what the flows read): a refused tag is a warning of the join.
      try {
        await deps.tags?.tagInstance(self.instanceId, { [MEMBER_STATE_TAG]: 'joined', [MEMBER_SINCE_TAG]: now.toISOString() });
      } catch (error) {
        return { kind: 'next', warning: `could not tag ${self.instanceId} with its state (${error instanceof Error ? error.message : String(error)}); it is protected and recorded` };
      }
      return { kind: 'next' };
    }

    case 'complete': {
      const event = state.event as LifecycleEvent;
      await deps.autoScaling.completeLifecycleAction(refOf(event), 'CONTINUE');
      await deps.notifier.publish(notices.memberJoined(config.stage, self.instanceId, self.host, self.zone, secondsSince(state.startedAt, now), state.warnings));
      await deps.ssm.release(storageClaimName(config.stage, event));
      return { kind: 'next' };
    }
  }
  throw new StepFailedError(state.step, `step ${state.step} is not part of ${state.flow}`);
}

/**
 * After joining: a member that died in this zone and still holds bricks is
 * taken over by the new node (replace-brick each brick, then a full heal).
 */
async function replacementCheck(state: StorageFlowState, deps: StorageDeps, snapshot: ClusterSnapshot, me: StorageMember): Promise<StorageOutcome> {
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
  const finish = async (warning?: string): Promise<StorageOutcome> => {
    await deps.ssm.release(lockName(deps.config.stage));
    return { kind: 'next', skipTo: 'protect', patch: { lockHeld: false, pending: [] }, ...(warning ? { warning } : {}) };
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

async function terminateStep(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const { config } = deps;
  const now = deps.now();
  const self = selfOf(state);
  switch (state.step) {
    case 'inspect': {
      const records = await readMembers(deps);
      const record = records.find((r) => r.instanceId === self.instanceId);
      // No record (a member that never joined through this function): the address its
      // agent last reported, which SSM keeps for an instance whose agent went silent.
      const host = record?.host || self.host || ((await deps.ssm.describeManagedInstances([self.instanceId]))[0]?.ipAddress ?? '');
      const me = { ...self, host };
      const departed = async (lastSeen: string = now.toISOString()) => {
        if (host) await recordMember(deps, { instanceId: self.instanceId, host, zone: self.zone, state: 'departed', lastSeen });
      };
      const via = state.command ? { instanceId: state.command.instanceId, host: state.command.host } : await pickMember(deps, [self.instanceId]);
      if (!via) {
        await departed();
        return { kind: 'next', patch: { self: me }, warning: 'no other healthy storage member to read the volumes from: bricks of this node unknown' };
      }
      const read = await readSnapshotStep(state, deps, via);
      if (read.kind === 'wait') return read;
      if (read.kind === 'fail') {
        await departed();
        return { kind: 'next', patch: { self: me }, warning: `could not read the volumes (${read.reason}): bricks of this node unknown` };
      }
      const held = host ? read.snapshot.volumes.flatMap((v) => v.bricks.filter((b) => b.host === host).map((b) => ({ volume: v.name, brick: b }))) : [];
      // A dead node's bricks stopped serving before the hook fired: its last moment known to be
      // serving is at latest when the group started terminating it (the start of this flow), not now.
      const dead = held.length > 0 && held.every((h) => !h.brick.online);
      await departed(dead ? state.startedAt : now.toISOString());
      return { kind: 'next', patch: { self: me, bricksHeld: held.map((h) => `${h.volume}: ${h.brick.host}:${h.brick.path}`) } };
    }
    case 'complete': {
      const event = state.event as LifecycleEvent;
      await deps.autoScaling.completeLifecycleAction(refOf(event), 'CONTINUE');
      await deps.notifier.publish(notices.memberLeaving(config.stage, self.instanceId, self.host, self.zone, state.bricksHeld ?? [], state.warnings));
      await deps.ssm.release(storageClaimName(config.stage, event));
      return { kind: 'next' };
    }
  }
  throw new StepFailedError(state.step, `step ${state.step} is not part of ${state.flow}`);
}

function requestOf(state: StorageFlowState): StorageRequest {
  if (!state.request) throw new StepFailedError(state.step, 'the flow lost its request');
  return state.request;
}

/** lock: one storage operation at a time; a refusal is notified and ends the flow. */
async function lockStep(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const request = requestOf(state);
  const lock = await acquireLock(deps, state.operationId);
  if (lock.kind === 'held') {
    const reason = `another storage operation holds the cluster lock (${lock.holder}): one storage operation at a time`;
    await deps.notifier.publish(storageMessages.storageRefused(deps.config.stage, request.action, request.volume, reason));
    return { kind: 'done' };
  }
  return { kind: 'next', patch: { lockHeld: true } };
}

/** The first status read of an operation: on a healthy member, chosen once. */
async function planSnapshot(state: StorageFlowState, deps: StorageDeps): Promise<{ kind: 'ready'; snapshot: ClusterSnapshot; via: Node } | StorageOutcome> {
  const via = state.via ?? (await pickMember(deps));
  if (!via) {
    const request = requestOf(state);
    const reason = `no in-service storage member with an online agent in ${deps.storage.groupName} to read the volumes from`;
    await deps.notifier.publish(storageMessages.storageRefused(deps.config.stage, request.action, request.volume, reason));
    return { kind: 'done' };
  }
  const read = await readSnapshotStep({ ...state, via }, deps, via);
  if (read.kind !== 'snapshot') return read.kind === 'wait' ? { ...read, patch: { ...read.patch, via } } : read;
  return { kind: 'ready', snapshot: read.snapshot, via };
}

async function watchTask(state: StorageFlowState, deps: StorageDeps, step: GlusterStep, parse: (xml: string) => TaskStatus, what: string): Promise<StorageOutcome> {
  const result = await runGlusterStep(state, deps, step, viaOf(state));
  if (result.kind !== 'result') return result;
  return decideTask(state, deps, parse(result.stdout), what, step.action.startsWith('rebalance') ? 'rebalance' : 'shrink');
}

/**
 * The rebalance, read from storage-gluster-status: gluster's rebalance status
 * lists every node of the pool (about 330 characters a node, glusterfs 10.3;
 * test/unit/core/storage/fixtures/rebalance-status-completed.xml), which passes
 * one step's 24,000 characters near 70 nodes; the status document prints it
 * compressed and in parts.
 */
async function watchRebalance(state: StorageFlowState, deps: StorageDeps, volume: string): Promise<StorageOutcome> {
  const read = await readSnapshotStep(state, deps, viaOf(state));
  if (read.kind !== 'snapshot') return read;
  return decideTask(state, deps, read.bundle.rebalance[volume] ?? NO_TASK, 'rebalance', 'rebalance');
}

/** A volume with no rebalance section (not started): no task reported. */
const NO_TASK: TaskStatus = { state: 'none', statusText: 'not reported', nodes: [], files: 0, size: 0, failures: 0, runtimeSeconds: 0 };

async function decideTask(state: StorageFlowState, deps: StorageDeps, status: TaskStatus, what: string, kind: 'rebalance' | 'shrink'): Promise<StorageOutcome> {
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
  return planToStep(decided);
}

async function finishStep(state: StorageFlowState, deps: StorageDeps, facts: readonly string[]): Promise<StorageOutcome> {
  const request = requestOf(state);
  await deps.notifier.publish(storageMessages.storageSucceeded(deps.config.stage, request.action, request.volume, secondsSince(state.startedAt, deps.now()), facts));
  await deps.ssm.release(lockName(deps.config.stage));
  return { kind: 'next', patch: { lockHeld: false } };
}

async function expandStep(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const { config, storage } = deps;
  const request = requestOf(state);
  // The request's strategy (unset: the stage's preference) until planned; then the plan's, so a re-plan keeps it.
  const expansionRequest = { volume: request.volume, sets: request.sets, allowSameZone: request.allowSameZone, strategy: state.expansion?.strategy ?? request.strategy };
  const inStep = secondsSince(state.stepStartedAt, deps.now());

  switch (state.step) {
    case 'lock':
      return lockStep(state, deps);

    case 'plan': {
      const ready = await planSnapshot(state, deps);
      if (ready.kind !== 'ready') return ready;
      const plan = planExpansion(ready.snapshot, expansionRequest, storage.settings);
      if (plan.kind === 'refused') {
        await deps.notifier.publish(storageMessages.storageRefused(config.stage, 'expand', request.volume, plan.reason));
        return { kind: 'done' };
      }
      await deps.notifier.publish(storageMessages.expansionPlanned(config.stage, plan, request.dryRun));
      if (request.dryRun) return { kind: 'done' };
      const patch = { expansion: plan, via: ready.via };
      if (plan.strategy === 'grow-in-place') return { kind: 'next', skipTo: 'grow-volumes', patch: { ...patch, grow: startGrowProgress(plan) } };
      return plan.awaitsLaunch ? { kind: 'next', skipTo: 'launch-members', patch } : { kind: 'next', skipTo: 'add-brick', patch };
    }

    case 'grow-volumes':
    case 'await-volumes':
    case 'grow-filesystems':
    case 'verify-grown':
      return growStep(state, deps);

    case 'launch-members': {
      const plan = state.expansion;
      if (!plan) throw new StepFailedError(state.step, 'no expansion plan');
      const answer = await deps.autoScaling.setDesiredCapacity(storage.groupName, plan.desiredAfter, false);
      if (answer === 'in-progress') {
        if (inStep > storage.timing.joinTimeoutSeconds) return { kind: 'fail', reason: `the storage group kept refusing desired ${plan.desiredAfter}: a scaling activity is in progress` };
        return { kind: 'wait', reason: 'a scaling activity of the storage group is in progress' };
      }
      return { kind: 'next' };
    }

    case 'await-members': {
      // New members join through their own storage-launch flows; re-plan until none is awaited.
      const read = await readSnapshotStep(state, deps, viaOf(state));
      if (read.kind !== 'snapshot') return read;
      const plan = planExpansion(read.snapshot, expansionRequest, storage.settings);
      if (plan.kind === 'plan' && !plan.awaitsLaunch) return { kind: 'next', patch: { expansion: plan } };
      const why = plan.kind === 'refused' ? plan.reason : `${plan.launchZones.length} new member(s) not joined yet`;
      if (inStep > storage.timing.joinTimeoutSeconds) return { kind: 'fail', reason: `new members did not join within ${storage.timing.joinTimeoutSeconds}s: ${why}` };
      return { kind: 'wait', reason: why };
    }

    case 'add-brick': {
      const add = state.expansion?.steps.find((s): s is GlusterStep => s.kind === 'gluster' && s.action === 'add-brick');
      if (!add) throw new StepFailedError(state.step, 'the expansion plan has no add-brick step');
      const result = await runGlusterStep(state, deps, add, viaOf(state));
      return result.kind === 'result' ? { kind: 'next' } : result;
    }

    case 'rebalance-start': {
      const step: GlusterStep = { kind: 'gluster', action: 'rebalance-start', volume: request.volume };
      const result = await runGlusterStep(state, deps, step, viaOf(state));
      if (result.kind !== 'result') return result;
      await deps.notifier.publish(storageMessages.storageStarted(config.stage, 'rebalance', request.volume, [commandLine(step)]));
      return { kind: 'next', patch: { lastProgressAt: deps.now().toISOString() } };
    }

    case 'await-rebalanced':
      return watchRebalance(state, deps, request.volume);

    case 'finish':
      if (state.expansion?.strategy === 'grow-in-place') return finishStep(state, deps, grownFacts(state));
      return finishStep(state, deps, state.expansion ? [storageMessages.describeExpansion(state.expansion), 'Rebalance completed.'] : []);
  }
  throw new StepFailedError(state.step, `step ${state.step} is not part of ${state.flow}`);
}

async function shrinkStep(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const { config, storage } = deps;
  const request = requestOf(state);
  const plan = state.shrinkPlan;
  const glusterOf = (action: GlusterStep['action']): GlusterStep => {
    const found = plan?.steps.find((s): s is GlusterStep => s.kind === 'gluster' && s.action === action);
    if (!found) throw new StepFailedError(state.step, `the shrink plan has no ${action} step`);
    return found;
  };

  switch (state.step) {
    case 'lock':
      return lockStep(state, deps);

    case 'plan': {
      const ready = await planSnapshot(state, deps);
      if (ready.kind !== 'ready') return ready;
      const planned = planShrink(ready.snapshot, request.volume, { headroom: storage.settings.shrinkHeadroom });
      if (planned.kind === 'refused') {
        await deps.notifier.publish(storageMessages.storageRefused(config.stage, 'shrink', request.volume, planned.reason));
        return { kind: 'done' };
      }
      await deps.notifier.publish(storageMessages.shrinkPlanned(config.stage, planned, request.dryRun));
      if (request.dryRun) return { kind: 'done' };
      const released = planned.releasedInstanceIds;
      // Gluster commands run on a member that stays: a released one could not detach itself.
      const via = released.includes(ready.via.instanceId) ? await pickMember(deps, released) : ready.via;
      if (!via) {
        const reason = `no in-service storage member outside the set to release (${released.join(', ')}) with an online agent to run the shrink on`;
        await deps.notifier.publish(storageMessages.storageRefused(config.stage, 'shrink', request.volume, reason));
        return { kind: 'done' };
      }
      return { kind: 'next', patch: { shrinkPlan: planned, via, pending: planned.steps.filter((st): st is GlusterStep => st.kind === 'gluster' && st.action === 'peer-detach') } };
    }

    case 'remove-brick-start': {
      const step = glusterOf('remove-brick-start');
      const result = await runGlusterStep(state, deps, step, viaOf(state));
      if (result.kind !== 'result') return result;
      await deps.notifier.publish(storageMessages.storageStarted(config.stage, 'shrink', request.volume, [commandLine(step)]));
      return { kind: 'next', patch: { lastProgressAt: deps.now().toISOString() } };
    }

    case 'await-migrated':
      // Commit comes only after this step saw the migration completed without failures.
      return watchTask(state, deps, glusterOf('remove-brick-status'), parseRemoveBrickStatus, 'remove-brick migration');

    case 'remove-brick-commit': {
      const result = await runGlusterStep(state, deps, glusterOf('remove-brick-commit'), viaOf(state));
      return result.kind === 'result' ? { kind: 'next' } : result;
    }

    case 'release-members': {
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
      const ids = plan?.releasedInstanceIds ?? [];
      if (ids.length) {
        await deps.autoScaling.setInstanceProtection(storage.groupName, ids, false);
        for (const id of ids) await deps.autoScaling.terminateInstance(id, true);
      }
      return { kind: 'next' };
    }

    case 'finish':
      return finishStep(state, deps, plan ? [`Removed ${plan.removed.join(' + ')}; released ${plan.releasedInstanceIds.join(', ') || 'no member'} (their peers detached from the pool).`] : []);
  }
  throw new StepFailedError(state.step, `step ${state.step} is not part of ${state.flow}`);
}

