import type { FlowKind, FlowState } from './compute-flow';
import type { LifecycleEvent } from './lifecycle-event';
import { buildNotification, factLines, type Fact, type Notification } from './notification';

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

function eventAttributes(event: LifecycleEvent): Record<string, string> {
  return { instanceId: event.instanceId, asgName: event.groupName, hookName: event.hookName };
}

function eventFacts(event: LifecycleEvent): Fact[] {
  return [
    ['Instance', event.instanceId],
    ['Auto Scaling group', event.groupName],
    ['Lifecycle hook', event.hookName],
    ['Event time', event.time],
  ];
}

export function flowStarted(stage: string, state: FlowState, dryRun: boolean): Notification {
  const what = ACTION[state.flow];
  return buildNotification({
    stage,
    eventType: 'lifecycle.started',
    severity: 'info',
    subject: `${what} started for ${state.event.instanceId} in ${state.event.groupName}`,
    body: factLines([
      ['What happened', state.flow === 'compute-launch'
        ? 'A new compute instance is launching; it will be prepared (Gluster mounts, app configuration, local health check), registered in the target group and put in service.'
        : 'A compute instance is being removed; it will be drained from the target group, its web server stopped and volumes unmounted, then released.'],
      ...eventFacts(state.event),
      ['Steps', stepsOf(state.flow)],
      ['Dry run', dryRun ? 'yes: nothing is changed, actions are only logged' : undefined],
    ]),
    attributes: { ...eventAttributes(state.event), flow: state.flow },
  });
}

export function flowSucceeded(stage: string, state: FlowState, now: Date, note?: string): Notification {
  const seconds = (now.getTime() - Date.parse(state.startedAt)) / 1000;
  const done = state.flow === 'compute-launch'
    ? `${state.event.instanceId} is in service in ${state.event.groupName}`
    : `${state.event.instanceId} drained and released from ${state.event.groupName}`;
  return buildNotification({
    stage,
    eventType: 'lifecycle.succeeded',
    severity: state.warnings.length ? 'warning' : 'info',
    subject: `${ACTION[state.flow]} done: ${done}`,
    body: factLines([
      ['What happened', `${done} (lifecycle action completed with CONTINUE).`],
      ...eventFacts(state.event),
      ['Took', formatDuration(seconds)],
      ['Note', note],
      ['Warnings', state.warnings.length ? state.warnings.map((w) => `- ${w}`).join('\n') : undefined],
    ]),
    attributes: { ...eventAttributes(state.event), flow: state.flow },
  });
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
  return buildNotification({
    stage,
    eventType: 'lifecycle.failed',
    severity: 'error',
    subject: `${ACTION[state.flow]} FAILED at ${state.step} for ${state.event.instanceId}`,
    body: factLines([
      ['What happened', `Step "${state.step}" failed: ${reason}`],
      ['Consequence', consequence],
      ...eventFacts(state.event),
      ['Failed after', formatDuration(seconds)],
      ['Warnings', state.warnings.length ? state.warnings.map((w) => `- ${w}`).join('\n') : undefined],
      ['Output (tail)', output],
    ]),
    attributes: { ...eventAttributes(state.event), flow: state.flow, step: state.step },
  });
}

export function flowWarning(stage: string, state: FlowState, warning: string): Notification {
  return buildNotification({
    stage,
    eventType: 'lifecycle.warning',
    severity: 'warning',
    subject: `warning during ${ACTION[state.flow]} of ${state.event.instanceId}`,
    body: factLines([
      ['What happened', warning],
      ['Step', state.step],
      ...eventFacts(state.event),
    ]),
    attributes: { ...eventAttributes(state.event), flow: state.flow, step: state.step },
  });
}

export function lifecycleSkipped(stage: string, event: LifecycleEvent, reason: string): Notification {
  return buildNotification({
    stage,
    eventType: 'lifecycle.skipped',
    severity: 'info',
    subject: `${event.transition === 'launch' ? 'scale-out' : 'scale-in'} event skipped for ${event.instanceId}`,
    body: factLines([
      ['What happened', `Nothing was done: ${reason}.`],
      ...eventFacts(event),
    ]),
    attributes: eventAttributes(event),
  });
}

export function malformedEvent(stage: string, problem: string, excerpt: string): Notification {
  return buildNotification({
    stage,
    eventType: 'event.malformed',
    severity: 'error',
    subject: 'rejected a malformed event: no action taken',
    body: factLines([
      ['What happened', 'An incoming event could not be understood, so nothing was changed.'],
      ['Problem', problem],
      ['Event (start)', excerpt.slice(0, 1000)],
    ]),
    attributes: {},
  });
}

function stepsOf(flow: FlowKind): string {
  return flow === 'compute-launch'
    ? 'await SSM agent → mount volumes → configure app → register target → await healthy → complete'
    : 'deregister target → await drained → drain node → complete';
}
