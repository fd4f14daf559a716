/** The health flow: read Gluster's health on a live member, publish it, record it, tell a change once, restart offline bricks of live members. */
import { healthName } from '../../core/records';
import { VOLUME_DIMENSION } from '../../core/scaling/metric-names';
import type { StorageFlowState, StorageOutcome, StorageStepOf } from '../../core/storage/flow-state';
import { assessHealth, brickName, healthGauges, healthProblems, healthSummary, type BrickRef, type ClusterHealth, type HealthMember } from '../../core/storage/health';
import * as healthNotices from '../../core/storage/health-notices';
import {
  decodeHealthState,
  encodeHealthState,
  healthChange,
  isCovered,
  keptRepairs,
  repairKey,
  restartsWithin,
  RECORD_KEYS,
  UNREADABLE_KEY,
  type BrickRepairs,
  type HealthState,
} from '../../core/storage/health-record';
import { decideRepairs, restartSteps, REPAIR_MAX_RESTARTS, REPAIR_WINDOW_SECONDS, type BrickRepair } from '../../core/storage/repair';
import { StepFailedError } from '../../errors';
import type { StepTable } from '../flow-runner';
import { pickMember, type GroupView, type StorageDeps } from './cluster';
import { runPending } from './documents';
import { acquireLock, releaseLock } from './lock';
import { readSnapshotStep } from './status-read';

/**
 * Started by the watch's `{"healthCheck":{"requestedAt":...}}` on the
 * StorageQueue, every period:
 * - read: storage-gluster-status on an in-service member with an online
 *   agent; the health per volume (health.ts) as metrics (dimension Volume,
 *   and pool-wide); the health record written with its time; a change of
 *   health told once (health-record.ts); the summary for the status function.
 *   Read-only: no lock.
 * - repair: only when a brick is offline on a live member and the stage
 *   allows it (repair.ts): the storage lock (skipped and told when another
 *   operation holds it), then `gluster volume start <vol> force` per volume.
 * - finish: the lock given back, the restart told.
 * The next period's read shows whether the brick stayed up (and tells the
 * recovery as a change of health).
 */

const settingsOf = (deps: StorageDeps) => ({ enabled: deps.storage.health.repairBricks, maxRestarts: REPAIR_MAX_RESTARTS, windowSeconds: REPAIR_WINDOW_SECONDS });

async function readState(deps: StorageDeps): Promise<HealthState | undefined> {
  return decodeHealthState(await deps.ssm.getParameter(healthName(deps.config.stage)));
}

async function writeState(deps: StorageDeps, state: HealthState): Promise<void> {
  await deps.ssm.putParameter(healthName(deps.config.stage), encodeHealthState(state));
}

function membersOf(group: GroupView): HealthMember[] {
  return group.instances.map((i) => ({ instanceId: i.instanceId, host: i.host, zone: i.zone, lifecycleState: i.lifecycleState, agentOnline: group.online.has(i.instanceId) }));
}

function publishGauges(deps: StorageDeps, health: ClusterHealth): void {
  for (const g of healthGauges(health)) deps.metrics.gauge(g.name, g.value, g.volume ? { [VOLUME_DIMENSION]: g.volume } : {});
}

/**
 * The health could not be read (no member to ask, the document failed, its
 * output unreadable): told once, like any change of health; the record keeps
 * the last good read's `healthy` and `at` (the alarm side ages it out).
 */
export async function recordUnreadable(deps: StorageDeps, reason: string, instanceId?: string): Promise<void> {
  const now = deps.now();
  const previous = await readState(deps);
  const change = healthChange(previous, [{ key: UNREADABLE_KEY, text: reason }], now);
  deps.log.warn('gluster health not read', { reason, ...(instanceId ? { instanceId } : {}), told: change.tell });
  if (change.tell) await deps.notifier.publish(healthNotices.healthUnreadable(deps.config.stage, reason, now));
  // Before any read answered, the record says so; its time (the epoch) is older than anything the alarm side trusts.
  const { reading: _done, ...rest } = previous ?? { healthy: false, reason: 'no health read has answered yet', at: new Date(0).toISOString() };
  await writeState(deps, {
    ...rest,
    unreadable: { at: now.toISOString(), reason: reason.slice(0, 300), ...(instanceId ? { instanceId } : {}) },
    told: change.told,
  });
}

