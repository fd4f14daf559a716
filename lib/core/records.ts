/** Every key of the coordination table and every Parameter Store name the functions write or read, each defined once, and the records kept there. */
import type { LifecycleTransition } from './lifecycle-event';

// --- the coordination table (lib/ports/coordination.ts): holds that expire ----------------

/**
 * Keys of the stage's coordination table (one table per stage, so no stage in
 * them). The roles' policies in serverless.yml grant them by their leading
 * part (dynamodb:LeadingKeys); test/unit/core/records.test.ts checks it.
 */

/** A lifecycle action, as its claim names it: by transition, so the watch can tell whether a flow owns an instance's waiting action. */
export interface ActionKey {
  readonly instanceId: string;
  readonly transition: LifecycleTransition;
}

/** The claim that makes one flow own a compute lifecycle action. */
export const lifecycleClaimKey = (action: ActionKey) => `lifecycle/${action.instanceId}/${action.transition}`;

/**
 * A compute flow parked on a Run Command command: held by the flow's owner, its value the
 * continuation that resumes the flow. Consumed once: by the command's status-change event or by
 * the flow's safety-net continuation (lib/usecases/flow-runner.ts).
 */
export const lifecycleCommandKey = (commandId: string) => `lifecycle/command/${commandId}`;

/** Every key of the storage function starts with this. */
export const STORAGE_KEY_PREFIX = 'storage/';

/** The claim that makes one flow own a storage lifecycle action. */
export const storageClaimKey = (action: ActionKey) => `${STORAGE_KEY_PREFIX}lifecycle/${action.instanceId}/${action.transition}`;

/** A storage flow parked on a Run Command command (as lifecycleCommandKey). */
export const storageCommandKey = (commandId: string) => `${STORAGE_KEY_PREFIX}command/${commandId}`;

/** One storage operation at a time: held by the operation's id, its value the ISO time of the holder's last renewal. */
export const LOCK_KEY = `${STORAGE_KEY_PREFIX}lock`;

/** Where an expansion waiting for its new members to join is parked: a member that joined wakes it (launch-flow.ts complete). */
export const storageJoinsKey = (operationId: string) => `${STORAGE_KEY_PREFIX}joins/${operationId}`;

/**
 * Written by an expansion that launches members while it sets the volumes' missing quorum options:
 * 'applying' until the last option is set, then 'applied'. A member joining while the storage
 * lock's holder says 'applying' does not peer-probe yet (launch-flow.ts peer-probe): a volume set
 * that ran beside a probe hung glusterd until the CLI gave up ("Error : Request timed out", CI on
 * ac1d6ba), and the member would find the options unset and set them a second time.
 */
export const storageLayoutGateKey = (operationId: string) => `${STORAGE_KEY_PREFIX}layout-gate/${operationId}`;

/** Held while a member creates the volumes; a permanent record (no owner, no expiry) once they are created. */
export const BOOTSTRAP_KEY = `${STORAGE_KEY_PREFIX}bootstrap`;

/** Every key of the watch starts with this. */
export const WATCH_KEY_PREFIX = 'watch/';

/** The watch's own record between runs (JSON, lib/core/watch/state.ts), written with a TTL. */
export const WATCH_STATE_KEY = `${WATCH_KEY_PREFIX}state`;

/** Held by the one watch run at work, so an event delivered twice does not act twice. */
export const WATCH_RUN_KEY = `${WATCH_KEY_PREFIX}run`;

// --- Parameter Store: plain records ------------------------------------------------------

/**
 * All names live under `/pydio-autoscaler/<stage>/`. The roles' policies in
 * serverless.yml grant these paths; test/unit/core/records.test.ts checks that
 * every name here is covered by one of them.
 */
const root = (stage: string) => `/pydio-autoscaler/${stage}`;

/** Everything the storage function keeps in Parameter Store. */
export const storagePrefix = (stage: string) => `${root(stage)}/storage`;

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
