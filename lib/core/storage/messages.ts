import { bodyLines, buildNotification, type Notification } from '../notification';
import { formatDuration } from '../messages';
import { formatBytes } from './bytes';
import { commandLine } from './gluster-actions';
import type { ExpansionPlan } from './expand';
import { describeChange, type LayoutChange, type LayoutFix } from './layout';
import type { ReplacementPlan } from './replace';
import type { ShrinkPlan } from './shrink';
import type { TaskStatus } from './gluster-parse';

/**
 * Notifications for storage operations (storage.* event types): the subject
 * says what happens to which volume, the body lists the facts and the exact
 * commands, one per line.
 */
export type StorageOperation = 'expand' | 'replace' | 'shrink' | 'bootstrap' | 'rebalance' | 'heal' | 'layout';

/** The lines a plan gains when the volumes lack quorum options: they are set first. */
function layoutLines(fix: LayoutFix | undefined): string | undefined {
  if (!fix || fix.changes.length === 0) return undefined;
  return [`First the quorum options the volumes lack for their layout (${QUORUM_README}):`, ...fix.changes.map((c) => `    ${describeChange(c)}`)].join('\n');
}

/** Where the README explains the layouts and the quorum trade-off. */
export const QUORUM_README = 'README, "Split-brain: layouts and quorum"';

const list = (commands: readonly string[]) => ['Commands:', ...commands.map((c) => `    ${c}`)].join('\n');

/** "pydio-data grows by 1 replica set (2 bricks, zones eu-west-1a + eu-west-1b): 100 GiB -> 200 GiB usable; ..." */
export function describeExpansion(plan: ExpansionPlan): string {
  const setCount = plan.sets.length;
  const brickCount = plan.sets.reduce((n, s) => n + s.bricks.length, 0);
  const zones = plan.sets.map((s) => s.zones.join(' + ')).join('; ');
  const growth = plan.strategy === 'grow-in-place'
    ? `${plan.volume} grows in place (1 replica set, ${brickCount} bricks, zones ${zones})`
    : `${plan.volume} grows by ${setCount} replica set${setCount === 1 ? '' : 's'} (${brickCount} bricks, zones ${zones})`;
  return `${growth}: ${formatBytes(plan.capacityBefore)} -> ${formatBytes(plan.capacityAfter)} usable; storage group ${plan.groupName} desired ${plan.desiredBefore} -> ${plan.desiredAfter}`;
}

export function expansionPlanned(stage: string, plan: ExpansionPlan, dryRun: boolean, layout?: LayoutFix): Notification {
  return buildNotification({
    stage,
    eventType: 'storage.planned',
    severity: 'info',
    subject: `${dryRun ? 'dry run: ' : ''}${plan.volume} expansion planned (${plan.strategy})`,
    body: bodyLines([
      describeExpansion(plan),
      `Strategy: ${plan.strategy} - ${plan.why}`,
      plan.arbiterCount ? 'Layout: replica 3 arbiter 1 - each new set is two data bricks and an arbiter (the last brick).' : undefined,
      plan.note,
      plan.awaitsLaunch ? `New members are launched first (zones ${plan.launchZones.join(', ')}); the bricks shown as new:<zone> are named once they joined.` : undefined,
      dryRun ? 'Dry run: nothing was changed.' : undefined,
      layoutLines(layout),
      list([...(layout?.steps.map(commandLine) ?? []), ...plan.commands]),
    ]),
    attributes: { volume: plan.volume, operation: 'expand', dryRun: String(dryRun) },
  });
}

export function storageRefused(stage: string, operation: StorageOperation, volume: string, reason: string): Notification {
  return buildNotification({
    stage,
    eventType: 'storage.refused',
    severity: 'warning',
    subject: `${operation} of ${volume} refused: ${reason}`,
    body: bodyLines([
      `The ${operation} of ${volume} was refused and nothing was changed.`,
      `Reason: ${reason}`,
    ]),
    attributes: { volume, operation },
  });
}

