import type { AutoScalingPort, ScalingActivity, ScalingPort } from '../ports/autoscaling';
import type { AlarmDescription, MetricsPort } from '../ports/cloudwatch';
import type { NotifierPort } from '../ports/sns';
import type { QueueMessage, QueuePort } from '../ports/sqs';
import type { ScalingConfig } from '../config/scaling';
import { parseJsonBody, rejectMalformed } from './intake';
import { encodeRecheck, metricValueFromReason, parseAlarmMessage, type AlarmSignal } from '../core/scaling/alarm-event';
import { alarmRoleOf, decideScaling, type ScalingDecision, type ScalingSnapshot } from '../core/scaling/decide';
import { decisionLogFields, isWorthTelling, scalingNotification, type DecisionReport } from '../core/scaling/messages';
import { METRIC } from '../core/scaling/metric-names';
import { DECISION_LOGGED, type LoggedNotice } from '../core/log-messages';
import type { Log } from '../logger';
import type { MetricsSink } from '../ports/metrics';
import type { StorageExpansionPort } from '../ports/storage';

export interface AlarmDeps {
  readonly config: ScalingConfig;
  readonly autoScaling: Pick<AutoScalingPort, 'describeGroup'> & Pick<ScalingPort, 'setDesiredCapacity' | 'describeScalingActivities'>;
  readonly alarms: Pick<MetricsPort, 'describeAlarms'>;
  /** The storage tier, or the clearly marked "not deployed" default (storage-not-deployed.ts). */
  readonly storage: StorageExpansionPort & { readonly deployed?: boolean };
  readonly notifier: NotifierPort;
  readonly queue: QueuePort;
  readonly metrics: MetricsSink;
  readonly log: Log;
  readonly now: () => Date;
}

export type AlarmOutcome = 'acted' | 'refused' | 'no-action' | 'rejected';

/** Activities read to find the last one; the newest come first. */
const ACTIVITIES_READ = 20;
/** Activity states that have ended (the rest are still running). */
const ENDED = new Set(['Successful', 'Failed', 'Cancelled']);

/** The group's cooldown facts from its own scaling activities. */
export function activityFacts(activities: readonly ScalingActivity[]): { lastActivityEnd?: Date; activityInProgress: boolean } {
  const activityInProgress = activities.some((activity) => !ENDED.has(activity.statusCode));
  let lastActivityEnd: Date | undefined;
  for (const activity of activities) {
    if (activity.statusCode !== 'Successful' || !activity.endTime) continue;
    if (!lastActivityEnd || activity.endTime.getTime() > lastActivityEnd.getTime()) lastActivityEnd = activity.endTime;
  }
  return { ...(lastActivityEnd ? { lastActivityEnd } : {}), activityInProgress };
}

/**
 * The signal as it stands now: a re-check takes the alarm's current state
 * (DescribeAlarms); an event takes it too when the alarm changed since (a
 * queued event may be stale). A re-check of an alarm that no longer exists
 * stops the chain.
 */
export function currentSignal(signal: AlarmSignal, alarm: AlarmDescription | undefined): AlarmSignal {
  if (!alarm) {
    return signal.source === 'recheck'
      ? { ...signal, state: 'INSUFFICIENT_DATA', reason: `alarm ${signal.alarmName} no longer exists` }
      : signal;
  }
  const newer = alarm.stateUpdated.getTime() > Date.parse(signal.at);
  if (signal.source === 'event' && !newer) return signal;
  const metricValue = metricValueFromReason(alarm.stateReason);
  // What the event says the alarm left no longer applies to the state read now.
  const { metricValue: _stale, previousState: _left, ...rest } = signal;
  return {
    ...rest,
    state: alarm.state,
    reason: alarm.stateReason,
    at: alarm.stateUpdated.toISOString(),
    ...(metricValue !== undefined ? { metricValue } : {}),
  };
}

function reject(deps: AlarmDeps, error: unknown, body: string): Promise<AlarmOutcome> {
  return rejectMalformed(deps, error, body, 'alarm message');
}

async function gatherSnapshot(
  signal: AlarmSignal,
  deps: AlarmDeps,
): Promise<{ signal: AlarmSignal; snapshot: ScalingSnapshot; notes: string[]; alarmFound: boolean }> {
  const { config } = deps;
  const notes: string[] = [];
  const role = alarmRoleOf(signal.alarmName, config.alarms);
  const [alarm] = await deps.alarms.describeAlarms([signal.alarmName]);
  const current = currentSignal(signal, alarm);
  const base = {
    alarmRole: role,
    ...(current.metricValue !== undefined ? { metricValue: current.metricValue } : {}),
    ...((alarm?.threshold ?? current.threshold) !== undefined ? { threshold: alarm?.threshold ?? current.threshold } : {}),
    activityInProgress: false,
    now: deps.now(),
    storageHealthy: { healthy: true },
    dataVolume: config.dataVolume,
  };
  const alarmFound = alarm !== undefined;
  if (current.state !== 'ALARM' || role === 'unknown') return { signal: current, snapshot: base, notes, alarmFound };

  const groupName = role === 'disk-high' ? config.storageGroupName : config.computeGroupName;
  const group = groupName ? await deps.autoScaling.describeGroup(groupName) : undefined;
  let snapshot: ScalingSnapshot = {
    ...base,
    ...(group
      ? {
          group: {
            name: group.name,
            min: group.minSize,
            max: group.maxSize,
            desired: group.desiredCapacity,
            instances: group.instances.map((i) => ({ instanceId: i.instanceId, lifecycleState: i.lifecycleState })),
          },
        }
      : {}),
  };
  if (group && role !== 'disk-high') {
    snapshot = { ...snapshot, ...activityFacts(await deps.autoScaling.describeScalingActivities(group.name, ACTIVITIES_READ)) };
  }
  if (role === 'cpu-high') {
    const health = await deps.storage.volumesHealth();
    snapshot = { ...snapshot, storageHealthy: health };
    if (health.healthy && health.reason) notes.push(health.reason);
  }
  if (role === 'disk-high' && deps.storage.deployed === false) notes.push('storage tier not deployed in this stage: expansion cannot start');
  return { signal: current, snapshot, notes, alarmFound };
}

