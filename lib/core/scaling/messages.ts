import { formatDuration } from '../messages';
import { bodyLines, buildNotification, type Fact, type Notification } from '../notification';
import type { AlarmSignal } from './alarm-event';
import { cooldownLeftSeconds, type ScalingDecision, type ScalingSnapshot } from './decide';

/**
 * One notification per scaling decision: acted (scaling.decided) or
 * suppressed and why (scaling.suppressed). The subject says what, the body
 * lists the facts one per line.
 */
export interface DecisionReport {
  readonly stage: string;
  readonly dryRun: boolean;
  readonly signal: AlarmSignal;
  readonly snapshot: ScalingSnapshot;
  readonly cooldownSeconds: number;
  readonly decision: ScalingDecision;
  /**
   * 'acted': the action was taken (or, in dry run, would have been);
   * 'refused': the decision was to act but AWS or the storage tier refused
   * (outcomeNote says why); 'no-action': suppressed or none.
   */
  readonly outcome: 'acted' | 'refused' | 'no-action';
  readonly outcomeNote?: string;
  /** Extra facts a person must know (e.g. the storage tier is not deployed). */
  readonly notes: readonly string[];
}

/** "Label: value" lines. Unlike factLines, a value of several lines stays on its label's line (as these bodies always read). */
function facts(rows: readonly Fact[]): string {
  return bodyLines(rows.map(([label, value]) => (value === undefined || value === '' ? undefined : `${label}: ${value}`)));
}

function num(value: number | undefined): string {
  return value === undefined ? 'unknown' : String(Math.round(value * 100) / 100);
}

/** Short subject line of a decision (before the stage prefix). */
export function decisionHeadline(report: DecisionReport): string {
  const { decision, signal } = report;
  const refused = report.outcome === 'refused' ? ' REFUSED' : '';
  switch (decision.kind) {
    case 'scale':
      return `scale-${decision.direction}${refused} ${decision.group} ${decision.from}->${decision.to} (${signal.alarmName})`;
    case 'expand-storage':
      return `storage expansion${refused ? ' not started' : ' requested'} for ${decision.volume} (${signal.alarmName})`;
    case 'suppressed':
      return `scaling suppressed (${decision.rule}): ${signal.alarmName}`;
    case 'none':
      return `no scaling: ${signal.alarmName} is ${signal.state}`;
  }
}

/**
 * Whether ops hear about a decision (it is logged either way). Every action,
 * suppression, refusal and note is told, and so is anything about an alarm in
 * ALARM. Doing nothing about an alarm out of ALARM is told when it is news: the
 * alarm recovered (ALARM -> OK), lost its data (-> INSUFFICIENT_DATA), or no
 * longer exists. Not told: the alarm's first evaluation (INSUFFICIENT_DATA -> OK),
 * and a re-check or a stale event finding the alarm already out of ALARM (that
 * change has its own event, told on its own).
 */
export function isWorthTelling(report: DecisionReport, received: AlarmSignal, alarmFound: boolean): boolean {
  const { signal } = report;
  if (report.decision.kind !== 'none' || report.outcome !== 'no-action' || report.notes.length > 0) return true;
  if (signal.state === 'ALARM' || !alarmFound) return true;
  // Re-checks, and events whose state the alarm has left since (that change has an event of its own).
  // Not the timestamps: the alarm's StateUpdatedTimestamp may differ from its event's by a moment.
  if (received.source === 'recheck' || received.state !== signal.state) return false;
  if (signal.state === 'INSUFFICIENT_DATA') return true;
  return received.previousState !== 'INSUFFICIENT_DATA';
}

export function isSuppressed(report: DecisionReport): boolean {
  return report.decision.kind === 'suppressed' || report.outcome === 'refused';
}

export function scalingNotification(report: DecisionReport): Notification {
  const { decision, signal, snapshot } = report;
  const suppressed = isSuppressed(report);
  const group = snapshot.group;
  const after = decision.kind === 'scale' && report.outcome === 'acted' ? decision.to : group?.desired;
  const left = cooldownLeftSeconds(snapshot.lastActivityEnd, report.cooldownSeconds, snapshot.now);
  const body = facts([
    ['Decision', decision.kind === 'suppressed' ? `suppressed (${decision.rule})` : decision.kind],
    ['Why', decision.why],
    ['Outcome', report.outcome === 'refused' ? `not done: ${report.outcomeNote ?? 'refused'}` : report.outcomeNote],
    ['Alarm', `${signal.alarmName} is ${signal.state} (${signal.source === 'recheck' ? `re-check ${signal.attempt}` : 'state change event'}, ${signal.at})`],
    ['Alarm reason', signal.reason],
    ['Value vs threshold', `${num(snapshot.metricValue)} vs ${num(snapshot.threshold)}`],
    ['Group', group ? `${group.name} min ${group.min} / max ${group.max}` : undefined],
    ['Desired before', group ? String(group.desired) : undefined],
    ['Desired after', after !== undefined ? String(after) : undefined],
    ['Cooldown left', group ? (left > 0 ? `${formatDuration(left)} of ${formatDuration(report.cooldownSeconds)}` : 'none') : undefined],
    ['Next re-check', decision.recheckAfterSeconds !== undefined ? `in ${formatDuration(decision.recheckAfterSeconds)} if still ALARM` : 'none'],
    ['Notes', report.notes.length > 0 ? report.notes.join('; ') : undefined],
    ['Dry run', report.dryRun ? 'yes: decided and reported, nothing changed' : undefined],
  ]);
  return buildNotification({
    stage: report.stage,
    eventType: suppressed ? 'scaling.suppressed' : 'scaling.decided',
    severity: report.outcome === 'refused' || (decision.kind === 'suppressed' && decision.rule === 'storage-unhealthy') ? 'warning' : 'info',
    subject: decisionHeadline(report),
    body,
    attributes: {
      alarmName: signal.alarmName,
      decision: decision.kind,
      ...(group ? { asgName: group.name } : {}),
      ...(decision.kind === 'suppressed' ? { rule: decision.rule } : {}),
    },
  });
}

/** The one structured log line of a decision (keys, not prose). */
export function decisionLogFields(report: DecisionReport): Record<string, unknown> {
  const { decision, signal, snapshot } = report;
  return {
    alarmName: signal.alarmName,
    alarmState: signal.state,
    source: signal.source,
    attempt: signal.attempt,
    alarmRole: snapshot.alarmRole,
    metricValue: snapshot.metricValue,
    threshold: snapshot.threshold,
    ...(snapshot.group ? { asgName: snapshot.group.name, min: snapshot.group.min, max: snapshot.group.max, desired: snapshot.group.desired } : {}),
    decision: decision.kind,
    ...(decision.kind === 'scale' ? { from: decision.from, to: decision.to, direction: decision.direction } : {}),
    ...(decision.kind === 'suppressed' ? { rule: decision.rule } : {}),
    ...(decision.kind === 'expand-storage' ? { volume: decision.volume, sets: decision.sets } : {}),
    outcome: report.outcome,
    ...(report.outcomeNote ? { outcomeNote: report.outcomeNote } : {}),
    why: decision.why,
    recheckAfterSeconds: decision.recheckAfterSeconds,
    ...(report.notes.length ? { notes: report.notes } : {}),
    dryRun: report.dryRun,
  };
}
