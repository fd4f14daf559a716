/** The storage flows' tables (launch, terminate, expand, shrink), their state and the StorageQueue's message formats. */
import { MalformedEventError, StepFailedError } from '../../errors';
import { flowStart, type FlowFamily, type FlowStateBase, type StepOutcome } from '../flow';
import type { LifecycleEvent } from '../lifecycle-event';
import { storageCommandKey } from '../records';
import type { ExpansionPlan, Strategy } from './expand';
import type { GlusterStep } from './gluster-actions';
import type { BrickRef } from './health';
import type { HealthCheckRequest } from './health-check';
import { GROW_STEPS, type GrowProgress } from './grow';
import type { LayoutChange } from './layout';
import type { ReplacementPlan } from './replace';
import type { ShrinkPlan } from './shrink';
import type { WatchOutcome } from './watch';

/**
 * Storage flows run on the one flow engine (lib/core/flow.ts); what each step
 * does is in lib/usecases/storage/<flow>-flow.ts. A replacement (taking over a
 * dead member's bricks) is part of a launch, grow in place part of an expansion.
 */
export type StorageFlowKind = 'storage-launch' | 'storage-terminate' | 'expand' | 'shrink' | 'layout' | 'health';

/** A joining member that finds a dead member's bricks in its zone takes them over. */
export const REPLACE_STEPS = ['replace-bricks', 'await-healed', 'detach-dead-peer'] as const;

/**
 * 'apply-layout' (every flow that changes volumes): the quorum options the
 * volumes lack for their layout (layout.ts layoutFixes) are set before the
 * flow's own Gluster commands. 'lift-server-quorum' is entered only from
 * 'peer-probe', when the pool refuses a replacement because server quorum is lost.
 */
export const STORAGE_STEPS = {
  'storage-launch': ['await-agent', 'prepare-brick', 'install-cloudwatch-agent', 'configure-cloudwatch-agent', 'peer-probe', 'lift-server-quorum', 'await-connected', ...REPLACE_STEPS, 'bootstrap', 'create-volumes', 'apply-layout', 'protect', 'complete'],
  'storage-terminate': ['inspect', 'complete'],
  expand: ['lock', 'plan', 'launch-members', 'apply-layout', ...GROW_STEPS, 'await-members', 'add-brick', 'rebalance-start', 'await-rebalanced', 'finish'],
  shrink: ['lock', 'plan', 'apply-layout', 'remove-brick-start', 'await-migrated', 'remove-brick-commit', 'release-members', 'finish'],
  layout: ['lock', 'plan', 'apply-layout', 'finish'],
  // Read-only up to the repair, which alone takes the lock (lib/usecases/storage/health-flow.ts).
  health: ['read', 'repair', 'finish'],
} as const satisfies Record<StorageFlowKind, readonly string[]>;

export type StorageStep = (typeof STORAGE_STEPS)[StorageFlowKind][number];
export type StorageStepOf<F extends StorageFlowKind> = (typeof STORAGE_STEPS)[F][number];

/** A manual or alarm request for an operation on a volume. */
export interface StorageRequest {
  readonly action: 'expand' | 'shrink' | 'layout';
  /** The volume operated on; '' for layout (every volume of the stage). */
  readonly volume: string;
  /** expand only */
  readonly sets: number;
  readonly allowSameZone: boolean;
  /** expand only: add-bricks or grow-in-place; unset: the stage's preference. */
  readonly strategy?: Strategy;
  readonly dryRun: boolean;
  /** Who asked and why (alarm name, "manual invoke"). */
  readonly reason: string;
}

/** A member Gluster commands run on. */
export interface Node {
  readonly instanceId: string;
  readonly host: string;
}

export interface StorageFlowState extends FlowStateBase {
  readonly flow: StorageFlowKind;
  readonly step: StorageStep;
  /** Owner of the lifecycle claim and of the cluster lock: the first delivery's message id. */
  readonly operationId: string;
  /** Expand/shrink flows. */
  readonly request?: StorageRequest;
  /** The document in flight, once sent. */
  readonly command?: { readonly id: string; readonly instanceId: string; readonly host: string; readonly sentAt: string };
  /** The launching or terminating node. */
  readonly self?: { readonly instanceId: string; readonly host: string; readonly zone: string };
  /** The healthy member Gluster commands run on. */
  readonly via?: Node;
  /** Gluster commands still to run, in order. */
  readonly pending?: readonly GlusterStep[];
  readonly expansion?: ExpansionPlan;
  /** Expand: the storage group was asked for the plan's new members ('launch-members'). */
  readonly membersLaunched?: boolean;
  /** Grow in place: each brick's volume, modification and file system. */
  readonly grow?: GrowProgress;
  readonly shrinkPlan?: ShrinkPlan;
  readonly replacement?: { readonly plan: ReplacementPlan; readonly lastSeen: string };
  /** Bricks the terminating node still held. */
  readonly bricksHeld?: readonly string[];
  readonly lockHeld?: boolean;
  readonly bootstrapClaimed?: boolean;
  /** The layout the bootstrap creates the volumes in (describeLayout), for its notice. */
  readonly bootstrapLayout?: string;
  readonly lastProgressAt?: string;
  /** When the status reads of the step began to be refused one after the other (GATHER_FAILED); forgotten by the next read that answers. */
  readonly statusRefusedSince?: string;
  /** Health flow: the watch's request. */
  readonly healthCheck?: HealthCheckRequest;
  /** Health flow: the offline bricks being restarted. */
  readonly restarting?: readonly BrickRef[];
  /** The quorum options being set for the volumes' layout ('apply-layout'), and whether ops were told. */
  readonly layout?: { readonly changes: readonly LayoutChange[]; readonly pending: readonly GlusterStep[]; readonly told?: boolean };
  /** Server quorum lifted so that a replacement can join a pool that lost it ('lift-server-quorum'); restored by the join's apply-layout. */
  readonly quorumLift?: { readonly volumes: readonly string[]; readonly pending: readonly GlusterStep[]; readonly planned: boolean; readonly reason?: string };
}

