/** The compute flows' tables (launch, terminate), their state and their continuation format. */
import { MalformedEventError } from '../errors';
import {
  advanceFlow,
  decodeFlow,
  encodeFlow,
  flowStart,
  isFlowContinuation,
  type FlowFamily,
  type FlowStateBase,
  type StepOutcome,
} from './flow';
import type { LifecycleEvent } from './lifecycle-event';
import { lifecycleCommandKey } from './records';
import type { HealthCheckRhythm } from '../ports/elbv2';

/**
 * A compute node's lifecycle action, carried out as a short list of steps by
 * the one flow engine (lib/core/flow.ts); what each step does is in
 * lib/usecases/compute/.
 */
export type FlowKind = 'compute-launch' | 'compute-terminate';

export const FLOW_STEPS = {
  'compute-launch': ['await-agent', 'mount-volumes', 'configure-app', 'register-target', 'await-healthy', 'complete'],
  'compute-terminate': ['deregister-target', 'await-drained', 'drain-node', 'complete'],
} as const satisfies Record<FlowKind, readonly string[]>;

export type StepName = (typeof FLOW_STEPS)[FlowKind][number];
export type StepOf<F extends FlowKind> = (typeof FLOW_STEPS)[F][number];

export interface FlowState extends FlowStateBase {
  readonly flow: FlowKind;
  readonly event: LifecycleEvent;
  readonly step: StepName;
  readonly lastHeartbeatAt: string;
  readonly heartbeatTimeoutSeconds: number;
  /** Owner of the flow's claim (the first delivery's message id). */
  readonly owner: string;
  /** Command of the current document step, once sent. */
  readonly commandId?: string;
  /** Set once the launch flow registered the target (to undo on failure). */
  readonly registered?: boolean;
  /** Deregistration delay of the target group, read when the drain began. */
  readonly drainDelaySeconds?: number;
  /** The target group's health check (interval, healthy threshold), read when the launch flow registered the target. */
  readonly healthCheck?: HealthCheckRhythm;
}

export type ComputeOutcome = StepOutcome<FlowState>;

/** The compute flows on the lifecycle queue; the mark is the format messages in flight carry. */
export const COMPUTE_FLOWS: FlowFamily<FlowState> = {
  mark: 'pydio-autoscaler/flow',
  what: 'continuation message',
  steps: FLOW_STEPS,
  stepScoped: ['commandId'],
  commandKey: lifecycleCommandKey,
  validate(s, where) {
    for (const key of ['lastHeartbeatAt', 'owner'] as const) {
      if (typeof s[key] !== 'string') throw new MalformedEventError(`${where}: ${key} is missing`);
    }
    if (typeof s.attempt !== 'number' || typeof s.heartbeatTimeoutSeconds !== 'number') {
      throw new MalformedEventError(`${where}: attempt or heartbeatTimeoutSeconds is not a number`);
    }
    const e = s.event as Partial<LifecycleEvent> | undefined;
    if (!e || e.kind !== 'lifecycle' || typeof e.instanceId !== 'string' || typeof e.groupName !== 'string'
      || typeof e.hookName !== 'string' || (e.token !== undefined && typeof e.token !== 'string')) {
      throw new MalformedEventError(`${where}: lifecycle event is incomplete`);
    }
    const check = s.healthCheck as Partial<HealthCheckRhythm> | undefined;
    const positive = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 1;
    if (check !== undefined && (typeof check !== 'object' || check === null || !positive(check.intervalSeconds) || !positive(check.healthyThreshold))) {
      throw new MalformedEventError(`${where}: healthCheck must hold whole positive intervalSeconds and healthyThreshold, got ${JSON.stringify(check)}`);
    }
  },
};

export function flowFor(event: LifecycleEvent): FlowKind {
  return event.transition === 'launch' ? 'compute-launch' : 'compute-terminate';
}

export function startFlow(event: LifecycleEvent, owner: string, heartbeatTimeoutSeconds: number, now: Date): FlowState {
  const start = flowStart(COMPUTE_FLOWS, flowFor(event), now);
  return { ...start, event, lastHeartbeatAt: start.startedAt, heartbeatTimeoutSeconds, owner };
}

/** The state after a step finished: the next step, or undefined when the flow is done. */
export function advance(state: FlowState, outcome: Extract<ComputeOutcome, { kind: 'next' }>, now: Date): FlowState | undefined {
  return advanceFlow(COMPUTE_FLOWS, state, outcome, now);
}

export function encodeContinuation(state: FlowState): string {
  return encodeFlow(COMPUTE_FLOWS, state);
}

export function isContinuation(body: unknown): body is { state: unknown } {
  return isFlowContinuation(COMPUTE_FLOWS, body);
}

/** Validate a continuation read back from the queue. */
export function decodeContinuation(body: { state: unknown }): FlowState {
  return decodeFlow(COMPUTE_FLOWS, body);
}

/** The keys every log line of a compute flow carries. */
export function logKeys(state: FlowState): Record<string, unknown> {
  return {
    flow: state.flow,
    step: state.step,
    instanceId: state.event.instanceId,
    asgName: state.event.groupName,
    hookName: state.event.hookName,
    ...(state.commandId ? { commandId: state.commandId } : {}),
  };
}
