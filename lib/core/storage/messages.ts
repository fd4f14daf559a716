import { bodyLines, buildNotification, type Notification } from '../notification';
import { formatDuration } from '../messages';
import { formatBytes } from './bytes';
import type { ExpansionPlan } from './expand';
import type { ReplacementPlan } from './replace';
import type { ShrinkPlan } from './shrink';
import type { TaskStatus } from './gluster-parse';

/**
 * Notifications for storage operations (storage.* event types): the subject
 * says what happens to which volume, the body lists the facts and the exact
 * commands, one per line.
 */
export type StorageOperation = 'expand' | 'replace' | 'shrink' | 'bootstrap' | 'rebalance' | 'heal';

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

export function expansionPlanned(stage: string, plan: ExpansionPlan, dryRun: boolean): Notification {
  return buildNotification({
    stage,
    eventType: 'storage.planned',
    severity: 'info',
    subject: `${dryRun ? 'dry run: ' : ''}${plan.volume} expansion planned (${plan.strategy})`,
    body: bodyLines([
      describeExpansion(plan),
      `Strategy: ${plan.strategy} - ${plan.why}`,
      plan.awaitsLaunch ? `New members are launched first (zones ${plan.launchZones.join(', ')}); the bricks shown as new:<zone> are named once they joined.` : undefined,
      dryRun ? 'Dry run: nothing was changed.' : undefined,
      list(plan.commands),
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
      ...plan.bricks.map((b) => `    ${b.volume}: ${b.from} -> ${b.to}`),
    ]),
    attributes: { volume: volumes, operation: 'replace', instanceId: plan.replacement.instanceId },
  });
}

export function shrinkPlanned(stage: string, plan: ShrinkPlan, dryRun: boolean): Notification {
  return buildNotification({
    stage,
    eventType: 'storage.planned',
    severity: 'info',
    subject: `${dryRun ? 'dry run: ' : ''}${plan.volume} shrinks by one replica set`,
    body: bodyLines([
      `${plan.volume} shrinks by one replica set (${plan.removed.join(' + ')}): ${formatBytes(plan.capacityBefore)} -> ${formatBytes(plan.capacityAfter)} usable, ${formatBytes(plan.usedBytes)} used; desired ${plan.desiredBefore} -> ${plan.desiredAfter}`,
      dryRun ? 'Dry run: nothing was changed.' : undefined,
      list(plan.commands),
    ]),
    attributes: { volume: plan.volume, operation: 'shrink', dryRun: String(dryRun) },
  });
}
