/** The storage cluster lock: one storage operation at a time, refreshed by its holder, broken when stale. */
import { secondsSince } from '../../core/flow';
import { lockName } from '../../core/records';
import type { StorageDeps } from './cluster';
import * as notices from '../../core/storage/notices';

/**
 * The lock is a Parameter Store claim (SsmPort.claim) whose value is
 * `<owner> <ISO time>`. A holder refreshes it on every delivery, so only an
 * abandoned lock grows stale: one not refreshed for lockStaleSeconds is broken,
 * with a notification.
 */
function lockValue(owner: string, now: Date): string {
  return `${owner} ${now.toISOString()}`;
}

function parseLock(value: string): { owner: string; at: string } {
  const space = value.lastIndexOf(' ');
  return space > 0 ? { owner: value.slice(0, space), at: value.slice(space + 1) } : { owner: value, at: '' };
}

export type LockAnswer = { readonly kind: 'acquired' } | { readonly kind: 'held'; readonly holder: string; readonly ageSeconds: number };

/** Reads who holds the lock (undefined: free, or stale and breakable). */
export async function lockHolder(deps: StorageDeps, owner: string): Promise<LockAnswer | undefined> {
  const current = await deps.ssm.claimOwner(lockName(deps.config.stage));
  if (current === undefined) return undefined;
  const held = parseLock(current);
  if (held.owner === owner) return undefined;
  const age = secondsSince(held.at, deps.now());
  if (!Number.isFinite(age) || age > deps.storage.timing.lockStaleSeconds) return undefined;
  return { kind: 'held', holder: held.owner, ageSeconds: age };
}

/** Takes the lock for `owner`; a stale lock is broken, with a notification. */
export async function acquireLock(deps: StorageDeps, owner: string): Promise<LockAnswer> {
  const name = lockName(deps.config.stage);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    if (await deps.ssm.claim(name, lockValue(owner, deps.now()))) return { kind: 'acquired' };
    const current = await deps.ssm.claimOwner(name);
    if (current === undefined) continue; // released in between: claim again
    const held = parseLock(current);
    if (held.owner === owner) return { kind: 'acquired' }; // a re-delivery of our own first message
    const age = secondsSince(held.at, deps.now());
    if (Number.isFinite(age) && age <= deps.storage.timing.lockStaleSeconds) return { kind: 'held', holder: held.owner, ageSeconds: age };
    deps.log.warn('breaking a stale storage lock', { holder: held.owner, ageSeconds: age });
    await deps.ssm.release(name);
    if (await deps.ssm.claim(name, lockValue(owner, deps.now()))) {
      await deps.notifier.publish(notices.lockBroken(deps.config.stage, held.owner, Number.isFinite(age) ? age : 0, owner));
      return { kind: 'acquired' };
    }
  }
  const holder = parseLock((await deps.ssm.claimOwner(name)) ?? 'unknown').owner;
  return { kind: 'held', holder, ageSeconds: 0 };
}

/** The holder's refresh, on every delivery of its flow. */
export async function refreshLock(deps: StorageDeps, owner: string): Promise<void> {
  await deps.ssm.putParameter(lockName(deps.config.stage), lockValue(owner, deps.now()));
}

export async function releaseLock(deps: StorageDeps): Promise<void> {
  await deps.ssm.release(lockName(deps.config.stage));
}
