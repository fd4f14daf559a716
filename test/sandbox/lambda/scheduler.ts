/**
 * EventBridge scheduled rules, emulated: moto stores a rule's
 * ScheduleExpression but never fires it. For each ENABLED rule of the
 * deployed stack with a rate expression and a Lambda target, this sends the
 * target the Scheduled Event EventBridge sends (source aws.events,
 * detail-type "Scheduled Event", the rule's ARN in resources, detail {}),
 * at the rule's rate, starting one period after the rule exists ("A rate
 * expression starts when you create the scheduled event rule").
 *
 * As AWS:
 * - only where the function's resource-based policy (its AWS::Lambda::Permission
 *   statements, as packaged) lets events.amazonaws.com invoke it for this rule;
 *   otherwise the invocation fails (FailedInvocations) and nothing runs;
 * - asynchronously: a function error is retried MaximumRetryAttempts times
 *   (default 2: "with a one-minute wait between the first two attempts, and
 *   two minutes between the second and third"), as the function's
 *   EventInvokeConfig says.
 *
 * The clock may be compressed (`minuteMs` real milliseconds per schedule
 * minute), like the metrics agent's: the rates and the retry waits shrink by
 * the same factor; the function sees real time. Not emulated: cron
 * expressions (refused loudly), InputPath and InputTransformer, Lambda's
 * concurrency (one environment runs one invocation at a time here, so two
 * runs never overlap), duplicate deliveries.
 */
import { randomUUID } from 'node:crypto';
import { EventBridgeClient, ListRulesCommand, ListTargetsByRuleCommand, type Rule } from '@aws-sdk/client-eventbridge';
import { serviceMayAct } from '../iam/evaluate';
import { parseScheduleExpression } from '../control-plane/schedule-expression';
import type { InvokeResult } from './runner';
import type { DeployedStack, LambdaPermission } from '../stack/deploy';

export class SchedulerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchedulerError';
  }
}

/** Lambda's default for an asynchronous invocation without an EventInvokeConfig. */
export const DEFAULT_RETRY_ATTEMPTS = 2;
/** The waits before the first and the second retry, in minutes. */
const RETRY_WAIT_MINUTES = [1, 2] as const;

export interface SchedulerOptions {
  /** Client configuration of the emulator (the rules are read from it). */
  readonly clientConfig: object;
  readonly stack: DeployedStack;
  /** One asynchronous attempt (the runner's invoke with trigger `schedule`). */
  readonly invoke: (functionKey: string, payload: unknown) => Promise<InvokeResult>;
  /** Real milliseconds per schedule minute (default 60 000: real time). */
  readonly minuteMs?: number;
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
}

/** One firing of a rule, and what came of it. */
export interface ScheduledRun {
  readonly ruleName: string;
  readonly functionKey: string;
  readonly eventId: string;
  /** When the attempt started (ms since the epoch). */
  readonly at: number;
  /** 0 for the scheduled attempt, then 1, 2 for Lambda's retries. */
  readonly attempt: number;
  readonly outcome: 'success' | 'error' | 'timeout' | 'not-permitted';
  readonly error?: string;
}

interface Scheduled {
  readonly rule: Rule & { Name: string; Arn: string };
  readonly functionKey: string;
  readonly functionArn: string;
  readonly periodMs: number;
  readonly payload?: unknown;
  readonly permitted: boolean;
  readonly retries: number;
}

/** The function's resource-based policy: one statement per AWS::Lambda::Permission naming it. */
export function functionPolicy(permissions: readonly LambdaPermission[], functionName: string, functionArn: string): Record<string, unknown> | undefined {
  const statements = permissions
    .filter((p) => p.functionName === functionName || p.functionName === functionArn)
    .map((p) => ({
      Sid: p.logicalId,
      Effect: 'Allow',
      Principal: { Service: p.principal },
      Action: p.action,
      Resource: functionArn,
      ...(p.sourceArn !== undefined || p.sourceAccount !== undefined
        ? { Condition: { ...(p.sourceArn !== undefined ? { ArnLike: { 'AWS:SourceArn': p.sourceArn } } : {}), ...(p.sourceAccount !== undefined ? { StringEquals: { 'AWS:SourceAccount': p.sourceAccount } } : {}) } }
        : {}),
    }));
  return statements.length > 0 ? { Version: '2012-10-17', Statement: statements } : undefined;
}

/** The Scheduled Event for one firing of `ruleArn`. */
export function scheduledEvent(ruleArn: string, at: number, account: string, region: string): Record<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account,
    time: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [ruleArn],
    detail: {},
  };
}

