import type { FlowKind, FlowState } from './compute-flow';
import type { LifecycleEvent } from './lifecycle-event';
import { fitSubject, type Notification, type NotificationEventType, type Severity } from './notification';

/**
 * Notifications a person reads: the subject says what happened to which
 * instance, the body lists the facts, one per line.
 */
const ACTION: Record<FlowKind, string> = {
  'compute-launch': 'scale-out',
  'compute-terminate': 'scale-in',
};

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function facts(rows: ReadonlyArray<readonly [string, string | undefined]>): string {
  return rows
    .filter((row): row is readonly [string, string] => row[1] !== undefined && row[1] !== '')
    .map(([key, value]) => (value.includes('\n') ? `${key}:\n${indent(value)}` : `${key}: ${value}`))
    .join('\n');
}

function indent(text: string): string {
  return text.split('\n').map((line) => `    ${line}`).join('\n');
}

function build(
  stage: string,
  eventType: NotificationEventType,
  severity: Severity,
  subject: string,
  body: string,
  attributes: Record<string, string>,
): Notification {
  return { subject: fitSubject(`[${stage}] ${subject}`), body, eventType, severity, attributes: { stage, ...attributes } };
}

function eventAttributes(event: LifecycleEvent): Record<string, string> {
  return { instanceId: event.instanceId, asgName: event.groupName, hookName: event.hookName };
}

function eventFacts(event: LifecycleEvent): Array<readonly [string, string | undefined]> {
  return [
    ['Instance', event.instanceId],
    ['Auto Scaling group', event.groupName],
    ['Lifecycle hook', event.hookName],
    ['Event time', event.time],
  ];
}

export function flowStarted(stage: string, state: FlowState, dryRun: boolean): Notification {
  const what = ACTION[state.flow];
  return build(stage, 'lifecycle.started', 'info', `${what} started for ${state.event.instanceId} in ${state.event.groupName}`, facts([
    ['What happened', state.flow === 'compute-launch'
      ? 'A new compute instance is launching; it will be prepared (Gluster mounts, app configuration, local health check), registered in the target group and put in service.'
      : 'A compute instance is being removed; it will be drained from the target group, its web server stopped and volumes unmounted, then released.'],
    ...eventFacts(state.event),
    ['Steps', stepsOf(state.flow)],
    ['Dry run', dryRun ? 'yes: nothing is changed, actions are only logged' : undefined],
  ]), { ...eventAttributes(state.event), flow: state.flow });
}

export function flowSucceeded(stage: string, state: FlowState, now: Date, note?: string): Notification {
  const seconds = (now.getTime() - Date.parse(state.startedAt)) / 1000;
  const done = state.flow === 'compute-launch'
    ? `${state.event.instanceId} is in service in ${state.event.groupName}`
    : `${state.event.instanceId} drained and released from ${state.event.groupName}`;
  return build(stage, 'lifecycle.succeeded', state.warnings.length ? 'warning' : 'info', `${ACTION[state.flow]} done: ${done}`, facts([
    ['What happened', `${done} (lifecycle action completed with CONTINUE).`],
    ...eventFacts(state.event),
    ['Took', formatDuration(seconds)],
    ['Note', note],
    ['Warnings', state.warnings.length ? state.warnings.map((w) => `- ${w}`).join('\n') : undefined],
  ]), { ...eventAttributes(state.event), flow: state.flow });
}

export function flowFailed(
  stage: string,
  state: FlowState,
  reason: string,
  output: string | undefined,
  result: 'ABANDON' | 'CONTINUE',
  now: Date,
): Notification {
  const seconds = (now.getTime() - Date.parse(state.startedAt)) / 1000;
  const consequence = result === 'ABANDON'
    ? 'The lifecycle action was completed with ABANDON: the group terminates this instance and launches a replacement.'
    : 'Termination went on (lifecycle action completed with CONTINUE) so the dying instance does not block the group.';
  return build(stage, 'lifecycle.failed', 'error', `${ACTION[state.flow]} FAILED at ${state.step} for ${state.event.instanceId}`, facts([
    ['What happened', `Step "${state.step}" failed: ${reason}`],
    ['Consequence', consequence],
    ...eventFacts(state.event),
    ['Failed after', formatDuration(seconds)],
    ['Warnings', state.warnings.length ? state.warnings.map((w) => `- ${w}`).join('\n') : undefined],
    ['Output (tail)', output],
  ]), { ...eventAttributes(state.event), flow: state.flow, step: state.step });
}

export function flowWarning(stage: string, state: FlowState, warning: string): Notification {
  return build(stage, 'lifecycle.warning', 'warning', `warning during ${ACTION[state.flow]} of ${state.event.instanceId}`, facts([
    ['What happened', warning],
    ['Step', state.step],
    ...eventFacts(state.event),
  ]), { ...eventAttributes(state.event), flow: state.flow, step: state.step });
}

export function lifecycleSkipped(stage: string, event: LifecycleEvent, reason: string): Notification {
  return build(stage, 'lifecycle.skipped', 'info', `${event.transition === 'launch' ? 'scale-out' : 'scale-in'} event skipped for ${event.instanceId}`, facts([
    ['What happened', `Nothing was done: ${reason}.`],
    ...eventFacts(event),
  ]), eventAttributes(event));
}

export function malformedEvent(stage: string, problem: string, excerpt: string): Notification {
  return build(stage, 'event.malformed', 'error', 'rejected a malformed event: no action taken', facts([
    ['What happened', 'An incoming event could not be understood, so nothing was changed.'],
    ['Problem', problem],
    ['Event (start)', excerpt.slice(0, 1000)],
  ]), {});
}

function stepsOf(flow: FlowKind): string {
  return flow === 'compute-launch'
    ? 'await SSM agent → mount volumes → configure app → register target → await healthy → complete'
    : 'deregister target → await drained → drain node → complete';
}
