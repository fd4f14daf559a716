import type { AutoScalingPort } from '../aws/autoscaling';
import type { TargetGroupPort } from '../aws/elbv2';
import type { NotifierPort } from '../aws/sns';
import type { QueuePort } from '../aws/sqs';
import type { SsmPort } from '../aws/ssm';
import type { Config } from '../config';
import {
  agentTooOld,
  decideDrained,
  decideHealthy,
  decideInvocation,
  attachmentWarnings,
  stickinessWarnings,
  waitingState,
} from '../core/decisions';
import {
  advance,
  backoffSeconds,
  decodeContinuation,
  encodeContinuation,
  heartbeatWarning,
  isContinuation,
  needsHeartbeat,
  secondsSince,
  startFlow,
  type FlowState,
  type StepOutcome,
} from '../core/flow';
import { parseLifecycleSource, type LifecycleEvent } from '../core/lifecycle-event';
import * as messages from '../core/messages';
import { lifecycleClaimName } from '../core/records';
import { StepFailedError } from '../errors';
import { parseJsonBody, rejectMalformed } from './intake';
import type { Log } from '../logger';
import { METRIC } from '../core/scaling/metric-names';
import type { MetricsSink } from './ports';

export interface LifecycleDeps {
  readonly config: Config;
  readonly autoScaling: AutoScalingPort;
  readonly ssm: SsmPort;
  readonly targets: TargetGroupPort;
  readonly notifier: NotifierPort;
  readonly queue: QueuePort;
  /** Lifecycle durations and failures, as embedded metric format (flushed by the handler). */
  readonly metrics: MetricsSink;
  readonly log: Log;
  readonly now: () => Date;
}

export interface QueueMessage {
  readonly messageId: string;
  readonly body: string;
}

export type MessageOutcome = 'completed' | 'waiting' | 'skipped' | 'failed' | 'rejected';

/**
 * Handle one queue message: a lifecycle event (first delivery) or a
 * continuation of a flow. Runs steps until one must wait, then re-enqueues
 * the flow with a delay. Transient AWS errors are thrown so the queue
 * re-delivers the same message (and, after maxReceiveCount, dead-letters it).
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
    return runFlow(state, deps, true);
  }

  let source;
  try {
    source = parseLifecycleSource(parsed);
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

  // One delivery owns the action; a duplicate finds the claim taken by another message.
  const name = lifecycleClaimName(config.stage, event);
  if (!(await deps.ssm.claim(name, message.messageId))) {
    const owner = await deps.ssm.claimOwner(name);
    if (owner !== message.messageId) {
      log.info('duplicate delivery: another message owns this lifecycle action', { instanceId: event.instanceId, owner });
      return 'skipped';
    }
  }

  const instance = await deps.autoScaling.describeInstance(event.instanceId);
  const expected = waitingState(event.transition);
  if (!instance || instance.lifecycleState !== expected) {
    const reason = `the lifecycle action is no longer pending (instance is ${instance ? instance.lifecycleState : 'unknown to Auto Scaling'}, expected ${expected}): the hook was already completed or timed out`;
    log.info('late event skipped', { instanceId: event.instanceId, reason });
    await deps.notifier.publish(messages.lifecycleSkipped(config.stage, event, reason));
    await deps.ssm.release(name);
    return 'skipped';
  }

  const hook = await deps.autoScaling.describeLifecycleHook(event.groupName, event.hookName);
  const heartbeatTimeout = hook?.heartbeatTimeoutSeconds ?? 3600;
  const state = startFlow(event, message.messageId, heartbeatTimeout, deps.now());
  log.info('flow started', logKeys(state));
  await deps.notifier.publish(messages.flowStarted(config.stage, state, config.dryRun));
  const warning = heartbeatWarning(heartbeatTimeout, config.timing.retryMaxSeconds);
  if (warning) log.warn(warning, logKeys(state));
  return runFlow(state, deps, false);
}

function reject(deps: LifecycleDeps, error: unknown, body: string): Promise<MessageOutcome> {
  return rejectMalformed(deps, error, body, 'lifecycle message');
}

function logKeys(state: FlowState): Record<string, unknown> {
  return {
    flow: state.flow,
    step: state.step,
    instanceId: state.event.instanceId,
    asgName: state.event.groupName,
    hookName: state.event.hookName,
    ...(state.commandId ? { commandId: state.commandId } : {}),
  };
}

async function runFlow(initial: FlowState, deps: LifecycleDeps, redelivered: boolean): Promise<MessageOutcome> {
  const { log } = deps;
  let state = initial;

  // Every re-delivery re-checks that the hook still waits for us.
  if (redelivered) {
    const instance = await deps.autoScaling.describeInstance(state.event.instanceId);
    const expected = waitingState(state.event.transition);
    if (!instance || instance.lifecycleState !== expected) {
      const reason = `the lifecycle action ended outside this flow while at step ${state.step} (instance is ${instance ? instance.lifecycleState : 'gone'})`;
      log.warn('flow abandoned: lifecycle action no longer pending', { ...logKeys(state), reason });
      await deps.notifier.publish(messages.lifecycleSkipped(deps.config.stage, state.event, reason));
      await deps.ssm.release(lifecycleClaimName(deps.config.stage, state.event));
      return 'skipped';
    }
  }

  for (;;) {
    let outcome: StepOutcome;
    try {
      outcome = await runStep(state, deps);
    } catch (error) {
      if (error instanceof StepFailedError) outcome = { kind: 'fail', reason: error.message, output: error.output };
      else throw error;
    }
    log.info('step outcome', { ...logKeys(state), outcome: outcome.kind, ...(outcome.kind !== 'next' ? { reason: outcome.reason } : {}) });

    if (outcome.kind === 'fail') return failFlow(state, outcome.reason, outcome.output, deps);

    if (outcome.kind === 'wait') {
      const delay = outcome.delaySeconds
        ?? backoffSeconds(state.attempt, deps.config.timing.retryBaseSeconds, deps.config.timing.retryMaxSeconds);
      let next: FlowState = { ...state, ...outcome.patch, attempt: state.attempt + 1 };
      if (needsHeartbeat(next, delay, deps.now())) {
        await deps.autoScaling.recordHeartbeat(refOf(next.event));
        next = { ...next, lastHeartbeatAt: deps.now().toISOString() };
        log.info('lifecycle heartbeat recorded', logKeys(next));
      }
      await deps.queue.send(deps.config.lifecycleQueueUrl, encodeContinuation(next), delay);
      log.info('waiting', { ...logKeys(next), delaySeconds: delay, reason: outcome.reason });
      return 'waiting';
    }

    if (outcome.warning) {
      log.warn(outcome.warning, logKeys(state));
      await deps.notifier.publish(messages.flowWarning(deps.config.stage, state, outcome.warning));
    }
    const next = advance(state, outcome, deps.now());
    if (next === undefined) {
      // 'complete' was the last step.
      deps.metrics.seconds(METRIC.lifecycleDuration, secondsSince(state.startedAt, deps.now()));
      return 'completed';
    }
    state = next;
  }
}

function refOf(event: LifecycleEvent) {
  return { groupName: event.groupName, hookName: event.hookName, instanceId: event.instanceId, token: event.token };
}

/** How much longer than the load balancer the web server keeps an idle connection. */
export const KEEP_ALIVE_MARGIN_SECONDS = 5;

