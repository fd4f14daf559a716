/**
 * Every notice the code can build, with the variants that change its shape:
 * both lifecycle transitions, dry run or not, warnings, multi-line values
 * (command output), over-long subjects, every scaling decision kind and
 * outcome, every storage operation. Each sample names the exported function
 * that built it; notice-samples.test.ts fails when a notice function of
 * lib/core has no sample, so a new kind of notice cannot skip the checks that
 * run over these (the Chatbot schema, the SNS message size).
 */
import { startFlow } from '../../../lib/core/compute-flow';
import type { LifecycleEvent } from '../../../lib/core/lifecycle-event';
import * as compute from '../../../lib/core/messages';
import type { Notification } from '../../../lib/core/notification';
import type { AlarmSignal } from '../../../lib/core/scaling/alarm-event';
import type { ScalingDecision, ScalingSnapshot, SuppressionRule } from '../../../lib/core/scaling/decide';
import { scalingNotification, type DecisionReport } from '../../../lib/core/scaling/messages';
import { planExpansion, type ExpansionPlan } from '../../../lib/core/storage/expand';
import { layoutFixes } from '../../../lib/core/storage/layout';
import type { TaskStatus } from '../../../lib/core/storage/gluster-parse';
import * as storage from '../../../lib/core/storage/messages';
import * as notices from '../../../lib/core/storage/notices';
import { planReplacement, type ReplacementPlan } from '../../../lib/core/storage/replace';
import { planShrink, type ShrinkPlan } from '../../../lib/core/storage/shrink';
import type { ClusterSnapshot, StorageMember } from '../../../lib/core/storage/snapshot';
import * as watch from '../../../lib/core/watch/notices';
import { healthProblems, type ClusterHealth, type HealthMember } from '../../../lib/core/storage/health';
import * as health from '../../../lib/core/storage/health-notices';
import { digestOf, healthChange } from '../../../lib/core/storage/health-record';
import { decideRepairs } from '../../../lib/core/storage/repair';

export interface NoticeSample {
  /** "module.function", e.g. "messages.flowFailed". */
  readonly builder: string;
  readonly variant: string;
  readonly notification: Notification;
}

const STAGE = 'prod';
const LONG = 'x'.repeat(140);
const OUTPUT = 'stderr:\nmount: /mnt/pydio-data: mount(2) system call failed: No route to host.\n```not a fence``` *not bold* _not italic_ <not a link>';

function computeSamples(): NoticeSample[] {
  const out: NoticeSample[] = [];
  const add = (builder: string, variant: string, notification: Notification) => out.push({ builder: `messages.${builder}`, variant, notification });
  const t0 = new Date('2026-11-21T10:00:00Z');
  for (const transition of ['launch', 'terminate'] as const) {
    const event: LifecycleEvent = {
      kind: 'lifecycle',
      transition,
      groupName: 'pydio-compute',
      hookName: `pydio-autoscaler-prod-compute-${transition}`,
      instanceId: 'i-0123456789abcdef0',
      token: '6f1f1cbb-8a39-4b5c-b4a5-0c0a4c5b1a2d',
      time: '2026-11-21T10:00:00Z',
    };
    const state = startFlow(event, 'message-1', 900, t0);
    const warned = { ...state, warnings: ['stickiness of the target group is lb_cookie, not app_cookie on AjaXplorer', 'second warning'] };
    const later = new Date(t0.getTime() + 192_000);
    add('flowStarted', `${transition}`, compute.flowStarted(STAGE, state, false));
    add('flowStarted', `${transition}, dry run`, compute.flowStarted(STAGE, state, true));
    add('flowSucceeded', `${transition}`, compute.flowSucceeded(STAGE, state, later));
    add('flowSucceeded', `${transition}, warnings and a note`, compute.flowSucceeded(STAGE, warned, later, 'the target was already registered'));
    for (const result of ['ABANDON', 'CONTINUE'] as const) {
      add('flowFailed', `${transition}, ${result}, output`, compute.flowFailed(STAGE, { ...warned, step: 'mount-volumes' }, 'pydio-mount-volumes failed with exit code 32', OUTPUT, result, later));
      add('flowFailed', `${transition}, ${result}, no output`, compute.flowFailed(STAGE, { ...state, step: 'await-healthy' }, `target unhealthy: ${LONG}`, undefined, result, later));
    }
    add('flowWarning', transition, compute.flowWarning(STAGE, state, 'the target group does not stick on AjaXplorer'));
    add('lifecycleSkipped', transition, compute.lifecycleSkipped(STAGE, event, 'the instance is no longer waiting for this action'));
  }
  add('malformedEvent', 'not JSON', compute.malformedEvent(STAGE, 'the body is not JSON', '{"detail":'));
  add('malformedEvent', 'long excerpt', compute.malformedEvent(STAGE, 'field EC2InstanceId is missing', `{"detail":{"x":"${'y'.repeat(3000)}"}}`));
  return out;
}

