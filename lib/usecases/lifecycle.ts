/** The lifecycle queue: a compute lifecycle event or a continuation in, the compute flow it starts or continues. */
import {
  COMPUTE_FLOWS,
  decodeContinuation,
  isContinuation,
  logKeys,
  startFlow,
  type FlowState,
} from '../core/compute-flow';
import { isCommandEvent } from '../core/command-event';
import { intakeOf, secondsSince } from '../core/flow';
import { parseLifecycleSource } from '../core/lifecycle-event';
import * as messages from '../core/messages';
import { lifecycleClaimKey } from '../core/records';
import { METRIC } from '../core/scaling/metric-names';
import type { LifecycleDeps } from './compute/common';
import { COMPUTE_LAUNCH } from './compute/launch-flow';
import { COMPUTE_TERMINATE } from './compute/terminate-flow';
import type { QueueMessage } from '../ports/sqs';
import { claimAction, commandEventIntake, deferThrottledIntake, runFlow, type FlowDriver, type MessageOutcome } from './flow-runner';
import { parseJsonBody, rejectMalformed } from './intake';

/** The compute flows as the engine runs them: their tables, and what a failure or the end does. */
const COMPUTE: FlowDriver<FlowState, LifecycleDeps> = {
  family: COMPUTE_FLOWS,
  tables: { 'compute-launch': COMPUTE_LAUNCH, 'compute-terminate': COMPUTE_TERMINATE },
  queueUrl: (deps) => deps.config.lifecycleQueueUrl,
  logKeys,
  claimKey: lifecycleClaimKey,
  ownerOf: (state) => state.owner,
  skippedNotice: messages.lifecycleSkipped,
  async warned(state, warning, deps) {
    await deps.notifier.publish(messages.flowWarning(deps.config.stage, state, warning));
  },
  async completed(state, deps) {
    deps.metrics.seconds(METRIC.lifecycleDuration, secondsSince(state.startedAt, deps.now()));
  },
  async undo(state, deps) {
    if (state.flow !== 'compute-launch' || !state.registered) return;
    const { config } = deps;
    try {
      await deps.targets.deregisterTarget(config.targetGroupArn, state.event.instanceId, config.appPort);
    } catch (error) {
      deps.log.warn('could not deregister the failed target', { ...logKeys(state), error });
    }
  },
  async failed(state, reason, output, result, deps) {
    deps.metrics.count(METRIC.lifecycleFailures, 1);
    deps.metrics.seconds(METRIC.lifecycleDuration, secondsSince(state.startedAt, deps.now()));
    // A compute flow always holds its lifecycle action: result is set.
    await deps.notifier.publish(messages.flowFailed(deps.config.stage, state, reason, output, result ?? 'CONTINUE', deps.now()));
  },
};

/**
 * Handle one queue message: a lifecycle event (first delivery) or a
 * continuation of a flow (or a first delivery AWS throttled, re-sent).
 * Throttled calls wait (flow-runner.ts); other transient AWS errors are thrown
 * so the queue re-delivers the same message (and, after maxReceiveCount,
 * dead-letters it).
 */
export async function handleLifecycleMessage(message: QueueMessage, deps: LifecycleDeps): Promise<MessageOutcome> {
  const { config, log } = deps;
  let parsed: unknown;
  try {
    parsed = parseJsonBody(message.body);
  } catch (error) {
    return reject(deps, error, message.body);
  }

  if (isContinuation(parsed)) {
    let state: FlowState;
    try {
      state = decodeContinuation(parsed);
    } catch (error) {
      return reject(deps, error, message.body);
    }
    log.info('continuing flow', logKeys(state));
    return runFlow(COMPUTE, deps, state, true, message.messageId);
  }

  if (isCommandEvent(parsed)) return commandEventIntake(COMPUTE, deps, parsed, message.messageId, (error) => reject(deps, error, message.body));

  // A first delivery AWS throttled comes back wrapped with the id that owns its claim.
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
    log.info('skipped event', { reason: source.reason, asgName: source.groupName });
    return 'skipped';
  }
  const event = source;
  if (event.groupName !== config.computeGroupName) {
    log.info('skipped event for a group we do not manage', { asgName: event.groupName, instanceId: event.instanceId });
    return 'skipped';
  }

  let state: FlowState;
  try {
    const claimed = await claimAction(COMPUTE, deps, event, intake.owner);
    if (!claimed) return 'skipped';
    state = startFlow(event, intake.owner, claimed.heartbeatTimeoutSeconds, deps.now());
    await deps.notifier.publish(messages.flowStarted(config.stage, state, config.dryRun));
  } catch (error) {
    return deferThrottledIntake(COMPUTE, deps, error, intake);
  }
  log.info('flow started', logKeys(state));
  return runFlow(COMPUTE, deps, state, false);
}

function reject(deps: LifecycleDeps, error: unknown, body: string): Promise<MessageOutcome> {
  return rejectMalformed(deps, error, body, 'lifecycle message');
}