export class Scheduler {
  readonly runs: ScheduledRun[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  private constructor(
    private readonly opts: SchedulerOptions,
    private readonly scheduled: readonly Scheduled[],
    private readonly minuteMs: number,
  ) {}

  /** Reads the stack's scheduled rules and starts their clocks. */
  static async start(opts: SchedulerOptions): Promise<Scheduler> {
    const minuteMs = opts.minuteMs ?? 60_000;
    if (!(Number.isInteger(minuteMs) && minuteMs >= 1000 && minuteMs <= 60_000)) throw new SchedulerError(`minuteMs must be a whole number 1000-60000, got ${minuteMs}`);
    const events = new EventBridgeClient(opts.clientConfig);
    const scheduled: Scheduled[] = [];
    try {
      const rules: Rule[] = [];
      let token: string | undefined;
      for (let page = 0; page < 100; page += 1) {
        const out = await events.send(new ListRulesCommand({ EventBusName: 'default', ...(token ? { NextToken: token } : {}) }));
        rules.push(...(out.Rules ?? []));
        token = out.NextToken;
        if (!token) break;
      }
      for (const rule of rules) {
        if (rule.ScheduleExpression === undefined || rule.State !== 'ENABLED' || rule.Name === undefined || rule.Arn === undefined) continue;
        const schedule = parseScheduleExpression(rule.ScheduleExpression);
        if (schedule === undefined) throw new SchedulerError(`rule ${rule.Name}: ScheduleExpression ${rule.ScheduleExpression} is not valid (PutRule should have refused it)`);
        if (schedule.kind !== 'rate') throw new SchedulerError(`rule ${rule.Name}: cron schedules are not emulated (${rule.ScheduleExpression})`);
        const targets = await events.send(new ListTargetsByRuleCommand({ Rule: rule.Name, EventBusName: 'default' }));
        for (const target of targets.Targets ?? []) {
          const arn = target.Arn ?? '';
          const [key, fn] = Object.entries(opts.stack.functions).find(([, f]) => arn === `arn:aws:lambda:${opts.stack.region}:${opts.stack.accountId}:function:${f.functionName}`) ?? [];
          if (key === undefined || fn === undefined) throw new SchedulerError(`rule ${rule.Name}: target ${arn} is not a function of the stack (only Lambda targets of the stack are emulated)`);
          if (target.InputPath !== undefined || target.InputTransformer !== undefined) throw new SchedulerError(`rule ${rule.Name}: InputPath and InputTransformer are not emulated`);
          const policy = functionPolicy(opts.stack.lambdaPermissions, fn.functionName, arn);
          const permitted = await serviceMayAct('events.amazonaws.com', 'lambda:InvokeFunction', arn, opts.stack.accountId, policy, { 'aws:SourceArn': rule.Arn, 'aws:SourceAccount': opts.stack.accountId });
          scheduled.push({
            rule: { ...rule, Name: rule.Name, Arn: rule.Arn },
            functionKey: key,
            functionArn: arn,
            periodMs: schedule.minutes * minuteMs,
            ...(target.Input !== undefined ? { payload: JSON.parse(target.Input) as unknown } : {}),
            permitted,
            retries: opts.stack.invokeConfigs[fn.functionName]?.maximumRetryAttempts ?? DEFAULT_RETRY_ATTEMPTS,
          });
        }
      }
    } finally {
      events.destroy();
    }
    const scheduler = new Scheduler(opts, scheduled, minuteMs);
    const startedAt = Date.now();
    for (const s of scheduled) scheduler.arm(s, startedAt, 1);
    opts.log?.('scheduler started', { rules: scheduled.map((s) => ({ rule: s.rule.Name, expression: s.rule.ScheduleExpression, target: s.functionKey, periodMs: s.periodMs, permitted: s.permitted, retries: s.retries })) });
    return scheduler;
  }

  /** The rules it runs, by name, with their real period. */
  rules(): Array<{ ruleName: string; functionKey: string; periodMs: number; permitted: boolean }> {
    return this.scheduled.map((s) => ({ ruleName: s.rule.Name, functionKey: s.functionKey, periodMs: s.periodMs, permitted: s.permitted }));
  }

  private later(ms: number, work: () => void): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) work();
    }, Math.max(0, ms));
    this.timers.add(timer);
  }

  /** The k-th firing is due at startedAt + k x period, whatever the previous ones took. */
  private arm(s: Scheduled, startedAt: number, k: number): void {
    this.later(startedAt + k * s.periodMs - Date.now(), () => {
      this.arm(s, startedAt, k + 1);
      this.track(this.fire(s));
    });
  }

  private track(work: Promise<void>): void {
    const done = work.catch((error: unknown) => this.opts.log?.('scheduled invocation failed to run', { error: String(error) })).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  private async fire(s: Scheduled, event = scheduledEvent(s.rule.Arn, Date.now(), this.opts.stack.accountId, this.opts.stack.region), attempt = 0): Promise<void> {
    const at = Date.now();
    const eventId = String(event.id);
    if (!s.permitted) {
      this.runs.push({ ruleName: s.rule.Name, functionKey: s.functionKey, eventId, at, attempt, outcome: 'not-permitted', error: `${s.functionArn}'s resource-based policy does not let events.amazonaws.com invoke it for ${s.rule.Arn}` });
      this.opts.log?.('scheduled invocation not permitted (FailedInvocations)', { rule: s.rule.Name, function: s.functionKey });
      return;
    }
    const result = await this.opts.invoke(s.functionKey, s.payload ?? event);
    this.runs.push({ ruleName: s.rule.Name, functionKey: s.functionKey, eventId, at, attempt, outcome: result.outcome, ...(result.error ? { error: `${result.error.name}: ${result.error.message}` } : {}) });
    if (result.outcome === 'success' || attempt >= s.retries) return;
    const waitMinutes = RETRY_WAIT_MINUTES[attempt] ?? 2;
    this.later(waitMinutes * this.minuteMs, () => this.track(this.fire(s, event, attempt + 1)));
  }

  /** Fires `ruleName` now, outside its clock (tests); resolves when that attempt ended. */
  async fireNow(ruleName: string): Promise<void> {
    const s = this.scheduled.find((x) => x.rule.Name === ruleName);
    if (s === undefined) throw new SchedulerError(`no scheduled rule ${ruleName} (have: ${this.scheduled.map((x) => x.rule.Name).join(', ') || 'none'})`);
    await this.fire(s);
  }

  /** Stops every clock and waits for the attempts under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
  }
}