function signal(state: AlarmSignal['state'], over: Partial<AlarmSignal> = {}): AlarmSignal {
  return {
    alarmName: 'pydio-autoscaler-prod-compute-cpu-high',
    state,
    reason: 'Threshold Crossed: 2 out of the last 2 datapoints [91.5 (21/11/26 09:55:00), 88.0 (21/11/26 09:50:00)] were greater than the threshold (70.0).',
    at: '2026-11-21T10:00:00.000Z',
    source: 'event',
    attempt: 0,
    metricValue: 91.5,
    threshold: 70,
    previousState: 'OK',
    ...over,
  };
}

function scalingSamples(): NoticeSample[] {
  const now = new Date('2026-11-21T10:00:00Z');
  const snapshot: ScalingSnapshot = {
    alarmRole: 'cpu-high',
    metricValue: 91.5,
    threshold: 70,
    group: { name: 'pydio-compute', min: 1, max: 6, desired: 2, instances: [] },
    lastActivityEnd: new Date(now.getTime() - 160_000),
    activityInProgress: false,
    now,
    storageHealthy: { healthy: true },
    dataVolume: 'pydio-data',
  };
  const report = (decision: ScalingDecision, over: Partial<DecisionReport> = {}): DecisionReport => ({
    stage: STAGE, dryRun: false, signal: signal('ALARM'), snapshot, cooldownSeconds: 300, decision, outcome: 'no-action', notes: [], ...over,
  });
  const out: NoticeSample[] = [];
  const add = (variant: string, r: DecisionReport) => out.push({ builder: 'scaling/messages.scalingNotification', variant, notification: scalingNotification(r) });
  const scaleOut: ScalingDecision = { kind: 'scale', group: 'pydio-compute', direction: 'out', from: 2, to: 3, why: 'CPU high: scale out by step +1', recheckAfterSeconds: 300 };
  add('scale out, acted', report(scaleOut, { outcome: 'acted', outcomeNote: 'desired capacity set to 3' }));
  add('scale out, dry run', report(scaleOut, { outcome: 'acted', dryRun: true }));
  add('scale in, refused', report({ kind: 'scale', group: 'pydio-compute', direction: 'in', from: 2, to: 1, why: 'CPU low' }, { outcome: 'refused', outcomeNote: 'ValidationError: min size' }));
  add('expand storage, requested', report({ kind: 'expand-storage', volume: 'pydio-data', sets: 1, why: 'brick disk 86% > 80%' }, { outcome: 'acted', signal: signal('ALARM', { alarmName: 'pydio-autoscaler-prod-brick-disk-high' }) }));
  add('expand storage, refused with notes', report({ kind: 'expand-storage', volume: 'pydio-data', sets: 1, why: 'brick disk high' }, { outcome: 'refused', outcomeNote: 'the storage tier is not deployed', notes: ['no storage group', 'second note'] }));
  const rules: SuppressionRule[] = ['unknown-alarm', 'group-missing', 'at-maximum', 'at-minimum', 'activity-in-progress', 'cooldown', 'lifecycle-pending', 'storage-unhealthy'];
  for (const rule of rules) {
    add(`suppressed, ${rule}`, report({ kind: 'suppressed', rule, why: `suppressed by ${rule}`, recheckAfterSeconds: 60 }, rule === 'group-missing' ? { snapshot: { ...snapshot, group: undefined } } : {}));
  }
  add('none, recovered', report({ kind: 'none', why: 'the alarm is OK' }, { signal: signal('OK', { previousState: 'ALARM', alarmName: LONG }) }));
  add('none, insufficient data, re-check', report({ kind: 'none', why: 'no data' }, { signal: signal('INSUFFICIENT_DATA', { source: 'recheck', attempt: 3, metricValue: undefined, threshold: undefined }) }));
  return out;
}

