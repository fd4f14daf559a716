/**
 * The arithmetic of the control-plane bench (control-plane.ts), kept pure so it is unit tested:
 * percentiles, the union of busy intervals, and each flow's split into busy time and overhead.
 *
 * Definitions (printed with the figures):
 * - a flow's completion time: from its lifecycle action's start (the instance launched, or its
 *   termination began) to its end (InService, or terminated);
 * - busy: the part of that window during which something other than the control plane was at work
 *   for the instance: its boot until the SSM agent registered, each document step, the load
 *   balancer's health checks until healthy, the deregistration delay (the union of these intervals,
 *   clipped to the window, so overlaps count once);
 * - overhead: completion minus busy: time in which only the control plane (events, queues, Lambda
 *   invocations, retry and throttling delays, API calls) stood between the instance and the next step.
 */

/** A closed interval of epoch milliseconds, start <= end. */
export interface Interval {
  readonly start: number;
  readonly end: number;
}

export class FiguresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FiguresError';
  }
}

/** Nearest-rank percentile (p in 0..100) of the values; undefined for no values. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (!Number.isFinite(p) || p < 0 || p > 100) throw new FiguresError(`percentile must be between 0 and 100, got ${p}`);
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** Total length of the union of the intervals, counting only what lies inside `within`. */
export function busyMs(intervals: readonly Interval[], within: Interval): number {
  if (within.end < within.start) throw new FiguresError(`window ends (${within.end}) before it starts (${within.start})`);
  const clipped = intervals
    .map((i) => {
      if (i.end < i.start) throw new FiguresError(`interval ends (${i.end}) before it starts (${i.start})`);
      return { start: Math.max(i.start, within.start), end: Math.min(i.end, within.end) };
    })
    .filter((i) => i.end > i.start)
    .sort((a, b) => a.start - b.start);
  let total = 0;
  let current: { start: number; end: number } | undefined;
  for (const i of clipped) {
    if (current !== undefined && i.start <= current.end) {
      current.end = Math.max(current.end, i.end);
      continue;
    }
    if (current !== undefined) total += current.end - current.start;
    current = { ...i };
  }
  if (current !== undefined) total += current.end - current.start;
  return total;
}

export interface FlowSplit {
  readonly completionMs: number;
  readonly busyMs: number;
  readonly overheadMs: number;
}

/** One flow's completion time split into busy time and control-plane overhead. */
export function splitFlow(window: Interval, busy: readonly Interval[]): FlowSplit {
  const b = busyMs(busy, window);
  const completionMs = window.end - window.start;
  return { completionMs, busyMs: b, overheadMs: completionMs - b };
}

export interface SizeSummary {
  readonly flows: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  readonly busyMs: number;
  readonly overheadMs: number;
  /** Overhead as a share of the summed completion times, 0..1 (0 when nothing took time). */
  readonly overheadShare: number;
}

/** Completion percentiles and summed busy/overhead over the flows of one size. */
export function summarize(flows: readonly FlowSplit[]): SizeSummary {
  const completions = flows.map((f) => f.completionMs);
  const total = completions.reduce((a, b) => a + b, 0);
  const busy = flows.reduce((a, f) => a + f.busyMs, 0);
  const overhead = flows.reduce((a, f) => a + f.overheadMs, 0);
  return {
    flows: flows.length,
    p50Ms: percentile(completions, 50) ?? 0,
    p95Ms: percentile(completions, 95) ?? 0,
    maxMs: completions.length === 0 ? 0 : Math.max(...completions),
    busyMs: busy,
    overheadMs: overhead,
    overheadShare: total === 0 ? 0 : overhead / total,
  };
}

/** Counts divided by the number of flows, largest first (e.g. API calls per launch by operation). */
export function perFlow(counts: Readonly<Record<string, number>>, flows: number): [string, number][] {
  if (!Number.isInteger(flows) || flows < 1) throw new FiguresError(`flows must be a positive integer, got ${flows}`);
  return Object.entries(counts)
    .map(([k, n]): [string, number] => [k, n / flows])
    .sort(([ka, a], [kb, b]) => b - a || ka.localeCompare(kb));
}

/** `--sizes 1,10,50`: distinct positive integers, in the order given. */
export function parseSizes(text: string, max: number): number[] {
  const sizes = text.split(',').map((s) => s.trim());
  const out: number[] = [];
  for (const s of sizes) {
    const n = Number(s);
    if (!/^\d+$/.test(s) || n < 1 || n > max) throw new FiguresError(`--sizes takes comma-separated integers from 1 to ${max}, got '${s}' in '${text}'`);
    if (!out.includes(n)) out.push(n);
  }
  return out;
}
