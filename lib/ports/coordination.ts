/**
 * Holds (claims and locks) and small records that must expire, in one store
 * with conditional writes: a DynamoDB table whose `expiresAt` attribute is its
 * TTL. Implemented by lib/aws/coordination.ts.
 *
 * DynamoDB deletes an expired item only some time after it expired (typically
 * within a few days), so an expired hold is still read back: every read and
 * every condition compares `expiresAt` with the caller's clock, and an expired
 * hold is treated exactly as an absent one. Nothing relies on the deletion.
 * (The UpdateTimeToLive reference: "DynamoDB typically deletes expired items
 * within two days of expiration ... Items that have expired and not been
 * deleted will still show up in reads, queries, and scans.")
 *
 * A hold expires when its `expiresAt` (epoch seconds) is before the caller's
 * now: it is live up to and including that second. A record written without a
 * TTL never expires, and a key holding such a record cannot be acquired (it
 * has no owner, no expiry): this is how a one-time claim becomes permanent.
 */

/** A live hold: who owns `key`, until when (epoch seconds), and what they wrote with it. */
export interface Hold {
  readonly key: string;
  readonly owner: string;
  readonly expiresAt: number;
  readonly value?: string;
}

/**
 * What one conditional write found (take): the hold is taken, and when it
 * replaced another owner's expired hold, that hold (a stale lock broken); or
 * it is refused, with the live hold that refused it (undefined when a
 * permanent record occupies the key).
 */
export type TakeResult =
  | { readonly taken: true; readonly replaced?: Hold }
  | { readonly taken: false; readonly holder?: Hold };

export interface CoordinationPort {
  /**
   * One conditional write: `owner` holds `key` until now + ttlSeconds when the
   * key was absent, expired, or already held by `owner` (a re-delivery). True
   * when `owner` holds it now. Of two callers taking the same expired hold at
   * once, exactly one gets true: this is how a stale lock is broken.
   */
  acquire(key: string, owner: string, ttlSeconds: number, value?: string): Promise<boolean>;
  /**
   * acquire, and what the one write found, read atomically with it: the
   * expired hold of another owner it replaced, or the live hold that refused it.
   */
  take(key: string, owner: string, ttlSeconds: number, value?: string): Promise<TakeResult>;
  /** The live hold on `key`, or undefined (absent, expired, or a plain record). */
  holder(key: string): Promise<Hold | undefined>;
  /** Extends `owner`'s hold (and replaces its value when given); false when `owner` no longer holds it. */
  renew(key: string, owner: string, ttlSeconds: number, value?: string): Promise<boolean>;
  /** Gives the hold back when `owner` holds it; does nothing otherwise. */
  release(key: string, owner: string): Promise<void>;
  /**
   * One conditional write that marks the live hold on `key` consumed by `by`
   * (a queue message's id), and what it holds, read atomically with the write:
   * of two messages consuming the same hold exactly one gets it; the other
   * (and any message after it, or when the hold is absent or expired) gets
   * undefined. The message that consumed it gets it again (a re-delivery of
   * that message, after an error, runs the flow again instead of losing it).
   * A later take by the holder's owner (the flow parked again) makes it
   * unconsumed. This is how a flow parked on a command is resumed once, by its
   * command's event or by its safety-net continuation, never by both.
   */
  consume(key: string, by: string): Promise<Hold | undefined>;
  /** Live holds whose key starts with `prefix` (for the watch and the status function). */
  holds(prefix: string): Promise<Hold[]>;
  /** A plain record (no owner): undefined when absent or expired. */
  read(key: string): Promise<string | undefined>;
  /** Writes a plain record; it expires after ttlSeconds when given, else never. */
  write(key: string, value: string, ttlSeconds?: number): Promise<void>;
}