async function read(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  let via = state.via;
  if (!state.command) {
    const previous = await readState(deps);
    if (state.healthCheck && isCovered(previous, state.healthCheck.requestedAt, deps.now(), deps.config.timing.commandTimeoutSeconds)) {
      deps.log.info('health check skipped: a read answered after it was requested, or one is running', { requestedAt: state.healthCheck.requestedAt, readAt: previous?.readAt, reading: previous?.reading });
      return { kind: 'done' };
    }
    // A member whose read failed last time is asked only when no other can be.
    const failedOn = previous?.unreadable?.instanceId;
    via = via ?? (failedOn ? await pickMember(deps, [failedOn]) : undefined) ?? (await pickMember(deps));
    if (!via) {
      await recordUnreadable(deps, `no in-service member of ${deps.storage.groupName} with an online SSM agent to read the volumes from`);
      return { kind: 'done' };
    }
    if (previous) await writeState(deps, { ...previous, reading: { since: deps.now().toISOString(), operationId: state.operationId } });
  }
  if (!via) throw new StepFailedError(state.step, 'the health read lost the member it asked');
  // The status document, read in parts; glusterd busy with another member's transaction is waited out (readSnapshotStep).
  const snap = await readSnapshotStep(state, deps, via);
  if (snap.kind !== 'snapshot') return snap.kind === 'wait' ? { ...snap, patch: { ...snap.patch, via } } : snap;

  const now = deps.now();
  const members = membersOf(snap.group);
  const health = assessHealth(snap.bundle, members, deps.storage.volumes, via);
  publishGauges(deps, health);
  const previous = await readState(deps);
  const problems = healthProblems(health);
  const change = healthChange(previous, problems, now);
  const repairs = decideRepairs(health, members, (b) => restartsWithin(previous, repairKey(b.volume, brickName(b)), now, REPAIR_WINDOW_SECONDS), settingsOf(deps));
  deps.log.info('gluster health read', { instanceId: via.instanceId, summary: healthSummary(health), problems: problems.length, told: change.tell, restarts: repairs.filter((r) => r.kind === 'restart').length });
  if (change.tell) await deps.notifier.publish(healthNotices.healthChanged(deps.config.stage, change, problems, health, repairs, now));

  // An offline brick left offline is told when its reason is new (with the change of health, or alone).
  const repairsKept = keptRepairs(previous, health.volumes.flatMap((v) => v.bricksOffline.map((b) => repairKey(v.volume, brickName(b)))), now, REPAIR_WINDOW_SECONDS);
  for (const r of repairs) {
    if (r.kind !== 'not-repaired') continue;
    const key = repairKey(r.brick.volume, brickName(r.brick));
    if (repairsKept[key]?.told === `not repaired: ${r.reason}`) continue;
    if (!change.tell) await deps.notifier.publish(healthNotices.brickNotRepaired(deps.config.stage, r.brick, r.reason));
    repairsKept[key] = { restarts: repairsKept[key]?.restarts ?? [], told: `not repaired: ${r.reason}` };
  }
  const keys = problems.map((p) => p.key);
  await writeState(deps, {
    healthy: problems.length === 0,
    ...(problems.length ? { reason: healthSummary(health) } : {}),
    at: now.toISOString(),
    readAt: now.toISOString(),
    problems: keys.slice(0, RECORD_KEYS),
    problemCount: keys.length,
    told: change.told,
    ...(Object.keys(repairsKept).length ? { repairs: repairsKept } : {}),
  });

  const restarting = repairs.filter((r): r is Extract<BrickRepair, { kind: 'restart' }> => r.kind === 'restart').map((r) => r.brick);
  if (restarting.length === 0) return { kind: 'done' };
  if (deps.config.dryRun) {
    await tellRestarts(deps, restarting, true);
    return { kind: 'done' };
  }
  return { kind: 'next', patch: { restarting, pending: restartSteps(repairs), via } };
}