const GiB = 1024 ** 3;
const member = (n: number, zone: string, over: Partial<StorageMember> = {}): StorageMember => ({
  instanceId: `i-0a1b2c3d4e5f6070${n}`, host: `10.0.${zone.endsWith('a') ? 1 : 2}.1${n}`, zone, lifecycleState: 'InService', peerState: 'connected', protected: true, ...over,
});

function storageSamples(): NoticeSample[] {
  const out: NoticeSample[] = [];
  const add = (builder: string, variant: string, notification: Notification) => out.push({ builder, variant, notification });
  const members = [member(1, 'eu-west-1a'), member(2, 'eu-west-1b'), member(3, 'eu-west-1a'), member(4, 'eu-west-1b')];
  const brick = (m: StorageMember, used: number) => ({ host: m.host, path: '/bricks/pydio-data/brick', online: true, sizeTotal: 100 * GiB, sizeFree: (100 - used) * GiB });
  const snapshot: ClusterSnapshot = {
    group: { name: 'pydio-storage', min: 2, max: 8, desired: 4, zones: ['eu-west-1a', 'eu-west-1b'] },
    members,
    volumes: [{ name: 'pydio-data', replicaCount: 2, rebalance: 'none', healPending: 0, bricks: members.map((m) => brick(m, 20)) }],
  };
  const settings = { brickRoot: '/bricks', newBrickBytes: 100 * GiB, maxSetsPerRequest: 2 };
  const expansion = planExpansion({ ...snapshot, members: members.slice(0, 2), volumes: [{ ...snapshot.volumes[0]!, bricks: members.slice(0, 2).map((m) => brick(m, 86)) }] }, { volume: 'pydio-data', sets: 2, allowSameZone: false, strategy: 'add-bricks' }, settings);
  if (expansion.kind !== 'plan') throw new Error(`sample expansion refused: ${expansion.reason}`);
  const shrink = planShrink(snapshot, 'pydio-data');
  if (shrink.kind !== 'plan') throw new Error(`sample shrink refused: ${shrink.reason}`);
  const dead = { ...member(2, 'eu-west-1b'), peerState: 'disconnected' as const };
  const replacing: ClusterSnapshot = { ...snapshot, members: [member(1, 'eu-west-1a'), dead, member(7, 'eu-west-1b')], volumes: [{ ...snapshot.volumes[0]!, bricks: [brick(member(1, 'eu-west-1a'), 20), { ...brick(dead, 20), online: false }] }] };
  const replacement = planReplacement(replacing, dead.instanceId, member(7, 'eu-west-1b'), settings);
  if (replacement.kind !== 'plan') throw new Error(`sample replacement refused: ${replacement.reason}`);
  const status: TaskStatus = {
    state: 'in-progress',
    statusText: 'in progress',
    nodes: members.map((m, i) => ({ node: m.host, state: 'in-progress' as const, statusText: 'in progress', files: 100 * i, size: 2048 * i, lookups: 9, failures: 0, skipped: 0, runtimeSeconds: 40 })),
    files: 600,
    size: 12288,
    failures: 0,
    runtimeSeconds: 40,
  };
  add('storage/messages.expansionPlanned', 'two sets, launch first', storage.expansionPlanned(STAGE, expansion as ExpansionPlan, false));
  add('storage/messages.expansionPlanned', 'dry run', storage.expansionPlanned(STAGE, expansion as ExpansionPlan, true));
  add('storage/messages.shrinkPlanned', 'one set', storage.shrinkPlanned(STAGE, shrink as ShrinkPlan, false));
  add('storage/messages.shrinkPlanned', 'dry run', storage.shrinkPlanned(STAGE, shrink as ShrinkPlan, true));
  for (const operation of ['expand', 'replace', 'shrink', 'bootstrap', 'rebalance', 'heal'] as const) {
    add('storage/messages.storageRefused', operation, storage.storageRefused(STAGE, operation, 'pydio-data', `another operation holds the lock ${operation === 'heal' ? LONG : ''}`));
    add('storage/messages.storageStarted', operation, storage.storageStarted(STAGE, operation, 'pydio-data', operation === 'bootstrap' ? [] : ['gluster --mode=script volume rebalance pydio-data start']));
    add('storage/messages.storageSucceeded', operation, storage.storageSucceeded(STAGE, operation, 'pydio-data', 3725, ['All bricks online.']));
    add('storage/messages.storageFailed', operation, storage.storageFailed(STAGE, operation, 'pydio-data', 'volume add-brick: failed: Pre Validation failed', operation === 'expand' ? OUTPUT : undefined));
  }
  // The quorum options the sample's volumes (replica 2, none set) lack, as an operation sets them first.
  const fix = layoutFixes([{ name: 'pydio-config', replicaCount: 2 }, { name: 'pydio-data', replicaCount: 2 }]);
  add('storage/messages.expansionPlanned', 'quorum options first', storage.expansionPlanned(STAGE, expansion as ExpansionPlan, false, fix));
  add('storage/messages.shrinkPlanned', 'quorum options first, dry run', storage.shrinkPlanned(STAGE, shrink as ShrinkPlan, true, fix));
  add('storage/messages.layoutPlanned', 'options to set', storage.layoutPlanned(STAGE, fix, false));
  add('storage/messages.layoutPlanned', 'nothing to set, dry run', storage.layoutPlanned(STAGE, layoutFixes([]), true));
  add('storage/messages.layoutApplied', 'set on volumes older than their layout', storage.layoutApplied(STAGE, fix.changes, false));
  add('storage/messages.layoutApplied', 'server quorum restored after a replacement', storage.layoutApplied(STAGE, fix.changes.filter((c) => c.option === 'cluster.server-quorum-type'), true));
  add('storage/messages.serverQuorumLifted', 'for a replacement', storage.serverQuorumLifted(STAGE, ['pydio-config', 'pydio-data'], '10.0.2.12', 'The pool misses only 10.0.1.11 (no instance of the group), gone from the storage group: nothing there can write again.', [
    'gluster --mode=script volume set pydio-config cluster.server-quorum-type none',
    'gluster --mode=script volume set pydio-data cluster.server-quorum-type none',
  ]));
  for (const operation of ['layout'] as const) {
    add('storage/messages.storageRefused', operation, storage.storageRefused(STAGE, operation, 'the volumes', 'brick 10.0.2.12:/bricks/pydio-data/brick of pydio-data offline'));
    add('storage/messages.storageSucceeded', operation, storage.storageSucceeded(STAGE, operation, 'the volumes', 42, ['Set pydio-data: cluster.server-quorum-type server.']));
  }
  add('storage/messages.storageProgress', 'four nodes', storage.storageProgress(STAGE, 'rebalance', 'pydio-data', status, 75));
  add('storage/messages.storageProgress', 'no nodes', storage.storageProgress(STAGE, 'heal', 'pydio-config', { ...status, nodes: [] }, 5));
  add('storage/messages.replacementSucceeded', 'one volume', storage.replacementSucceeded(STAGE, replacement as ReplacementPlan, 3725));
  add('storage/notices.memberJoined', 'with facts', notices.memberJoined(STAGE, 'i-0a1b2c3d4e5f60707', '10.0.2.17', 'eu-west-1b', 412, ['Brick /bricks prepared (xfs, 100 GiB).']));
  add('storage/notices.memberFailed', 'output', notices.memberFailed(STAGE, 'i-0a1b2c3d4e5f60707', 'prepare-brick', 'the device holds a filesystem', 'ABANDON', OUTPUT));
  add('storage/notices.memberFailed', 'no output', notices.memberFailed(STAGE, 'i-0a1b2c3d4e5f60707', 'peer-probe', 'no healthy member answered', 'CONTINUE'));
  add('storage/notices.memberLeaving', 'no bricks', notices.memberLeaving(STAGE, 'i-0a1b2c3d4e5f60703', '', 'eu-west-1a', [], []));
  add('storage/notices.memberLeaving', 'with bricks', notices.memberLeaving(STAGE, 'i-0a1b2c3d4e5f60702', '10.0.2.12', 'eu-west-1b', ['pydio-data 10.0.2.12:/bricks/pydio-data/brick', 'pydio-config 10.0.2.12:/bricks/pydio-config/brick'], ['scale-in protection was on']));
  add('storage/notices.lockBroken', 'stale lock', notices.lockBroken(STAGE, 'expand-1234', 7300, 'shrink-5678'));
  add('storage/notices.lifecycleSkipped', 'duplicate', notices.lifecycleSkipped(STAGE, 'i-0a1b2c3d4e5f60707', 'another delivery holds this lifecycle action'));
  return out;
}

