/**
 * The README section "Seeing the cluster: notifications and dashboard",
 * generated from the code so it cannot drift: SNS messages rendered by
 * lib/core/scaling/messages.ts and lib/core/storage/messages.ts from
 * decisions and plans the real decision code makes, and the dashboard layout
 * from serverless.yml. A unit test checks README.md contains each block.
 *
 *   npx tsx test/sandbox/dashboard/readme-section.ts   # prints the blocks
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseAlarmMessage } from '../../../lib/core/scaling/alarm-event';
import { decideScaling, type ScalingSettings, type ScalingSnapshot } from '../../../lib/core/scaling/decide';
import { scalingNotification, type DecisionReport } from '../../../lib/core/scaling/messages';
import { expansionPlanned } from '../../../lib/core/storage/messages';
import { planExpansion } from '../../../lib/core/storage/expand';
import type { StorageSettings } from '../../../lib/core/storage/settings';
import type { ClusterSnapshot, StorageMember } from '../../../lib/core/storage/snapshot';
import type { Notification } from '../../../lib/core/notification';
import { healthProblems, type ClusterHealth, type HealthMember } from '../../../lib/core/storage/health';
import { healthChange } from '../../../lib/core/storage/health-record';
import { bricksRestarted, healthChanged } from '../../../lib/core/storage/health-notices';
import { decideRepairs, REPAIR_MAX_RESTARTS, REPAIR_WINDOW_SECONDS } from '../../../lib/core/storage/repair';
import { dashboardFromServerlessYml, layoutMarkdown } from './layout';

const STAGE = 'prod';
const GROUP = 'pydio-compute';
const ALARMS = {
  'cpu-high': { name: `pydio-autoscaler-${STAGE}-compute-cpu-high`, threshold: '70.0', comparison: 'greater than' },
  'cpu-low': { name: `pydio-autoscaler-${STAGE}-compute-cpu-low`, threshold: '25.0', comparison: 'less than' },
} as const;
/** The stage defaults of serverless.yml / lib/config/scaling.ts. */
const SETTINGS: ScalingSettings = { stepOut: 1, largeStepOut: 2, largeStepFactor: 1.5, cooldownSeconds: 300, busyRecheckSeconds: 60, maxRechecks: 96 };

type Role = keyof typeof ALARMS;

/** The "CloudWatch Alarm State Change" event EventBridge delivers, CloudWatch's wording of the reason. */
function stateChangeEvent(role: Role, at: string, datapoints: readonly (readonly [string, string])[]) {
  const alarm = ALARMS[role];
  const n = datapoints.length;
  const list = datapoints.map(([value, when]) => `${value} (${when})`).join(', ');
  return {
    version: '0',
    id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: at,
    region: 'eu-west-1',
    resources: [`arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${alarm.name}`],
    detail: {
      alarmName: alarm.name,
      previousState: { reason: 'Threshold Crossed', timestamp: '2026-11-21T09:40:00.000+0000', value: 'OK' },
      state: {
        reason: `Threshold Crossed: ${n} out of the last ${n} datapoints [${list}] were ${alarm.comparison} the threshold (${alarm.threshold}) (minimum ${n} datapoints for OK -> ALARM transition).`,
        reasonData: JSON.stringify({ version: '1.0', statistic: 'Average', period: 300, recentDatapoints: datapoints.map(([v]) => Number(v)).reverse(), threshold: Number(alarm.threshold) }),
        timestamp: at.replace('Z', '.000+0000'),
        value: 'ALARM',
      },
    },
  };
}

function decisionReport(role: Role, at: string, datapoints: readonly (readonly [string, string])[], desired: number, lastActivityEnd: Date): DecisionReport {
  const signal = parseAlarmMessage(stateChangeEvent(role, at, datapoints));
  const snapshot: ScalingSnapshot = {
    alarmRole: role,
    ...(signal.metricValue !== undefined ? { metricValue: signal.metricValue } : {}),
    ...(signal.threshold !== undefined ? { threshold: signal.threshold } : {}),
    group: { name: GROUP, min: 1, max: 6, desired, instances: [] },
    lastActivityEnd,
    activityInProgress: false,
    now: new Date(at),
    storageHealthy: { healthy: true },
    dataVolume: 'pydio-data',
  };
  const decision = decideScaling(signal, snapshot, SETTINGS);
  const acted = decision.kind === 'scale';
  return {
    stage: STAGE,
    dryRun: false,
    signal,
    snapshot,
    cooldownSeconds: SETTINGS.cooldownSeconds,
    decision,
    outcome: acted ? 'acted' : 'no-action',
    // as lib/usecases/alarm.ts words an acted scale
    ...(acted ? { outcomeNote: `desired capacity set to ${decision.to}` } : {}),
    notes: [],
  };
}

const GiB = 1024 ** 3;
function member(n: number, zone: string): StorageMember {
  return { instanceId: `i-0a1b2c3d4e5f6070${n}`, host: `10.0.${zone === 'eu-west-1a' ? 1 : 2}.1${n}`, zone, lifecycleState: 'InService', peerState: 'connected', protected: true };
}

