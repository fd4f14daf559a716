/** What the compute flows touch (LifecycleDeps) and the steps they share: a document run, the completion. */
import type { AutoScalingPort } from '../../ports/autoscaling';
import type { CoordinationPort } from '../../ports/coordination';
import type { TargetGroupPort } from '../../ports/elbv2';
import type { NotifierPort } from '../../ports/sns';
import type { QueuePort } from '../../ports/sqs';
import type { SsmPort } from '../../ports/ssm';
import type { Config } from '../../config/compute';
import { logKeys, type ComputeOutcome, type FlowState } from '../../core/compute-flow';
import { decideInvocation } from '../../core/decisions';
import { readLagSeconds, secondsSince, type RandomSource } from '../../core/flow';
import * as messages from '../../core/messages';
import { lifecycleClaimKey } from '../../core/records';
import type { Log } from '../../logger';
import { actionRef } from '../flow-runner';
import type { MetricsSink } from '../../ports/metrics';

export interface LifecycleDeps {
  readonly config: Config;
  readonly autoScaling: AutoScalingPort;
  readonly ssm: SsmPort;
  /** The lifecycle claims (the coordination table). */
  readonly coordination: CoordinationPort;
  readonly targets: TargetGroupPort;
  readonly notifier: NotifierPort;
  readonly queue: QueuePort;
  /** Lifecycle durations and failures, as embedded metric format (flushed by the handler). */
  readonly metrics: MetricsSink;
  readonly log: Log;
  readonly now: () => Date;
  /** The jitter of throttled waits (Math.random when absent; a fixed source in tests). */
  readonly random?: RandomSource;
}

/**
 * A document step: the first delivery sends the command and parks the flow
 * on it; the command's status-change event (or, if none came, the safety-net
 * continuation) reads its invocation, keeping the command while it runs,
 * until it ended.
 */
export async function runDocument(
  state: FlowState,
  deps: LifecycleDeps,
  documentName: string,
  parameters: () => Promise<Record<string, string>>,
): Promise<ComputeOutcome> {
  const { config } = deps;
  if (!state.commandId) {
    const commandId = await deps.ssm.sendCommand({
      documentName,
      instanceId: state.event.instanceId,
      parameters: await parameters(),
      timeoutSeconds: config.timing.commandTimeoutSeconds,
      comment: `pydio-autoscaler ${state.flow} ${state.step} ${state.event.instanceId}`,
    });
    deps.log.info('command sent', { ...logKeys(state), commandId, documentName });
    // Resumed by the command's status-change event; the continuation is the safety net. A dry run
    // sends no command, so no event comes: its continuation reads the pretended success at once.
    if (config.dryRun) return { kind: 'wait', reason: `${documentName} sent (dry run)`, delaySeconds: 1, patch: { commandId } };
    return { kind: 'wait', reason: `${documentName} sent`, patch: { commandId }, resumeOn: commandId };
  }
  // The compute steps act only on a failure's output: a success is read in one call.
  const invocation = await deps.ssm.getInvocation(state.commandId, state.event.instanceId, undefined, false);
  const decided = decideInvocation(invocation, documentName, secondsSince(state.stepStartedAt, deps.now()), config.timing.commandTimeoutSeconds);
  if (decided.kind !== 'wait') return decided;
  if (state.ended) {
    // The event said it ended; the read lags it: look again within seconds.
    const reason = `${documentName} ended (${state.ended}) but still reads ${invocation.status}: Run Command's reads lag its events`;
    return { kind: 'wait', reason, delaySeconds: readLagSeconds(state.attempt, config.timing.retryBaseSeconds), patch: { commandId: state.commandId, ended: state.ended } };
  }
  return { ...decided, patch: { commandId: state.commandId }, resumeOn: state.commandId };
}

/** The last step of both compute flows: CONTINUE, tell ops, give the claim back. */
export async function completeAction(state: FlowState, deps: LifecycleDeps): Promise<ComputeOutcome> {
  const { config } = deps;
  const result = await deps.autoScaling.completeLifecycleAction(actionRef(state.event), 'CONTINUE');
  const note = result === 'already-completed' ? 'the lifecycle action had already been completed' : undefined;
  await deps.notifier.publish(messages.flowSucceeded(config.stage, state, deps.now(), note));
  await deps.coordination.release(lifecycleClaimKey(state.event), state.owner);
  return { kind: 'next' };
}
