/** Pure readings of what a sandbox reports: is the compute group steady, the status in one line, a phase's timings. */
import type { PhaseReport, SandboxStatus, StepTiming } from './types';

/** Union length of [start, end) intervals, in ms. */
export function unionMs(intervals: readonly (readonly [number, number])[]): number {
  const sorted = [...intervals].filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let curStart = -Infinity;
  let curEnd = -Infinity;
  for (const [a, b] of sorted) {
    if (a > curEnd) {
      if (curEnd > curStart) total += curEnd - curStart;
      curStart = a;
      curEnd = b;
    } else if (b > curEnd) curEnd = b;
  }
  if (curEnd > curStart) total += curEnd - curStart;
  return total;
}

/** Wall time vs document time for one phase window, from the step timings. */
export function measurePhase(name: string, start: number, end: number, steps: readonly StepTiming[]): PhaseReport {
  const inWindow = steps
    .filter((s) => s.start >= start && s.start <= end)
    .map((s) => [s.start, Math.min(s.end ?? end, end)] as const);
  const documentsMs = inWindow.reduce((sum, [a, b]) => sum + Math.max(0, b - a), 0);
  const wallDocsMs = unionMs(inWindow);
  const seconds = (end - start) / 1000;
  return {
    name,
    start,
    seconds,
    documentsSeconds: documentsMs / 1000,
    documentsWallSeconds: wallDocsMs / 1000,
    overheadSeconds: Math.max(0, seconds - wallDocsMs / 1000),
  };
}

/** `n` compute instances InService, each one's target healthy, and no other target in the group. */
export function isSteady(s: SandboxStatus, computeGroup: string, n: number): boolean {
  const compute = s.instances.filter((i) => i.groupName === computeGroup);
  if (compute.length !== n || compute.some((i) => i.lifecycleState !== 'InService')) return false;
  if (s.targets.length !== n) return false;
  if (!compute.every((i) => s.targets.some((t) => t.instanceId === i.instanceId && t.state === 'healthy'))) return false;
  // The group forgets a terminated instance before its host has finished stopping: steady means that host is gone too.
  const ids = new Set(compute.map((i) => i.instanceId));
  return s.hosts.filter((h) => h.role === 'compute' && h.running).every((h) => ids.has(h.instanceId));
}

export function describeStatus(s: SandboxStatus): string {
  const inst = s.instances.map((i) => `${i.instanceId}(${i.role} ${i.lifecycleState})`).join(', ') || 'no instances';
  const tg = s.targets.map((t) => `${t.instanceId}=${t.state}${t.reason ? `/${t.reason}` : ''}`).join(', ') || 'no targets';
  return `${inst}; targets: ${tg}`;
}