export type StorageOutcome = StepOutcome<StorageFlowState>;

/** The storage flows on the StorageQueue; the mark is the format messages in flight carry. */
export const STORAGE_FLOWS: FlowFamily<StorageFlowState> = {
  mark: 'pydio-autoscaler/storage-flow',
  what: 'storage continuation message',
  steps: STORAGE_STEPS,
  stepScoped: ['command', 'statusRefusedSince'],
  commandKey: storageCommandKey,
  validate(s, where) {
    if (typeof s.operationId !== 'string') throw new MalformedEventError(`${where}: operationId is missing`);
    if (typeof s.attempt !== 'number') throw new MalformedEventError(`${where}: attempt is not a number`);
    const lifecycle = s.flow === 'storage-launch' || s.flow === 'storage-terminate';
    const event = s.event as Partial<LifecycleEvent> | undefined;
    if (lifecycle && (event?.kind !== 'lifecycle' || typeof event.instanceId !== 'string')) {
      throw new MalformedEventError(`${where}: lifecycle event is incomplete`);
    }
    const request = s.request as Partial<StorageRequest> | undefined;
    if (!lifecycle && s.flow !== 'health' && typeof request?.volume !== 'string') throw new MalformedEventError(`${where}: request is incomplete`);
  },
};

export function startStorageFlow(flow: StorageFlowKind, operationId: string, now: Date, extra: Partial<StorageFlowState> = {}): StorageFlowState {
  return { ...flowStart(STORAGE_FLOWS, flow, now), operationId, ...extra };
}

const REQUEST_MARK = 'pydio-autoscaler/storage-request';

/** The request as its payload form (what parseStorageRequest reads back): shrink carries no sets. */
export function encodeStorageRequest(request: StorageRequest): string {
  const { action, volume, sets, allowSameZone, dryRun, reason, strategy } = request;
  const payload = action === 'expand'
    ? { action, volume, sets, allowSameZone, dryRun, reason, ...(strategy ? { strategy } : {}) }
    : action === 'layout' ? { action, dryRun, reason } : { action, volume, dryRun, reason };
  return JSON.stringify({ [REQUEST_MARK]: 1, request: payload });
}

export function isStorageRequestMessage(body: unknown): body is { request: unknown } {
  return typeof body === 'object' && body !== null && REQUEST_MARK in body;
}

/** The keys every log line of a storage flow carries. */
export function logKeys(state: StorageFlowState): Record<string, unknown> {
  return {
    flow: state.flow,
    step: state.step,
    operationId: state.operationId,
    ...(state.event ? { instanceId: state.event.instanceId, asgName: state.event.groupName, hookName: state.event.hookName } : {}),
    ...(state.request ? { volume: state.request.volume, dryRun: state.request.dryRun } : {}),
    ...(state.command ? { commandId: state.command.id } : {}),
  };
}

/** What a request works on, in words: its volume, or every volume of the stage for a layout request. */
export function volumeLabel(request: Pick<StorageRequest, 'volume'>): string {
  return request.volume || 'the volumes';
}

export function requestOf(state: StorageFlowState): StorageRequest {
  if (!state.request) throw new StepFailedError(state.step, 'the flow lost its request');
  return state.request;
}

export function selfOf(state: StorageFlowState): { instanceId: string; host: string; zone: string } {
  if (!state.self) throw new StepFailedError(state.step, 'the flow lost its instance');
  return state.self;
}

export function eventOf(state: StorageFlowState): LifecycleEvent {
  if (!state.event) throw new StepFailedError(state.step, 'the flow lost its lifecycle event');
  return state.event;
}

/** The member Gluster commands run on: the chosen one, else the flow's own node. */
export function viaOf(state: StorageFlowState): Node {
  if (state.via) return state.via;
  if (state.self?.host) return { instanceId: state.self.instanceId, host: state.self.host };
  throw new StepFailedError(state.step, 'no member to run Gluster commands on');
}

/** A watch decision (lib/core/storage/watch.ts) as a step outcome. */
export function fromWatch(outcome: WatchOutcome): StorageOutcome {
  if (outcome.kind === 'next') return { kind: 'next' };
  if (outcome.kind === 'wait') return { kind: 'wait', reason: outcome.reason };
  return { kind: 'fail', reason: outcome.reason };
}
