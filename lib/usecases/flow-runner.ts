/** The flow engine's effectful part: claim a lifecycle action (and keep it), run a flow's steps, wait, heartbeat, re-enqueue, fail. */
import type { AutoScalingPort, GroupInstance, LifecycleActionRef, LifecycleResult } from '../ports/autoscaling';
import type { CoordinationPort } from '../ports/coordination';
import type { NotifierPort } from '../ports/sns';
import type { QueuePort } from '../ports/sqs';
import { waitingState } from '../core/decisions';
import {
  advanceFlow,
  decodeFlow,
  encodeFlow,
  encodeIntakeRetry,
  encodeWake,
  heartbeatWarning,
  isFlowContinuation,
  jitteredBackoffSeconds,
  MAX_INTAKE_RETRIES,
  MAX_THROTTLED_WAITS,
  needsHeartbeat,
  secondsSince,
  signalKey,
  signalMaybeMissed,
  waitDelaySeconds,
  wakeKeyOf,
  waitingFlow,
  type FlowFamily,
  type FlowStateBase,
  type RandomSource,
  type StepOutcome,
} from '../core/flow';
import { parseCommandEvent } from '../core/command-event';
import type { LifecycleEvent } from '../core/lifecycle-event';
import type { Notification } from '../core/notification';
import { AwsCallError, isThrottledCall, MalformedEventError, StepFailedError } from '../errors';
import type { Log } from '../logger';

/**
 * One engine for every flow. A flow is a table of step handlers
 * (lib/usecases/compute/*-flow.ts, lib/usecases/storage/*-flow.ts); the queue
 * its continuations travel on gives the engine a FlowDriver (lifecycle.ts,
 * storage/flows.ts). A call AWS throttled (after the SDK's own retries) is a
 * wait: the flow goes back to its queue after a jittered delay and tries the
 * same step again. Other transient AWS errors are thrown, so the queue
 * re-delivers the message (and, after maxReceiveCount, dead-letters it).
 */

export type MessageOutcome = 'completed' | 'waiting' | 'skipped' | 'failed' | 'rejected';

/** What the engine itself touches. */
export interface EngineDeps {
  readonly config: {
    readonly stage: string;
    readonly timing: { readonly retryBaseSeconds: number; readonly retryMaxSeconds: number; readonly claimTtlSeconds: number };
  };
  readonly autoScaling: Pick<AutoScalingPort, 'describeInstance' | 'describeLifecycleHook' | 'completeLifecycleAction' | 'recordHeartbeat'>;
  /** Lifecycle claims (and, for the drivers, what else a flow holds). */
  readonly coordination: Pick<CoordinationPort, 'take' | 'release' | 'consume' | 'read' | 'write'>;
  readonly notifier: NotifierPort;
  readonly queue: QueuePort;
  readonly log: Log;
  readonly now: () => Date;
  /** The jitter of throttled waits (Math.random when absent). */
  readonly random?: RandomSource;
}

export type StepHandler<S extends FlowStateBase, D> = (state: S, deps: D) => Promise<StepOutcome<S>>;

/** What each step of one flow does: a handler for every step the flow's table names. */
export type StepTable<K extends string, S extends FlowStateBase, D> = { readonly [P in K]: StepHandler<S, D> };

