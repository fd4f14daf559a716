import type { LifecycleEvent } from '../../core/lifecycle-event';
import type { ExpansionPlan, Strategy } from '../../core/storage/expand';
import type { GlusterStep } from '../../core/storage/gluster-actions';
import type { ReplacementPlan } from '../../core/storage/replace';
import type { ShrinkPlan } from '../../core/storage/shrink';
import { MalformedEventError } from '../../errors';
import type { GrowProgress } from './grow';

/**
 * Storage flows, in the shape of lib/core/flow.ts (steps; the whole state
 * travels in a continuation message re-delivered with DelaySeconds), kept in
 * a parallel engine: their state (plans, pending Gluster commands, the lock)
 * has nothing in common with the compute flows' beyond the mechanism.
 */
export type StorageFlowKind = 'storage-launch' | 'storage-terminate' | 'expand' | 'shrink';

export const STORAGE_STEPS = {
  'storage-launch': ['await-agent', 'prepare-brick', 'install-cloudwatch-agent', 'configure-cloudwatch-agent', 'peer-probe', 'await-connected', 'replace-bricks', 'await-healed', 'detach-dead-peer', 'bootstrap', 'create-volumes', 'protect', 'complete'],
  'storage-terminate': ['inspect', 'complete'],
  expand: ['lock', 'plan', 'grow-volumes', 'await-volumes', 'grow-filesystems', 'verify-grown', 'launch-members', 'await-members', 'add-brick', 'rebalance-start', 'await-rebalanced', 'finish'],
  shrink: ['lock', 'plan', 'remove-brick-start', 'await-migrated', 'remove-brick-commit', 'release-members', 'finish'],
} as const satisfies Record<StorageFlowKind, readonly string[]>;

export type StorageStep = (typeof STORAGE_STEPS)[StorageFlowKind][number];

