/** The StorageQueue: a storage lifecycle event, an operation request or a continuation in, the storage flow it starts or continues. */
import { isCommandEvent } from '../../core/command-event';
import { decodeFlow, intakeOf, isFlowContinuation, isWakeMessage } from '../../core/flow';
import { parseLifecycleSource, type LifecycleEvent } from '../../core/lifecycle-event';
import { BOOTSTRAP_KEY, storageClaimKey } from '../../core/records';
import {
  isStorageRequestMessage,
  logKeys,
  startStorageFlow,
  STORAGE_FLOWS,
  volumeLabel,
  type StorageFlowState,
  type StorageRequest,
} from '../../core/storage/flow-state';
import * as storageMessages from '../../core/storage/messages';
import type { QueueMessage } from '../../ports/sqs';
import { claimAction, commandEventIntake, deferThrottledIntake, runFlow, wakeIntake, type FlowDriver, type MessageOutcome } from '../flow-runner';
import { parseJsonBody, rejectMalformed } from '../intake';
import type { StorageDeps } from './cluster';
import { EXPAND } from './expand-flow';
import { HEALTH, recordUnreadable, repairFailed } from './health-flow';
import { isHealthCheckMessage, parseHealthCheck, type HealthCheckRequest } from '../../core/storage/health-check';
import { LAYOUT } from './layout-steps';
import { STORAGE_LAUNCH } from './launch-flow';
import { keepLock, releaseLock } from './lock';
import * as notices from '../../core/storage/notices';
import { asRunByStage, parseStorageRequest } from './requests';
import { SHRINK } from './shrink-flow';
import { STORAGE_TERMINATE } from './terminate-flow';

function operationOf(state: StorageFlowState): storageMessages.StorageOperation {
  if (state.flow === 'expand' || state.flow === 'shrink' || state.flow === 'layout') return state.flow;
  if (state.replacement) return 'replace';
  return 'bootstrap';
}

/** The storage flows as the engine runs them: their tables, the lock they hold, what a failure tells. */
const STORAGE: FlowDriver<StorageFlowState, StorageDeps> = {
  family: STORAGE_FLOWS,
  tables: { 'storage-launch': STORAGE_LAUNCH, 'storage-terminate': STORAGE_TERMINATE, expand: EXPAND, shrink: SHRINK, layout: LAYOUT, health: HEALTH },
  queueUrl: (deps) => deps.storage.queueUrl,
  logKeys,
  claimKey: storageClaimKey,
  ownerOf: (state) => state.operationId,
  skippedNotice: (stage, event, reason) => notices.lifecycleSkipped(stage, event.instanceId, reason),
  /** A holder keeps the lock and an unfinished bootstrap claim on every delivery, so only an abandoned one expires. */
  async beforeSteps(state, deps) {
    if (state.lockHeld) {
      const lost = await keepLock(deps, state.operationId);
      if (lost) return lost;
    }
    if (state.bootstrapClaimed) {
      const claim = await deps.coordination.take(BOOTSTRAP_KEY, state.operationId, deps.config.timing.claimTtlSeconds);
      if (!claim.taken) return `the claim to create the volumes was taken by ${claim.holder?.owner ?? 'a finished bootstrap'} after this flow did not renew it for ${deps.config.timing.claimTtlSeconds}s`;
    }
    return undefined;
  },
  async failed(state, reason, output, result, deps) {
    const { stage } = deps.config;
    if (state.flow === 'health') {
      // A read that failed is health unknown (told once); a repair that failed is told per brick.
      const said = output?.split('\n').map((l) => l.trim()).filter((l) => l !== '').at(-1);
      if (state.step === 'read') await recordUnreadable(deps, `${state.via ? `on ${state.via.instanceId}: ` : ''}${reason}${said ? ` (${said})` : ''}`, state.via?.instanceId);
      else await repairFailed(deps, state, reason);
    } else if (state.event) {
      await deps.notifier.publish(notices.memberFailed(stage, state.event.instanceId, state.step, reason, result ?? 'CONTINUE', output));
      if (state.replacement || state.lockHeld) {
        const volume = [...new Set(state.replacement?.plan.bricks.map((b) => b.volume) ?? [])].join(', ') || 'storage';
        await deps.notifier.publish(storageMessages.storageFailed(stage, operationOf(state), volume, reason, output));
      }
    } else if (state.request) {
      await deps.notifier.publish(storageMessages.storageFailed(stage, operationOf(state), volumeLabel(state.request), `${state.step}: ${reason}`, output));
    }
  },
  /** The lock, and an unfinished bootstrap claim (the lifecycle claim is the engine's); each only while still this flow's. */
  async release(state, deps, failed) {
    if (state.lockHeld) await releaseLock(deps, state.operationId);
    if (state.bootstrapClaimed && failed) await deps.coordination.release(BOOTSTRAP_KEY, state.operationId);
  },
};

