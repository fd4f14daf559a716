/**
 * What ops are told about each watch action: one notice per action, built
 * with buildNotification. Conditions (cluster-wide, held back) are told when
 * they start or change, never every period (lib/core/watch/state.ts).
 */
import { formatDuration } from '../messages';
import { buildNotification, factLines, type Notification } from '../notification';
import type { RedriveAction } from './lost-events';
import type { ClusterRecoveredAction, ClusterWideAction, HeldBackAction, MarkUnhealthyAction } from './unhealthy-targets';

const WAITING: Record<RedriveAction['transition'], string> = { launch: 'Pending:Wait', terminate: 'Terminating:Wait' };

function dryRunFact(dryRun: boolean): readonly [string, string | undefined] {
  return ['Dry run', dryRun ? 'yes: nothing was changed, the action is only logged' : undefined];
}

export function redrivenNotice(stage: string, action: RedriveAction, hookNames: readonly string[], now: Date, dryRun: boolean): Notification {
  const flow = action.transition === 'launch' ? 'scale-out' : 'scale-in';
  const queue = action.tier === 'compute' ? 'lifecycle queue' : 'storage queue';
  return buildNotification({
    stage,
    eventType: 'watch.redriven',
    severity: 'warning',
    subject: `watch: lost ${action.transition} event of ${action.instanceId} picked up (${action.groupName})`,
    body: factLines([
      ['What happened', `${action.instanceId} waits in ${WAITING[action.transition]} and no flow holds its ${action.transition} action: its lifecycle event was lost (Auto Scaling delivers them on a best-effort basis) or its flow died.`],
      ['Action', `The watch sent the ${action.transition} lifecycle event again to the ${queue}, so the ${action.tier} ${flow} flow runs now instead of the hook timing out.`],
      ['Instance', action.instanceId],
      ['Auto Scaling group', action.groupName],
      ['Lifecycle hook', hookNames.join(', ')],
      ['No flow seen for', `${formatDuration((now.getTime() - Date.parse(action.unclaimedSince)) / 1000)} (since ${action.unclaimedSince})`],
      dryRunFact(dryRun),
    ]),
    attributes: { instanceId: action.instanceId, asgName: action.groupName, tier: action.tier, transition: action.transition },
  });
}

export function replacingNotice(stage: string, action: MarkUnhealthyAction, inServiceCount: number, share: number, dryRun: boolean): Notification {
  return buildNotification({
    stage,
    eventType: 'watch.replacing',
    severity: 'warning',
    subject: `watch: replacing ${action.instanceId} (target unhealthy in ${action.checks} checks)`,
    body: factLines([
      ['What happened', `The load balancer's health checks of ${action.instanceId} failed in ${action.checks} consecutive watch runs (${action.reason}); the rest of the cluster is healthy, so the node itself is the cause.`],
      ['Action', `${action.instanceId} was marked Unhealthy (SetInstanceHealth, grace period respected): ${action.groupName} terminates it through its terminate hook (deregistration and drain, like a scale-in) and launches a replacement.`],
      ['Instance', action.instanceId],
      ['Auto Scaling group', action.groupName],
      ['Replacing at once', `at most ${action.limit} (${share} of ${inServiceCount} InService, at least 1); already replacing: ${action.replacing.length ? action.replacing.join(', ') : 'none'}`],
      dryRunFact(dryRun),
    ]),
    attributes: { instanceId: action.instanceId, asgName: action.groupName },
  });
}

export function heldBackNotice(stage: string, groupName: string, action: HeldBackAction): Notification {
  return buildNotification({
    stage,
    eventType: 'watch.held-back',
    severity: 'warning',
    subject: `watch: ${action.instanceIds.join(', ')} unhealthy, held back (at most ${action.limit} replaced at once)`,
    body: factLines([
      ['What happened', `The targets of ${action.instanceIds.join(', ')} keep failing their health checks, but ${action.limit} node(s) at most are replaced at once and ${action.replacing.length} already are (${action.replacing.join(', ') || 'none'}).`],
      ['Action', 'None yet: they are replaced once the ones in progress are gone, if they are still unhealthy then. Told once; the replacements themselves are told when they start.'],
      ['Auto Scaling group', groupName],
    ]),
    attributes: { asgName: groupName },
    nextSteps: ['If more nodes fail than the cap allows, look for a common cause (a deploy, the database, the volumes) before raising watchMaxReplaceShare.'],
  });
}

export function clusterWideNotice(stage: string, groupName: string, action: ClusterWideAction): Notification {
  return buildNotification({
    stage,
    eventType: 'watch.cluster-wide',
    severity: 'error',
    subject: action.change === 'started' ? 'watch: cluster-wide problem, no node is replaced' : 'watch: cluster-wide problem changed, no node is replaced',
    body: factLines([
      ['What happened', `${action.cause}.`],
      ['Action', 'None: replacing nodes does not help when the cause is not the node, and would take capacity away. Nodes are replaced again (after their unhealthy checks start over) once this ends, which is told once.'],
      ['Unhealthy targets', action.unhealthy.length ? action.unhealthy.join(', ') : 'none'],
      ['Auto Scaling group', groupName],
    ]),
    attributes: { asgName: groupName },
    nextSteps: [
      'Check the Gluster volumes (the status function, gluster volume status) and what every node shares: the database, the config volume, a recent change.',
      'A node fixed by hand needs nothing more: the watch judges every node again once the cause is gone.',
    ],
  });
}

export function recoveredNotice(stage: string, groupName: string, action: ClusterRecoveredAction, now: Date): Notification {
  return buildNotification({
    stage,
    eventType: 'watch.recovered',
    severity: 'info',
    subject: `watch: cluster-wide problem ended after ${formatDuration((now.getTime() - Date.parse(action.was.since)) / 1000)}`,
    body: factLines([
      ['What happened', `No longer cluster-wide: ${action.was.cause}.`],
      ['Since', action.was.since],
      ['Action', 'Unhealthy nodes are replaced again, each after its unhealthy checks.'],
      ['Auto Scaling group', groupName],
    ]),
    attributes: { asgName: groupName },
  });
}
