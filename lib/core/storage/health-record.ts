/** The health record the health flow keeps (Parameter Store, records.ts healthName): the last read, the state last told, the restarts done. */
import { createHash } from 'node:crypto';
import type { HealthRecord } from '../records';
import type { HealthProblem } from './health';

/**
 * Written by every health read (one writer: the health flow). The alarm
 * function reads `healthy` and `at` (HealthRecord); the rest is the flow's
 * memory between periods:
 * - `told`: the problems last told to ops, so that a change of health is
 *   told once and never every period;
 * - `repairs`: the restarts of each offline brick within the repair window,
 *   so that a brick that keeps dying is not restarted forever, and the last
 *   repair outcome told for it.
 */
export interface HealthState extends HealthRecord {
  /** The last health read that answered (the watch's dedupe: a check requested before it is not read again). */
  readonly readAt?: string;
  /** A read sent and not answered yet: a check requested before it started waits for it instead of reading again. */
  readonly reading?: { readonly since: string; readonly operationId: string };
  /** Keys of the problems found by that read (at most RECORD_KEYS) and how many there were. */
  readonly problems?: readonly string[];
  readonly problemCount?: number;
  readonly told?: ToldState;
  /** The last read that did not answer. */
  readonly unreadable?: { readonly at: string; readonly reason: string; readonly instanceId?: string };
  readonly repairs?: Readonly<Record<string, BrickRepairs>>;
}

export interface ToldState {
  /** SHA-256 of the sorted problem keys: what "the same state" is measured on. */
  readonly digest: string;
  /** The keys (at most RECORD_KEYS), to name what was resolved. */
  readonly problems: readonly string[];
  readonly at: string;
}

export interface BrickRepairs {
  /** ISO times of the restarts within the window. */
  readonly restarts: readonly string[];
  /** The last repair outcome told for this brick ("restarted", "not repaired: ..."). */
  readonly told?: string;
}

/** A standard-tier String parameter holds at most 4 KB (catalogue: parameter-store.value.standard-tier-4096). */
export const HEALTH_RECORD_MAX_BYTES = 4096;
/** Keys kept in the record's lists; the digest covers all of them. */
export const RECORD_KEYS = 20;
/** The problem a read that did not answer stands for. */
export const UNREADABLE_KEY = 'health unreadable';

export function digestOf(keys: readonly string[]): string {
  return createHash('sha256').update([...keys].sort().join('\n')).digest('hex');
}

/** Strict reading of the stored record: undefined when absent or unreadable (the flow then starts over: a first read). */
export function decodeHealthState(raw: string | undefined): HealthState | undefined {
  if (raw === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.healthy !== 'boolean' || typeof v.at !== 'string') return undefined;
  const told = v.told as Partial<ToldState> | undefined;
  const toldOk = told === undefined || (typeof told.digest === 'string' && Array.isArray(told.problems) && typeof told.at === 'string');
  const repairs = v.repairs as Record<string, Partial<BrickRepairs>> | undefined;
  const repairsOk = repairs === undefined || (typeof repairs === 'object' && Object.values(repairs).every((r) => Array.isArray(r?.restarts) && r.restarts.every((t) => typeof t === 'string')));
  if (!toldOk || !repairsOk) return undefined;
  return value as HealthState;
}

/**
 * Whether a health check requested at `requestedAt` is covered already: a
 * read answered after it was asked, or a read still running (started less
 * than `inFlightSeconds` ago, the command timeout: one read at a time, so
 * that reads slower than the watch's period do not pile up on glusterd; the
 * next period's check reads again).
 */
export function isCovered(state: HealthState | undefined, requestedAt: string, now: Date, inFlightSeconds: number): boolean {
  const asked = Date.parse(requestedAt);
  if (!Number.isFinite(asked) || state === undefined) return false;
  if (state.readAt !== undefined && Date.parse(state.readAt) >= asked) return true;
  const since = state.reading ? Date.parse(state.reading.since) : NaN;
  return Number.isFinite(since) && now.getTime() - since <= inFlightSeconds * 1000;
}

// --- a change of health, told once ------------------------------------------------------