/** A manual or alarm request for an operation on a volume. */
export interface StorageRequest {
  readonly action: 'expand' | 'shrink';
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

export interface StorageFlowState {
  readonly flow: StorageFlowKind;
  readonly step: StorageStep;
  readonly attempt: number;
  /** Owner of the lifecycle claim and of the cluster lock: the first delivery's message id. */
  readonly operationId: string;
  readonly startedAt: string;
  readonly stepStartedAt: string;
  /** Launch/terminate flows. */
  readonly event?: LifecycleEvent;
  readonly lastHeartbeatAt?: string;
  readonly heartbeatTimeoutSeconds?: number;
  /** Expand/shrink flows. */
  readonly request?: StorageRequest;
  /** The document in flight, once sent. */
  readonly command?: { readonly id: string; readonly instanceId: string; readonly host: string; readonly sentAt: string };
  /** The launching or terminating node. */
  readonly self?: { readonly instanceId: string; readonly host: string; readonly zone: string };
  /** The healthy member Gluster commands run on. */
  readonly via?: { readonly instanceId: string; readonly host: string };
  /** Gluster commands still to run, in order. */
  readonly pending?: readonly GlusterStep[];
  readonly expansion?: ExpansionPlan;
  /** Grow in place: each brick's volume, modification and file system. */
  readonly grow?: GrowProgress;
  readonly shrinkPlan?: ShrinkPlan;
  readonly replacement?: { readonly plan: ReplacementPlan; readonly lastSeen: string };
  /** Bricks the terminating node still held. */
  readonly bricksHeld?: readonly string[];
  readonly lockHeld?: boolean;
  readonly bootstrapClaimed?: boolean;
  readonly lastProgressAt?: string;
  readonly warnings: readonly string[];
}

export type StorageOutcome =
  | { readonly kind: 'next'; readonly patch?: Partial<StorageFlowState>; readonly skipTo?: StorageStep; readonly warning?: string }
  | { readonly kind: 'wait'; readonly reason: string; readonly delaySeconds?: number; readonly patch?: Partial<StorageFlowState> }
  | { readonly kind: 'fail'; readonly reason: string; readonly output?: string }
  /** The flow ends here on purpose (dry run answered, refusal notified). */
  | { readonly kind: 'done'; readonly patch?: Partial<StorageFlowState> };

export function startStorageFlow(
  flow: StorageFlowKind,
  operationId: string,
  now: Date,
  extra: Partial<StorageFlowState> = {},
): StorageFlowState {
  const at = now.toISOString();
  return { flow, step: STORAGE_STEPS[flow][0], attempt: 0, operationId, startedAt: at, stepStartedAt: at, warnings: [], ...extra };
}

/** The state after a step finished: the next step (or the same one again), undefined when the flow is done. */
export function advanceStorage(state: StorageFlowState, outcome: Extract<StorageOutcome, { kind: 'next' }>, now: Date): StorageFlowState | undefined {
  const steps: readonly string[] = STORAGE_STEPS[state.flow];
  const target = outcome.skipTo ?? steps[steps.indexOf(state.step) + 1];
  if (target === undefined) return undefined;
  if (!steps.includes(target)) throw new Error(`step ${target} is not part of flow ${state.flow}`);
  const { command: _dropped, ...rest } = { ...state, ...outcome.patch };
  const warnings = outcome.warning ? [...rest.warnings, outcome.warning] : rest.warnings;
  return { ...rest, warnings, step: target as StorageStep, attempt: 0, stepStartedAt: now.toISOString() };
}

const FLOW_MARK = 'pydio-autoscaler/storage-flow';
const REQUEST_MARK = 'pydio-autoscaler/storage-request';

export function encodeStorageContinuation(state: StorageFlowState): string {
  return JSON.stringify({ [FLOW_MARK]: 1, state });
}

export function isStorageContinuation(body: unknown): body is { state: unknown } {
  return typeof body === 'object' && body !== null && FLOW_MARK in body;
}

export function decodeStorageContinuation(body: { state: unknown }): StorageFlowState {
  const s = body.state as Partial<StorageFlowState> | undefined;
  const where = 'storage continuation message';
  if (typeof s !== 'object' || s === null) throw new MalformedEventError(`${where}: state is missing`);
  if (typeof s.flow !== 'string' || !(s.flow in STORAGE_STEPS)) throw new MalformedEventError(`${where}: unknown flow ${JSON.stringify(s.flow)}`);
  const steps: readonly string[] = STORAGE_STEPS[s.flow];
  if (typeof s.step !== 'string' || !steps.includes(s.step)) {
    throw new MalformedEventError(`${where}: step ${JSON.stringify(s.step)} is not part of flow ${s.flow}`);
  }
  for (const key of ['startedAt', 'stepStartedAt', 'operationId'] as const) {
    if (typeof s[key] !== 'string') throw new MalformedEventError(`${where}: ${key} is missing`);
  }
  if (typeof s.attempt !== 'number') throw new MalformedEventError(`${where}: attempt is not a number`);
  const lifecycle = s.flow === 'storage-launch' || s.flow === 'storage-terminate';
  if (lifecycle && (s.event?.kind !== 'lifecycle' || typeof s.event.instanceId !== 'string')) {
    throw new MalformedEventError(`${where}: lifecycle event is incomplete`);
  }
  if (!lifecycle && (typeof s.request?.volume !== 'string')) throw new MalformedEventError(`${where}: request is incomplete`);
  return { ...(s as StorageFlowState), warnings: Array.isArray(s.warnings) ? s.warnings : [] };
}

/** The request as its payload form (what parseStorageRequest reads back): shrink carries no sets. */
export function encodeStorageRequest(request: StorageRequest): string {
  const { action, volume, sets, allowSameZone, dryRun, reason, strategy } = request;
  const payload = action === 'expand' ? { action, volume, sets, allowSameZone, dryRun, reason, ...(strategy ? { strategy } : {}) } : { action, volume, dryRun, reason };
  return JSON.stringify({ [REQUEST_MARK]: 1, request: payload });
}

export function isStorageRequestMessage(body: unknown): body is { request: unknown } {
  return typeof body === 'object' && body !== null && REQUEST_MARK in body;
}
