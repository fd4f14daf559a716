/** Every Parameter Store name the functions write or read, each defined once, the records kept there, and the coordination store's keys. */
import type { LifecycleTransition } from './lifecycle-event';

/**
 * All names live under `/pydio-autoscaler/<stage>/`. The roles' policies in
 * serverless.yml grant these paths; test/unit/core/records.test.ts checks that
 * every name here is covered by one of them.
 */
const root = (stage: string) => `/pydio-autoscaler/${stage}`;

/** A lifecycle action, as a claim names it. */
export interface ActionKey {
  readonly instanceId: string;
  readonly token: string;
}

/** The claim that makes one delivery own a compute lifecycle action. */
export const lifecycleClaimName = (stage: string, action: ActionKey) => `${root(stage)}/lifecycle/${action.instanceId}/${action.token}`;

/** Everything the storage function keeps. */
export const storagePrefix = (stage: string) => `${root(stage)}/storage`;

/** The claim that makes one delivery own a storage lifecycle action. */
export const storageClaimName = (stage: string, action: ActionKey) => `${storagePrefix(stage)}/lifecycle/${action.instanceId}/${action.token}`;

/** One storage operation at a time: `<owner> <ISO time of the last refresh>`. */
export const lockName = (stage: string) => `${storagePrefix(stage)}/lock`;

/** Claimed by the member that creates the volumes, once. */
export const bootstrapClaimName = (stage: string) => `${storagePrefix(stage)}/bootstrap`;

/** The volumes' health at the last status read (HealthRecord), for the alarm side. */
export const healthName = (stage: string) => `${storagePrefix(stage)}/health`;

/** The last status read, summarised for the status function (lib/usecases/storage/status.ts). */
export const summaryName = (stage: string) => `${storagePrefix(stage)}/summary`;

/** One MemberRecord per storage member, under this path. */
export const membersPath = (stage: string) => `${storagePrefix(stage)}/members`;
export const memberName = (stage: string, instanceId: string) => `${membersPath(stage)}/${instanceId}`;

/** What the storage function records about a member (JSON at memberName). */
export interface MemberRecord {
  readonly instanceId: string;
  readonly host: string;
  readonly zone: string;
  readonly state: 'joined' | 'departed';
  /** Last time the member was known to serve its bricks. */
  readonly lastSeen: string;
}

/** Volume health recorded by every status read (JSON at healthName). */
export interface HealthRecord {
  readonly healthy: boolean;
  readonly reason?: string;
  readonly at: string;
}

// --- the coordination store (lib/ports/coordination.ts) ---------------------------------------
// One table per stage: its keys carry no stage.

/**
 * The hold a compute lifecycle flow keeps on its instance's waiting action: keyed by
 * transition, not token, so the watch can see whether a flow owns it.
 */
export const lifecycleHoldKey = (instanceId: string, transition: LifecycleTransition) => `lifecycle/${instanceId}/${transition}`;

/** The same for a storage group member's waiting action. */
export const storageLifecycleHoldKey = (instanceId: string, transition: LifecycleTransition) => `storage/lifecycle/${instanceId}/${transition}`;

/** The watch's own record between runs (JSON, lib/core/watch/state.ts), written with a TTL. */
export const WATCH_STATE_KEY = 'watch/state';

/** Held by the one watch run at work, so an event delivered twice does not act twice. */
export const WATCH_RUN_KEY = 'watch/run';