function watchSamples(): NoticeSample[] {
  const out: NoticeSample[] = [];
  const add = (builder: string, variant: string, notification: Notification) => out.push({ builder: `watch/notices.${builder}`, variant, notification });
  const now = new Date('2026-11-21T10:02:00Z');
  for (const [tier, transition] of [['compute', 'launch'], ['storage', 'terminate']] as const) {
    const action = { kind: 'redrive' as const, tier, groupName: `pydio-${tier}`, instanceId: 'i-0123456789abcdef0', transition, key: `lifecycle/i-0123456789abcdef0/${transition}`, unclaimedSince: '2026-11-21T10:01:00.000Z' };
    add('redrivenNotice', `${tier} ${transition}`, watch.redrivenNotice(STAGE, action, [`pydio-autoscaler-prod-${tier}-${transition}`], now, false));
    add('redrivenNotice', `${tier} ${transition}, dry run`, watch.redrivenNotice(STAGE, action, [`pydio-autoscaler-prod-${tier}-${transition}`, 'another-hook'], now, true));
  }
  const mark = { kind: 'mark-unhealthy' as const, groupName: 'pydio-compute', instanceId: 'i-0123456789abcdef0', checks: 3, reason: 'Target.FailedHealthChecks', limit: 2, replacing: ['i-0a1b2c3d4e5f60707'] };
  add('replacingNotice', 'one already replacing', watch.replacingNotice(STAGE, mark, 6, 0.34, false));
  add('replacingNotice', 'none replacing, dry run', watch.replacingNotice(STAGE, { ...mark, limit: 1, replacing: [] }, 3, 0.34, true));
  add('heldBackNotice', 'two held back', watch.heldBackNotice(STAGE, 'pydio-compute', { kind: 'held-back', instanceIds: ['i-0a1b2c3d4e5f60702', 'i-0a1b2c3d4e5f60703'], limit: 1, replacing: ['i-0123456789abcdef0'] }));
  const cause = `every registered target is unhealthy (3 of 3); the Gluster volumes are down (${LONG})`;
  add('clusterWideNotice', 'started', watch.clusterWideNotice(STAGE, 'pydio-compute', { kind: 'cluster-wide', change: 'started', cause, unhealthy: ['i-0a1b2c3d4e5f60702', 'i-0a1b2c3d4e5f60703'] }));
  add('clusterWideNotice', 'changed, no unhealthy target', watch.clusterWideNotice(STAGE, 'pydio-compute', { kind: 'cluster-wide', change: 'changed', cause: 'the Gluster volumes are down', unhealthy: [] }));
  add('recoveredNotice', 'after 12 minutes', watch.recoveredNotice(STAGE, 'pydio-compute', { kind: 'cluster-recovered', was: { kinds: ['volumes-down'], cause: 'the Gluster volumes are down', since: '2026-11-21T09:50:00.000Z' } }, now));
  return out;
}