/** What the flows of one queue give the engine besides their step tables. */
export interface FlowDriver<S extends FlowStateBase, D extends EngineDeps> {
  readonly family: FlowFamily<S>;
  readonly tables: { readonly [F in S['flow']]: Readonly<Record<string, StepHandler<S, D>>> };
  queueUrl(deps: D): string;
  logKeys(state: S): Record<string, unknown>;
  /** The key of the claim that makes one flow own a lifecycle action (lib/core/records.ts). */
  claimKey(event: LifecycleEvent): string;
  /** Who owns the flow's claim: the first delivery's message id, carried in the state. */
  ownerOf(state: S): string;
  /** What ops are told when a lifecycle action ended before or outside the flow. */
  skippedNotice(stage: string, event: LifecycleEvent, reason: string): Notification;
  /**
   * Before the steps of every delivery (the storage flows keep their lock):
   * a reason when the flow lost what it holds to another flow, which fails it.
   */
  beforeSteps?(state: S, deps: D): Promise<string | undefined>;
  /** A step went on with a warning. */
  warned?(state: S, warning: string, deps: D): Promise<void>;
  /** The flow ran its last step. */
  completed?(state: S, deps: D): Promise<void>;
  /** A failed flow, before its lifecycle action is completed: undo what must not outlive it. */
  undo?(state: S, deps: D): Promise<void>;
  /** A failed flow, after its lifecycle action (if any) was completed with `result`: tell ops. */
  failed(state: S, reason: string, output: string | undefined, result: LifecycleResult | undefined, deps: D): Promise<void>;
  /** What the flow holds besides its lifecycle claim (a lock, a bootstrap claim), given back when it ends early. */
  release?(state: S, deps: D, failed: boolean): Promise<void>;
}

export function actionRef(event: LifecycleEvent): LifecycleActionRef {
  return { groupName: event.groupName, hookName: event.hookName, instanceId: event.instanceId, ...(event.token ? { token: event.token } : {}) };
}

/**
 * First delivery of a lifecycle event: claim the action for claimTtlSeconds
 * (a duplicate delivery finds it held by another live flow; a claim whose flow
 * died has expired and is taken over), check the hook still waits (a late
 * event finds it gone), read the hook's heartbeat timeout. Undefined: skip.
 */
export async function claimAction<S extends FlowStateBase, D extends EngineDeps>(
  driver: FlowDriver<S, D>,
  deps: D,
  event: LifecycleEvent,
  messageId: string,
): Promise<{ instance: GroupInstance; heartbeatTimeoutSeconds: number } | undefined> {
  const { config, log } = deps;
  const key = driver.claimKey(event);
  const claim = await deps.coordination.take(key, messageId, config.timing.claimTtlSeconds);
  if (!claim.taken) {
    log.info('duplicate delivery: another flow owns this lifecycle action', { instanceId: event.instanceId, owner: claim.holder?.owner });
    return undefined;
  }
  if (claim.replaced) {
    log.warn('took over the lifecycle action of a flow whose claim expired', { instanceId: event.instanceId, previousOwner: claim.replaced.owner });
  }
  const instance = await deps.autoScaling.describeInstance(event.instanceId);
  const expected = waitingState(event.transition);
  if (!instance || instance.lifecycleState !== expected) {
    const reason = `the lifecycle action is no longer pending (instance is ${instance ? instance.lifecycleState : 'unknown to Auto Scaling'}, expected ${expected}): the hook was already completed or timed out`;
    log.info('late event skipped', { instanceId: event.instanceId, reason });
    await deps.notifier.publish(driver.skippedNotice(config.stage, event, reason));
    await deps.coordination.release(key, messageId);
    return undefined;
  }
  const hook = await deps.autoScaling.describeLifecycleHook(event.groupName, event.hookName);
  const heartbeatTimeoutSeconds = hook?.heartbeatTimeoutSeconds ?? 3600;
  const warning = heartbeatWarning(heartbeatTimeoutSeconds, config.timing.retryMaxSeconds);
  if (warning) log.warn(warning, { instanceId: event.instanceId, asgName: event.groupName, hookName: event.hookName });
  return { instance, heartbeatTimeoutSeconds };
}

/** More steps than this in one delivery is a step that loops without waiting. */
const MAX_STEPS_PER_DELIVERY = 100;

/**
 * Runs steps until one must wait (the flow goes back to its queue with a
 * delay), fails, or the flow ends. A re-delivery first keeps its claim on the
 * lifecycle action (and stops quietly when another flow owns it now), then
 * checks that the action still waits for it.
 */