export interface HealthChange {
  /** Tell ops now: the problems differ from those last told (or none were told and some exist). */
  readonly tell: boolean;
  readonly added: readonly string[];
  /** Keys told before and gone now (as far as the record kept them). */
  readonly resolved: readonly string[];
  readonly told: ToldState;
}

/**
 * Compares the problems found now with the state last told. Nothing told
 * yet: a healthy cluster is the baseline (recorded, not told), an unhealthy
 * one is told. Same keys as told: nothing to tell.
 */
export function healthChange(previous: HealthState | undefined, problems: readonly HealthProblem[], now: Date): HealthChange {
  const keys = problems.map((p) => p.key);
  const digest = digestOf(keys);
  const told: ToldState = { digest, problems: keys.slice(0, RECORD_KEYS), at: now.toISOString() };
  const before = previous?.told;
  if (before === undefined) return { tell: keys.length > 0, added: keys, resolved: [], told };
  if (before.digest === digest) return { tell: false, added: [], resolved: [], told: before };
  const was = new Set(before.problems);
  const is = new Set(keys);
  return { tell: true, added: keys.filter((k) => !was.has(k)), resolved: before.problems.filter((k) => !is.has(k)), told };
}

// --- restarts within the window ----------------------------------------------------------

/** The repairs key of a brick. */
export const repairKey = (volume: string, brick: string) => `${volume} ${brick}`;

export function restartsWithin(state: HealthState | undefined, key: string, now: Date, windowSeconds: number): number {
  const since = now.getTime() - windowSeconds * 1000;
  return (state?.repairs?.[key]?.restarts ?? []).filter((t) => Date.parse(t) > since).length;
}

/**
 * The repairs kept: bricks still offline, and bricks restarted within the
 * window (one that dies again right after its restart counts it); restarts
 * older than the window are forgotten.
 */
export function keptRepairs(state: HealthState | undefined, offline: readonly string[], now: Date, windowSeconds: number): Record<string, BrickRepairs> {
  const since = now.getTime() - windowSeconds * 1000;
  const out: Record<string, BrickRepairs> = {};
  for (const [key, r] of Object.entries(state?.repairs ?? {})) {
    const restarts = r.restarts.filter((t) => Date.parse(t) > since);
    if (restarts.length === 0 && !offline.includes(key)) continue;
    out[key] = { restarts, ...(r.told !== undefined ? { told: r.told } : {}) };
  }
  return out;
}

// --- within Parameter Store's 4 KB ---------------------------------------------------------

/**
 * JSON of the record within HEALTH_RECORD_MAX_BYTES. When too long: the
 * reason is cut, then the key lists, then the repairs of bricks not
 * restarted lately (oldest first); the digest keeps the comparison exact.
 */
export function encodeHealthState(state: HealthState): string {
  const size = (s: HealthState) => Buffer.byteLength(JSON.stringify(s));
  let s: HealthState = state;
  if (size(s) <= HEALTH_RECORD_MAX_BYTES) return JSON.stringify(s);
  if (s.reason && s.reason.length > 300) s = { ...s, reason: `${s.reason.slice(0, 299)}…` };
  for (let keep = RECORD_KEYS; keep >= 0 && size(s) > HEALTH_RECORD_MAX_BYTES; keep -= 5) {
    s = { ...s, problems: (state.problems ?? []).slice(0, keep), ...(s.told ? { told: { ...s.told, problems: s.told.problems.slice(0, keep) } } : {}) };
  }
  if (size(s) > HEALTH_RECORD_MAX_BYTES && s.repairs) {
    const entries = Object.entries(s.repairs).sort((a, b) => (a[1].restarts.at(-1) ?? '').localeCompare(b[1].restarts.at(-1) ?? ''));
    while (entries.length > 0 && size(s) > HEALTH_RECORD_MAX_BYTES) {
      entries.shift();
      s = { ...s, repairs: Object.fromEntries(entries) };
    }
  }
  if (size(s) > HEALTH_RECORD_MAX_BYTES) throw new Error(`the health record does not fit in ${HEALTH_RECORD_MAX_BYTES} bytes even cut down (${size(s)} bytes)`);
  return JSON.stringify(s);
}
