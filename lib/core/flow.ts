/** The flow engine's pure part: flow state, step outcomes, advance, backoff, the heartbeat rule, continuations. */
import { MalformedEventError } from '../errors';
import type { LifecycleEvent } from './lifecycle-event';

/**
 * Every flow (compute launch and terminate; storage launch, terminate, expand,
 * shrink) is a table of named steps run by one engine. Between steps that must
 * wait (agent not online yet, command still running, rebalance in progress)
 * the flow's whole state travels in a continuation message that its queue
 * re-delivers after a delay: no Lambda ever sleeps.
 *
 * Here: what the engine decides without I/O. The flows' step names are in
 * lib/core/compute-flow.ts and lib/core/storage/flow-state.ts; the engine that
 * runs steps through the ports is lib/usecases/flow-runner.ts.
 */

/** What every flow's state holds; each family of flows adds its own fields. */
export interface FlowStateBase {
  readonly flow: string;
  readonly step: string;
  /** Re-deliveries spent in the current step (drives the backoff). */
  readonly attempt: number;
  readonly startedAt: string;
  readonly stepStartedAt: string;
  /** The lifecycle action the flow holds, if any: heartbeats and the re-delivery check are for it. */
  readonly event?: LifecycleEvent;
  readonly lastHeartbeatAt?: string;
  /** The hook's heartbeat timeout, read when the flow started. */
  readonly heartbeatTimeoutSeconds?: number;
  /** Warnings gathered on the way, reported with the outcome. */
  readonly warnings: readonly string[];
  /**
   * Waits in a row of the current step because AWS throttled it (forgotten when the step changes
   * or waits for another reason). Past MAX_THROTTLED_WAITS the error is thrown to the queue.
   */
  readonly throttledWaits?: number;
  /**
   * The command this flow is parked on (a Run Command command id): the state was also left in the
   * coordination table under the family's command key, for the command's status-change event to
   * resume. Whichever comes first, that event or the continuation sent as a safety net, consumes
   * the record and runs the flow; the other finds it gone and stops (lib/usecases/flow-runner.ts).
   */
  readonly awaiting?: string;
  /**
   * The wake key this flow is parked under (a coordination key): another flow signals it when
   * what this one waits for happened (a new storage member joined), and the signal's message runs
   * the parked state at once; a continuation sent as a safety net runs it otherwise. The key is
   * the same for every such wait of the flow, so whichever resumes it runs the state parked last.
   */
  readonly awaitingWake?: string;
  /**
   * When a delivery last checked that the lifecycle action still waits (absent: when the flow
   * started, whose claim checked it). Checked again at most once per RETRY_MAX_SECONDS.
   */
  readonly pendingCheckedAt?: string;
  /**
   * The status the current step's command ended with, as its status-change event said. Run
   * Command's reads may lag its events (a new command's invocation is not listed at once): a read
   * that still says Pending or InProgress is then retried within seconds, not left to the safety net.
   */
  readonly ended?: string;
}

/**
 * Throttled waits in a row after which a step stops waiting and throws: the queue re-delivers the
 * message and, after its maxReceiveCount, dead-letters it. With the production retry settings
 * (10 s base, 120 s cap, full jitter) that is about half an hour of AWS refusing one step, and no
 * flow holds the cluster lock or a lifecycle action for ever under throttling.
 */
export const MAX_THROTTLED_WAITS = 30;

/**
 * What a step decided. `StepOutcome` with no argument carries no state change:
 * what pure decisions (lib/core/decisions.ts) return, usable by any flow.
 */
export type StepOutcome<S extends FlowStateBase = never> =
  | { readonly kind: 'next'; readonly patch?: Partial<S>; readonly skipTo?: S['step']; readonly warning?: string }
  /**
   * `resumeOn`: the wait ends when that Run Command command ends; its status-change event resumes
   * the flow, and a continuation sent after a long delay (the safety net) polls it if no event came.
   */
  /**
   * `wakeOn`: the wait ends when another flow signals that coordination key (signalFlow in
   * lib/usecases/flow-runner.ts); `wakeSince` is when what the step looked at was read: a signal
   * recorded before it was seen by that read, one after it (or within the clocks' skew) was maybe
   * not, and the flow looks again at once.
   */
  | {
      readonly kind: 'wait';
      readonly reason: string;
      readonly delaySeconds?: number;
      readonly patch?: Partial<S>;
      readonly resumeOn?: string;
      readonly wakeOn?: string;
      readonly wakeSince?: string;
    }
  | { readonly kind: 'fail'; readonly reason: string; readonly output?: string }
  /** The flow ends here on purpose (dry run answered, refusal notified). */
  | { readonly kind: 'done'; readonly patch?: Partial<S> };

