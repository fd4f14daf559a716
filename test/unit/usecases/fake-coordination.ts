/**
 * The coordination table in memory, for use-case tests: the semantics of
 * lib/aws/coordination.ts (one conditional write per take: free, expired or
 * ours; expiry compared with the caller's clock; a record without owner and
 * expiry can never be taken), on the test's clock. test/integration/
 * coordination.test.ts holds the real adapter to the same rules against moto.
 */
import type { CoordinationPort, Hold, TakeResult } from '../../../lib/ports/coordination';

interface Entry {
  readonly owner?: string;
  readonly expiresAt?: number;
  readonly value?: string;
  /** The message that consumed this hold (consume), until its owner takes it again. */
  readonly consumedBy?: string;
}

export class FakeCoordination implements CoordinationPort {
  /** Every item, expired ones included (DynamoDB deletes them only later). */
  public readonly items = new Map<string, Entry>();
  /** Every mutating call, in order: `take <key> <owner>`, `release ...`, `write ...`. */
  public readonly log: string[] = [];

  public constructor(private readonly clock: () => Date) {}

  private now(): number {
    return Math.floor(this.clock().getTime() / 1000);
  }

  private live(entry: Entry | undefined): boolean {
    return entry !== undefined && (entry.expiresAt === undefined || entry.expiresAt >= this.now());
  }

  private hold(key: string, entry: Entry | undefined): Hold | undefined {
    if (entry?.owner === undefined || entry.expiresAt === undefined) return undefined;
    return { key, owner: entry.owner, expiresAt: entry.expiresAt, ...(entry.value !== undefined ? { value: entry.value } : {}) };
  }

  public async take(key: string, owner: string, ttlSeconds: number, value?: string): Promise<TakeResult> {
    this.log.push(`take ${key} ${owner}`);
    const old = this.items.get(key);
    const free = old === undefined || (old.expiresAt !== undefined && old.expiresAt < this.now()) || old.owner === owner;
    if (!free) {
      const holder = this.hold(key, old);
      return holder ? { taken: false, holder } : { taken: false };
    }
    this.items.set(key, { owner, expiresAt: this.now() + ttlSeconds, ...(value !== undefined ? { value } : {}) });
    const replaced = this.hold(key, old);
    return replaced && replaced.owner !== owner ? { taken: true, replaced } : { taken: true };
  }

  public async acquire(key: string, owner: string, ttlSeconds: number, value?: string): Promise<boolean> {
    return (await this.take(key, owner, ttlSeconds, value)).taken;
  }

  public async holder(key: string): Promise<Hold | undefined> {
    const entry = this.items.get(key);
    return this.live(entry) ? this.hold(key, entry) : undefined;
  }

  public async renew(key: string, owner: string, ttlSeconds: number, value?: string): Promise<boolean> {
    const entry = this.items.get(key);
    if (entry?.owner !== owner || entry.expiresAt === undefined || entry.expiresAt < this.now()) return false;
    this.items.set(key, { ...entry, expiresAt: this.now() + ttlSeconds, ...(value !== undefined ? { value } : {}) });
    return true;
  }

  public async release(key: string, owner: string): Promise<void> {
    this.log.push(`release ${key} ${owner}`);
    if (this.items.get(key)?.owner === owner) this.items.delete(key);
  }

  public async consume(key: string, by: string): Promise<Hold | undefined> {
    this.log.push(`consume ${key} ${by}`);
    const entry = this.items.get(key);
    const hold = this.live(entry) ? this.hold(key, entry) : undefined;
    if (!hold || (entry?.consumedBy !== undefined && entry.consumedBy !== by)) return undefined;
    this.items.set(key, { ...entry, consumedBy: by });
    return hold;
  }


  public async holds(prefix: string): Promise<Hold[]> {
    return [...this.items.entries()]
      .filter(([key, entry]) => key.startsWith(prefix) && this.live(entry))
      .map(([key, entry]) => this.hold(key, entry))
      .filter((h): h is Hold => h !== undefined)
      .sort((a, b) => a.key.localeCompare(b.key));
  }

  public async read(key: string): Promise<string | undefined> {
    const entry = this.items.get(key);
    return this.live(entry) ? entry?.value : undefined;
  }

  public async write(key: string, value: string, ttlSeconds?: number): Promise<void> {
    this.log.push(`write ${key}`);
    this.items.set(key, { value, ...(ttlSeconds !== undefined ? { expiresAt: this.now() + ttlSeconds } : {}) });
  }

  /** Every key but the consumed records of flows that moved on (they stay until their TTL, as in DynamoDB). */
  public keptKeys(): string[] {
    return [...this.items.entries()].filter(([, entry]) => entry.consumedBy === undefined).map(([key]) => key);
  }

  /** The hold on `key` as another, live flow would leave it (for tests that set the scene). */
  public holdAs(key: string, owner: string, ttlSeconds: number, value?: string): void {
    this.items.set(key, { owner, expiresAt: this.now() + ttlSeconds, ...(value !== undefined ? { value } : {}) });
  }
}
