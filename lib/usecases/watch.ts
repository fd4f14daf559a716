/**
 * One run of the watch (every watchPeriodMinutes, from EventBridge): ask the
 * storage function for a Gluster health read, read the cluster, decide with
 * the pure rules of lib/core/watch/, carry out each action (one SNS notice
 * and one log line each), remember what is needed for the next run. Ports
 * only.
 */
import { METRIC } from '../core/scaling/metric-names';
import { healthName, WATCH_RUN_KEY, WATCH_STATE_KEY } from '../core/records';
import { decideWatch, settleAction, type ActionOutcome, type WatchAction } from '../core/watch/decide';
import { actionKey } from '../core/watch/lost-events';
import { buildRedriveEvent, type WatchTrigger } from '../core/watch/messages';
import { clusterWideNotice, heldBackNotice, recoveredNotice, redrivenNotice, replacingNotice } from '../core/watch/notices';
import { WAIT_STATES, type WatchedGroup, type WatchSnapshot } from '../core/watch/snapshot';
import { decodeWatchState, encodeWatchState, stateTtlSeconds, type WatchState } from '../core/watch/state';
import { judgeVolumesHealth } from '../core/watch/volumes';
import type { WatchConfig } from '../config/watch';
import { AutoscalerError, errorMessage } from '../errors';
import type { Log } from '../logger';
import type { AutoScalingPort, GroupDescription, GroupHealthPort, LifecycleHookDescription } from '../ports/autoscaling';
import type { CoordinationPort } from '../ports/coordination';
import type { TargetListPort } from '../ports/elbv2';
import type { MetricsSink } from '../ports/metrics';
import type { NotifierPort } from '../ports/sns';
import type { QueuePort } from '../ports/sqs';
import type { ParameterPort } from '../ports/ssm';

export interface WatchDeps {
  readonly config: WatchConfig;
  readonly autoScaling: Pick<AutoScalingPort, 'describeGroup'> & GroupHealthPort;
  readonly targets: TargetListPort;
  readonly coordination: Pick<CoordinationPort, 'acquire' | 'release' | 'holder' | 'read' | 'write'>;
  /** The storage function's Parameter Store records (the recorded Gluster health). */
  readonly parameters: Pick<ParameterPort, 'getParameter'>;
  readonly queue: QueuePort;
  readonly notifier: NotifierPort;
  readonly metrics: MetricsSink;
  readonly log: Log;
  readonly now: () => Date;
  /** A fresh UUID (a re-driven event's id). */
  readonly newId: () => string;
}

export interface WatchReport {
  readonly outcome: 'done' | 'skipped';
  readonly reason?: string;
  readonly actions: ReadonlyArray<{ readonly kind: WatchAction['kind']; readonly instanceId?: string; readonly outcome: ActionOutcome | 'failed' }>;
  readonly notes: readonly string[];
}

/** A Gluster health record older than this many periods says nothing about now. */
const HEALTH_MAX_AGE_PERIODS = 5;

/** Runs cannot overlap for long (the function times out first); a crashed run's hold frees the next period. */
function runHoldSeconds(periodSeconds: number): number {
  return Math.max(30, periodSeconds - 10);
}

async function readGroup(deps: WatchDeps, name: string): Promise<GroupDescription> {
  const group = await deps.autoScaling.describeGroup(name);
  if (group === undefined) throw new AutoscalerError(`watch: the Auto Scaling group ${name} does not exist (check COMPUTE_ASG_NAME / STORAGE_ASG_NAME)`);
  return group;
}

function watched(tier: WatchedGroup['tier'], group: GroupDescription): WatchedGroup {
  return {
    tier,
    name: group.name,
    healthCheckGracePeriodSeconds: group.healthCheckGracePeriodSeconds ?? 0,
    instances: group.instances.map(({ instanceId, lifecycleState, healthStatus }) => ({ instanceId, lifecycleState, healthStatus })),
  };
}

/** The keys of the waiting actions a live flow holds (one GetItem per waiting instance: few, usually none). */
async function heldActions(deps: WatchDeps, groups: readonly WatchedGroup[]): Promise<Set<string>> {
  const held = new Set<string>();
  for (const group of groups) {
    for (const instance of group.instances) {
      const transition = WAIT_STATES[instance.lifecycleState];
      if (transition === undefined) continue;
      const key = actionKey(group.tier, instance.instanceId, transition);
      if (await deps.coordination.holder(key)) held.add(key);
    }
  }
  return held;
}