/** The flows one queue carries: each flow's steps in order, and how their continuations are marked. */
export interface FlowFamily<S extends FlowStateBase> {
  /** The key that marks a continuation of these flows (part of the message format: keep it). */
  readonly mark: string;
  /** What a malformed continuation is called in errors. */
  readonly what: string;
  readonly steps: { readonly [F in S['flow']]: readonly S['step'][] };
  /** Fields that belong to the current step (the command in flight): forgotten when the step changes, and by a wait that does not restate them. */
  readonly stepScoped: readonly (keyof S)[];
  /** The coordination key under which a flow parked on command `commandId` waits (lib/core/records.ts). */
  commandKey(commandId: string): string;
  /** Checks the family's own fields of a state read back from the queue (throws MalformedEventError). */
  validate(state: Readonly<Record<string, unknown>>, where: string): void;
}

/** The fields every flow starts with, at the first step of `flow`. */
export function flowStart<S extends FlowStateBase>(family: FlowFamily<S>, flow: S['flow'], now: Date) {
  const at = now.toISOString();
  const steps: readonly S['step'][] = family.steps[flow as S['flow']];
  return { flow, step: steps[0] as S['step'], attempt: 0, startedAt: at, stepStartedAt: at, warnings: [] as readonly string[] };
}

function withoutScoped<S extends FlowStateBase>(family: FlowFamily<S>, state: S): S {
  const copy: Record<string, unknown> = { ...(state as object) };
  for (const key of family.stepScoped) delete copy[key as string];
  delete copy.throttledWaits;
  delete copy.ended;
  return copy as unknown as S;
}

/** The state after a step finished: the next step (or the one it skips to), undefined when the flow is done. */
export function advanceFlow<S extends FlowStateBase>(
  family: FlowFamily<S>,
  state: S,
  outcome: Extract<StepOutcome<S>, { kind: 'next' }>,
  now: Date,
): S | undefined {
  const steps: readonly string[] = family.steps[state.flow as S['flow']];
  const target = outcome.skipTo ?? steps[steps.indexOf(state.step) + 1];
  if (target === undefined) return undefined;
  if (!steps.includes(target)) throw new Error(`step ${target} is not part of flow ${state.flow}`);
  const rest = withoutScoped(family, { ...state, ...outcome.patch });
  const warnings = outcome.warning ? [...rest.warnings, outcome.warning] : rest.warnings;
  return { ...rest, warnings, step: target, attempt: 0, stepStartedAt: now.toISOString() };
}

/** The state a waiting step leaves for its next delivery: one attempt more; the command in flight only when the step restated it. */
export function waitingFlow<S extends FlowStateBase>(family: FlowFamily<S>, state: S, outcome: Extract<StepOutcome<S>, { kind: 'wait' }>): S {
  return { ...withoutScoped(family, state), ...outcome.patch, attempt: state.attempt + 1 };
}

/**
 * The wait of a step whose command ended (its event said so) while the read still lags: none at
 * the step's second attempt (its first wait was the send's, so that is the first lag seen: the
 * queue's own hop is the wait), then 1 s doubling with each attempt, at most RETRY_BASE_SECONDS: a
 * short look again instead of the safety net's long delay. A document that ends within Run
 * Command's read lag (a short one: the sandbox keeps a new invocation unreadable for 500 ms after
 * SendCommand) lost 2 s on every hop when the first look waited 2 s.
 */
export function readLagSeconds(attempt: number, retryBaseSeconds: number): number {
  if (attempt <= 1) return 0;
  return Math.max(1, Math.min(retryBaseSeconds, 2 ** Math.min(attempt - 2, 10)));
}

/**
 * The share of a wait that may pass between the moment its state came true and the look that sees
 * it: a wait with no event and no known end looks again after this share of the time it has
 * waited so far (never sooner than the base delay, never later than the maximum), so the
 * control plane's lateness stays within a tenth of every wait. An exponential backoff (base,
 * 2 x base, 4 x base ...) could look up to the whole wait so far too late.
 */
export const LATE_SHARE = 0.1;

/** The delay of a wait `waitedSeconds` into its step: LATE_SHARE of that, between base and max. */
export function waitDelaySeconds(waitedSeconds: number, baseSeconds: number, maxSeconds: number): number {
  const share = Math.ceil(Math.max(0, waitedSeconds) * LATE_SHARE);
  return Math.round(Math.min(maxSeconds, Math.max(baseSeconds, share)));
}