export async function runFlow<S extends FlowStateBase, D extends EngineDeps>(
  driver: FlowDriver<S, D>,
  deps: D,
  initial: S,
  redelivered: boolean,
  /** The queue message this delivery is (a parked flow's safety net consumes its record by it). */
  deliveryId?: string,
): Promise<MessageOutcome> {
  const { log } = deps;
  let state = initial;

  let lost: string | undefined;
  try {
    if (redelivered && state.awaiting) {
      // The safety net of a flow parked on a command: the flow runs on only if its command's
      // event has not resumed it already (the record is not consumed by another message).
      if (deliveryId === undefined) throw new Error(`a continuation parked on command ${state.awaiting} needs its message id to consume its record`);
      const parked = await deps.coordination.consume(driver.family.commandKey(state.awaiting), deliveryId);
      if (!parked) {
        log.info('superseded: the command\'s status-change event resumed this flow already', { ...driver.logKeys(state), awaiting: state.awaiting });
        return 'skipped';
      }
      state = { ...state, awaiting: undefined };
    } else if (redelivered && state.awaitingWake) {
      // The safety net of a flow parked on a wake key: it runs the state parked there last, if no
      // signal (or an earlier safety net of the same key) consumed it; the flow may have been woken
      // and parked again since this continuation was sent.
      if (deliveryId === undefined) throw new Error(`a continuation parked on ${state.awaitingWake} needs its message id to consume its record`);
      const parked = await consumeParked(driver, deps, state.awaitingWake, deliveryId);
      if (!parked) {
        log.info('superseded: a signal resumed this flow already', { ...driver.logKeys(state), awaitingWake: state.awaitingWake });
        return 'skipped';
      }
      state = parked;
    }
    if (redelivered && state.event) {
      if (!(await keepClaim(driver, deps, state, state.event))) return 'skipped';
      if (pendingCheckDue(state, deps)) {
        if (!(await stillPending(driver, deps, state, state.event))) return 'skipped';
        state = { ...state, pendingCheckedAt: deps.now().toISOString() };
      }
    }
    lost = await driver.beforeSteps?.(state, deps);
  } catch (error) {
    if (!isThrottledCall(error)) throw error;
    await waitFlow(driver, deps, state, throttledWait(driver, deps, state, error));
    return 'waiting';
  }
  if (lost !== undefined) return failFlow(driver, deps, state, lost, undefined);

  for (let count = 0; count < MAX_STEPS_PER_DELIVERY; count += 1) {
    let outcome: StepOutcome<S>;
    try {
      outcome = await runStep(driver, deps, state);
    } catch (error) {
      if (error instanceof StepFailedError) outcome = { kind: 'fail', reason: error.message, output: error.output };
      else if (error instanceof MalformedEventError) outcome = { kind: 'fail', reason: error.message };
      else if (isThrottledCall(error)) outcome = throttledWait(driver, deps, state, error);
      else throw error;
    }
    log.info('step outcome', { ...driver.logKeys(state), outcome: outcome.kind, ...('reason' in outcome ? { reason: outcome.reason } : {}) });

    switch (outcome.kind) {
      case 'fail':
        return failFlow(driver, deps, state, outcome.reason, outcome.output);
      case 'done':
        await endEarly(driver, deps, { ...state, ...outcome.patch }, false);
        return 'completed';
      case 'wait':
        await waitFlow(driver, deps, state, outcome);
        return 'waiting';
      case 'next': {
        if (outcome.warning) {
          log.warn(outcome.warning, driver.logKeys(state));
          await driver.warned?.(state, outcome.warning, deps);
        }
        const next = advanceFlow(driver.family, state, outcome, deps.now());
        if (next === undefined) {
          await driver.completed?.(state, deps);
          return 'completed';
        }
        state = next;
      }
    }
  }
  throw new StepFailedError(state.step, `more than ${MAX_STEPS_PER_DELIVERY} steps in one delivery: a step loops without waiting`);
}

/**
 * The wait of a step whose call AWS throttled: the same step again after a
 * full-jitter delay (random up to the capped exponential one, at least 1 s),
 * keeping the step's command in flight (the step did not get to restate it).
 */
