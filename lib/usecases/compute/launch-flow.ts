/** The compute launch flow's steps: agent online, mount the volumes, configure the app, register, healthy, complete. */
import { logKeys, type ComputeOutcome, type FlowState, type StepOf } from '../../core/compute-flow';
import { agentTooOld, attachmentWarnings, decideHealthy, firstHealthyCheckSeconds, healthCheckWarnings, stickinessWarnings, waitUntil } from '../../core/decisions';
import { secondsSince } from '../../core/flow';
import * as messages from '../../core/messages';
import { StepFailedError } from '../../errors';
import type { StepTable } from '../flow-runner';
import { completeAction, runDocument, type LifecycleDeps } from './common';

/** How much longer than the load balancer the web server keeps an idle connection. */
export const KEEP_ALIVE_MARGIN_SECONDS = 5;

async function awaitAgent(state: FlowState, deps: LifecycleDeps): Promise<ComputeOutcome> {
  const inStep = secondsSince(state.stepStartedAt, deps.now());
  const [agent] = await deps.ssm.describeManagedInstances([state.event.instanceId]);
  const tooOld = agentTooOld(agent?.agentVersion);
  if (agent?.online && tooOld) return { kind: 'fail', reason: tooOld };
  if (agent?.online) return { kind: 'next' };
  if (inStep > deps.config.timing.ssmOnlineTimeoutSeconds) {
    return { kind: 'fail', reason: `SSM agent not online after ${Math.round(inStep)}s (${agent ? 'connection lost' : 'instance not registered with SSM'}); check the instance profile and the agent` };
  }
  // No event and no documented time tells when a new instance's agent registers: expected seconds to a
  // minute after boot, so a short look every RETRY_BASE_SECONDS rather than a backoff growing to
  // RETRY_MAX_SECONDS that would find it minutes late. Bounded by SSM_ONLINE_TIMEOUT_SECONDS above
  // (600 s: 60 looks at the 10 s base), and within RETRY_MAX_SECONDS like every wait (decisions.ts).
  const { retryBaseSeconds, retryMaxSeconds } = deps.config.timing;
  return { kind: 'wait', reason: 'SSM agent not online yet', delaySeconds: Math.max(1, Math.min(retryBaseSeconds, retryMaxSeconds)) };
}

async function mountVolumes(state: FlowState, deps: LifecycleDeps): Promise<ComputeOutcome> {
  const { config } = deps;
  let servers: string[] = [];
  if (!state.commandId) {
    const found = await glusterServers(deps);
    if (found.kind === 'none') {
      // A new cluster's storage group is still starting (a stack creates both groups at once): wait, bounded.
      const inStep = secondsSince(state.stepStartedAt, deps.now());
      if (inStep > config.timing.commandTimeoutSeconds) throw new StepFailedError('mount-volumes', `${found.reason} after ${Math.round(inStep)}s: nothing to mount from`);
      return { kind: 'wait', reason: found.reason };
    }
    servers = found.servers;
  }
  return runDocument(state, deps, config.documents.mountVolumes, async () => ({
    ConfigVolume: config.gluster.configVolume,
    DataVolume: config.gluster.dataVolume,
    Servers: servers.join(','),
    ConfigMount: config.gluster.configMount,
    DataMount: config.gluster.dataMount,
  }));
}

function configureApp(state: FlowState, deps: LifecycleDeps): Promise<ComputeOutcome> {
  const { config } = deps;
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
}

async function registerTarget(state: FlowState, deps: LifecycleDeps): Promise<ComputeOutcome> {
  const { config } = deps;
  const settings = await deps.targets.describeSettings(config.targetGroupArn);
  const healthCheck = await deps.targets.describeHealthCheck(config.targetGroupArn);
  const group = await deps.autoScaling.describeGroup(state.event.groupName);
  const warnings = [
    ...stickinessWarnings(settings, config.app.sessionCookie),
    ...attachmentWarnings(group?.targetGroupArns ?? [], config.targetGroupArn),
    ...healthCheckWarnings(healthCheck, config.timing.healthyTimeoutSeconds),
  ];
  for (const warning of warnings) {
    deps.log.warn(warning, logKeys(state));
    await deps.notifier.publish(messages.flowWarning(config.stage, state, warning));
  }
  await deps.targets.registerTarget(config.targetGroupArn, state.event.instanceId, config.appPort);
  return { kind: 'next', patch: { registered: true, healthCheck, warnings: [...state.warnings, ...warnings] } };
}

async function awaitHealthy(state: FlowState, deps: LifecycleDeps): Promise<ComputeOutcome> {
  const { config } = deps;
  const inStep = secondsSince(state.stepStartedAt, deps.now());
  if (config.dryRun) return { kind: 'next' };
  const maxDelaySeconds = config.timing.retryMaxSeconds;
  // The step starts as the target is registered: no look before its first health check can have passed.
  const first = state.healthCheck && waitUntil(inStep, firstHealthyCheckSeconds(state.healthCheck), maxDelaySeconds);
  if (first !== undefined) return { kind: 'wait', reason: 'target registered: not checked by the load balancer yet', delaySeconds: first };
  const health = await deps.targets.describeTargetHealth(config.targetGroupArn, state.event.instanceId, config.appPort);
  return decideHealthy(health, inStep, config.timing.healthyTimeoutSeconds, state.healthCheck && { check: state.healthCheck, maxDelaySeconds });
}

/** The Gluster servers a client mounts from: configured, or the storage group's in-service members (none yet: say why). */
async function glusterServers(deps: LifecycleDeps): Promise<{ kind: 'servers'; servers: string[] } | { kind: 'none'; reason: string }> {
  const { config } = deps;
  if (config.gluster.servers.length > 0) return { kind: 'servers', servers: [...config.gluster.servers] };
  const group = await deps.autoScaling.describeGroup(config.storageGroupName);
  if (!group) throw new StepFailedError('mount-volumes', `storage group ${config.storageGroupName} does not exist`);
  const ids = group.instances.filter((i) => i.lifecycleState === 'InService').map((i) => i.instanceId);
  const agents = ids.length ? await deps.ssm.describeManagedInstances(ids) : [];
  const ips = agents.filter((a) => a.online && a.ipAddress).map((a) => a.ipAddress as string).sort();
  if (ips.length === 0) return { kind: 'none', reason: `no in-service storage node with an online agent in ${config.storageGroupName}` };
  return { kind: 'servers', servers: ips };
}

export const COMPUTE_LAUNCH: StepTable<StepOf<'compute-launch'>, FlowState, LifecycleDeps> = {
  'await-agent': awaitAgent,
  'mount-volumes': mountVolumes,
  'configure-app': configureApp,
  'register-target': registerTarget,
  'await-healthy': awaitHealthy,
  complete: completeAction,
};