async function readSnapshot(deps: WatchDeps, now: Date): Promise<{ snapshot: WatchSnapshot; groups: Map<string, GroupDescription> }> {
  const { config, log } = deps;
  const computeGroup = await readGroup(deps, config.computeGroupName);
  const storageGroup = config.storageGroupName ? await readGroup(deps, config.storageGroupName) : undefined;
  const compute = watched('compute', computeGroup);
  const storage = storageGroup ? watched('storage', storageGroup) : undefined;
  const heldKeys = await heldActions(deps, storage ? [compute, storage] : [compute]);
  const targets = await deps.targets.describeTargets(config.targetGroupArn).then(
    (list) => list.map(({ instanceId, state, reason }) => ({ instanceId, state, ...(reason ? { reason } : {}) })),
    (error: unknown) => {
      log.warn('watch: target health could not be read; the unhealthy rule waits', { error: errorMessage(error) });
      return undefined;
    },
  );
  const volumes = storage
    ? judgeVolumesHealth(
        await deps.parameters.getParameter(healthName(config.stage)).catch((error: unknown) => {
          log.warn('watch: the recorded Gluster health could not be read', { error: errorMessage(error) });
          return undefined;
        }),
        now,
        HEALTH_MAX_AGE_PERIODS * config.watch.periodSeconds,
      )
    : undefined;
  const groups = new Map([[computeGroup.name, computeGroup], ...(storageGroup ? ([[storageGroup.name, storageGroup]] as const) : [])]);
  return {
    snapshot: { compute, ...(storage ? { storage } : {}), heldActions: heldKeys, ...(targets ? { targets } : {}), ...(volumes ? { volumes } : {}) },
    groups,
  };
}

async function readState(deps: WatchDeps): Promise<WatchState | undefined> {
  const raw = await deps.coordination.read(WATCH_STATE_KEY);
  if (raw === undefined) return undefined;
  const decoded = decodeWatchState(raw);
  if ('problem' in decoded) {
    deps.log.warn('watch: starting afresh', { reason: decoded.problem });
    return undefined;
  }
  return decoded.state;
}

interface RunContext {
  readonly deps: WatchDeps;
  readonly now: Date;
  readonly snapshot: WatchSnapshot;
  readonly groups: ReadonlyMap<string, GroupDescription>;
  readonly hooks: Map<string, LifecycleHookDescription[]>;
}

async function hooksOf(run: RunContext, groupName: string): Promise<LifecycleHookDescription[]> {
  const known = run.hooks.get(groupName);
  if (known) return known;
  const hooks = await run.deps.autoScaling.listLifecycleHooks(groupName);
  run.hooks.set(groupName, hooks);
  return hooks;
}