function throttledWait<S extends FlowStateBase, D extends EngineDeps>(driver: FlowDriver<S, D>, deps: D, state: S, error: AwsCallError): Extract<StepOutcome<S>, { kind: 'wait' }> {
  const { timing } = deps.config;
  const waits = state.throttledWaits ?? 0;
  // Bounded: past MAX_THROTTLED_WAITS in a row the error goes to the queue (re-delivery, then dead letter).
  if (waits >= MAX_THROTTLED_WAITS) throw error;
  const kept: Partial<S> = { throttledWaits: waits + 1 } as Partial<S>;
  for (const key of driver.family.stepScoped) if (state[key] !== undefined) kept[key] = state[key];
  return {
    kind: 'wait',
    reason: `AWS throttled ${error.operation}: trying ${state.step} again after a jittered delay (${waits + 1} of at most ${MAX_THROTTLED_WAITS} in a row)`,
    delaySeconds: jitteredBackoffSeconds(state.attempt, timing.retryBaseSeconds, timing.retryMaxSeconds, deps.random),
    patch: kept,
  };
}

/**
 * A first delivery (no flow state yet) whose claim, checks or start AWS
 * throttled goes back to its queue after a full-jitter delay, wrapped with the
 * message id it arrived with: that id stays the owner of the lifecycle claim
 * and of the flow that finally starts (a re-sent message gets a new id, which
 * the claim would refuse as a duplicate). Safe against a genuine duplicate
 * EventBridge delivery (another message id): while the claim is held by the
 * original id, the duplicate is skipped; when the throttled call was the take
 * itself (no claim yet), whichever takes the claim first starts the one flow
 * and the other is skipped as a duplicate; a duplicate that comes after the
 * claim expired (re-send delayed past claimTtlSeconds) takes it over and the
 * re-sent message is then the one skipped. One flow either way; what remains is
 * SQS's own at-least-once delivery of one message id, as for every
 * continuation. Any other error is thrown (the queue
 * re-delivers the same message, same id); so is throttling past
 * MAX_INTAKE_RETRIES re-sends.
 */
export async function deferThrottledIntake<S extends FlowStateBase, D extends EngineDeps>(
  driver: FlowDriver<S, D>,
  deps: D,
  error: unknown,
  intake: { readonly body: unknown; readonly owner: string; readonly attempt: number },
): Promise<MessageOutcome> {
  if (!isThrottledCall(error) || intake.attempt >= MAX_INTAKE_RETRIES) throw error;
  const { timing } = deps.config;
  const delay = jitteredBackoffSeconds(intake.attempt, timing.retryBaseSeconds, timing.retryMaxSeconds, deps.random);
  await deps.queue.send(driver.queueUrl(deps), encodeIntakeRetry({ owner: intake.owner, attempt: intake.attempt + 1, body: intake.body }), delay);
  deps.log.warn('first delivery throttled: sent back to the queue', { owner: intake.owner, attempt: intake.attempt + 1, delaySeconds: delay, reason: error.message });
  return 'waiting';
}

function runStep<S extends FlowStateBase, D extends EngineDeps>(driver: FlowDriver<S, D>, deps: D, state: S): Promise<StepOutcome<S>> {
  const table: Readonly<Record<string, StepHandler<S, D>>> = driver.tables[state.flow as S['flow']];
  const handler = Object.hasOwn(table, state.step) ? table[state.step] : undefined;
  if (!handler) throw new StepFailedError(state.step, `step ${state.step} is not part of ${state.flow}`);
  return handler(state, deps);
}

/**
 * Every re-delivery takes its claim again for claimTtlSeconds: the one
 * conditional write extends it while it is the flow's own, and takes it back
 * when it expired and nobody else took it (a slow delivery; a continuation
 * from before the coordination table). When another flow owns the action now
 * (this one was given up for dead and the action re-driven), this delivery
 * stops quietly: no step, no completion, only what else it holds given back.
 */
async function keepClaim<S extends FlowStateBase, D extends EngineDeps>(driver: FlowDriver<S, D>, deps: D, state: S, event: LifecycleEvent): Promise<boolean> {
  const claim = await deps.coordination.take(driver.claimKey(event), driver.ownerOf(state), deps.config.timing.claimTtlSeconds);
  if (claim.taken) return true;
  deps.log.warn('claim lost: another flow owns this lifecycle action now; this delivery stops', { ...driver.logKeys(state), owner: claim.holder?.owner });
  await driver.release?.(state, deps, true);
  return false;
}