async function act(
  decision: ScalingDecision,
  deps: AlarmDeps,
): Promise<{ outcome: DecisionReport['outcome']; outcomeNote?: string }> {
  const { config } = deps;
  if (decision.kind === 'scale') {
    // HonorCooldown false: our own cooldown rule (from the group's activities) was applied already.
    const result = await deps.autoScaling.setDesiredCapacity(decision.group, decision.to, false);
    if (result === 'in-progress') return { outcome: 'refused', outcomeNote: 'AWS refused: a scaling activity is in progress' };
    return { outcome: 'acted', outcomeNote: config.dryRun ? `dry run: would set desired capacity to ${decision.to}` : `desired capacity set to ${decision.to}` };
  }
  if (decision.kind === 'expand-storage') {
    const answer = await deps.storage.requestExpansion({ volume: decision.volume, sets: decision.sets, reason: decision.why, dryRun: config.dryRun });
    if (!answer.accepted) return { outcome: 'refused', outcomeNote: answer.reason ?? 'the storage tier refused without a reason' };
    return { outcome: 'acted', outcomeNote: `storage expansion accepted${config.dryRun ? ' (dry run)' : ''}${answer.reason ? `: ${answer.reason}` : ''}` };
  }
  return { outcome: 'no-action' };
}

function recordMetrics(report: DecisionReport, metrics: MetricsSink): void {
  const { decision } = report;
  if (report.outcome !== 'acted') {
    if (decision.kind !== 'none') metrics.count(METRIC.scaleSuppressed, 1);
  } else if (decision.kind === 'scale') {
    metrics.count(decision.direction === 'out' ? METRIC.scaleOut : METRIC.scaleIn, Math.abs(decision.to - decision.from));
  }
  if (decision.kind === 'expand-storage') metrics.count(METRIC.storageExpansionRequested, 1);
}

/**
 * Handle one DecisionQueue message (alarm state change or re-check):
 * gather the snapshot through the ports, decide, act, then report once
 * (one notification, one log line, metrics) and enqueue the re-check.
 * Transient AWS errors are thrown so the queue re-delivers the message.
 */
export async function handleAlarmMessage(message: QueueMessage, deps: AlarmDeps): Promise<AlarmOutcome> {
  const { config, log } = deps;
  let parsed: unknown;
  try {
    parsed = parseJsonBody(message.body);
  } catch (error) {
    return reject(deps, error, message.body);
  }
  let received: AlarmSignal;
  try {
    received = parseAlarmMessage(parsed);
  } catch (error) {
    return reject(deps, error, message.body);
  }

  const { signal, snapshot, notes, alarmFound } = await gatherSnapshot(received, deps);
  const decision = decideScaling(signal, snapshot, config.scaling);
  const { outcome, outcomeNote } = await act(decision, deps);
  // AWS refusing a scale (activity in progress) is retried like a busy group.
  const retryRefused = outcome === 'refused' && decision.kind === 'scale' && signal.attempt < config.scaling.maxRechecks;
  const recheckAfterSeconds = decision.recheckAfterSeconds ?? (retryRefused ? config.scaling.busyRecheckSeconds : undefined);
  const finalDecision: ScalingDecision = recheckAfterSeconds === undefined ? decision : { ...decision, recheckAfterSeconds };
  const report: DecisionReport = {
    stage: config.stage,
    dryRun: config.dryRun,
    signal,
    snapshot,
    cooldownSeconds: config.scaling.cooldownSeconds,
    decision: finalDecision,
    outcome,
    ...(outcomeNote ? { outcomeNote } : {}),
    notes,
  };

  const notify = isWorthTelling(report, received, alarmFound);
  const notice = notify ? scalingNotification(report) : undefined;
  if (notice) await deps.notifier.publish(notice);
  // The operator CLI's `decisions` reads this line from CloudWatch Logs (lib/core/log-messages.ts).
  const logged: LoggedNotice | undefined = notice ? { subject: notice.subject, eventType: notice.eventType, severity: notice.severity } : undefined;
  log.info(DECISION_LOGGED, { messageId: message.messageId, ...decisionLogFields(report), notified: notify, ...(logged ? { notice: logged } : {}) });
  recordMetrics(report, deps.metrics);
  if (recheckAfterSeconds !== undefined) {
    await deps.queue.send(config.decisionQueueUrl, encodeRecheck(signal.alarmName, signal.attempt + 1, deps.now()), recheckAfterSeconds);
  }
  return outcome;
}
