import { MalformedEventError } from '../../errors';

/**
 * Both sources of the alarm function - an EventBridge "CloudWatch Alarm State
 * Change" event (via the DecisionQueue) and our own delayed re-check message -
 * are parsed into ONE normalized type, AlarmSignal.
 */
export type AlarmStateValue = 'ALARM' | 'OK' | 'INSUFFICIENT_DATA';

export interface AlarmSignal {
  readonly alarmName: string;
  readonly state: AlarmStateValue;
  readonly reason: string;
  /** ISO time of the state (event: detail.state.timestamp; re-check: when it was requested). */
  readonly at: string;
  readonly source: 'event' | 'recheck';
  /** How many re-checks led here (0 for an event); bounds the re-check chain. */
  readonly attempt: number;
  /** The most recent datapoint the alarm evaluated, when the event carries it. */
  readonly metricValue?: number;
  /** The alarm's threshold, when the event carries it. */
  readonly threshold?: number;
  /** The state the alarm left (event: detail.previousState.value, when present and valid). */
  readonly previousState?: AlarmStateValue;
}

export const RECHECK_KIND = 'pydio-autoscaler/alarm-recheck';

/** The delayed message that makes us look at an alarm again (state changes fire once). */
export interface RecheckMessage {
  readonly kind: typeof RECHECK_KIND;
  readonly version: 1;
  readonly alarmName: string;
  readonly attempt: number;
  readonly requestedAt: string;
}

const STATES: ReadonlySet<string> = new Set<AlarmStateValue>(['ALARM', 'OK', 'INSUFFICIENT_DATA']);
/** CloudWatch alarm names: 1..255 printable characters. */
const ALARM_NAME = /^[^\u0000-\u001f\u007f]{1,255}$/;
const DETAIL_TYPE = 'CloudWatch Alarm State Change';
const SOURCE = 'aws.cloudwatch';
/** Upper bound on re-check attempts a message may claim (the decision applies its own, lower limit). */
const MAX_ATTEMPT = 10_000;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field(obj: Record<string, unknown>, key: string, where: string): unknown {
  if (!(key in obj) || obj[key] === undefined || obj[key] === null) {
    throw new MalformedEventError(`${where}.${key} is missing`);
  }
  return obj[key];
}

function text(obj: Record<string, unknown>, key: string, where: string): string {
  const value = field(obj, key, where);
  if (typeof value !== 'string' || value.trim() === '') {
    throw new MalformedEventError(`${where}.${key} must be a non-empty string, got ${JSON.stringify(value)?.slice(0, 80)}`);
  }
  return value;
}

function timestamp(obj: Record<string, unknown>, key: string, where: string): string {
  const value = text(obj, key, where);
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw new MalformedEventError(`${where}.${key} is not a timestamp: ${JSON.stringify(value.slice(0, 80))}`);
  return new Date(parsed).toISOString();
}

function alarmName(obj: Record<string, unknown>, key: string, where: string): string {
  const value = text(obj, key, where);
  if (!ALARM_NAME.test(value)) throw new MalformedEventError(`${where}.${key} is not an alarm name: ${JSON.stringify(value.slice(0, 80))}`);
  return value;
}

