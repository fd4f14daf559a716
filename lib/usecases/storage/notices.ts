import { formatDuration } from '../../core/messages';
import { fitSubject, type Notification, type NotificationEventType, type Severity } from '../../core/notification';

/**
 * Notifications of the storage lifecycle flows (a member joins or leaves) and
 * of the cluster lock; the operation notifications live in
 * lib/core/storage/messages.ts.
 */
function build(stage: string, eventType: NotificationEventType, severity: Severity, subject: string, lines: readonly (string | undefined)[], attributes: Record<string, string>): Notification {
  return {
    subject: fitSubject(`[${stage}] ${subject}`),
    body: lines.filter((l): l is string => l !== undefined && l !== '').join('\n'),
    eventType,
    severity,
    attributes: { stage, ...attributes },
  };
}

export function memberJoined(stage: string, instanceId: string, host: string, zone: string, seconds: number, facts: readonly string[]): Notification {
  return build(stage, 'lifecycle.succeeded', 'info', `storage node ${instanceId} joined in ${formatDuration(seconds)}`, [
    `${instanceId} (${host}, ${zone}) prepared its brick, is a peer in the Gluster pool, is protected from scale-in and completed its launch.`,
    ...facts,
  ], { instanceId, tier: 'storage' });
}

export function memberFailed(stage: string, instanceId: string, step: string, reason: string, result: string, output?: string): Notification {
  return build(stage, 'lifecycle.failed', 'error', `storage node ${instanceId} FAILED at ${step}`, [
    `The storage flow of ${instanceId} failed at ${step}: ${reason}`,
    `Lifecycle action completed with ${result}.`,
    output ? `Output (tail):\n${output}` : undefined,
  ], { instanceId, tier: 'storage' });
}

export function memberLeaving(stage: string, instanceId: string, host: string, zone: string, bricks: readonly string[], warnings: readonly string[]): Notification {
  if (bricks.length === 0) {
    return build(stage, 'lifecycle.succeeded', 'info', `storage node ${instanceId} left (no bricks)`, [
      `${instanceId} (${host || 'address unknown'}, ${zone}) terminates; it held no brick.`,
      ...warnings,
    ], { instanceId, tier: 'storage' });
  }
  return build(stage, 'lifecycle.warning', 'warning', `storage node ${instanceId} LEAVES WITH ${bricks.length} BRICK(S): one replica less`, [
    `${instanceId} (${host}, ${zone}) terminates while still holding bricks:`,
    ...bricks.map((b) => `    ${b}`),
    'Until a replacement takes over, the data of these bricks relies on the surviving replica alone.',
    `A replacement launched in ${zone} takes over these bricks (replace-brick, then a full self-heal) when it joins.`,
    ...warnings,
  ], { instanceId, tier: 'storage' });
}

export function lockBroken(stage: string, owner: string, ageSeconds: number, by: string): Notification {
  return build(stage, 'storage.started', 'warning', `stale storage lock broken (held by ${owner})`, [
    `The storage lock held by ${owner} was not refreshed for ${formatDuration(ageSeconds)}; ${by} broke it and goes on.`,
    'Check that the operation of the old owner is not still running (gluster volume status / rebalance status).',
  ], { operation: 'lock' });
}

export function lifecycleSkipped(stage: string, instanceId: string, reason: string): Notification {
  return build(stage, 'lifecycle.skipped', 'info', `storage node ${instanceId}: lifecycle event skipped`, [reason], { instanceId, tier: 'storage' });
}
