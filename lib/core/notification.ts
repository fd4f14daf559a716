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
  /** Fewer than 100 characters (SNS Publish's Subject limit); says what happened to which instance. */
  readonly subject: string;
  /** Plain text a person reads: the facts, one per line. */
  readonly body: string;
  readonly eventType: NotificationEventType;
  readonly severity: Severity;
  /** Extra filterable attributes: instanceId, asgName, stage ... */
  readonly attributes: Readonly<Record<string, string>>;
}

/**
 * SNS Publish: "Subjects must be UTF-8 text with no line breaks or control characters, and less
 * than 100 characters long" - so 99 at most (moto 5.2.1 takes 100 and a line break: the sandbox
 * cannot catch it, the adapter must).
 */
export const SUBJECT_MAX = 99;

/** Fold line breaks and other control characters to spaces, then cut to SUBJECT_MAX. */
export function fitSubject(text: string): string {
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').replace(/\s{2,}/g, ' ').trim();
  return flat.length <= SUBJECT_MAX ? flat : `${flat.slice(0, SUBJECT_MAX - 1)}…`;
}
