/**
 * What ops receive, and the one builder every notification goes through
 * (buildNotification). The texts are written next to their subject: compute
 * lifecycle in messages.ts, scaling in scaling/messages.ts, storage operations
 * in storage/messages.ts, storage members in storage/notices.ts, the watch
 * in watch/notices.ts. Published by the SNS adapter.
 */
export type Severity = 'info' | 'warning' | 'error';

/** Every severity, least to most severe: a subscription's minimum severity keeps the ones from it on. */
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'error'];

/** The severities at or above `min`, in order (the values a severity filter policy lists). */
export function severitiesFrom(min: Severity): Severity[] {
  return SEVERITIES.slice(SEVERITIES.indexOf(min));
}

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
  /** A change of Gluster's health (told once per change), or the health could not be read. */
  | 'storage.health'
  /** An offline brick restarted, or left offline and why. */
  | 'storage.repair'
  /** Quorum options set for the volumes' layout, or server quorum lifted for a replacement and set back. */
  | 'storage.layout'
  | 'scaling.decided'
  | 'scaling.suppressed'
  | 'watch.redriven'
  | 'watch.replacing'
  | 'watch.held-back'
  | 'watch.cluster-wide'
  | 'watch.recovered';

export interface Notification {
  /** Fewer than 100 characters (SNS Publish's Subject limit); says what happened to which instance. */
  readonly subject: string;
  /** Plain text a person reads: the facts, one per line. */
  readonly body: string;
  readonly eventType: NotificationEventType;
  readonly severity: Severity;
  /** Extra filterable attributes: instanceId, asgName, stage ... */
  readonly attributes: Readonly<Record<string, string>>;
  /**
   * What ops should do about it, in order, when the message says so (chat shows them as next steps;
   * the console links are added where the notification is published). Absent: none beyond the links.
   */
  readonly nextSteps?: readonly string[];
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

/** What a message decides; buildNotification adds the rest. */
export interface NotificationDraft {
  readonly stage: string;
  readonly eventType: NotificationEventType;
  readonly severity: Severity;
  /** What happened to which instance or volume, without the stage. */
  readonly subject: string;
  readonly body: string;
  /** Besides the stage, which every notification carries first. */
  readonly attributes: Readonly<Record<string, string>>;
  /** What ops should do next (Notification.nextSteps); empty lines are left out. */
  readonly nextSteps?: readonly string[];
}

/** The one builder: "[stage] subject" fitted to SNS, the stage first among the attributes. */
export function buildNotification(draft: NotificationDraft): Notification {
  const { stage, eventType, severity, subject, body, attributes } = draft;
  const nextSteps = (draft.nextSteps ?? []).map((step) => step.trim()).filter((step) => step !== '');
  return {
    subject: fitSubject(`[${stage}] ${subject}`),
    body,
    eventType,
    severity,
    attributes: { stage, ...attributes },
    ...(nextSteps.length > 0 ? { nextSteps } : {}),
  };
}

/** A body of lines; undefined and empty ones are left out. */
export function bodyLines(lines: readonly (string | undefined)[]): string {
  return lines.filter((line): line is string => line !== undefined && line !== '').join('\n');
}

/** A label and its value; no value (undefined or '') leaves the row out. */
export type Fact = readonly [label: string, value: string | undefined];

/** "Label: value", one fact a line; a value of several lines goes under its label, indented. */
export function factLines(rows: readonly Fact[]): string {
  return bodyLines(rows.map(([label, value]) => {
    if (value === undefined || value === '') return undefined;
    return value.includes('\n') ? `${label}:\n${indent(value)}` : `${label}: ${value}`;
  }));
}

function indent(text: string): string {
  return text.split('\n').map((line) => `    ${line}`).join('\n');
}
