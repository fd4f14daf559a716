/**
 * Recent decisions and notices, read back from the functions' log lines (pure:
 * the log events in, the entries out). The alarm function logs one line per
 * scaling decision with the notice it sent; the SNS adapter of every function
 * logs one line per notice published (lib/core/log-messages.ts).
 */
import { DECISION_LOGGED, NOTICE_LOGGED, type LoggedNotice } from '../core/log-messages';
import type { LogEvent } from '../ports/logs';
import type { FunctionKey } from './names';

export interface DecisionEntry {
  readonly kind: 'decision';
  readonly at: string;
  readonly alarmName: string;
  readonly alarmState: string;
  /** scale, suppressed, expand-storage, none, ... (lib/core/scaling/decide.ts) */
  readonly decision: string;
  readonly outcome: string;
  readonly outcomeNote?: string;
  readonly why: string;
  readonly group?: string;
  readonly from?: number;
  readonly to?: number;
  readonly dryRun: boolean;
  /** The notice the decision sent; absent when it was logged only. */
  readonly notice?: LoggedNotice;
  /** The invocation's request id (Powertools' function_request_id): `sls logs` and the console find the whole invocation by it. */
  readonly requestId?: string;
}

export interface NoticeEntry extends LoggedNotice {
  readonly kind: 'notice';
  readonly at: string;
  /** The function that sent it. */
  readonly function: FunctionKey;
  readonly requestId?: string;
}

export type Entry = DecisionEntry | NoticeEntry;

/** FilterLogEvents quoted-term patterns: the events holding exactly this phrase. */
export const DECISION_PATTERN = `"${DECISION_LOGGED}"`;
export const NOTICE_PATTERN = `"${NOTICE_LOGGED}"`;

/** The JSON object of a log event: Powertools writes bare JSON lines; a runtime prefix (timestamp, request id, level) is skipped. */
function logObject(message: string): Record<string, unknown> | undefined {
  const start = message.indexOf('{');
  if (start < 0) return undefined;
  try {
    const value = JSON.parse(message.slice(start)) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function notice(v: unknown): LoggedNotice | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const subject = text(o.subject);
  const eventType = text(o.eventType);
  const severity = text(o.severity);
  return subject !== undefined && eventType !== undefined && severity !== undefined ? { subject, eventType, severity } : undefined;
}

function iso(event: LogEvent, o: Record<string, unknown>): string {
  const logged = text(o.timestamp);
  return logged !== undefined && !Number.isNaN(Date.parse(logged)) ? new Date(Date.parse(logged)).toISOString() : new Date(event.timestamp).toISOString();
}

/** A decision line of the alarm function; anything else (another line quoting the phrase) is undefined. */
export function decisionOf(event: LogEvent): DecisionEntry | undefined {
  const o = logObject(event.message);
  if (o === undefined || o.message !== DECISION_LOGGED) return undefined;
  const decision = text(o.decision);
  const outcome = text(o.outcome);
  if (decision === undefined || outcome === undefined) return undefined;
  const told = notice(o.notice);
  const from = count(o.from);
  const to = count(o.to);
  const group = text(o.asgName);
  const note = text(o.outcomeNote);
  const requestId = text(o.function_request_id);
  return {
    kind: 'decision',
    at: iso(event, o),
    alarmName: text(o.alarmName) ?? '',
    alarmState: text(o.alarmState) ?? '',
    decision,
    outcome,
    ...(note !== undefined ? { outcomeNote: note } : {}),
    why: text(o.why) ?? '',
    ...(group !== undefined ? { group } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    dryRun: o.dryRun === true,
    ...(told ? { notice: told } : {}),
    ...(requestId !== undefined ? { requestId } : {}),
  };
}

/** A notice line of the SNS adapter, in the log of `fn`. */
export function noticeOf(event: LogEvent, fn: FunctionKey): NoticeEntry | undefined {
  const o = logObject(event.message);
  if (o === undefined || o.message !== NOTICE_LOGGED) return undefined;
  const told = notice(o);
  const requestId = text(o.function_request_id);
  return told ? { kind: 'notice', at: iso(event, o), function: fn, ...told, ...(requestId !== undefined ? { requestId } : {}) } : undefined;
}

/**
 * The newest `limit` entries, oldest first. A decision carries the notice it sent, so the
 * same notice's own line (same invocation of the alarm function) is not listed again.
 */
export function newest(entries: readonly Entry[], limit: number): Entry[] {
  const decidedIn = new Set(entries.flatMap((e) => (e.kind === 'decision' && e.notice && e.requestId !== undefined ? [e.requestId] : [])));
  const kept = entries.filter((e) => !(e.kind === 'notice' && e.function === 'alarm' && e.requestId !== undefined && decidedIn.has(e.requestId)));
  return kept.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)).slice(-limit);
}
