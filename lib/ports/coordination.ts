/**
 * Holds (claims and locks) and small records that must expire, in one store
 * with conditional writes: a DynamoDB table whose `expiresAt` attribute is its
 * TTL. Implemented by lib/aws/coordination.ts.
 *
 * DynamoDB deletes an expired item only some time after it expired (typically
 * within a few days), so an expired hold is still read back: every read and
 * every condition compares `expiresAt` with the caller's clock, and an expired
 * hold is treated exactly as an absent one. Nothing relies on the deletion.
 */

/** A live hold: who owns `key`, until when (epoch seconds), and what they wrote with it. */
export interface Hold {
  readonly key: string;
  readonly owner: string;
  readonly expiresAt: number;
  readonly value?: string;
}

export interface CoordinationPort {
  /**
   * One conditional write: `owner` holds `key` until now + ttlSeconds when the
   * key was absent, expired, or already held by `owner` (a re-delivery). True
   * when `owner` holds it now. Of two callers taking the same expired hold at
   * once, exactly one gets true: this is how a stale lock is broken.
   */
  acquire(key: string, owner: string, ttlSeconds: number, value?: string): Promise<boolean>;
  /** The live hold on `key`, or undefined (absent or expired). */
  holder(key: string): Promise<Hold | undefined>;
  /** Extends `owner`'s hold (and replaces its value when given); false when `owner` no longer holds it. */
  renew(key: string, owner: string, ttlSeconds: number, value?: string): Promise<boolean>;
  /** Gives the hold back when `owner` holds it; does nothing otherwise. */
  release(key: string, owner: string): Promise<void>;
  /** Live holds whose key starts with `prefix` (for the watch and the status function). */
  holds(prefix: string): Promise<Hold[]>;
  /** A plain record (no owner): undefined when absent or expired. */
  read(key: string): Promise<string | undefined>;
  /** Writes a plain record; it expires after ttlSeconds when given, else never. */
  write(key: string, value: string, ttlSeconds?: number): Promise<void>;
}
