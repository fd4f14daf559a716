/** What ops are told by the health flow: a change of Gluster's health (once), a brick restarted or not repaired. */
import { bodyLines, buildNotification, factLines, type Notification } from '../notification';
import { brickName, healthSummary, type BrickRef, type ClusterHealth, type HealthProblem } from './health';
import type { HealthChange } from './health-record';
import { describeBrick, type BrickRepair } from './repair';

const attributes = (extra: Record<string, string> = {}) => ({ tier: 'storage', ...extra });

/**
 * A change of health: what is wrong now (every problem, split-brain paths
 * included), what is new, what was resolved, entries to heal per volume, and
 * what happens to each offline brick. Told once per change.
 */
export function healthChanged(stage: string, change: HealthChange, problems: readonly HealthProblem[], health: ClusterHealth, repairs: readonly BrickRepair[], at: Date): Notification {
  const healthy = problems.length === 0;
  const splitBrain = health.volumes.some((v) => v.splitBrainEntries > 0);
  const summary = healthSummary(health);
  const texts = new Map(problems.map((p) => [p.key, p.text]));
  return buildNotification({
    stage,
    eventType: 'storage.health',
    severity: healthy ? 'info' : splitBrain ? 'error' : 'warning',
    subject: healthy ? 'Gluster healthy again' : `Gluster unhealthy: ${summary}`,
    body: bodyLines([
      healthy ? 'Every brick is online, every peer connected, no entry in split-brain.' : 'Now:',
      ...problems.map((p) => `    ${p.text.split('\n').join('\n    ')}`),
      // Only worth a line when some of what is wrong now was told before.
      change.added.length && change.added.length < problems.length ? `New since last told: ${change.added.map((k) => texts.get(k)?.split('\n')[0] ?? k).join('; ')}` : undefined,
      change.resolved.length ? `Resolved: ${change.resolved.join('; ')}` : undefined,
      ...repairs.map((r) => (r.kind === 'restart' ? `${describeBrick(r.brick)}: restarting it (gluster volume start ${r.brick.volume} force)` : `${describeBrick(r.brick)}: not repaired: ${r.reason}`)),
      factLines([
        ['Entries to heal', health.volumes.map((v) => `${v.volume} ${v.healEntries}${v.healUnknownBricks ? ` (${v.healUnknownBricks} brick(s) could not tell)` : ''}`).join(', ')],
        ['Read on', `${health.readOn.instanceId} (${health.readOn.host}) at ${at.toISOString()}`],
      ]),
    ]),
    attributes: attributes({ healthy: String(healthy) }),
  });
}

/** The health could not be read: told once, like any change. */
export function healthUnreadable(stage: string, reason: string, at: Date): Notification {
  return buildNotification({
    stage,
    eventType: 'storage.health',
    severity: 'warning',
    subject: 'Gluster health cannot be read',
    body: bodyLines([
      `The Gluster health read failed: ${reason}`,
      'No health metrics are published while it fails (the Gluster alarms go to INSUFFICIENT_DATA); the next read is the next period.',
      `At: ${at.toISOString()}`,
    ]),
    attributes: attributes({ healthy: 'unknown' }),
  });
}

/** Bricks restarted by `volume start <vol> force` (one notice per restart: an action). */
export function bricksRestarted(stage: string, volume: string, bricks: readonly BrickRef[], dryRun: boolean): Notification {
  const names = bricks.map(brickName).join(', ');
  const on = [...new Set(bricks.map((b) => b.instanceId).filter((id): id is string => id !== undefined))].join(', ');
  return buildNotification({
    stage,
    eventType: 'storage.repair',
    severity: 'warning',
    subject: `${dryRun ? 'dry run: ' : ''}brick${bricks.length > 1 ? 's' : ''} of ${volume} offline on ${on}: ${dryRun ? 'would restart' : 'restarted'}`,
    body: bodyLines([
      `${bricks.map(describeBrick).join('\n')}`,
      dryRun
        ? `Dry run: gluster volume start ${volume} force was not run.`
        : `gluster volume start ${volume} force answered success: glusterd starts the bricks it finds not running and leaves the others alone. The next health read shows whether ${bricks.length > 1 ? 'they stay' : 'it stays'} online; self-heal then copies what was written meanwhile.`,
    ]),
    attributes: attributes({ volume, bricks: names.slice(0, 256) }),
  });
}

/** An offline brick that is left offline, and why (told when the reason is new for that brick). */
export function brickNotRepaired(stage: string, brick: BrickRef, reason: string): Notification {
  return buildNotification({
    stage,
    eventType: 'storage.repair',
    severity: 'warning',
    subject: `${brick.volume} brick offline on ${brick.instanceId ?? brick.host}: not repaired`,
    body: bodyLines([`${describeBrick(brick)} is offline and was not restarted: ${reason}`]),
    attributes: attributes({ volume: brick.volume, bricks: brickName(brick).slice(0, 256) }),
  });
}
