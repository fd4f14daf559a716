/**
 * Log lines read by something other than a person: the operator CLI searches
 * the functions' CloudWatch Logs for these messages (a quoted-term filter
 * pattern), so the functions log them with exactly these words.
 */

/** The alarm function's one line per decision (lib/usecases/alarm.ts), with the notice it sent, if any. */
export const DECISION_LOGGED = 'scaling decision';

/** Every notification the SNS adapter published (lib/aws/sns.ts): subject, eventType, severity. */
export const NOTICE_LOGGED = 'notification published';

/** The fields of a notice as the log lines carry them. */
export interface LoggedNotice {
  readonly subject: string;
  readonly eventType: string;
  readonly severity: string;
}