/** Carries out one action: what it came to, after its one notice and its one log line. */
async function carryOut(run: RunContext, action: WatchAction): Promise<ActionOutcome> {
  const { deps, now, snapshot } = run;
  const { config, log } = deps;
  switch (action.kind) {
    case 'redrive': {
      const hooks = (await hooksOf(run, action.groupName)).filter((hook) => hook.transition === action.transition);
      const groupArn = run.groups.get(action.groupName)?.arn;
      if (hooks.length === 0 || groupArn === undefined) {
        log.warn('watch: a lost lifecycle event cannot be re-driven', { instanceId: action.instanceId, asgName: action.groupName, transition: action.transition, reason: hooks.length === 0 ? `${action.groupName} has no ${action.transition} hook any more` : 'the group has no ARN' });
        return 'not-done';
      }
      const queueUrl = action.tier === 'compute' ? config.lifecycleQueueUrl : config.storageQueueUrl;
      // One event per hook of the transition, as Auto Scaling sends them.
      for (const hook of hooks) {
        const event = buildRedriveEvent({
          id: deps.newId(), time: now, groupArn, groupName: action.groupName, hookName: hook.name, instanceId: action.instanceId, transition: action.transition,
          ...(hook.metadata !== undefined ? { metadata: hook.metadata } : {}),
        });
        await deps.queue.send(queueUrl, JSON.stringify(event), 0);
      }
      log.warn('watch: lost lifecycle event re-driven', { instanceId: action.instanceId, asgName: action.groupName, transition: action.transition, tier: action.tier, hookName: hooks.map((h) => h.name).join(','), unclaimedSince: action.unclaimedSince });
      await deps.notifier.publish(redrivenNotice(config.stage, action, hooks.map((h) => h.name), now, config.dryRun));
      deps.metrics.count(METRIC.watchRedriven, 1);
      return 'done';
    }
    case 'mark-unhealthy': {
      const result = await deps.autoScaling.setInstanceHealth(action.instanceId, 'Unhealthy', true);
      if (result !== 'set') {
        log.info('watch: node not marked Unhealthy yet', { instanceId: action.instanceId, asgName: action.groupName, reason: result === 'in-grace-period' ? 'Auto Scaling says it is within the health check grace period' : 'no group manages it any more' });
        return 'not-done';
      }
      const inService = snapshot.compute.instances.filter((i) => i.lifecycleState === 'InService').length;
      log.warn('watch: node marked Unhealthy, the group replaces it', { instanceId: action.instanceId, asgName: action.groupName, checks: action.checks, reason: action.reason, limit: action.limit, replacing: action.replacing });
      await deps.notifier.publish(replacingNotice(config.stage, action, inService, config.watch.maxReplaceShare, config.dryRun));
      deps.metrics.count(METRIC.watchMarkedUnhealthy, 1);
      return 'done';
    }
    case 'held-back':
      log.warn('watch: unhealthy nodes held back by the replacement cap', { instanceIds: action.instanceIds, limit: action.limit, replacing: action.replacing });
      await deps.notifier.publish(heldBackNotice(config.stage, snapshot.compute.name, action));
      return 'done';
    case 'cluster-wide':
      log.error('watch: cluster-wide problem, no node is replaced', { change: action.change, cause: action.cause, unhealthy: action.unhealthy });
      await deps.notifier.publish(clusterWideNotice(config.stage, snapshot.compute.name, action));
      return 'done';
    case 'cluster-recovered':
      log.info('watch: cluster-wide problem ended', { cause: action.was.cause, since: action.was.since });
      await deps.notifier.publish(recoveredNotice(config.stage, snapshot.compute.name, action, now));
      return 'done';
  }
}

function instanceOf(action: WatchAction): string | undefined {
  return action.kind === 'redrive' || action.kind === 'mark-unhealthy' ? action.instanceId : undefined;
}

/**
 * One run. Another run at work (an event delivered twice) makes this one
 * stop at once. A read that fails fails the run (nothing decided, nothing
 * remembered); an action that fails is logged and left for the next run.
 */
export async function runWatch(deps: WatchDeps, trigger: WatchTrigger, runId: string): Promise<WatchReport> {
  const { config, log } = deps;
  const now = deps.now();
  if (!(await deps.coordination.acquire(WATCH_RUN_KEY, runId, runHoldSeconds(config.watch.periodSeconds)))) {
    log.info('watch: another run is at work; this one stops', { trigger: trigger.kind });
    return { outcome: 'skipped', reason: 'another run is at work', actions: [], notes: [] };
  }
  try {
    // No Gluster health read is asked of the storage function yet: its health flow is not in this
    // version, and the storage function would refuse the request as a malformed message each period.
    const { snapshot, groups } = await readSnapshot(deps, now);
    const previous = await readState(deps);
    const decision = decideWatch(snapshot, previous, config.watch, now);
    const run: RunContext = { deps, now, snapshot, groups, hooks: new Map() };
    let state = decision.next;
    const done: Array<WatchReport['actions'][number]> = [];
    for (const action of decision.actions) {
      const instanceId = instanceOf(action);
      try {
        const outcome = await carryOut(run, action);
        state = settleAction(state, action, outcome, now);
        done.push({ kind: action.kind, ...(instanceId ? { instanceId } : {}), outcome });
      } catch (error) {
        log.error('watch: action failed; the next run tries again', { action: action.kind, ...(instanceId ? { instanceId } : {}), error: errorMessage(error) });
        done.push({ kind: action.kind, ...(instanceId ? { instanceId } : {}), outcome: 'failed' });
      }
    }
    await deps.coordination.write(WATCH_STATE_KEY, encodeWatchState(state), stateTtlSeconds(config.watch.periodSeconds));
    log.info('watch: run done', { trigger: trigger.kind, actions: done.length, notes: decision.notes });
    return { outcome: 'done', actions: done, notes: decision.notes };
  } finally {
    await deps.coordination.release(WATCH_RUN_KEY, runId);
  }
}