async function runStep(state: FlowState, deps: LifecycleDeps): Promise<StepOutcome> {
  const { config } = deps;
  const now = deps.now();
  const inStep = secondsSince(state.stepStartedAt, now);
  const { instanceId } = state.event;

  switch (state.step) {
    case 'await-agent': {
      const [agent] = await deps.ssm.describeManagedInstances([instanceId]);
      const tooOld = agentTooOld(agent?.agentVersion);
      if (agent?.online && tooOld) return { kind: 'fail', reason: tooOld };
      if (agent?.online) return { kind: 'next' };
      if (inStep > config.timing.ssmOnlineTimeoutSeconds) {
        return { kind: 'fail', reason: `SSM agent not online after ${Math.round(inStep)}s (${agent ? 'connection lost' : 'instance not registered with SSM'}); check the instance profile and the agent` };
      }
      return { kind: 'wait', reason: 'SSM agent not online yet' };
    }

    case 'mount-volumes':
      return runDocument(state, deps, config.documents.mountVolumes, async () => {
        const servers = await glusterServers(deps);
        return {
          ConfigVolume: config.gluster.configVolume,
          DataVolume: config.gluster.dataVolume,
          Servers: servers.join(','),
          ConfigMount: config.gluster.configMount,
          DataMount: config.gluster.dataMount,
        };
      });

    case 'configure-app':
      return runDocument(state, deps, config.documents.configureApp, async () => ({
        AppRoot: config.app.root,
        ConfigMount: config.gluster.configMount,
        DataMount: config.gluster.dataMount,
        WebUser: config.app.webUser,
        WebService: config.app.webService,
        AppPort: String(config.appPort),
        // ELB: "configure the idle timeout of your application to be larger than the idle timeout
        // configured for the load balancer", else a reused connection the app just closed is a 502.
        KeepAliveTimeout: String(config.loadBalancerIdleTimeoutSeconds + KEEP_ALIVE_MARGIN_SECONDS),
      }));

    case 'register-target': {
      const settings = await deps.targets.describeSettings(config.targetGroupArn);
      const group = await deps.autoScaling.describeGroup(state.event.groupName);
      const warnings = [...stickinessWarnings(settings, config.app.sessionCookie), ...attachmentWarnings(group?.targetGroupArns ?? [], config.targetGroupArn)];
      for (const warning of warnings) {
        deps.log.warn(warning, logKeys(state));
        await deps.notifier.publish(messages.flowWarning(config.stage, state, warning));
      }
      await deps.targets.registerTarget(config.targetGroupArn, instanceId, config.appPort);
      return { kind: 'next', patch: { registered: true, warnings: [...state.warnings, ...warnings] } };
    }

    case 'await-healthy': {
      if (config.dryRun) return { kind: 'next' };
      const health = await deps.targets.describeTargetHealth(config.targetGroupArn, instanceId, config.appPort);
      return decideHealthy(health, inStep, config.timing.healthyTimeoutSeconds);
    }

    case 'deregister-target': {
      const health = await deps.targets.describeTargetHealth(config.targetGroupArn, instanceId, config.appPort);
      if (health.state === 'absent' || health.state === 'unused') {
        return { kind: 'next', skipTo: 'drain-node' };
      }
      const settings = await deps.targets.describeSettings(config.targetGroupArn);
      await deps.targets.deregisterTarget(config.targetGroupArn, instanceId, config.appPort);
      return { kind: 'next', patch: { drainDelaySeconds: settings.deregistrationDelaySeconds } };
    }

    case 'await-drained': {
      if (config.dryRun) return { kind: 'next' };
      const health = await deps.targets.describeTargetHealth(config.targetGroupArn, instanceId, config.appPort);
      return decideDrained(health, inStep, state.drainDelaySeconds ?? 300, config.timing.drainMaxSeconds, config.timing.retryMaxSeconds);
    }

    case 'drain-node': {
      if (!state.commandId) {
        const [agent] = await deps.ssm.describeManagedInstances([instanceId]);
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

    case 'complete': {
      const result = await deps.autoScaling.completeLifecycleAction(refOf(state.event), 'CONTINUE');
      const note = result === 'already-completed' ? 'the lifecycle action had already been completed' : undefined;
      await deps.notifier.publish(messages.flowSucceeded(config.stage, state, deps.now(), note));
      await deps.ssm.release(lifecycleClaimName(config.stage, state.event));
      return { kind: 'next' };
    }
  }
}

async function runDocument(
  state: FlowState,
  deps: LifecycleDeps,
  documentName: string,
  parameters: () => Promise<Record<string, string>>,
): Promise<StepOutcome> {
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
    return { kind: 'wait', reason: `${documentName} sent`, delaySeconds: Math.max(1, config.timing.retryBaseSeconds), patch: { commandId } };
  }
  const invocation = await deps.ssm.getInvocation(state.commandId, state.event.instanceId);
  return decideInvocation(invocation, documentName, secondsSince(state.stepStartedAt, deps.now()), config.timing.commandTimeoutSeconds);
}

/** The Gluster servers a client mounts from: configured, or the storage group's in-service members. */
async function glusterServers(deps: LifecycleDeps): Promise<string[]> {
  const { config } = deps;
  if (config.gluster.servers.length > 0) return [...config.gluster.servers];
  const group = await deps.autoScaling.describeGroup(config.storageGroupName);
  if (!group) throw new StepFailedError('mount-volumes', `storage group ${config.storageGroupName} does not exist`);
  const ids = group.instances.filter((i) => i.lifecycleState === 'InService').map((i) => i.instanceId);
  const agents = ids.length ? await deps.ssm.describeManagedInstances(ids) : [];
  const ips = agents.filter((a) => a.online && a.ipAddress).map((a) => a.ipAddress as string).sort();
  if (ips.length === 0) {
    throw new StepFailedError('mount-volumes', `no in-service storage node with an online agent in ${config.storageGroupName}: nothing to mount from`);
  }
  return ips;
}

async function failFlow(state: FlowState, reason: string, output: string | undefined, deps: LifecycleDeps): Promise<MessageOutcome> {
  const { config, log } = deps;
  const result = state.flow === 'compute-launch' ? 'ABANDON' : 'CONTINUE';
  log.error('flow failed', { ...logKeys(state), reason });
  deps.metrics.count(METRIC.lifecycleFailures, 1);
  deps.metrics.seconds(METRIC.lifecycleDuration, secondsSince(state.startedAt, deps.now()));
  if (state.flow === 'compute-launch' && state.registered) {
    try {
      await deps.targets.deregisterTarget(config.targetGroupArn, state.event.instanceId, config.appPort);
    } catch (error) {
      log.warn('could not deregister the failed target', { ...logKeys(state), error });
    }
  }
  await deps.autoScaling.completeLifecycleAction(refOf(state.event), result);
  await deps.notifier.publish(messages.flowFailed(config.stage, state, reason, output, result, deps.now()));
  await deps.ssm.release(lifecycleClaimName(config.stage, state.event));
  return 'failed';
}