export function storageStarted(stage: string, operation: StorageOperation, volume: string, commands: readonly string[]): Notification {
  return buildNotification({
    stage,
    eventType: 'storage.started',
    severity: 'info',
    subject: `${operation} of ${volume} started`,
    body: bodyLines([
      `The ${operation} of ${volume} started.`,
      commands.length ? list(commands) : undefined,
    ]),
    attributes: { volume, operation },
  });
}

export function storageProgress(stage: string, operation: StorageOperation, volume: string, status: TaskStatus, elapsedSeconds: number): Notification {
  const nodes = status.nodes.map((n) => `    ${n.node}: ${n.statusText}, ${n.files} files, ${formatBytes(n.size)}, ${n.failures} failures`);
  return buildNotification({
    stage,
    eventType: 'storage.progress',
    severity: 'info',
    subject: `${operation} of ${volume}: ${status.statusText}, ${status.files} files moved`,
    body: bodyLines([
      `${operation} of ${volume} is ${status.statusText} after ${formatDuration(elapsedSeconds)}: ${status.files} files (${formatBytes(status.size)}) moved, ${status.failures} failures.`,
      nodes.length ? ['Nodes:', ...nodes].join('\n') : undefined,
    ]),
    attributes: { volume, operation },
  });
}

export function storageSucceeded(stage: string, operation: StorageOperation, volume: string, elapsedSeconds: number, facts: readonly string[] = []): Notification {
  return buildNotification({
    stage,
    eventType: 'storage.succeeded',
    severity: 'info',
    subject: `${operation} of ${volume} done in ${formatDuration(elapsedSeconds)}`,
    body: bodyLines([
      `The ${operation} of ${volume} completed after ${formatDuration(elapsedSeconds)}.`,
      ...facts,
    ]),
    attributes: { volume, operation },
  });
}

export function storageFailed(stage: string, operation: StorageOperation, volume: string, reason: string, output?: string): Notification {
  return buildNotification({
    stage,
    eventType: 'storage.failed',
    severity: 'error',
    subject: `${operation} of ${volume} FAILED: ${reason}`,
    body: bodyLines([
      `The ${operation} of ${volume} failed: ${reason}`,
      'Nothing further is done automatically; look at the volume (gluster volume status / heal info) before retrying.',
      output ? `Output (tail):\n${output}` : undefined,
    ]),
    attributes: { volume, operation },
  });
}

export function replacementSucceeded(stage: string, plan: ReplacementPlan, degradedSeconds: number): Notification {
  const volumes = [...new Set(plan.bricks.map((b) => b.volume))].join(', ');
  return buildNotification({
    stage,
    eventType: 'storage.succeeded',
    severity: 'info',
    subject: `${plan.replacement.instanceId} replaced ${plan.dead.instanceId} in ${plan.dead.zone}`,
    body: bodyLines([
      `${plan.replacement.instanceId} (${plan.replacement.host}) took over the bricks of ${plan.dead.instanceId} (${plan.dead.host}) in ${plan.dead.zone}; self-heal completed.`,
      `Volumes ${volumes} ran with one replica less for ${formatDuration(degradedSeconds)}.`,
      ...plan.bricks.map((b) => `    ${b.volume}: ${b.from} -> ${b.to}${b.arbiter ? ' (arbiter, stays the arbiter)' : ''}`),
    ]),
    attributes: { volume: volumes, operation: 'replace', instanceId: plan.replacement.instanceId },
  });
}

export function shrinkPlanned(stage: string, plan: ShrinkPlan, dryRun: boolean, layout?: LayoutFix): Notification {
  return buildNotification({
    stage,
    eventType: 'storage.planned',
    severity: 'info',
    subject: `${dryRun ? 'dry run: ' : ''}${plan.volume} shrinks by one replica set`,
    body: bodyLines([
      `${plan.volume} shrinks by one replica set (${plan.removed.join(' + ')}): ${formatBytes(plan.capacityBefore)} -> ${formatBytes(plan.capacityAfter)} usable, ${formatBytes(plan.usedBytes)} used; desired ${plan.desiredBefore} -> ${plan.desiredAfter}`,
      dryRun ? 'Dry run: nothing was changed.' : undefined,
      layoutLines(layout),
      list([...(layout?.steps.map(commandLine) ?? []), ...plan.commands]),
    ]),
    attributes: { volume: plan.volume, operation: 'shrink', dryRun: String(dryRun) },
  });
}

