import { MalformedEventError } from '../errors';
import type { LifecycleEvent } from './lifecycle-event';

/**
 * A lifecycle flow is a short list of steps. Between steps that must wait
 * (agent not online yet, command still running, target not healthy yet, drain
 * in progress) the flow's whole state travels in a continuation message that
 * the queue re-delivers after a delay: no Lambda ever sleeps.
 */
export type FlowKind = 'compute-launch' | 'compute-terminate';

export const FLOW_STEPS = {
  'compute-launch': ['await-agent', 'mount-volumes', 'configure-app', 'register-target', 'await-healthy', 'complete'],
  'compute-terminate': ['deregister-target', 'await-drained', 'drain-node', 'complete'],
} as const satisfies Record<FlowKind, readonly string[]>;

export type StepName = (typeof FLOW_STEPS)[FlowKind][number];

export interface FlowState {
  readonly flow: FlowKind;
  readonly event: LifecycleEvent;
  readonly step: StepName;
  /** Re-deliveries spent in the current step (drives the backoff). */
  readonly attempt: number;
  readonly startedAt: string;
  readonly stepStartedAt: string;
  readonly lastHeartbeatAt: string;
  /** The hook's heartbeat timeout, read when the flow started. */
  readonly heartbeatTimeoutSeconds: number;
  /** Owner of the flow's claim (the first delivery's message id). */
  readonly owner: string;
  /** Command of the current document step, once sent. */
  readonly commandId?: string;
  /** Set once the launch flow registered the target (to undo on failure). */
  readonly registered?: boolean;
  /** Deregistration delay of the target group, read when the drain began. */
  readonly drainDelaySeconds?: number;
  /** Warnings gathered on the way, reported with the outcome. */
  readonly warnings: readonly string[];
}

export type StepOutcome =
  | { readonly kind: 'next'; readonly patch?: Partial<FlowState>; readonly skipTo?: StepName; readonly warning?: string }
  | { readonly kind: 'wait'; readonly reason: string; readonly delaySeconds?: number; readonly patch?: Partial<FlowState> }
  | { readonly kind: 'fail'; readonly reason: string; readonly output?: string };

export function flowFor(event: LifecycleEvent): FlowKind {
  return event.transition === 'launch' ? 'compute-launch' : 'compute-terminate';
}

export function startFlow(
  event: LifecycleEvent,
  owner: string,
  heartbeatTimeoutSeconds: number,
  now: Date,
): FlowState {
  const flow = flowFor(event);
  const at = now.toISOString();
  return {
    flow,
    event,
    step: FLOW_STEPS[flow][0],
    attempt: 0,
    startedAt: at,
    stepStartedAt: at,
    lastHeartbeatAt: at,
    heartbeatTimeoutSeconds,
    owner,
    warnings: [],
  };
}

/** The state after a step finished: the next step, or undefined when the flow is done. */
export function advance(state: FlowState, outcome: Extract<StepOutcome, { kind: 'next' }>, now: Date): FlowState | undefined {
  const steps: readonly string[] = FLOW_STEPS[state.flow];
  const target = outcome.skipTo ?? steps[steps.indexOf(state.step) + 1];
  if (target === undefined) return undefined;
  if (!steps.includes(target)) throw new Error(`step ${target} is not part of flow ${state.flow}`);
  const { commandId: _dropped, ...rest } = { ...state, ...outcome.patch };
  const warnings = outcome.warning ? [...rest.warnings, outcome.warning] : rest.warnings;
  return { ...rest, warnings, step: target as StepName, attempt: 0, stepStartedAt: now.toISOString() };
}

/** Seconds since an ISO time. */
export function secondsSince(iso: string, now: Date): number {
  return Math.max(0, (now.getTime() - Date.parse(iso)) / 1000);
}

/** Exponential backoff: base, 2*base, 4*base ... capped; never negative. */
export function backoffSeconds(attempt: number, baseSeconds: number, maxSeconds: number): number {
  const raw = baseSeconds * 2 ** Math.min(Math.max(attempt, 0), 20);
  return Math.round(Math.min(raw, maxSeconds));
}

/**
 * Record a heartbeat now when, by the time the next delivery arrives, more
 * than half the hook's heartbeat timeout would have passed since the last one.
 */
export function needsHeartbeat(state: FlowState, delaySeconds: number, now: Date): boolean {
  if (state.heartbeatTimeoutSeconds <= 0) return false;
  return secondsSince(state.lastHeartbeatAt, now) + delaySeconds >= state.heartbeatTimeoutSeconds / 2;
}

/** A heartbeat interval at least as long as the hook timeout cannot keep the hook alive. */
export function heartbeatWarning(heartbeatTimeoutSeconds: number, maxDelaySeconds: number): string | undefined {
  if (heartbeatTimeoutSeconds > 0 && maxDelaySeconds >= heartbeatTimeoutSeconds / 2) {
    return `RETRY_MAX_SECONDS (${maxDelaySeconds}s) is at least half the hook's heartbeat timeout (${heartbeatTimeoutSeconds}s): the hook may expire between deliveries`;
  }
  return undefined;
}

const MARK = 'pydio-autoscaler/flow';

export function encodeContinuation(state: FlowState): string {
  return JSON.stringify({ [MARK]: 1, state });
}

export function isContinuation(body: unknown): body is { [MARK]: 1; state: unknown } {
  return typeof body === 'object' && body !== null && MARK in body;
}

/** Validate a continuation read back from the queue. */
export function decodeContinuation(body: { state: unknown }): FlowState {
  const s = body.state as Partial<FlowState> | undefined;
  const where = 'continuation message';
  if (typeof s !== 'object' || s === null) throw new MalformedEventError(`${where}: state is missing`);
  if (s.flow !== 'compute-launch' && s.flow !== 'compute-terminate') {
    throw new MalformedEventError(`${where}: unknown flow ${JSON.stringify(s.flow)}`);
  }
  const steps: readonly string[] = FLOW_STEPS[s.flow];
  if (typeof s.step !== 'string' || !steps.includes(s.step)) {
    throw new MalformedEventError(`${where}: step ${JSON.stringify(s.step)} is not part of flow ${s.flow}`);
  }
  for (const key of ['startedAt', 'stepStartedAt', 'lastHeartbeatAt', 'owner'] as const) {
    if (typeof s[key] !== 'string') throw new MalformedEventError(`${where}: ${key} is missing`);
  }
  if (typeof s.attempt !== 'number' || typeof s.heartbeatTimeoutSeconds !== 'number') {
    throw new MalformedEventError(`${where}: attempt or heartbeatTimeoutSeconds is not a number`);
  }
  const e = s.event as Partial<LifecycleEvent> | undefined;
  if (!e || e.kind !== 'lifecycle' || typeof e.instanceId !== 'string' || typeof e.groupName !== 'string'
    || typeof e.hookName !== 'string' || typeof e.token !== 'string') {
    throw new MalformedEventError(`${where}: lifecycle event is incomplete`);
  }
  return { ...(s as FlowState), warnings: Array.isArray(s.warnings) ? s.warnings : [] };
}
