/** Grow in place, the pure part: the steps' names, the progress a flow carries, the grow report, the facts told at the end. */
import { StepFailedError } from '../../errors';
import { formatBytes } from './bytes';
import type { ExpansionPlan } from './expand';
import { describeExpansion } from './messages';
import type { PlanStep } from './steps';

/**
 * Grow in place (issue 4): the bricks of one replica set get larger EBS
 * volumes and their XFS file systems grow; no new bricks, no rebalance. The
 * steps are part of the expand flow; what each does is in
 * lib/usecases/storage/grow-steps.ts.
 */
export const GiB = 1024 ** 3;

export const GROW_STEPS = ['grow-volumes', 'await-volumes', 'grow-filesystems', 'verify-grown'] as const;
export type GrowStep = (typeof GROW_STEPS)[number];

/** What the flow knows about one brick being grown (travels in the continuation). */
export interface GrowingBrick {
  readonly instanceId: string;
  readonly host: string;
  readonly volumeId?: string;
  readonly sizeBeforeGiB?: number;
  /** ModifyVolume sent (or found done by an earlier delivery). */
  readonly modified?: boolean;
  /** The modification reached optimizing/completed. */
  readonly ready?: boolean;
  /** storage-grow-brick report: file system bytes before/after. */
  readonly fsBefore?: number;
  readonly fsAfter?: number;
  readonly fsGrown?: boolean;
  /** What Gluster reported for the brick once grown (bytes). */
  readonly verifiedBytes?: number;
  readonly dryRun?: boolean;
}

export interface GrowProgress {
  readonly toGiB: number;
  readonly bricks: readonly GrowingBrick[];
}

/**
 * The least size Gluster may report for a brick whose XFS now spans
 * `fsBytes`: XFS keeps its internal log (at least 64 MiB, at most 2 GiB) and
 * some metadata out of the total statvfs reports.
 */
export function leastGrownBytes(fsBytes: number): number {
  return Math.floor(fsBytes - Math.min(2 * GiB, fsBytes * 0.05) - fsBytes * 0.01);
}

/** The grow-brick steps of a plan as the progress the flow starts with. */
export function startGrowProgress(plan: ExpansionPlan): GrowProgress {
  const steps = plan.steps.filter((s): s is Extract<PlanStep, { kind: 'grow-brick' }> => s.kind === 'grow-brick');
  if (steps.length === 0) throw new StepFailedError('plan', 'the grow-in-place plan has no grow-brick step');
  const toBytes = Math.max(...steps.map((s) => s.toBytes));
  return { toGiB: Math.ceil(toBytes / GiB), bricks: steps.map((s) => ({ instanceId: s.instanceId, host: s.host })) };
}

export function withBrick(progress: GrowProgress, index: number, patch: Partial<GrowingBrick>): GrowProgress {
  return { ...progress, bricks: progress.bricks.map((b, i) => (i === index ? { ...b, ...patch } : b)) };
}

const REPORT = /^grow-brick device=(\S+) device_bytes=(\d+) fs_bytes_before=(\d+) fs_bytes_after=(\d+) grown=(yes|no)$/m;

/** The storage-grow-brick report line, or undefined. */
export function parseGrowReport(stdout: string): { device: string; deviceBytes: number; before: number; after: number; grown: boolean } | undefined {
  const m = REPORT.exec(stdout);
  if (!m) return undefined;
  return { device: m[1] as string, deviceBytes: Number(m[2]), before: Number(m[3]), after: Number(m[4]), grown: m[5] === 'yes' };
}

/** What the success notification says about a grow in place. */
export function grownFacts(plan: ExpansionPlan | undefined, progress: GrowProgress | undefined): string[] {
  if (!plan || !progress) return [];
  const lines = progress.bricks.map((b) => {
    const ebs = `${b.volumeId ?? 'volume ?'} ${b.sizeBeforeGiB ?? '?'} -> ${progress.toGiB} GiB`;
    const fs = b.fsBefore !== undefined && b.fsAfter !== undefined ? `, XFS ${formatBytes(b.fsBefore)} -> ${formatBytes(b.fsAfter)}${b.fsGrown ? '' : ' (already grown)'}` : '';
    return `${b.instanceId} (${b.host}): ${ebs}${fs}${b.verifiedBytes ? `; Gluster reports ${formatBytes(b.verifiedBytes)}` : ''}`;
  });
  return [describeExpansion(plan), `Strategy: grow-in-place - ${plan.why}`, ...lines, 'No rebalance: the bricks grew in place, no file moved.'];
}
