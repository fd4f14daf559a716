/**
 * CloudWatch alarm evaluation, emulated: moto stores alarms and metrics but
 * never evaluates an alarm. Every alarm period (and on evaluateNow()) this
 * reads, for each alarm of the stack, the last EvaluationPeriods complete
 * periods with GetMetricStatistics, decides the state as CloudWatch does
 * (M of N, DatapointsToAlarm defaulting to EvaluationPeriods,
 * TreatMissingData), and on a change sets the state in moto with
 * CloudWatch's reason text and StateReasonData, then publishes the
 * "CloudWatch Alarm State Change" event through the EventBus (to the
 * matching rules' SQS targets).
 *
 * `evaluateAlarm` is the pure decision (no I/O, no clock of its own).
 */
import { exactStatistics } from './metric-statistics';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  SetAlarmStateCommand,
  type MetricAlarm,
  type Statistic,
} from '@aws-sdk/client-cloudwatch';
import { alarmStateChangeEvent, cloudWatchTime } from './alarm-events';
import type { Delivery, EventBus } from './event-bus';

// ---------------------------------------------------------------- pure evaluation

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export type Comparison = 'GreaterThanThreshold' | 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold';
export type TreatMissingData = 'missing' | 'ignore' | 'breaching' | 'notBreaching';

export interface AlarmRule {
  readonly statistic: string;
  readonly period: number;
  readonly evaluationPeriods: number;
  /** M of "M out of N"; CloudWatch's default is EvaluationPeriods. */
  readonly datapointsToAlarm: number;
  readonly threshold: number;
  readonly comparison: Comparison;
  readonly treatMissingData: TreatMissingData;
}

/** One evaluated period: its start (ms since epoch) and the statistic's value, if any datapoint fell in it. */
export interface PeriodValue {
  readonly start: number;
  readonly value?: number;
  readonly sampleCount?: number;
}

export interface Evaluation {
  readonly state: AlarmState;
  /** CloudWatch's StateReason text. */
  readonly reason: string;
  /** CloudWatch's StateReasonData (JSON-serializable). */
  readonly reasonData: Record<string, unknown>;
  /** The present values, newest first (as the reason lists them). */
  readonly datapoints: readonly number[];
  readonly breaching: number;
}

export class AlarmEvaluationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AlarmEvaluationError';
  }
}

const COMPARISONS: Readonly<Record<Comparison, { test: (v: number, t: number) => boolean; words: string }>> = {
  GreaterThanThreshold: { test: (v, t) => v > t, words: 'greater than' },
  GreaterThanOrEqualToThreshold: { test: (v, t) => v >= t, words: 'greater than or equal to' },
  LessThanThreshold: { test: (v, t) => v < t, words: 'less than' },
  LessThanOrEqualToThreshold: { test: (v, t) => v <= t, words: 'less than or equal to' },
};
const TREATMENTS: ReadonlySet<string> = new Set<TreatMissingData>(['missing', 'ignore', 'breaching', 'notBreaching']);

export function isComparison(value: string): value is Comparison {
  return value in COMPARISONS;
}

export function validateRule(rule: AlarmRule): void {
  if (!Number.isInteger(rule.period) || rule.period < 1) throw new AlarmEvaluationError(`alarm period must be a whole number of seconds >= 1, got ${rule.period}`);
  if (!Number.isInteger(rule.evaluationPeriods) || rule.evaluationPeriods < 1) throw new AlarmEvaluationError(`EvaluationPeriods must be a whole number >= 1, got ${rule.evaluationPeriods}`);
  if (!Number.isInteger(rule.datapointsToAlarm) || rule.datapointsToAlarm < 1 || rule.datapointsToAlarm > rule.evaluationPeriods) {
    throw new AlarmEvaluationError(`DatapointsToAlarm must be a whole number from 1 to EvaluationPeriods (${rule.evaluationPeriods}), got ${rule.datapointsToAlarm}`);
  }
  if (!Number.isFinite(rule.threshold)) throw new AlarmEvaluationError(`threshold must be a finite number, got ${rule.threshold}`);
  if (!isComparison(rule.comparison)) throw new AlarmEvaluationError(`ComparisonOperator '${String(rule.comparison)}' is not a static threshold comparison`);
  if (!TREATMENTS.has(rule.treatMissingData)) throw new AlarmEvaluationError(`TreatMissingData must be missing, ignore, breaching or notBreaching, got '${String(rule.treatMissingData)}'`);
}

