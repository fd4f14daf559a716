/** Grow in place, part of the expand flow: enlarge the EBS volumes of one replica set, wait, grow each XFS, verify in Gluster. */
import type { VolumePort } from '../../ports/ec2-volumes';
import { secondsSince } from '../../core/flow';
import type { StorageFlowState, StorageOutcome } from '../../core/storage/flow-state';
import { formatBytes } from '../../core/storage/bytes';
import type { ExpansionPlan } from '../../core/storage/expand';
import { GiB, leastGrownBytes, parseGrowReport, startGrowProgress, withBrick, type GROW_STEPS, type GrowingBrick, type GrowProgress } from '../../core/storage/grow';
import { AwsCallError, StepFailedError } from '../../errors';
import type { StepTable } from '../flow-runner';
import type { StorageDeps } from './cluster';
import { runDocumentStep } from './documents';
import { readSnapshotStep } from './status-read';

/**
 * Grow in place (issue 4): the bricks of one replica set get larger EBS
 * volumes and their XFS file systems grow; no new bricks, no rebalance.
 * The pure part (progress, report, facts) is lib/core/storage/grow.ts.
 *
 *   grow-volumes      ModifyVolume(Size) on each brick's EBS volume (the one
 *                     attached at the stage's brick device), all in one pass
 *   await-volumes     each modification optimizing or completed (the size
 *                     change is visible to the instance from optimizing on)
 *   grow-filesystems  storage-grow-brick on each member, one per pass
 *   verify-grown      a Gluster status read shows every brick of the set at
 *                     the new size; then the flow's finish step notifies
 *
 * Every step re-reads what EC2 says, so a re-delivered message never
 * modifies a volume twice.
 */

/** EC2 refusals that no re-delivery can fix: the flow fails with EC2's words. */
const FINAL_EC2_CODES = new Set([
  'IncorrectModificationState',
  'VolumeModificationRateExceeded',
  'InvalidParameterValue',
  'InvalidParameterCombination',
  'UnauthorizedOperation',
  'InvalidVolume.NotFound',
  'VolumeLimitExceeded',
]);

function volumesOf(deps: StorageDeps, state: StorageFlowState): VolumePort {
  if (!deps.volumes) throw new StepFailedError(state.step, 'grow in place needs the EC2 volume port, and this function was built without it (STORAGE_GROW_IN_PLACE off?)');
  return deps.volumes;
}

function planOf(state: StorageFlowState): ExpansionPlan {
  const plan = state.expansion;
  if (!plan || plan.strategy !== 'grow-in-place') throw new StepFailedError(state.step, 'no grow-in-place plan');
  return plan;
}

function progressOf(state: StorageFlowState): GrowProgress {
  return state.grow ?? startGrowProgress(planOf(state));
}

function finalEc2(error: unknown): string | undefined {
  if (!(error instanceof AwsCallError)) return undefined;
  const code = (error as AwsCallError & { code?: string }).code;
  return code !== undefined && FINAL_EC2_CODES.has(code) ? error.message : undefined;
}

async function growVolumes(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const volumes = volumesOf(deps, state);
  const device = deps.storage.growInPlace.ebsDevice;
  let progress = progressOf(state);
  const target = progress.toGiB;
  for (const [index, brick] of progress.bricks.entries()) {
    if (brick.modified) continue;
    const volume = await volumes.findAttachedVolume(brick.instanceId, device);
    if (!volume) {
      return { kind: 'fail', reason: `no EBS volume is attached to ${brick.instanceId} (${brick.host}) at ${device}: check STORAGE_BRICK_EBS_DEVICE against the storage launch template` };
    }
    const keys = { instanceId: brick.instanceId, volumeId: volume.volumeId, sizeGiB: volume.sizeGiB, targetGiB: target };
    if (volume.sizeGiB >= target) {
      // An earlier delivery modified it (or someone did by hand): nothing to send.
      deps.log.info('brick volume already at the target size', keys);
      progress = withBrick(progress, index, { volumeId: volume.volumeId, sizeBeforeGiB: brick.sizeBeforeGiB ?? volume.sizeGiB, modified: true });
      continue;
    }
    const current = await volumes.latestModification(volume.volumeId);
    if (current && (current.state === 'modifying' || current.state === 'optimizing') && current.targetSizeGiB >= target) {
      deps.log.info('brick volume modification already under way', { ...keys, modificationState: current.state });
      progress = withBrick(progress, index, { volumeId: volume.volumeId, sizeBeforeGiB: current.originalSizeGiB ?? volume.sizeGiB, modified: true });
      continue;
    }
    try {
      const started = await volumes.modifyVolumeSize(volume.volumeId, target);
      deps.log.info('brick volume modification started', { ...keys, modificationState: started.state, ...(started.dryRun ? { dryRun: true } : {}) });
      progress = withBrick(progress, index, { volumeId: volume.volumeId, sizeBeforeGiB: volume.sizeGiB, modified: true, ...(started.dryRun ? { dryRun: true } : {}) });
    } catch (error) {
      const final = finalEc2(error);
      if (final) return { kind: 'fail', reason: `EC2 refused to grow ${volume.volumeId} of ${brick.instanceId} to ${target} GiB: ${final}` };
      throw error;
    }
  }
  return { kind: 'next', patch: { grow: progress } };
}