/** A layout request's plan: the options to set, or that there is nothing to set. */
/** The volumes a fix names ("all", the pool-wide ratio, is no volume). */
const volumesOf = (changes: readonly LayoutChange[]) => [...new Set(changes.map((c) => c.volume).filter((v) => v !== 'all'))].join(', ');

export function layoutPlanned(stage: string, fix: LayoutFix, dryRun: boolean): Notification {
  const volumes = volumesOf(fix.changes);
  return buildNotification({
    stage,
    eventType: 'storage.planned',
    severity: 'info',
    subject: fix.changes.length ? `${dryRun ? 'dry run: ' : ''}quorum options planned for ${volumes}` : `${dryRun ? 'dry run: ' : ''}the volumes already have the quorum options of their layout`,
    body: bodyLines([
      fix.changes.length ? `The volumes lack quorum options for their layout (${QUORUM_README}):` : 'Every volume already has the quorum options of its layout: nothing to set.',
      ...fix.changes.map((c) => `    ${describeChange(c)}`),
      dryRun ? 'Dry run: nothing was changed.' : undefined,
      fix.steps.length ? list(fix.steps.map(commandLine)) : undefined,
    ]),
    attributes: { volume: volumes || 'the volumes', operation: 'layout', dryRun: String(dryRun) },
  });
}

/**
 * Once, when quorum options were set on volumes that lacked them (or set back
 * after a replacement lifted server quorum): what changed and what it costs.
 */
export function layoutApplied(stage: string, changes: readonly LayoutChange[], restored: boolean): Notification {
  const volumes = volumesOf(changes);
  const server = changes.some((c) => c.option === 'cluster.server-quorum-type' || c.option === 'cluster.server-quorum-ratio');
  const client = changes.some((c) => c.option === 'cluster.quorum-type');
  return buildNotification({
    stage,
    eventType: 'storage.layout',
    severity: 'warning',
    subject: `${restored ? 'server quorum restored' : 'quorum options set'} on ${volumes}: no split-brain, less availability`,
    body: bodyLines([
      restored
        ? `Server quorum is back on ${volumes} now that the replacement joined and healed.`
        : `The volumes ${volumes} lacked the quorum options of their layout; they are set now, so a network partition can no longer let two sides write the same file (split-brain).`,
      ...changes.map((c) => `    ${describeChange(c)}`),
      client ? 'Client quorum auto on replica 2: a replica set takes writes only while its FIRST brick is reachable; while that brick\'s member is down or cut off, writes to the set fail (ENOTCONN) until it is back or replaced.' : undefined,
      server ? 'Server quorum (ratio 51%): a storage member that sees fewer than 51% of the pool stops its bricks (no reads either). With two storage members, losing either one stops the bricks of both volumes on the other until the replacement joins; the storage function lifts server quorum for the replacement only when the missing member is gone from the group.' : undefined,
      `What an operator sees and can do: ${QUORUM_README}.`,
    ]),
    attributes: { volume: volumes, operation: 'layout' },
  });
}

/** Server quorum lifted so that a replacement can join a pool that lost it. */
export function serverQuorumLifted(stage: string, volumes: readonly string[], via: string, why: string, commands: readonly string[]): Notification {
  return buildNotification({
    stage,
    eventType: 'storage.layout',
    severity: 'warning',
    subject: `server quorum lifted on ${volumes.join(', ')} for a replacement`,
    body: bodyLines([
      `The pool lost server quorum and refuses new peers ("Cluster quorum is not met. Changing peers is not allowed in this state"), so the replacement could not join. ${why}`,
      `Server quorum is lifted on ${volumes.join(', ')} (from ${via}) until the replacement took over the bricks and healed; the join sets it back.`,
      list(commands),
    ]),
    attributes: { volume: volumes.join(', '), operation: 'layout' },
  });
}