/** The message ops get when an expansion of pydio-data starts (the fullest brick 86% used). */
function expansionStart(): Notification {
  const m1 = member(1, 'eu-west-1a');
  const m2 = member(2, 'eu-west-1b');
  const brick = (m: StorageMember) => ({ host: m.host, path: '/bricks/pydio-data/brick', online: true, sizeTotal: 100 * GiB, sizeFree: 14 * GiB });
  const snapshot: ClusterSnapshot = {
    group: { name: 'pydio-storage', min: 2, max: 6, desired: 2, zones: ['eu-west-1a', 'eu-west-1b'] },
    members: [m1, m2],
    volumes: [{ name: 'pydio-data', replicaCount: 2, bricks: [brick(m1), brick(m2)], rebalance: 'none', healPending: 0 }],
  };
  const settings: StorageSettings = { brickRoot: '/bricks', newBrickBytes: 100 * GiB, maxSetsPerRequest: 2 };
  const plan = planExpansion(snapshot, { volume: 'pydio-data', sets: 1, allowSameZone: false, strategy: 'add-bricks' }, settings);
  if (plan.kind !== 'plan') throw new Error(`the sample expansion was refused: ${plan.reason}`);
  return expansionPlanned(STAGE, plan, false);
}

/** A brick process of pydio-data died on a live member: the health read's notice, then the restart. */
function brickDied(): Notification[] {
  const m1 = member(1, 'eu-west-1a');
  const m2 = member(2, 'eu-west-1b');
  const members: HealthMember[] = [m1, m2].map((m) => ({ instanceId: m.instanceId, host: m.host, zone: m.zone, lifecycleState: 'InService', agentOnline: true }));
  const brick = { volume: 'pydio-data', host: m2.host, path: '/bricks/pydio-data/brick', instanceId: m2.instanceId };
  const health: ClusterHealth = {
    readOn: { instanceId: m1.instanceId, host: m1.host },
    volumes: [
      { volume: 'pydio-config', status: 'Started', bricks: 2, bricksOffline: [], healEntries: 0, healUnknownBricks: 0, splitBrainEntries: 0, splitBrainFiles: [] },
      { volume: 'pydio-data', status: 'Started', bricks: 2, bricksOffline: [brick], healEntries: 14, healUnknownBricks: 1, splitBrainEntries: 0, splitBrainFiles: [] },
    ],
    missingVolumes: [],
    peers: [],
  };
  const at = new Date('2026-11-21T10:07:00Z');
  const problems = healthProblems(health);
  const repairs = decideRepairs(health, members, () => 0, { enabled: true, maxRestarts: REPAIR_MAX_RESTARTS, windowSeconds: REPAIR_WINDOW_SECONDS });
  return [healthChanged(STAGE, healthChange(undefined, problems, at), problems, health, repairs, at), bricksRestarted(STAGE, 'pydio-data', [brick], false)];
}

export interface Sample {
  readonly title: string;
  readonly notification: Notification;
}

export function notificationSamples(): Sample[] {
  const lastScale = new Date('2026-11-21T09:30:00Z');
  return [
    {
      title: 'CPU high: scale out by one',
      notification: scalingNotification(decisionReport('cpu-high', '2026-11-21T10:00:00Z', [['91.5', '21/11/26 09:55:00'], ['88.0', '21/11/26 09:50:00']], 2, lastScale)),
    },
    {
      title: 'CPU low three minutes after that scale-out (the batch job ended): suppressed, the group is cooling down',
      notification: scalingNotification(
        decisionReport('cpu-low', '2026-11-21T10:03:20Z', [['12.4', '21/11/26 10:00:00'], ['14.9', '21/11/26 09:55:00'], ['16.0', '21/11/26 09:50:00']], 3, new Date('2026-11-21T10:00:40Z')),
      ),
    },
    { title: 'Brick disk high: the expansion of pydio-data starts', notification: expansionStart() },
    { title: "A brick process of pydio-data died on a live member: the health read tells it (once), then restarts it", notification: brickDied()[0]! },
    { title: 'The restart', notification: brickDied()[1]! },
  ];
}

/** One sample as the README shows it: subject, attributes, body. */
export function renderSample(n: Notification): string {
  const attributes = { eventType: n.eventType, severity: n.severity, ...n.attributes };
  return [
    '```text',
    `Subject: ${n.subject}`,
    `Attributes: ${Object.entries(attributes).map(([k, v]) => `${k}=${v}`).join(' ')}`,
    '',
    n.body,
    '```',
  ].join('\n');
}

export function readmeBlocks(repoDir = path.resolve(__dirname, '..', '..', '..')): { samples: string[]; layout: string } {
  const dashboard = dashboardFromServerlessYml(fs.readFileSync(path.join(repoDir, 'serverless.yml'), 'utf8'));
  return { samples: notificationSamples().map((s) => `${s.title}:\n\n${renderSample(s.notification)}`), layout: layoutMarkdown(dashboard) };
}

if (require.main === module) {
  const { samples, layout } = readmeBlocks();
  process.stdout.write(`${samples.join('\n\n')}\n\n${layout}\n`);
}