/** 21/11/26 21:40:00 (dd/MM/yy HH:mm:ss, UTC), as in CloudWatch's reasons. */
export function reasonTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${two(d.getUTCMonth() + 1)}/${two(d.getUTCFullYear() % 100)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

/** 70 -> "70.0", 85.123 -> "85.123" (Java's Double.toString, as CloudWatch prints). */
export function reasonNumber(value: number): string {
  const rounded = Math.round(value * 1e6) / 1e6;
  return Number.isInteger(rounded) ? `${rounded}.0` : String(rounded);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * The state an alarm takes from its last N periods (`periods`, oldest first,
 * exactly EvaluationPeriods of them), as CloudWatch decides it:
 * - a present datapoint breaches when `value <comparison> threshold`;
 * - missing periods count as breaching / not breaching for those treatments;
 *   for `missing` and `ignore` they are left out;
 * - at least M breaching -> ALARM; otherwise, with at least one datapoint
 *   (present or treated), OK; with none, INSUFFICIENT_DATA for `missing` and
 *   the current state for `ignore`.
 */
export function evaluateAlarm(rule: AlarmRule, periods: readonly PeriodValue[], current: AlarmState, queryTime: number): Evaluation {
  validateRule(rule);
  if (periods.length !== rule.evaluationPeriods) throw new AlarmEvaluationError(`evaluation needs exactly ${rule.evaluationPeriods} periods, got ${periods.length}`);
  const cmp = COMPARISONS[rule.comparison];
  const newestFirst = [...periods].sort((a, b) => b.start - a.start);
  const present = newestFirst.filter((p): p is PeriodValue & { value: number } => p.value !== undefined && Number.isFinite(p.value));
  const missing = newestFirst.length - present.length;
  const presentBreaching = present.filter((p) => cmp.test(p.value, rule.threshold)).length;
  const treatedBreaching = rule.treatMissingData === 'breaching' ? missing : 0;
  const treatedOk = rule.treatMissingData === 'notBreaching' ? missing : 0;
  const breaching = presentBreaching + treatedBreaching;
  const considered = present.length + treatedBreaching + treatedOk;
  const m = rule.datapointsToAlarm;
  const threshold = reasonNumber(rule.threshold);
  const list = `[${present.map((p) => `${reasonNumber(p.value)} (${reasonTime(p.start)})`).join(', ')}]`;

  let state: AlarmState;
  let reason: string;
  if (breaching >= m) {
    state = 'ALARM';
    const counted = present.length === 1 && rule.evaluationPeriods === 1 ? `1 datapoint ${list} was` : `${breaching} out of the last ${plural(rule.evaluationPeriods, 'datapoint')} ${list} ${breaching === 1 ? 'was' : 'were'}`;
    reason = `Threshold Crossed: ${counted} ${cmp.words} the threshold (${threshold})${rule.evaluationPeriods > 1 ? ` (minimum ${plural(m, 'datapoint')} for OK -> ALARM transition)` : ''}.`;
  } else if (considered > 0) {
    state = 'OK';
    const ok = considered - breaching;
    const needed = rule.evaluationPeriods - m + 1;
    const counted = present.length === 1 && rule.evaluationPeriods === 1 ? `1 datapoint ${list} was` : `${ok} out of the last ${plural(rule.evaluationPeriods, 'datapoint')} ${list} ${ok === 1 ? 'was' : 'were'}`;
    reason = `Threshold Crossed: ${counted} not ${cmp.words} the threshold (${threshold})${rule.evaluationPeriods > 1 ? ` (minimum ${plural(needed, 'datapoint')} for ALARM -> OK transition)` : ''}.`;
  } else if (rule.treatMissingData === 'ignore') {
    state = current;
    reason = `Insufficient Data: ${plural(rule.evaluationPeriods, 'datapoint')} ${rule.evaluationPeriods === 1 ? 'was' : 'were'} unknown; the state is kept (TreatMissingData ignore).`;
  } else {
    state = 'INSUFFICIENT_DATA';
    reason = `Insufficient Data: ${plural(rule.evaluationPeriods, 'datapoint')} ${rule.evaluationPeriods === 1 ? 'was' : 'were'} unknown.`;
  }

  const oldest = periods.reduce((min, p) => Math.min(min, p.start), Infinity);
  const reasonData: Record<string, unknown> = {
    version: '1.0',
    queryDate: cloudWatchTime(queryTime),
    startDate: cloudWatchTime(oldest),
    statistic: rule.statistic,
    period: rule.period,
    // Oldest first, as CloudWatch lists them.
    recentDatapoints: [...present].reverse().map((p) => p.value),
    threshold: rule.threshold,
    evaluatedDatapoints: newestFirst.map((p) =>
      p.value !== undefined ? { timestamp: cloudWatchTime(p.start), sampleCount: p.sampleCount ?? 1, value: p.value } : { timestamp: cloudWatchTime(p.start) },
    ),
  };
  return { state, reason, reasonData, datapoints: present.map((p) => p.value), breaching };
}

/** Start times of the last `n` complete periods before `now`, oldest first (periods aligned to the epoch). */
export function completePeriods(now: number, periodSeconds: number, n: number): number[] {
  const p = periodSeconds * 1000;
  const lastEnd = Math.floor(now / p) * p;
  return Array.from({ length: n }, (_, i) => lastEnd - (n - i) * p);
}

// ---------------------------------------------------------------- the evaluator

export interface AlarmTransition {
  readonly at: number;
  readonly alarmName: string;
  readonly from: string;
  readonly to: string;
  readonly reason: string;
  /** The evaluated values, newest first. */
  readonly datapoints: readonly number[];
}

export interface AlarmEvaluatorOptions {
  /** Where the alarms and metrics live (moto; the control-plane front forwards there too). */
  readonly clientConfig: object;
  /** Delivers the state-change events (the control plane's EventBridge emulation). */
  readonly bus: Pick<EventBus, 'publish'>;
  /** Only alarms whose name starts with this are evaluated (e.g. `pydio-autoscaler-<stage>-`). */
  readonly alarmNamePrefix: string;
  /** How often the evaluator runs by itself (default: the shortest alarm period, read at the first run; at least 1 s). */
  readonly intervalSeconds?: number;
  /** Delay after a period boundary before evaluating, so the agent's last samples have landed (default 1500 ms). */
  readonly settleMs?: number;
  readonly now?: () => number;
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
  /** Called after each transition was delivered. */
  readonly onTransition?: (t: AlarmTransition) => void;
}

function ruleOf(alarm: MetricAlarm): AlarmRule {
  const name = alarm.AlarmName ?? '?';
  const comparison = alarm.ComparisonOperator ?? '';
  if (!isComparison(comparison)) throw new AlarmEvaluationError(`alarm ${name}: ComparisonOperator '${comparison}' is not emulated`);
  const statistic = alarm.Statistic ?? '';
  if (statistic === '') throw new AlarmEvaluationError(`alarm ${name}: only alarms on a Statistic are emulated (ExtendedStatistic / Metrics math are not)`);
  const evaluationPeriods = alarm.EvaluationPeriods ?? 0;
  const treat = (alarm.TreatMissingData ?? 'missing') as TreatMissingData;
  return {
    statistic,
    period: alarm.Period ?? 0,
    evaluationPeriods,
    datapointsToAlarm: alarm.DatapointsToAlarm ?? evaluationPeriods,
    threshold: alarm.Threshold ?? Number.NaN,
    comparison,
    treatMissingData: treat,
  };
}

/** moto's reason for an alarm never evaluated (its state is OK then). */
const MOTO_INITIAL_REASON = 'Unchecked: Initial alarm creation';

function isState(value: string | undefined): value is AlarmState {
  return value === 'OK' || value === 'ALARM' || value === 'INSUFFICIENT_DATA';
}

export class AlarmEvaluator {
  private readonly cw: CloudWatchClient;
  private readonly now: () => number;
  private readonly log: (message: string, fields?: Record<string, unknown>) => void;
  private readonly made: AlarmTransition[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<readonly AlarmTransition[]> | undefined;
  private stopped = false;

  constructor(private readonly options: AlarmEvaluatorOptions) {
    if (!/^[^\u0000-\u001f\u007f]{1,255}$/.test(options.alarmNamePrefix)) throw new AlarmEvaluationError(`alarm name prefix must be 1-255 printable characters, got '${options.alarmNamePrefix}'`);
    if (options.intervalSeconds !== undefined && !(options.intervalSeconds >= 1 && options.intervalSeconds <= 3600)) {
      throw new AlarmEvaluationError(`intervalSeconds must be 1-3600, got ${options.intervalSeconds}`);
    }
    this.cw = new CloudWatchClient(options.clientConfig);
    this.now = options.now ?? (() => Date.now());
    this.log = options.log ?? (() => undefined);
  }

  /** Every transition so far, oldest first. */
  transitions(): readonly AlarmTransition[] {
    return [...this.made];
  }

  /** Runs by itself every interval, just after each period boundary. */
  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    const schedule = (intervalSeconds: number): void => {
      if (this.stopped) return;
      const p = intervalSeconds * 1000;
      const wait = Math.floor(this.now() / p) * p + p + (this.options.settleMs ?? 1500) - this.now();
      this.timer = setTimeout(() => {
        void this.evaluateNow()
          .catch((error: unknown) => this.log('alarm evaluation failed', { error: error instanceof Error ? error.message : String(error) }))
          .finally(() => schedule(intervalSeconds));
      }, Math.max(100, wait));
      this.timer.unref();
    };
    if (this.options.intervalSeconds !== undefined) {
      schedule(this.options.intervalSeconds);
      return;
    }
    void this.listAlarms()
      .then((alarms) => schedule(Math.max(1, Math.min(60, ...alarms.map((a) => a.Period ?? 60)))))
      .catch((error: unknown) => {
        this.log('reading the alarms failed; evaluating every 60 s', { error: error instanceof Error ? error.message : String(error) });
        schedule(60);
      });
  }

  /** Stops the schedule and waits for an evaluation in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** Evaluates every alarm of the prefix now (one run at a time); returns the transitions made. */
  evaluateNow(): Promise<readonly AlarmTransition[]> {
    const previous = this.running ?? Promise.resolve([]);
    const run = previous.catch(() => []).then(() => this.evaluateAll());
    this.running = run;
    return run;
  }

  private async listAlarms(): Promise<MetricAlarm[]> {
    const alarms: MetricAlarm[] = [];
    let token: string | undefined;
    for (let page = 0; page < 50; page += 1) {
      const out = await this.cw.send(new DescribeAlarmsCommand({ AlarmNamePrefix: this.options.alarmNamePrefix, AlarmTypes: ['MetricAlarm'], ...(token ? { NextToken: token } : {}) }));
      alarms.push(...(out.MetricAlarms ?? []));
      token = out.NextToken;
      if (!token) break;
    }
    return alarms;
  }

  private async evaluateAll(): Promise<readonly AlarmTransition[]> {
    const made: AlarmTransition[] = [];
    for (const alarm of await this.listAlarms()) {
      if (this.stopped) break;
      try {
        const t = await this.evaluateOne(alarm);
        if (t !== undefined) made.push(t);
      } catch (error) {
        this.log('alarm evaluation failed', { alarmName: alarm.AlarmName, error: error instanceof Error ? error.message : String(error) });
      }
    }
    return made;
  }

  /** The statistic of each of the alarm's last N complete periods (one query per period, its bucket starting at the period). */
  private async readPeriods(alarm: MetricAlarm, rule: AlarmRule, queryTime: number): Promise<PeriodValue[]> {
    const periods: PeriodValue[] = [];
    for (const start of completePeriods(queryTime, rule.period, rule.evaluationPeriods)) {
      // Exactly the alarm's dimensions, as CloudWatch reads them (moto's own GetMetricStatistics would mix in every metric that has them).
      const datapoints = await exactStatistics(this.cw, {
        Namespace: alarm.Namespace ?? '',
        MetricName: alarm.MetricName ?? '',
        Dimensions: alarm.Dimensions ?? [],
        StartTime: new Date(start),
        EndTime: new Date(start + rule.period * 1000),
        Period: rule.period,
        Statistics: [rule.statistic as Statistic, 'SampleCount'],
      });
      const out = { Datapoints: datapoints };
      const point = (out.Datapoints ?? [])[0];
      const value = point === undefined ? undefined : (point[rule.statistic as 'Average'] as number | undefined);
      periods.push({ start, ...(value !== undefined && Number.isFinite(value) ? { value } : {}), ...(point?.SampleCount !== undefined ? { sampleCount: point.SampleCount } : {}) });
    }
    return periods;
  }

  private async evaluateOne(alarm: MetricAlarm): Promise<AlarmTransition | undefined> {
    const name = alarm.AlarmName ?? '';
    if (alarm.Namespace === undefined || alarm.MetricName === undefined) return undefined; // not a single-metric alarm
    const rule = ruleOf(alarm);
    const queryTime = this.now();
    const periods = await this.readPeriods(alarm, rule, queryTime);
    // moto creates alarms in OK; CloudWatch starts them in INSUFFICIENT_DATA until the first evaluation.
    const from = alarm.StateReason === MOTO_INITIAL_REASON || !isState(alarm.StateValue) ? 'INSUFFICIENT_DATA' : alarm.StateValue;
    const result = evaluateAlarm(rule, periods, from, queryTime);
    if (result.state === from) return undefined;

    const reasonData = JSON.stringify(result.reasonData);
    await this.cw.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: result.state, StateReason: result.reason, StateReasonData: reasonData }));
    const dimensions: Record<string, string> = {};
    for (const d of alarm.Dimensions ?? []) if (d.Name !== undefined && d.Value !== undefined) dimensions[d.Name] = d.Value;
    const event = alarmStateChangeEvent({
      alarmArn: alarm.AlarmArn ?? `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${name}`,
      alarmName: name,
      ...(alarm.AlarmDescription !== undefined ? { description: alarm.AlarmDescription } : {}),
      state: { value: result.state, reason: result.reason, reasonData, timestamp: cloudWatchTime(queryTime) },
      previousState: {
        value: from,
        reason: alarm.StateReason ?? '',
        ...(alarm.StateReasonData !== undefined && alarm.StateReasonData !== '' ? { reasonData: alarm.StateReasonData } : {}),
        timestamp: cloudWatchTime((alarm.StateUpdatedTimestamp ?? new Date(queryTime)).getTime()),
      },
      metric: { namespace: alarm.Namespace, name: alarm.MetricName, dimensions, period: rule.period, stat: rule.statistic },
    });
    const deliveries: Delivery[] = await this.options.bus.publish(event);
    const failed = deliveries.filter((d) => !d.ok);
    const transition: AlarmTransition = { at: queryTime, alarmName: name, from, to: result.state, reason: result.reason, datapoints: result.datapoints };
    this.made.push(transition);
    this.log('alarm state changed', {
      alarmName: name,
      from,
      to: result.state,
      datapoints: result.datapoints,
      deliveries: deliveries.length,
      ...(failed.length > 0 ? { failedDeliveries: failed.map((d) => `${d.ruleName} -> ${d.targetArn}: ${d.error ?? ''}`) } : {}),
    });
    this.options.onTransition?.(transition);
    return transition;
  }
}