/** Seconds since an ISO time. */
export function secondsSince(iso: string, now: Date): number {
  return Math.max(0, (now.getTime() - Date.parse(iso)) / 1000);
}

/** A source of uniform random numbers in [0, 1) (Math.random; a fixed sequence in tests). */
export type RandomSource = () => number;

/**
 * AWS's "full jitter" backoff: a random whole number of seconds between 0 and
 * the capped exponential delay (min(max, base * 2^attempt)), never under 1 s
 * (the shortest wait a continuation can ask SQS for). Used where many flows may
 * retry together (a throttled call): spread out, they stop throttling each other.
 */
export function jitteredBackoffSeconds(attempt: number, baseSeconds: number, maxSeconds: number, random: RandomSource = Math.random): number {
  const cap = Math.max(1, Math.min(maxSeconds, baseSeconds * 2 ** Math.min(Math.max(attempt, 0), 20)));
  const draw = random();
  if (!(draw >= 0 && draw < 1)) throw new RangeError(`a random source must return a number in [0, 1), got ${draw}`);
  return Math.min(Math.floor(cap), Math.max(1, Math.floor(draw * (cap + 1))));
}

/**
 * Record a heartbeat now when, by the time the next delivery arrives, more
 * than half the hook's heartbeat timeout would have passed since the last one.
 */
export function needsHeartbeat(state: FlowStateBase, delaySeconds: number, now: Date): boolean {
  const timeout = state.heartbeatTimeoutSeconds ?? 0;
  if (timeout <= 0 || !state.lastHeartbeatAt) return false;
  return secondsSince(state.lastHeartbeatAt, now) + delaySeconds >= timeout / 2;
}

/** A heartbeat interval at least as long as the hook timeout cannot keep the hook alive. */
export function heartbeatWarning(heartbeatTimeoutSeconds: number, maxDelaySeconds: number): string | undefined {
  if (heartbeatTimeoutSeconds > 0 && maxDelaySeconds >= heartbeatTimeoutSeconds / 2) {
    return `RETRY_MAX_SECONDS (${maxDelaySeconds}s) is at least half the hook's heartbeat timeout (${heartbeatTimeoutSeconds}s): the hook may expire between deliveries`;
  }
  return undefined;
}

/** Marks a first delivery put back on its queue because AWS throttled it (a message format: keep it). */
export const INTAKE_RETRY_MARK = 'pydio-autoscaler/intake-retry';

/** A throttled first delivery, re-sent: the original body, the message id that owns its claim, its throttled attempts so far. */
export interface IntakeRetry {
  readonly owner: string;
  readonly attempt: number;
  readonly body: unknown;
}

/** A throttled first delivery given up after this many re-sends is no longer throttling but an outage: it is thrown (SQS re-delivers, then dead-letters). */
export const MAX_INTAKE_RETRIES = 50;

export function encodeIntakeRetry(retry: IntakeRetry): string {
  return JSON.stringify({ [INTAKE_RETRY_MARK]: 1, owner: retry.owner, attempt: retry.attempt, body: retry.body });
}

export function isIntakeRetry(body: unknown): body is Record<string, unknown> {
  return typeof body === 'object' && body !== null && INTAKE_RETRY_MARK in body;
}

/** Validate a re-sent first delivery read back from the queue (MalformedEventError). */
/**
 * What a first delivery carries: the body as it came, owned by its own message id; or, for a first
 * delivery AWS throttled and the queue brings back, the wrapped body with the id that owns its claim.
 * Throws MalformedEventError for a wrapped body that does not decode.
 */
export function intakeOf(parsed: unknown, messageId: string): IntakeRetry {
  return isIntakeRetry(parsed) ? decodeIntakeRetry(parsed) : { body: parsed, owner: messageId, attempt: 0 };
}

export function decodeIntakeRetry(body: Record<string, unknown>): IntakeRetry {
  const { owner, attempt, body: inner } = body;
  if (typeof owner !== 'string' || owner === '') throw new MalformedEventError('throttled first delivery: owner is missing');
  if (typeof attempt !== 'number' || !Number.isInteger(attempt) || attempt < 1) throw new MalformedEventError(`throttled first delivery: attempt ${JSON.stringify(attempt)} is not a positive whole number`);
  if (typeof inner !== 'object' || inner === null || isIntakeRetry(inner)) throw new MalformedEventError('throttled first delivery: the original message is missing');
  return { owner, attempt, body: inner };
}

