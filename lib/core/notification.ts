/**
 * What ops receive. Pure data: built by the message builders in
 * `messages.ts`, published by the SNS adapter.
 */
export type Severity = 'info' | 'warning' | 'error';

/** Filterable through SNS subscription filter policies on `eventType`/`severity`. */
export type NotificationEventType =
  | 'lifecycle.started'
  | 'lifecycle.succeeded'
  | 'lifecycle.failed'
  | 'lifecycle.skipped'
  | 'lifecycle.warning'
  | 'event.malformed'
  | 'storage.planned'
  | 'storage.started'
  | 'storage.progress'
  | 'storage.succeeded'
  | 'storage.failed'
  | 'storage.refused'
  | 'scaling.decided'
  | 'scaling.suppressed';

export interface Notification {
  /** At most 100 characters (SNS e-mail subject limit); says what happened to which instance. */
  readonly subject: string;
  /** Plain text a person reads: the facts, one per line. */
  readonly body: string;
  readonly eventType: NotificationEventType;
  readonly severity: Severity;
  /** Extra filterable attributes: instanceId, asgName, stage ... */
  readonly attributes: Readonly<Record<string, string>>;
}

export const SUBJECT_MAX = 100;

/** SNS refuses subjects over 100 chars or with line breaks: fold and cut. */
export function fitSubject(text: string): string {
  const flat = text.replace(/[\r\n\t]+/g, ' ').replace(/\s{2,}/g, ' ').trim();
  return flat.length <= SUBJECT_MAX ? flat : `${flat.slice(0, SUBJECT_MAX - 1)}…`;
}
