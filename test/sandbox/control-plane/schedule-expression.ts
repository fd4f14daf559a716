/**
 * EventBridge schedule expressions, as PutRule checks them (moto 5.2.1
 * accepts anything: `rate(3 minute)`, `rate(0 minutes)`, `cron(0 0 * *)`)
 * and as the sandbox's scheduler runs them (lambda/scheduler.ts).
 *
 * Rate expressions reference: "rate(value unit) ... value: A positive number.
 * unit: ... Valid values: minute | minutes | hour | hours | day | days ... If
 * the value is equal to 1, then the unit must be singular. If the value is
 * greater than 1, the unit must be plural." Cron expressions "have six
 * required fields, which are separated by white space". A refused expression
 * gets PutRule's ValidationException "Parameter ScheduleExpression is not
 * valid." (as AWS answered `rate(3 minute)`: buildkite-agent-scaler PR #100).
 */
import { ApiError } from './wire';

const UNIT_MINUTES: Readonly<Record<string, number>> = { minute: 1, hour: 60, day: 1440 };

export type Schedule = { readonly kind: 'rate'; readonly minutes: number } | { readonly kind: 'cron'; readonly fields: readonly string[] };

/** The schedule, or undefined when EventBridge would refuse the expression. */
export function parseScheduleExpression(expression: string): Schedule | undefined {
  const rate = /^rate\((\d+) (minute|hour|day)(s?)\)$/.exec(expression);
  if (rate !== null) {
    const value = Number(rate[1]);
    const plural = rate[3] === 's';
    if (!Number.isSafeInteger(value) || value < 1 || plural !== value > 1) return undefined;
    return { kind: 'rate', minutes: value * (UNIT_MINUTES[rate[2] ?? ''] ?? Number.NaN) };
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (cron !== null) {
    const fields = (cron[1] ?? '').trim().split(/\s+/);
    return fields.length === 6 ? { kind: 'cron', fields } : undefined;
  }
  return undefined;
}

/** PutRule (JSON body) as EventBridge refuses it for its ScheduleExpression, or undefined. */
export function scheduleExpressionRefusal(input: Record<string, unknown>): ApiError | undefined {
  const expression = input.ScheduleExpression;
  if (expression === undefined) return undefined;
  if (typeof expression === 'string' && parseScheduleExpression(expression) !== undefined) return undefined;
  return new ApiError('ValidationException', 'Parameter ScheduleExpression is not valid.');
}