/**
 * One message of the StorageQueue: a storage-group lifecycle event, an
 * expansion/shrink request (alarm function or manual invoke), a health
 * check (the watch, every period), the continuation of a storage flow, or a
 * storage lifecycle event AWS throttled, re-sent. Throttled calls wait
 * (flow-runner.ts); other transient AWS errors are thrown so the queue
 * re-delivers the message.
 */
export async function handleStorageMessage(message: QueueMessage, deps: StorageDeps): Promise<MessageOutcome> {
  let parsed: unknown;
  try {
    parsed = parseJsonBody(message.body);
  } catch (error) {
    return reject(deps, error, message.body);
  }

  if (isFlowContinuation(STORAGE_FLOWS, parsed)) {
    let state: StorageFlowState;
    try {
      state = decodeFlow(STORAGE_FLOWS, parsed);
    } catch (error) {
      return reject(deps, error, message.body);
    }
    deps.log.info('continuing storage flow', logKeys(state));
    return runFlow(STORAGE, deps, state, true, message.messageId);
  }

  if (isHealthCheckMessage(parsed)) {
    let healthCheck: HealthCheckRequest;
    try {
      healthCheck = parseHealthCheck(parsed);
    } catch (error) {
      return reject(deps, error, message.body);
    }
    const state = startStorageFlow('health', message.messageId, deps.now(), { healthCheck });
    deps.log.info('gluster health check requested', { ...logKeys(state), requestedAt: healthCheck.requestedAt });
    return runFlow(STORAGE, deps, state, false);
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
    return runFlow(STORAGE, deps, state, false);
  }

  if (isCommandEvent(parsed)) return commandEventIntake(STORAGE, deps, parsed, message.messageId, (error) => reject(deps, error, message.body));

  // A member joined: the expansion waiting for it runs on (launch-flow.ts signals it).
  if (isWakeMessage(parsed)) return wakeIntake(STORAGE, deps, parsed, message.messageId, (error) => reject(deps, error, message.body));

  // A lifecycle event AWS throttled comes back wrapped with the id that owns its claim.
  let intake;
  try {
    intake = intakeOf(parsed, message.messageId);
  } catch (error) {
    return reject(deps, error, message.body);
  }

  let source;
  try {
    source = parseLifecycleSource(intake.body);
  } catch (error) {
    return reject(deps, error, message.body);
  }
  if (source.kind === 'skip') {
    deps.log.info('skipped event', { reason: source.reason, asgName: source.groupName });
    return 'skipped';
  }
  return startLifecycleFlow(source, intake, deps);
}

function reject(deps: StorageDeps, error: unknown, body: string): Promise<MessageOutcome> {
  return rejectMalformed(deps, error, body, 'storage message');
}

async function startLifecycleFlow(event: LifecycleEvent, intake: { readonly body: unknown; readonly owner: string; readonly attempt: number }, deps: StorageDeps): Promise<MessageOutcome> {
  if (event.groupName !== deps.storage.groupName) {
    deps.log.info('skipped event for a group the storage function does not manage', { asgName: event.groupName, instanceId: event.instanceId });
    return 'skipped';
  }
  let claimed;
  try {
    claimed = await claimAction(STORAGE, deps, event, intake.owner);
  } catch (error) {
    return deferThrottledIntake(STORAGE, deps, error, intake);
  }
  if (!claimed) return 'skipped';
  const now = deps.now();
  const state = startStorageFlow(event.transition === 'launch' ? 'storage-launch' : 'storage-terminate', intake.owner, now, {
    event,
    lastHeartbeatAt: now.toISOString(),
    heartbeatTimeoutSeconds: claimed.heartbeatTimeoutSeconds,
    self: { instanceId: event.instanceId, host: '', zone: claimed.instance.availabilityZone },
  });
  deps.log.info('storage flow started', logKeys(state));
  return runFlow(STORAGE, deps, state, false);
}