function healthSamples(): NoticeSample[] {
  const out: NoticeSample[] = [];
  const add = (builder: string, variant: string, notification: Notification) => out.push({ builder: `storage/health-notices.${builder}`, variant, notification });
  const at = new Date('2026-11-21T10:07:00Z');
  const members: HealthMember[] = [1, 2, 3, 4].map((n) => ({ instanceId: `i-0a1b2c3d4e5f6070${n}`, host: `10.0.${n % 2 === 1 ? 1 : 2}.1${n}`, zone: n % 2 === 1 ? 'eu-west-1a' : 'eu-west-1b', lifecycleState: 'InService', agentOnline: true }));
  const brick = (n: number, volume: string) => ({ volume, host: members[n - 1]!.host, path: `/bricks/${volume}/brick`, instanceId: members[n - 1]!.instanceId });
  const volume = (name: string, over: Partial<ClusterHealth['volumes'][number]> = {}) => ({ volume: name, status: 'Started', bricks: 4, bricksOffline: [], healEntries: 0, healUnknownBricks: 0, splitBrainEntries: 0, splitBrainFiles: [], ...over });
  const bad: ClusterHealth = {
    readOn: { instanceId: members[0]!.instanceId, host: members[0]!.host },
    volumes: [
      volume('pydio-config', { splitBrainEntries: 75, splitBrainFiles: Array.from({ length: 50 }, (_, i) => `/conf/${i === 0 ? LONG : `file-${i}.json`}`) }),
      volume('pydio-data', { bricksOffline: [brick(2, 'pydio-data'), brick(4, 'pydio-data')], healEntries: 1204, healUnknownBricks: 2 }),
    ],
    missingVolumes: [],
    peers: [{ host: members[3]!.host, instanceId: members[3]!.instanceId, state: 'disconnected' }, { host: '10.0.3.99', state: 'disconnected' }],
  };
  const good: ClusterHealth = { ...bad, volumes: [volume('pydio-config'), volume('pydio-data')], peers: [] };
  const settings = { enabled: true, maxRestarts: 3, windowSeconds: 3600 };
  const problems = healthProblems(bad);
  add('healthChanged', 'split-brain, bricks and peers down, first told', health.healthChanged(STAGE, healthChange(undefined, problems, at), problems, bad, decideRepairs(bad, members, () => 0, settings), at));
  const told = { healthy: false, at: at.toISOString(), told: { digest: digestOf(problems.map((p) => p.key)), problems: problems.map((p) => p.key), at: at.toISOString() } };
  add('healthChanged', 'healthy again', health.healthChanged(STAGE, healthChange(told, [], at), [], good, [], at));
  add('healthUnreadable', 'no member', health.healthUnreadable(STAGE, 'no in-service member of pydio-storage with an online SSM agent to read the volumes from', at));
  add('bricksRestarted', 'two bricks', health.bricksRestarted(STAGE, 'pydio-data', [brick(2, 'pydio-data'), brick(4, 'pydio-data')], false));
  add('bricksRestarted', 'dry run', health.bricksRestarted(STAGE, 'pydio-config', [brick(1, 'pydio-config')], true));
  add('brickNotRepaired', 'restarted too often', health.brickNotRepaired(STAGE, brick(2, 'pydio-data'), `restarted 3 times in the last 60 minutes and offline again: see /var/log/glusterfs/bricks/bricks-pydio-data-brick.log on ${members[1]!.instanceId} ${LONG}`));
  return out;
}

/** Every sample, in a stable order (compute, scaling, storage, Gluster health, watch). */
export function noticeSamples(): NoticeSample[] {
  return [...computeSamples(), ...scalingSamples(), ...storageSamples(), ...healthSamples(), ...watchSamples()];
}