/** Each volume's restarted bricks, one notice per volume; the told outcome recorded per brick. */
async function tellRestarts(deps: StorageDeps, bricks: readonly BrickRef[], dryRun: boolean): Promise<void> {
  const outcome = dryRun ? 'would restart (dry run)' : 'restarted';
  const current = await readState(deps);
  const repairs: Record<string, BrickRepairs> = { ...(current?.repairs ?? {}) };
  const volumes = [...new Set(bricks.map((b) => b.volume))];
  for (const volume of volumes) {
    const ofVolume = bricks.filter((b) => b.volume === volume);
    const keys = ofVolume.map((b) => repairKey(volume, brickName(b)));
    // A dry run says it once per brick; a real restart is an action: told every time.
    if (dryRun && keys.every((k) => repairs[k]?.told === outcome)) continue;
    await deps.notifier.publish(healthNotices.bricksRestarted(deps.config.stage, volume, ofVolume, dryRun));
    for (const k of keys) repairs[k] = { restarts: repairs[k]?.restarts ?? [], told: outcome };
  }
  if (current) await writeState(deps, { ...current, repairs });
}

async function repair(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const bricks = state.restarting ?? [];
  if (!state.lockHeld) {
    const lock = await acquireLock(deps, state.operationId);
    if (lock.kind === 'held') {
      const reason = `another storage operation holds the cluster lock (${lock.holder}): one storage operation at a time; the next health read tries again`;
      await tellNotRepaired(deps, bricks, reason);
      return { kind: 'done' };
    }
    // Counted before the command runs: a restart that fails or dies again still counts.
    const current = await readState(deps);
    if (current) {
      const at = deps.now().toISOString();
      const repairs: Record<string, BrickRepairs> = { ...(current.repairs ?? {}) };
      for (const b of bricks) {
        const key = repairKey(b.volume, brickName(b));
        repairs[key] = { ...repairs[key], restarts: [...(repairs[key]?.restarts ?? []), at] };
      }
      await writeState(deps, { ...current, repairs });
    }
    return { kind: 'next', skipTo: 'repair', patch: { lockHeld: true } };
  }
  return runPending(state, deps);
}

async function tellNotRepaired(deps: StorageDeps, bricks: readonly BrickRef[], reason: string): Promise<void> {
  const current = await readState(deps);
  const repairs: Record<string, BrickRepairs> = { ...(current?.repairs ?? {}) };
  for (const b of bricks) {
    const key = repairKey(b.volume, brickName(b));
    if (repairs[key]?.told === `not repaired: ${reason}`) continue;
    await deps.notifier.publish(healthNotices.brickNotRepaired(deps.config.stage, b, reason));
    repairs[key] = { restarts: repairs[key]?.restarts ?? [], told: `not repaired: ${reason}` };
  }
  if (current) await writeState(deps, { ...current, repairs });
}

/** A repair that failed (gluster refused, the document failed): the bricks are told not repaired, with why. */
export async function repairFailed(deps: StorageDeps, state: StorageFlowState, reason: string): Promise<void> {
  await tellNotRepaired(deps, state.restarting ?? [], `gluster volume start ... force failed: ${reason}`);
}

/** Told before the lock is given back: a re-delivery after a failed publish tells again, with the lock still its own. */
async function finish(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  await tellRestarts(deps, state.restarting ?? [], false);
  await releaseLock(deps, state.operationId);
  return { kind: 'next', patch: { lockHeld: false } };
}

export const HEALTH: StepTable<StorageStepOf<'health'>, StorageFlowState, StorageDeps> = { read, repair, finish };