function stateValue(obj: Record<string, unknown>, where: string): AlarmStateValue {
  const value = field(obj, 'value', where);
  if (typeof value !== 'string' || !STATES.has(value)) {
    throw new MalformedEventError(`${where}.value must be ALARM, OK or INSUFFICIENT_DATA, got ${JSON.stringify(value)?.slice(0, 80)}`);
  }
  return value as AlarmStateValue;
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * The evaluated datapoint and threshold from `state.reasonData` (a JSON
 * string: recentDatapoints, threshold) when present and readable. Optional
 * facts: an unreadable reasonData is not a malformed event.
 */
export function readReasonData(reasonData: unknown): { metricValue?: number; threshold?: number } {
  if (typeof reasonData !== 'string' || reasonData.trim() === '') return {};
  let data: unknown;
  try {
    data = JSON.parse(reasonData);
  } catch {
    return {};
  }
  if (!isObject(data)) return {};
  const points = Array.isArray(data.recentDatapoints) ? data.recentDatapoints.map(finite).filter((v): v is number => v !== undefined) : [];
  const metricValue = points.length > 0 ? points[points.length - 1] : undefined;
  const threshold = finite(data.threshold);
  return { ...(metricValue !== undefined ? { metricValue } : {}), ...(threshold !== undefined ? { threshold } : {}) };
}

/**
 * The datapoint from a CloudWatch state reason such as
 * "Threshold Crossed: 1 datapoint [85.2 (02/10/19 17:04:00)] was greater than
 * the threshold (70.0)." (DescribeAlarms returns only the text): the most
 * recent (first listed) value, or undefined when the text has none.
 */
export function metricValueFromReason(reason: string): number | undefined {
  const match = /datapoints?\s*\[\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)/.exec(reason);
  if (!match) return undefined;
  const value = Number(match[1]);
  return Number.isFinite(value) ? value : undefined;
}

function fromStateChange(event: Record<string, unknown>): AlarmSignal {
  const detailType = field(event, 'detail-type', 'event');
  if (detailType !== DETAIL_TYPE) {
    throw new MalformedEventError(`event.detail-type must be ${JSON.stringify(DETAIL_TYPE)}, got ${JSON.stringify(detailType)?.slice(0, 80)}`);
  }
  const source = field(event, 'source', 'event');
  if (source !== SOURCE) throw new MalformedEventError(`event.source must be ${SOURCE}, got ${JSON.stringify(source)?.slice(0, 80)}`);
  const detail = field(event, 'detail', 'event');
  if (!isObject(detail)) throw new MalformedEventError('event.detail must be an object');
  const state = field(detail, 'state', 'detail');
  if (!isObject(state)) throw new MalformedEventError('detail.state must be an object');
  const reasonValue = state.reason;
  const facts = readReasonData(state.reasonData);
  const reason = typeof reasonValue === 'string' ? reasonValue : '';
  const metricValue = facts.metricValue ?? metricValueFromReason(reason);
  // Optional: an event without a readable previous state is still a state change.
  const previous = isObject(detail.previousState) ? detail.previousState.value : undefined;
  const previousState = typeof previous === 'string' && STATES.has(previous) ? (previous as AlarmStateValue) : undefined;
  return {
    alarmName: alarmName(detail, 'alarmName', 'detail'),
    state: stateValue(state, 'detail.state'),
    reason,
    at: timestamp(state, 'timestamp', 'detail.state'),
    source: 'event',
    attempt: 0,
    ...(metricValue !== undefined ? { metricValue } : {}),
    ...(facts.threshold !== undefined ? { threshold: facts.threshold } : {}),
    ...(previousState !== undefined ? { previousState } : {}),
  };
}

function fromRecheck(message: Record<string, unknown>): AlarmSignal {
  if (message.version !== 1) throw new MalformedEventError(`recheck.version must be 1, got ${JSON.stringify(message.version)?.slice(0, 40)}`);
  const attempt = field(message, 'attempt', 'recheck');
  if (typeof attempt !== 'number' || !Number.isInteger(attempt) || attempt < 1 || attempt > MAX_ATTEMPT) {
    throw new MalformedEventError(`recheck.attempt must be a whole number from 1 to ${MAX_ATTEMPT}, got ${JSON.stringify(attempt)?.slice(0, 40)}`);
  }
  return {
    alarmName: alarmName(message, 'alarmName', 'recheck'),
    // The state as last seen; the use case replaces it with the alarm's current state (DescribeAlarms).
    state: 'ALARM',
    reason: 're-check of an alarm that was still in ALARM',
    at: timestamp(message, 'requestedAt', 'recheck'),
    source: 'recheck',
    attempt,
  };
}

export function isRecheck(value: unknown): boolean {
  return isObject(value) && value.kind === RECHECK_KIND;
}

/** Parses a queue message body (already JSON-decoded) into an AlarmSignal, or throws MalformedEventError naming the field. */
export function parseAlarmMessage(value: unknown): AlarmSignal {
  if (!isObject(value)) throw new MalformedEventError('message must be a JSON object');
  return isRecheck(value) ? fromRecheck(value) : fromStateChange(value);
}

/** The body of the next re-check of `alarmName`. */
export function encodeRecheck(alarmName: string, attempt: number, requestedAt: Date): string {
  const message: RecheckMessage = { kind: RECHECK_KIND, version: 1, alarmName, attempt, requestedAt: requestedAt.toISOString() };
  return JSON.stringify(message);
}