export function encodeFlow<S extends FlowStateBase>(family: FlowFamily<S>, state: S): string {
  return JSON.stringify({ [family.mark]: 1, state });
}

export function isFlowContinuation<S extends FlowStateBase>(family: FlowFamily<S>, body: unknown): body is { state: unknown } {
  return typeof body === 'object' && body !== null && family.mark in body;
}

/** The key that marks a wake message (part of the message format: keep it). */
export const WAKE_MARK = 'pydio-autoscaler/wake';

/**
 * How far apart two Lambda clocks may be when a signal's recorded time is compared with the time a
 * step read what it looked at (both written by functions of one region): a signal this close
 * before the read counts as maybe missed by it.
 */
export const SIGNAL_SKEW_MS = 1000;

/** The message that wakes the flow parked under `key`, if any (signalFlow). */
export function encodeWake(key: string): string {
  return JSON.stringify({ [WAKE_MARK]: key });
}

export function isWakeMessage(body: unknown): body is Record<string, unknown> {
  return typeof body === 'object' && body !== null && WAKE_MARK in body;
}

/** The wake key a wake message names (MalformedEventError when it names none). */
export function wakeKeyOf(body: Record<string, unknown>): string {
  const key = body[WAKE_MARK];
  if (typeof key !== 'string' || key === '') throw new MalformedEventError(`a wake message must name the key to wake, got ${JSON.stringify(key)}`);
  return key;
}

/** The record next to a wake key that holds when it was last signalled (an ISO time). */
export const signalKey = (wakeKey: string) => `${wakeKey}/signalled`;

/**
 * Whether a signal recorded at `signalledAt` may have been missed by a read made at `readAt`
 * (undefined: unknown, so maybe missed): it came after the read, or within the clocks' skew of it.
 */
export function signalMaybeMissed(signalledAt: string, readAt: string | undefined): boolean {
  const signalled = Date.parse(signalledAt);
  if (readAt === undefined || Number.isNaN(signalled)) return true;
  const read = Date.parse(readAt);
  return Number.isNaN(read) || signalled >= read - SIGNAL_SKEW_MS;
}

/** Validate a continuation read back from the queue. */
export function decodeFlow<S extends FlowStateBase>(family: FlowFamily<S>, body: { state: unknown }): S {
  const s = body.state as Record<string, unknown> | undefined;
  const where = family.what;
  if (typeof s !== 'object' || s === null) throw new MalformedEventError(`${where}: state is missing`);
  if (typeof s.flow !== 'string' || !Object.hasOwn(family.steps, s.flow)) {
    throw new MalformedEventError(`${where}: unknown flow ${JSON.stringify(s.flow)}`);
  }
  const steps: readonly string[] = family.steps[s.flow as S['flow']];
  if (typeof s.step !== 'string' || !steps.includes(s.step)) {
    throw new MalformedEventError(`${where}: step ${JSON.stringify(s.step)} is not part of flow ${s.flow}`);
  }
  for (const key of ['startedAt', 'stepStartedAt'] as const) {
    if (typeof s[key] !== 'string') throw new MalformedEventError(`${where}: ${key} is missing`);
  }
  if (s.pendingCheckedAt !== undefined && (typeof s.pendingCheckedAt !== 'string' || Number.isNaN(Date.parse(s.pendingCheckedAt)))) {
    throw new MalformedEventError(`${where}: pendingCheckedAt must be an ISO time, got ${JSON.stringify(s.pendingCheckedAt)}`);
  }
  if (s.ended !== undefined && (typeof s.ended !== 'string' || s.ended === '')) {
    throw new MalformedEventError(`${where}: ended must be a command status, got ${JSON.stringify(s.ended)}`);
  }
  if (s.awaiting !== undefined && (typeof s.awaiting !== 'string' || s.awaiting === '')) {
    throw new MalformedEventError(`${where}: awaiting must be a command id, got ${JSON.stringify(s.awaiting)}`);
  }
  if (s.awaitingWake !== undefined && (typeof s.awaitingWake !== 'string' || s.awaitingWake === '')) {
    throw new MalformedEventError(`${where}: awaitingWake must be a coordination key, got ${JSON.stringify(s.awaitingWake)}`);
  }
  if (s.throttledWaits !== undefined && !(Number.isInteger(s.throttledWaits) && (s.throttledWaits as number) >= 0)) {
    throw new MalformedEventError(`${where}: throttledWaits must be a whole number of waits, got ${JSON.stringify(s.throttledWaits)}`);
  }
  family.validate(s, where);
  return { ...(s as unknown as S), warnings: Array.isArray(s.warnings) ? s.warnings : [] };
}