/**
 * Whether this delivery re-checks that the hook still waits: when RETRY_MAX_SECONDS passed since
 * the last check (the claim's, when the flow started). A flow that moves on events makes several
 * deliveries a minute; one DescribeAutoScalingInstances each would be most of its calls, and an
 * action ended outside the flow (timed out, completed by hand) is rare: it is found within
 * RETRY_MAX_SECONDS, and the flow's last step, CompleteLifecycleAction, finds it in any case.
 */
function pendingCheckDue(state: FlowStateBase, deps: EngineDeps): boolean {
  return secondsSince(state.pendingCheckedAt ?? state.startedAt, deps.now()) >= deps.config.timing.retryMaxSeconds;
}

/** A re-delivery's check that the hook still waits for this flow. */
async function stillPending<S extends FlowStateBase, D extends EngineDeps>(driver: FlowDriver<S, D>, deps: D, state: S, event: LifecycleEvent): Promise<boolean> {
  const instance = await deps.autoScaling.describeInstance(event.instanceId);
  if (instance && instance.lifecycleState === waitingState(event.transition)) return true;
  const reason = `the lifecycle action ended outside this flow while at step ${state.step} (instance is ${instance ? instance.lifecycleState : 'gone'})`;
  deps.log.warn('flow abandoned: lifecycle action no longer pending', { ...driver.logKeys(state), reason });
  await deps.notifier.publish(driver.skippedNotice(deps.config.stage, event, reason));
  await endEarly(driver, deps, state, true);
  return false;
}

/**
 * Back to the queue with a delay; a heartbeat first when the hook could expire before the next
 * delivery. A wait on a command (`resumeOn`) also parks the flow: the same state is held under the
 * command's key for its status-change event to resume (resumeOnCommand), and the continuation sent
 * now is only the safety net, after RETRY_MAX_SECONDS (events from AWS services may be lost:
 * "in some rare cases an event might not be delivered", EventBridge, event delivery level).
 */
async function waitFlow<S extends FlowStateBase, D extends EngineDeps>(driver: FlowDriver<S, D>, deps: D, state: S, outcome: Extract<StepOutcome<S>, { kind: 'wait' }>): Promise<void> {
  const { timing } = deps.config;
  const backoff = outcome.delaySeconds ?? waitDelaySeconds(secondsSince(state.stepStartedAt, deps.now()), timing.retryBaseSeconds, timing.retryMaxSeconds);
  const parks = outcome.resumeOn !== undefined || outcome.wakeOn !== undefined;
  let delay = parks ? Math.max(backoff, timing.retryMaxSeconds) : backoff;
  // Parked on this wait's command or wake key; otherwise waitingFlow keeps the one still held (a throttled consume of the safety net).
  let next: S = waitingFlow(driver.family, state, outcome);
  if (outcome.resumeOn) next = { ...next, awaiting: outcome.resumeOn };
  else if (outcome.wakeOn) next = { ...next, awaitingWake: outcome.wakeOn };
  if (next.event && needsHeartbeat(next, delay, deps.now())) {
    try {
      await deps.autoScaling.recordHeartbeat(actionRef(next.event));
      next = { ...next, lastHeartbeatAt: deps.now().toISOString() };
      deps.log.info('lifecycle heartbeat recorded', driver.logKeys(next));
    } catch (error) {
      if (!isThrottledCall(error)) throw error;
      // Thrown, the queue would re-deliver the previous message, which lacks what this delivery
      // did (a command just sent would be sent again). Go back now with this state, sooner (the
      // shortest jittered delay), the heartbeat still due (lastHeartbeatAt unchanged): the next
      // delivery records it, well inside the half of the hook's timeout that needsHeartbeat keeps.
      delay = Math.min(delay, jitteredBackoffSeconds(0, timing.retryBaseSeconds, timing.retryMaxSeconds, deps.random));
      deps.log.warn('lifecycle heartbeat throttled: it is recorded on the next delivery', { ...driver.logKeys(next), delaySeconds: delay });
    }
  }
  if (outcome.resumeOn) {
    // Held before the safety net is sent: an event that comes in between finds the flow to resume.
    await deps.coordination.take(driver.family.commandKey(outcome.resumeOn), driver.ownerOf(next), timing.claimTtlSeconds, encodeFlow(driver.family, next));
  } else if (outcome.wakeOn) {
    // Parked first, then the last signal read: a signal after the park finds the flow to resume; one
    // before it that the step's read may have missed sends the safety net at once instead.
    await deps.coordination.take(outcome.wakeOn, driver.ownerOf(next), timing.claimTtlSeconds, encodeFlow(driver.family, next));
    // The flow is parked now: a read AWS refused is not thrown (a re-delivery would run the step
    // again beside a wake of this park), it counts as a signal maybe missed.
    let signalled: string | undefined;
    try {
      signalled = await deps.coordination.read(signalKey(outcome.wakeOn));
    } catch (error) {
      if (!(error instanceof AwsCallError)) throw error;
      deps.log.warn('could not read the last signal: looking again now', { ...driver.logKeys(next), error: error.message });
      delay = 0;
    }
    if (signalled !== undefined && signalMaybeMissed(signalled, outcome.wakeSince)) {
      deps.log.info('signalled while the step looked: looking again now', { ...driver.logKeys(next), signalledAt: signalled, readAt: outcome.wakeSince });
      delay = 0;
    }
  }
  await deps.queue.send(driver.queueUrl(deps), encodeFlow(driver.family, next), delay);
  deps.log.info('waiting', {
    ...driver.logKeys(next),
    delaySeconds: delay,
    reason: outcome.reason,
    ...(outcome.resumeOn ? { resumeOn: outcome.resumeOn } : {}),
    ...(outcome.wakeOn ? { wakeOn: outcome.wakeOn } : {}),
  });
}

