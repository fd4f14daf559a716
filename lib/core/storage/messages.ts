import { fitSubject, type Notification, type NotificationEventType, type Severity } from '../notification';
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

function build(stage: string, eventType: NotificationEventType, severity: Severity, subject: string, lines: readonly (string | undefined)[], attributes: Record<string, string>): Notification {
  const body = lines.filter((l): l is string => l !== undefined && l !== '').join('\n');
  return { subject: fitSubject(`[${stage}] ${subject}`), body, eventType, severity, attributes: { stage, ...attributes } };
}

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
  return build(stage, 'storage.planned', 'info', `${dryRun ? 'dry run: ' : ''}${plan.volume} expansion planned (${plan.strategy})`, [
    describeExpansion(plan),
    `Strategy: ${plan.strategy} - ${plan.why}`,
    plan.awaitsLaunch ? `New members are launched first (zones ${plan.launchZones.join(', ')}); the bricks shown as new:<zone> are named once they joined.` : undefined,
    dryRun ? 'Dry run: nothing was changed.' : undefined,
    list(plan.commands),
  ], { volume: plan.volume, operation: 'expand', dryRun: String(dryRun) });
}

export function storageRefused(stage: string, operation: StorageOperation, volume: string, reason: string): Notification {
  return build(stage, 'storage.refused', 'warning', `${operation} of ${volume} refused: ${reason}`, [
    `The ${operation} of ${volume} was refused and nothing was changed.`,
    `Reason: ${reason}`,
  ], { volume, operation });
}

export function storageStarted(stage: string, operation: StorageOperation, volume: string, commands: readonly string[]): Notification {
  return build(stage, 'storage.started', 'info', `${operation} of ${volume} started`, [
    `The ${operation} of ${volume} started.`,
    commands.length ? list(commands) : undefined,
  ], { volume, operation });
}

export function storageProgress(stage: string, operation: StorageOperation, volume: string, status: TaskStatus, elapsedSeconds: number): Notification {
  const nodes = status.nodes.map((n) => `    ${n.node}: ${n.statusText}, ${n.files} files, ${formatBytes(n.size)}, ${n.failures} failures`);
  return build(stage, 'storage.progress', 'info', `${operation} of ${volume}: ${status.statusText}, ${status.files} files moved`, [
    `${operation} of ${volume} is ${status.statusText} after ${formatDuration(elapsedSeconds)}: ${status.files} files (${formatBytes(status.size)}) moved, ${status.failures} failures.`,
    nodes.length ? ['Nodes:', ...nodes].join('\n') : undefined,
  ], { volume, operation });
}

export function storageSucceeded(stage: string, operation: StorageOperation, volume: string, elapsedSeconds: number, facts: readonly string[] = []): Notification {
  return build(stage, 'storage.succeeded', 'info', `${operation} of ${volume} done in ${formatDuration(elapsedSeconds)}`, [
    `The ${operation} of ${volume} completed after ${formatDuration(elapsedSeconds)}.`,
    ...facts,
  ], { volume, operation });
}

export function storageFailed(stage: string, operation: StorageOperation, volume: string, reason: string, output?: string): Notification {
  return build(stage, 'storage.failed', 'error', `${operation} of ${volume} FAILED: ${reason}`, [
    `The ${operation} of ${volume} failed: ${reason}`,
    'Nothing further is done automatically; look at the volume (gluster volume status / heal info) before retrying.',
    output ? `Output (tail):\n${output}` : undefined,
  ], { volume, operation });
}

export function replacementSucceeded(stage: string, plan: ReplacementPlan, degradedSeconds: number): Notification {
  const volumes = [...new Set(plan.bricks.map((b) => b.volume))].join(', ');
  return build(stage, 'storage.succeeded', 'info', `${plan.replacement.instanceId} replaced ${plan.dead.instanceId} in ${plan.dead.zone}`, [
    `${plan.replacement.instanceId} (${plan.replacement.host}) took over the bricks of ${plan.dead.instanceId} (${plan.dead.host}) in ${plan.dead.zone}; self-heal completed.`,
    `Volumes ${volumes} ran with one replica less for ${formatDuration(degradedSeconds)}.`,
    ...plan.bricks.map((b) => `    ${b.volume}: ${b.from} -> ${b.to}`),
  ], { volume: volumes, operation: 'replace', instanceId: plan.replacement.instanceId });
}

export function shrinkPlanned(stage: string, plan: ShrinkPlan, dryRun: boolean): Notification {
  return build(stage, 'storage.planned', 'info', `${dryRun ? 'dry run: ' : ''}${plan.volume} shrinks by one replica set`, [
    `${plan.volume} shrinks by one replica set (${plan.removed.join(' + ')}): ${formatBytes(plan.capacityBefore)} -> ${formatBytes(plan.capacityAfter)} usable, ${formatBytes(plan.usedBytes)} used; desired ${plan.desiredBefore} -> ${plan.desiredAfter}`,
    dryRun ? 'Dry run: nothing was changed.' : undefined,
    list(plan.commands),
  ], { volume: plan.volume, operation: 'shrink', dryRun: String(dryRun) });
}
