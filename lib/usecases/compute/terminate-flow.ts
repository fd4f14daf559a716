/** The compute terminate flow's steps: deregister, wait for the drain, stop the node cleanly, complete. */
import type { ComputeOutcome, FlowState, StepOf } from '../../core/compute-flow';
import { decideDrained, firstDrainedCheckSeconds, waitUntil } from '../../core/decisions';
import { secondsSince } from '../../core/flow';
import type { StepTable } from '../flow-runner';
import { completeAction, runDocument, type LifecycleDeps } from './common';

async function deregisterTarget(state: FlowState, deps: LifecycleDeps): Promise<ComputeOutcome> {
  const { config } = deps;
  const { instanceId } = state.event;
  const health = await deps.targets.describeTargetHealth(config.targetGroupArn, instanceId, config.appPort);
  if (health.state === 'absent' || health.state === 'unused') {
    return { kind: 'next', skipTo: 'drain-node' };
  }
  const settings = await deps.targets.describeSettings(config.targetGroupArn);
  await deps.targets.deregisterTarget(config.targetGroupArn, instanceId, config.appPort);
  return { kind: 'next', patch: { drainDelaySeconds: settings.deregistrationDelaySeconds } };
}

async function awaitDrained(state: FlowState, deps: LifecycleDeps): Promise<ComputeOutcome> {
  const { config } = deps;
  const inStep = secondsSince(state.stepStartedAt, deps.now());
  if (config.dryRun) return { kind: 'next' };
  const { drainMaxSeconds, retryBaseSeconds, retryMaxSeconds } = config.timing;
  const delaySeconds = state.drainDelaySeconds ?? 300;
  // The step starts as the target is deregistered: it shows draining until the delay is over, so no look before.
  const first = waitUntil(inStep, firstDrainedCheckSeconds(delaySeconds, drainMaxSeconds), retryMaxSeconds);
  if (first !== undefined) return { kind: 'wait', reason: 'target is draining (deregistration delay)', delaySeconds: first };
  const health = await deps.targets.describeTargetHealth(config.targetGroupArn, state.event.instanceId, config.appPort);
  // After the delay the target is gone within moments: short looks, every RETRY_BASE_SECONDS.
  return decideDrained(health, inStep, delaySeconds, drainMaxSeconds, retryMaxSeconds, Math.max(1, retryBaseSeconds));
}

async function drainNode(state: FlowState, deps: LifecycleDeps): Promise<ComputeOutcome> {
  const { config } = deps;
  if (!state.commandId) {
    const [agent] = await deps.ssm.describeManagedInstances([state.event.instanceId]);
    if (!agent?.online) {
      return { kind: 'next', warning: 'SSM agent is not online: the web server was not stopped and volumes were not unmounted cleanly; termination goes on' };
    }
  }
  const outcome = await runDocument(state, deps, config.documents.drainNode, async () => ({
    ConfigMount: config.gluster.configMount,
    DataMount: config.gluster.dataMount,
    WebService: config.app.webService,
  }));
  // A dying instance must not block termination.
  if (outcome.kind === 'fail') {
    return { kind: 'next', warning: `drain document did not succeed (${outcome.reason}); termination goes on${outcome.output ? `\n${outcome.output}` : ''}` };
  }
  return outcome;
}

export const COMPUTE_TERMINATE: StepTable<StepOf<'compute-terminate'>, FlowState, LifecycleDeps> = {
  'deregister-target': deregisterTarget,
  'await-drained': awaitDrained,
  'drain-node': drainNode,
  complete: completeAction,
};
