/**
 * Where a flow's time went, as pure arithmetic over intervals (no sandbox, no clock): the wall
 * time of one flow split into the time something the control plane waits on was running
 * (instance boot and agent registration, documents, Gluster, health checks, drain) and the
 * control plane's overhead, plus the AWS API calls the flow made. test/bench/compute.ts feeds
 * it from a real sandbox; test/unit/bench/flow-split.test.ts holds it to these definitions:
 *
 * - wall: window.end - window.start (the bench says what starts and ends a flow);
 * - a kind's running time: the union of its intervals, each clipped to the window (two
 *   documents at once count once); its sum is also given (it may exceed the union);
 * - running: the union of every interval of every kind, clipped to the window;
 * - overhead: wall - running, the time nothing the control plane waits on was running
 *   (event delivery, queues, Lambda, delayed polls that found the wait already over);
 * - overhead %: overhead / wall x 100 (0 for an empty window);
 * - API calls: the calls whose request started within the window.
 */

import { unionMs } from '../sandbox/status';

/** Something the control plane waits on, running from `start` to `end` (ms since the epoch). */
export interface RunningInterval {
  readonly kind: string;
  readonly start: number;
  readonly end: number;
  /** What exactly ran (a document and its host), for the idle gaps' neighbours. */
  readonly label?: string;
}

/** A stretch of the window with nothing running: what ended last before it and what started first after it. */
export interface IdleGap {
  /** Seconds from the window's start. */
  readonly fromSeconds: number;
  readonly seconds: number;
  readonly after?: string;
  readonly before?: string;
}

/** One AWS API call the flow's functions made. */
export interface FlowCall {
  readonly service: string;
  readonly operation: string;
  readonly status: number;
  readonly at: number;
}

export interface KindFigures {
  readonly kind: string;
  /** Union of this kind's intervals within the window. */
  readonly seconds: number;
  /** Sum of this kind's interval lengths within the window (overlaps counted twice). */
  readonly sumSeconds: number;
  /** Intervals that overlap the window. */
  readonly count: number;
}

export interface FlowSplit {
  readonly name: string;
  readonly wallSeconds: number;
  readonly runningSeconds: number;
  readonly overheadSeconds: number;
  readonly overheadPercent: number;
  /** In the order the kinds first appear in the input. */
  readonly kinds: readonly KindFigures[];
  readonly apiCalls: number;
  /** Calls answered with an HTTP status other than 200 (throttled or refused). */
  readonly apiCallsNotOk: number;
  /** `service:Operation` -> count. */
  readonly apiCallsByOperation: Readonly<Record<string, number>>;
  /** `service:Operation HTTP status` -> count, for the calls not answered 200. */
  readonly apiCallsNotOkByAnswer: Readonly<Record<string, number>>;
  /** Every stretch of the window with nothing running, in time order (they sum to the overhead). */
  readonly gaps: readonly IdleGap[];
}

function checkedTime(what: string, value: number): number {
  if (!Number.isFinite(value)) throw new RangeError(`${what} must be a finite time in ms, got ${value}`);
  return value;
}

/** Total length (ms) of the union of [start, end) intervals; empty and reversed ones add nothing (the sandbox's own union). */
export const unionLengthMs = unionMs;

/** The split of one flow (definitions in the file comment). Refuses a reversed window or interval. */
export function splitFlow(name: string, window: { readonly start: number; readonly end: number }, intervals: readonly RunningInterval[], calls: readonly FlowCall[]): FlowSplit {
  const start = checkedTime(`${name}: window start`, window.start);
  const end = checkedTime(`${name}: window end`, window.end);
  if (end < start) throw new RangeError(`${name}: the window ends (${end}) before it starts (${start})`);
  const clipped = new Map<string, [number, number][]>();
  for (const i of intervals) {
    checkedTime(`${name}: ${i.kind} interval start`, i.start);
    checkedTime(`${name}: ${i.kind} interval end`, i.end);
    if (i.end < i.start) throw new RangeError(`${name}: a ${i.kind} interval ends (${i.end}) before it starts (${i.start})`);
    const list = clipped.get(i.kind) ?? [];
    clipped.set(i.kind, list);
    const a = Math.max(i.start, start);
    const b = Math.min(i.end, end);
    if (b > a || (b === a && i.start === i.end && a >= start && a <= end)) list.push([a, b]);
  }
  const kinds: KindFigures[] = [...clipped].map(([kind, list]) => ({
    kind,
    seconds: unionLengthMs(list) / 1000,
    sumSeconds: list.reduce((sum, [a, b]) => sum + (b - a), 0) / 1000,
    count: list.length,
  }));
  const wallMs = end - start;
  const runningMs = unionLengthMs([...clipped.values()].flat());
  const inWindow = calls.filter((c) => c.at >= start && c.at <= end);
  const byOperation: Record<string, number> = {};
  const notOk: Record<string, number> = {};
  for (const c of inWindow) {
    byOperation[`${c.service}:${c.operation}`] = (byOperation[`${c.service}:${c.operation}`] ?? 0) + 1;
    if (c.status !== 200) notOk[`${c.service}:${c.operation} ${c.status}`] = (notOk[`${c.service}:${c.operation} ${c.status}`] ?? 0) + 1;
  }
  return {
    name,
    wallSeconds: wallMs / 1000,
    runningSeconds: runningMs / 1000,
    overheadSeconds: (wallMs - runningMs) / 1000,
    overheadPercent: wallMs === 0 ? 0 : ((wallMs - runningMs) / wallMs) * 100,
    kinds,
    apiCalls: inWindow.length,
    apiCallsNotOk: inWindow.filter((c) => c.status !== 200).length,
    apiCallsByOperation: byOperation,
    apiCallsNotOkByAnswer: notOk,
    gaps: idleGaps(start, end, intervals),
  };
}

