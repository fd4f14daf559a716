/**
 * Notifications of the storage lifecycle flows (a member joins or leaves) and
 * of the cluster lock; the operation notifications live in messages.ts.
 */
import { formatDuration } from '../messages';
import { bodyLines, buildNotification, type Notification } from '../notification';

export function memberJoined(stage: string, instanceId: string, host: string, zone: string, seconds: number, facts: readonly string[]): Notification {
  return buildNotification({
    stage,
    eventType: 'lifecycle.succeeded',
    severity: 'info',
    subject: `storage node ${instanceId} joined in ${formatDuration(seconds)}`,
    body: bodyLines([
      `${instanceId} (${host}, ${zone}) prepared its brick, is a peer in the Gluster pool, is protected from scale-in and completed its launch.`,
      ...facts,
    ]),
    attributes: { instanceId, tier: 'storage' },
  });
}

export function memberFailed(stage: string, instanceId: string, step: string, reason: string, result: string, output?: string): Notification {
  return buildNotification({
    stage,
    eventType: 'lifecycle.failed',
    severity: 'error',
    subject: `storage node ${instanceId} FAILED at ${step}`,
    body: bodyLines([
      `The storage flow of ${instanceId} failed at ${step}: ${reason}`,
      `Lifecycle action completed with ${result}.`,
      output ? `Output (tail):\n${output}` : undefined,
    ]),
    attributes: { instanceId, tier: 'storage' },
  });
}

export function memberLeaving(stage: string, instanceId: string, host: string, zone: string, bricks: readonly string[], warnings: readonly string[]): Notification {
  if (bricks.length === 0) {
    return buildNotification({
      stage,
      eventType: 'lifecycle.succeeded',
      severity: 'info',
      subject: `storage node ${instanceId} left (no bricks)`,
      body: bodyLines([
        `${instanceId} (${host || 'address unknown'}, ${zone}) terminates; it held no brick.`,
        ...warnings,
      ]),
      attributes: { instanceId, tier: 'storage' },
    });
  }
  return buildNotification({
    stage,
    eventType: 'lifecycle.warning',
    severity: 'warning',
    subject: `storage node ${instanceId} LEAVES WITH ${bricks.length} BRICK(S): one replica less`,
    body: bodyLines([
      `${instanceId} (${host}, ${zone}) terminates while still holding bricks:`,
      ...bricks.map((b) => `    ${b}`),
      'Until a replacement takes over, the data of these bricks relies on the surviving replica alone.',
      `A replacement launched in ${zone} takes over these bricks (replace-brick, then a full self-heal) when it joins.`,
      ...warnings,
    ]),
    attributes: { instanceId, tier: 'storage' },
  });
}

export function lockBroken(stage: string, owner: string, ageSeconds: number, by: string): Notification {
  return buildNotification({
    stage,
    eventType: 'storage.started',
    severity: 'warning',
    subject: `stale storage lock broken (held by ${owner})`,
    body: bodyLines([
      `The storage lock held by ${owner} was not refreshed for ${formatDuration(ageSeconds)}; ${by} broke it and goes on.`,
      'Check that the operation of the old owner is not still running (gluster volume status / rebalance status).',
    ]),
    attributes: { operation: 'lock' },
  });
}

export function lifecycleSkipped(stage: string, instanceId: string, reason: string): Notification {
  return buildNotification({
    stage,
    eventType: 'lifecycle.skipped',
    severity: 'info',
    subject: `storage node ${instanceId}: lifecycle event skipped`,
    body: bodyLines([reason]),
    attributes: { instanceId, tier: 'storage' },
  });
}