/**
 * Consumes the record parked under `key` (a command's or a wake key) by message `deliveryId`: the
 * state parked there, no longer awaiting a wake, or undefined when none waits (or another message
 * consumed it). A record that is not a continuation of the driver's flows is MalformedEventError.
 */
async function consumeParked<S extends FlowStateBase, D extends EngineDeps>(driver: FlowDriver<S, D>, deps: D, key: string, deliveryId: string): Promise<S | undefined> {
  const parked = await deps.coordination.consume(key, deliveryId);
  if (!parked?.value) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(parked.value);
  } catch (error) {
    throw new MalformedEventError(`the flow parked on ${key} is not JSON`, { cause: error });
  }
  if (!isFlowContinuation(driver.family, body)) throw new MalformedEventError(`the record parked on ${key} is not a ${driver.family.what}`);
  return { ...decodeFlow(driver.family, body), awaitingWake: undefined };
}

/**
 * Tells the flow parked (or about to park) under wake key `key`, on the queue `queueUrl`, that what it waits for happened:
 * the time is recorded next to the key first (a flow that parks after this message was handled
 * finds it and looks again at once), then a wake message goes to the queue, whose delivery runs
 * the parked flow (wakeIntake). Costs one write and one message; nothing waits on it.
 */
export async function signalFlow(deps: EngineDeps, queueUrl: string, key: string): Promise<void> {
  await deps.coordination.write(signalKey(key), deps.now().toISOString(), deps.config.timing.claimTtlSeconds);
  await deps.queue.send(queueUrl, encodeWake(key), 0);
}

/**
 * A wake message (signalFlow): the flow parked under its key runs on now, from the state parked
 * there; consumed by this message in one conditional write, so a wake and the flow's safety net
 * never both run it. Nothing parked (the flow is between looks, or ended): skipped, the recorded
 * signal makes its next park look again. A malformed message or record goes to `reject`.
 */