async function awaitVolumes(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const volumes = volumesOf(deps, state);
  let progress = progressOf(state);
  const target = progress.toGiB;
  const waiting: string[] = [];
  for (const [index, brick] of progress.bricks.entries()) {
    if (brick.ready) continue;
    if (!brick.volumeId) throw new StepFailedError(state.step, `no volume recorded for ${brick.instanceId}`);
    if (brick.dryRun) {
      progress = withBrick(progress, index, { ready: true });
      continue;
    }
    const modification = await volumes.latestModification(brick.volumeId);
    if (modification?.state === 'failed') {
      return { kind: 'fail', reason: `the modification of ${brick.volumeId} (${brick.instanceId}) to ${target} GiB failed: ${modification.statusMessage ?? 'EC2 gave no reason'}` };
    }
    if (modification && (modification.state === 'optimizing' || modification.state === 'completed') && modification.targetSizeGiB >= target) {
      progress = withBrick(progress, index, { ready: true });
      continue;
    }
    if (!modification || modification.targetSizeGiB < target) {
      // No modification to watch: only a volume already at the size goes on.
      const volume = await volumes.describeVolume(brick.volumeId);
      if (volume && volume.sizeGiB >= target) {
        progress = withBrick(progress, index, { ready: true });
        continue;
      }
      return { kind: 'fail', reason: `${brick.volumeId} (${brick.instanceId}) is ${volume ? `${volume.sizeGiB} GiB` : 'gone'} and no modification to ${target} GiB is under way` };
    }
    waiting.push(`${brick.volumeId} ${modification.state}${modification.progress !== undefined ? ` ${modification.progress}%` : ''}`);
  }
  if (waiting.length === 0) return { kind: 'next', patch: { grow: progress } };
  const inStep = secondsSince(state.stepStartedAt, deps.now());
  const bound = deps.storage.timing.growTimeoutSeconds;
  if (inStep > bound) return { kind: 'fail', reason: `EBS modifications not optimizing after ${Math.round(inStep)}s (bound ${bound}s): ${waiting.join(', ')}` };
  return { kind: 'wait', reason: `waiting for the EBS modifications: ${waiting.join(', ')}`, patch: { grow: progress } };
}

async function growFilesystems(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const progress = progressOf(state);
  const index = progress.bricks.findIndex((b) => b.fsGrown === undefined);
  if (index < 0) return { kind: 'next' };
  const brick = progress.bricks[index] as GrowingBrick;
  const document = deps.storage.documents.growBrick;
  if (!document) throw new StepFailedError(state.step, 'DOC_STORAGE_GROW_BRICK is not configured');
  const result = await runDocumentStep(state, deps, document, { instanceId: brick.instanceId, host: brick.host }, {
    BrickRoot: deps.storage.settings.brickRoot,
    ExpectBytes: String(progress.toGiB * GiB),
  }, `grow brick file system on ${brick.instanceId}`);
  if (result.kind !== 'result') return result.kind === 'wait' ? { ...result, patch: { ...result.patch, grow: progress } } : result;
  const report = parseGrowReport(result.stdout);
  if (!report && !deps.config.dryRun) {
    return { kind: 'fail', reason: `storage-grow-brick on ${brick.instanceId} printed no report line`, output: result.stdout.slice(-1000) };
  }
  const next = withBrick(progress, index, report ? { fsBefore: report.before, fsAfter: report.after, fsGrown: report.grown } : { fsGrown: false });
  deps.log.info('brick file system grown', { instanceId: brick.instanceId, ...(report ?? { dryRun: true }) });
  const more = next.bricks.some((b) => b.fsGrown === undefined);
  return more ? { kind: 'next', skipTo: 'grow-filesystems', patch: { grow: next } } : { kind: 'next', patch: { grow: next } };
}

async function verifyGrown(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const plan = planOf(state);
  const progress = progressOf(state);
  if (deps.config.dryRun) return { kind: 'next', skipTo: 'finish', warning: 'dry run: the brick sizes were not checked' };
  const via = state.via;
  if (!via) throw new StepFailedError(state.step, 'no member to read the Gluster status from');
  const read = await readSnapshotStep(state, deps, via);
  if (read.kind !== 'snapshot') return read;
  const volume = read.snapshot.volumes.find((v) => v.name === plan.volume);
  if (!volume) return { kind: 'fail', reason: `${plan.volume} is missing from the Gluster status` };
  const hosts = new Set(progress.bricks.map((b) => b.host));
  // storage-grow-brick checked that each device reached the size and its XFS fills it.
  const wanted = leastGrownBytes(progress.toGiB * GiB);
  const bricks = volume.bricks.filter((b) => hosts.has(b.host));
  const unknown = bricks.filter((b) => b.sizeTotal === 0).map((b) => b.host);
  const small = bricks.filter((b) => b.sizeTotal > 0 && b.sizeTotal < wanted);
  if (small.length) {
    return { kind: 'fail', reason: `after the grow, ${small.map((b) => `${b.host}:${b.path} has ${formatBytes(b.sizeTotal)}, expected at least ${formatBytes(wanted)}`).join('; ')}` };
  }
  if (unknown.length || bricks.length < hosts.size) {
    const inStep = secondsSince(state.stepStartedAt, deps.now());
    const why = `bricks on ${unknown.join(', ') || 'some members'} did not report their size`;
    if (inStep > deps.storage.timing.growTimeoutSeconds) return { kind: 'fail', reason: `${why} within ${deps.storage.timing.growTimeoutSeconds}s` };
    return { kind: 'wait', reason: why };
  }
  return { kind: 'next', skipTo: 'finish', patch: { grow: { ...progress, bricks: progress.bricks.map((b) => ({ ...b, verifiedBytes: bricks.find((x) => x.host === b.host)?.sizeTotal })) } } };
}

export const GROW: StepTable<(typeof GROW_STEPS)[number], StorageFlowState, StorageDeps> = {
  'grow-volumes': growVolumes,
  'await-volumes': awaitVolumes,
  'grow-filesystems': growFilesystems,
  'verify-grown': verifyGrown,
};
