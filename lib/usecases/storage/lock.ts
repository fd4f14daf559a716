/** The storage cluster lock: one storage operation at a time, a hold in the coordination table that expires unless its holder keeps it. */
import { secondsSince } from '../../core/flow';
import { LOCK_KEY } from '../../core/records';
import type { Hold } from '../../ports/coordination';
import type { StorageDeps } from './cluster';
import * as notices from '../../core/storage/notices';

/**
 * The lock is a hold on LOCK_KEY (lib/ports/coordination.ts) owned by the
 * operation's id for lockStaleSeconds, its value the ISO time of the holder's
 * last renewal. Its holder takes it again on every delivery, so only an
 * abandoned lock expires. Taking and breaking are the same one conditional
 * write (free, expired, or ours): of two operations breaking the same stale
 * lock at once, exactly one gets it; there is no delete-then-put anywhere.
 */
export type LockAnswer = { readonly kind: 'acquired' } | { readonly kind: 'held'; readonly holder: string; readonly ageSeconds: number };

/** Seconds since the holder last renewed the lock (its value); 0 when unreadable. */
function sinceRenewal(hold: Hold, now: Date): number {
  const age = hold.value === undefined ? NaN : secondsSince(hold.value, now);
  return Number.isFinite(age) ? age : 0;
}

function held(hold: Hold | undefined, now: Date): LockAnswer {
  // No live holder but refused: the key holds something that is not a lock (never written by us).
  return hold ? { kind: 'held', holder: hold.owner, ageSeconds: sinceRenewal(hold, now) } : { kind: 'held', holder: 'a record that is not a lock', ageSeconds: 0 };
}

/** Reads who holds the lock (undefined: free, expired, or `owner`'s own). */
export async function lockHolder(deps: StorageDeps, owner: string): Promise<LockAnswer | undefined> {
  const hold = await deps.coordination.holder(LOCK_KEY);
  if (hold === undefined || hold.owner === owner) return undefined;
  return held(hold, deps.now());
}

/**
 * Takes the lock for `owner` (or keeps it: the same write renews its own). An
 * expired lock of another operation is broken by that write, and ops are told.
 */
export async function acquireLock(deps: StorageDeps, owner: string): Promise<LockAnswer> {
  const now = deps.now();
  const took = await deps.coordination.take(LOCK_KEY, owner, deps.storage.timing.lockStaleSeconds, now.toISOString());
  if (!took.taken) return held(took.holder, now);
  if (took.replaced) {
    const age = sinceRenewal(took.replaced, now);
    deps.log.warn('broke a stale storage lock', { holder: took.replaced.owner, ageSeconds: age });
    await deps.notifier.publish(notices.lockBroken(deps.config.stage, took.replaced.owner, age, owner));
  }
  return { kind: 'acquired' };
}

/**
 * The holder keeps its lock on every delivery of its flow: a reason when
 * another operation took it meanwhile (it expired: the flow was given up for
 * dead), which fails the flow.
 */
export async function keepLock(deps: StorageDeps, owner: string): Promise<string | undefined> {
  const lock = await acquireLock(deps, owner);
  if (lock.kind === 'acquired') return undefined;
  return `the storage lock was taken by ${lock.holder} after this operation did not renew it for ${deps.storage.timing.lockStaleSeconds}s: stopped here, another operation may be changing the volumes`;
}

/** Gives the lock back; does nothing when `owner` no longer holds it. */
export async function releaseLock(deps: StorageDeps, owner: string): Promise<void> {
  await deps.coordination.release(LOCK_KEY, owner);
}