export async function wakeIntake<S extends FlowStateBase, D extends EngineDeps>(
  driver: FlowDriver<S, D>,
  deps: D,
  message: Record<string, unknown>,
  deliveryId: string,
  reject: (error: unknown) => Promise<MessageOutcome>,
): Promise<MessageOutcome> {
  let state: S | undefined;
  let key: string;
  try {
    key = wakeKeyOf(message);
    state = await consumeParked(driver, deps, key, deliveryId);
  } catch (error) {
    if (error instanceof MalformedEventError) return reject(error);
    throw error;
  }
  if (!state) {
    deps.log.info('wake: no flow is parked on this key now (between looks, resumed already, or ended)', { wakeKey: key });
    return 'skipped';
  }
  deps.log.info('resumed by a signal', { ...driver.logKeys(state), wakeKey: key });
  return runFlow(driver, deps, state, true, deliveryId);
}

/**
 * A Run Command status-change event (a command ended): the flow parked on that command, if any,
 * runs on now. The record is consumed by this message in one conditional write, so the event and
 * the flow's safety-net continuation never both run it; an event nobody waits for (no record, or
 * consumed by the safety net) is skipped. A re-delivery of this same message (the first attempt
 * threw) consumes it again and runs the flow again: an error does not lose the flow. The flow
 * runs as a re-delivery: claim kept, action still pending, lock still held.
 */
export async function resumeOnCommand<S extends FlowStateBase, D extends EngineDeps>(
  driver: FlowDriver<S, D>,
  deps: D,
  command: { readonly commandId: string; readonly status: string },
  deliveryId: string,
): Promise<MessageOutcome> {
  const parked = await consumeParked(driver, deps, driver.family.commandKey(command.commandId), deliveryId);
  if (!parked) {
    deps.log.info('command event: no flow waits for this command (resumed already, or not a flow\'s)', { commandId: command.commandId, status: command.status });
    return 'skipped';
  }
  const state = { ...parked, awaiting: undefined, ended: command.status };
  deps.log.info('resumed by its command\'s status-change event', { ...driver.logKeys(state), commandId: command.commandId, status: command.status });
  return runFlow(driver, deps, state, true, deliveryId);
}

/**
 * A queue message that is a Run Command status-change event: the flow parked on the command that
 * ended runs on (resumeOnCommand); an event of a command that has not ended resumes nothing. A
 * malformed event, or a malformed parked record, goes to `reject` (ops are told, the message is
 * consumed); any other error is thrown (the queue re-delivers the event).
 */
export async function commandEventIntake<S extends FlowStateBase, D extends EngineDeps>(
  driver: FlowDriver<S, D>,
  deps: D,
  event: Record<string, unknown>,
  deliveryId: string,
  reject: (error: unknown) => Promise<MessageOutcome>,
): Promise<MessageOutcome> {
  try {
    const ended = parseCommandEvent(event);
    if (!ended) {
      deps.log.info('command event: the command has not ended, nothing to resume', { status: (event.detail as Record<string, unknown>).status });
      return 'skipped';
    }
    return await resumeOnCommand(driver, deps, ended, deliveryId);
  } catch (error) {
    if (error instanceof MalformedEventError) return reject(error);
    throw error;
  }
}

/** A failed flow completes its lifecycle action (ABANDON a launch, CONTINUE a termination), tells ops, gives back what it holds. */
async function failFlow<S extends FlowStateBase, D extends EngineDeps>(driver: FlowDriver<S, D>, deps: D, state: S, reason: string, output: string | undefined): Promise<MessageOutcome> {
  deps.log.error('flow failed', { ...driver.logKeys(state), reason });
  await driver.undo?.(state, deps);
  let result: LifecycleResult | undefined;
  if (state.event) {
    result = state.event.transition === 'launch' ? 'ABANDON' : 'CONTINUE';
    await deps.autoScaling.completeLifecycleAction(actionRef(state.event), result);
  }
  await driver.failed(state, reason, output, result, deps);
  await endEarly(driver, deps, state, true);
  return 'failed';
}

/** Gives back what a flow that ends before its last step holds: its own holdings, then the lifecycle claim. */
async function endEarly<S extends FlowStateBase, D extends EngineDeps>(driver: FlowDriver<S, D>, deps: D, state: S, failed: boolean): Promise<void> {
  await driver.release?.(state, deps, failed);
  if (state.event) await deps.coordination.release(driver.claimKey(state.event), driver.ownerOf(state));
}