const nameOf = (i: RunningInterval) => i.label ?? i.kind;

/** The stretches of [start, end] no interval covers, each with its neighbours (the interval that ended last before it, the first that started after it). */
function idleGaps(start: number, end: number, intervals: readonly RunningInterval[]): IdleGap[] {
  const sorted = intervals.filter((i) => i.end > start && i.start < end).sort((a, b) => a.start - b.start);
  const gaps: IdleGap[] = [];
  let cursor = start;
  let last: RunningInterval | undefined;
  for (const i of sorted) {
    if (i.start > cursor) {
      gaps.push({ fromSeconds: (cursor - start) / 1000, seconds: (i.start - cursor) / 1000, ...(last ? { after: nameOf(last) } : {}), before: nameOf(i) });
    }
    if (i.end > cursor) {
      cursor = i.end;
      last = i;
    }
  }
  if (cursor < end) gaps.push({ fromSeconds: (cursor - start) / 1000, seconds: (end - cursor) / 1000, ...(last ? { after: nameOf(last) } : {}) });
  return gaps;
}

/** One line per figure, with the definitions, for the bench's output. */
export function formatFlowSplit(split: FlowSplit, notes: { readonly window: string; readonly kinds?: Readonly<Record<string, string>>; readonly gapSeconds?: number }): string[] {
  const s = (n: number) => `${n.toFixed(1)} s`;
  const lines = [
    `== ${split.name}`,
    `wall time            ${s(split.wallSeconds)} (${notes.window})`,
    `running              ${s(split.runningSeconds)} (union of the intervals below, within the wall time)`,
    ...split.kinds.map((k) => {
      const what = notes.kinds?.[k.kind];
      const sum = Math.abs(k.sumSeconds - k.seconds) >= 0.05 ? `, ${s(k.sumSeconds)} summed` : '';
      return `  ${k.kind.padEnd(28)} ${s(k.seconds)} (${k.count} interval${k.count === 1 ? '' : 's'}${sum})${what !== undefined ? ` ${what}` : ''}`;
    }),
    `overhead             ${s(split.overheadSeconds)} = wall - running: ${split.overheadPercent.toFixed(1)} % of the wall time with nothing the control plane waits on running (event delivery, queues, Lambda, delayed polls)`,
    `AWS API calls        ${split.apiCalls} (by the flow's function, requests started within the wall time; ${split.apiCallsNotOk} not answered 200)`,
  ];
  for (const [op, n] of Object.entries(split.apiCallsByOperation).sort(([a], [b]) => a.localeCompare(b))) lines.push(`  ${op.padEnd(52)} ${n}`);
  for (const [answer, n] of Object.entries(split.apiCallsNotOkByAnswer).sort(([a], [b]) => a.localeCompare(b))) lines.push(`  not 200: ${answer.padEnd(43)} ${n}`);
  const shown = split.gaps.filter((g) => g.seconds >= (notes.gapSeconds ?? 0.5));
  if (shown.length > 0) lines.push(`idle gaps of ${(notes.gapSeconds ?? 0.5).toFixed(1)} s or more (${shown.length} of ${split.gaps.length}; seconds from the start of the wall time):`);
  for (const g of shown) lines.push(`  at ${s(g.fromSeconds).padStart(8)}  ${s(g.seconds).padStart(7)}  after ${g.after ?? 'the start'} -> before ${g.before ?? 'the end'}`);
  return lines;
}
