import { QUORUM_LAYOUT } from '../../../../lib/core/storage/layout';
import { bootstrapPlan, poolStart } from '../../../../lib/core/storage/bootstrap';
import { usableCapacity } from '../../../../lib/core/storage/capacity';
import { planExpansion, type ExpansionPlan } from '../../../../lib/core/storage/expand';
import { commandLine, commandParameters } from '../../../../lib/core/storage/gluster-actions';
import { pickBricksForNewSet, placeNewMembers } from '../../../../lib/core/storage/placement';
import { planReplacement } from '../../../../lib/core/storage/replace';
import type { StorageSettings } from '../../../../lib/core/storage/settings';
import { planShrink } from '../../../../lib/core/storage/shrink';
import { decideHeal, decideRebalance } from '../../../../lib/core/storage/watch';
import type { Brick, ClusterSnapshot, StorageMember, VolumeSnapshot } from '../../../../lib/core/storage/snapshot';

const GiB = 1024 ** 3;
const A = 'eu-west-1a';
const B = 'eu-west-1b';
const C = 'eu-west-1c';

const member = (n: number, zone: string, over: Partial<StorageMember> = {}): StorageMember => ({
  instanceId: `i-${n}`, host: `10.71.${zone === A ? 1 : zone === B ? 2 : 3}.${n}`, zone, lifecycleState: 'InService', peerState: 'connected', protected: true, ...over,
});
const brick = (m: StorageMember, over: Partial<Brick> = {}): Brick => ({ host: m.host, path: '/bricks/pydio-data/brick', online: true, sizeTotal: 100 * GiB, sizeFree: 60 * GiB, ...over });
const m1 = member(1, A);
const m2 = member(2, B);
const m3 = member(3, A);
const m4 = member(4, B);
const data = (bricks: Brick[], over: Partial<VolumeSnapshot> = {}): VolumeSnapshot => ({ name: 'pydio-data', replicaCount: 2, bricks, rebalance: 'none', healPending: 0, ...over });
const snap = (over: Partial<ClusterSnapshot> = {}): ClusterSnapshot => ({
  group: { name: 'pydio-storage', min: 2, max: 6, desired: 2, zones: [A, B] },
  members: [m1, m2],
  volumes: [data([brick(m1), brick(m2)])],
  ...over,
});
const settings: StorageSettings = { brickRoot: '/bricks', newBrickBytes: 100 * GiB, maxSetsPerRequest: 3 };

describe('planExpansion: refusals', () => {
  it.each<[string, ClusterSnapshot, Parameters<typeof planExpansion>[1], RegExp]>([
    ['unknown volume', snap(), { volume: 'nope', sets: 1 }, /unknown volume "nope" \(volumes: pydio-data\)/],
    ['sets 0', snap(), { volume: 'pydio-data', sets: 0 }, /at least 1/],
    ['sets 1.5', snap(), { volume: 'pydio-data', sets: 1.5 }, /whole number/],
    ['too many sets', snap(), { volume: 'pydio-data', sets: 4 }, /at most 3 per request/],
    ['lock held', snap(), { volume: 'pydio-data', sets: 1, lockHeldBy: 'replace i-9' }, /lock \(replace i-9\)/],
    ['rebalance running', snap({ volumes: [data([brick(m1), brick(m2)], { rebalance: 'in-progress' })] }), { volume: 'pydio-data', sets: 1 }, /rebalance of pydio-data is in progress/],
    ['heal pending', snap({ volumes: [data([brick(m1), brick(m2)], { healPending: 7 })] }), { volume: 'pydio-data', sets: 1 }, /heal of pydio-data is in progress \(7 entries/],
    ['heal unknown', snap({ volumes: [data([brick(m1), brick(m2)], { healUnreachable: 1 })] }), { volume: 'pydio-data', sets: 1 }, /heal state of pydio-data unknown/],
    ['member disconnected', snap({ members: [m1, { ...m2, peerState: 'disconnected' }] }), { volume: 'pydio-data', sets: 1 }, /i-2 \(10.71.2.2, eu-west-1b\) disconnected/],
    ['stray dead peer', snap({ strayPeers: [{ host: '10.71.9.9', connected: false }] }), { volume: 'pydio-data', sets: 1 }, /10.71.9.9 disconnected .* not in the storage group/],
    ['in-service member not in pool', snap({ members: [m1, m2, member(5, A, { peerState: 'absent' })] }), { volume: 'pydio-data', sets: 1 }, /not in the Gluster pool/],
    ['brick offline', snap({ volumes: [data([brick(m1), brick(m2, { online: false })])] }), { volume: 'pydio-data', sets: 1 }, /10.71.2.2:\/bricks\/pydio-data\/brick of pydio-data offline/],
    ['above max', snap({ group: { name: 'pydio-storage', min: 2, max: 3, desired: 2, zones: [A, B] } }), { volume: 'pydio-data', sets: 1 }, /desired 2 -> 4 is above the maximum 3/],
    ['one zone only', snap({ group: { name: 'pydio-storage', min: 2, max: 6, desired: 2, zones: [A] } }), { volume: 'pydio-data', sets: 1 }, /spans 1 zone \(eu-west-1a\).*allowSameZone/],
    ['grow in place not enabled', snap(), { volume: 'pydio-data', sets: 1, strategy: 'grow-in-place' }, /not enabled/],
  ])('%s', (_name, snapshot, request, reason) => {
    const out = planExpansion(snapshot, request, settings);
    expect(out.kind).toBe('refused');
    expect(out.kind === 'refused' && out.reason).toMatch(reason);
  });
  it('a rebalance already completed does not block', () => {
    expect(planExpansion(snap({ volumes: [data([brick(m1), brick(m2)], { rebalance: 'completed' })] }), { volume: 'pydio-data', sets: 1 }, settings).kind).toBe('plan');
  });
});

describe('planExpansion: add bricks', () => {
  it('one set on a 2-node cluster: launch 2 in distinct zones, add-brick then rebalance', () => {
    const plan = planExpansion(snap(), { volume: 'pydio-data', sets: 1, allowSameZone: false }, settings) as ExpansionPlan;
    expect(plan.kind).toBe('plan');
    expect(plan).toEqual(expect.objectContaining({
      strategy: 'add-bricks', desiredBefore: 2, desiredAfter: 4, capacityBefore: 100 * GiB, capacityAfter: 200 * GiB, awaitsLaunch: true, launchZones: [A, B],
    }));
    expect(plan.sets).toEqual([{ zones: [A, B], bricks: ['new:eu-west-1a#1:/bricks/pydio-data/brick', 'new:eu-west-1b#2:/bricks/pydio-data/brick'] }]);
    expect(plan.commands).toEqual([
      'set desired capacity to 4 (2 new members in eu-west-1a + eu-west-1b)',
      'gluster --mode=script volume add-brick pydio-data replica 2 new:eu-west-1a#1:/bricks/pydio-data/brick new:eu-west-1b#2:/bricks/pydio-data/brick',
      'gluster --mode=script volume rebalance pydio-data start',
      'gluster --mode=script volume rebalance pydio-data status',
    ]);
  });
  it('once the new members joined (spares), the same request gives concrete commands and no launch', () => {
    const plan = planExpansion(snap({ members: [m1, m2, m3, m4], group: { name: 'pydio-storage', min: 2, max: 6, desired: 4, zones: [A, B] } }), { volume: 'pydio-data', sets: 1 }, settings) as ExpansionPlan;
    expect(plan.awaitsLaunch).toBe(false);
    expect(plan.desiredAfter).toBe(4);
    expect(plan.commands[0]).toBe('gluster --mode=script volume add-brick pydio-data replica 2 10.71.1.3:/bricks/pydio-data/brick 10.71.2.4:/bricks/pydio-data/brick');
  });
  it('spares all in one zone are refused for distinct replicas, accepted with allowSameZone', () => {
    const m5 = member(5, A);
    const base = snap({ members: [m1, m2, m3, m5], group: { name: 'pydio-storage', min: 2, max: 4, desired: 4, zones: [A, B] } });
    const refused = planExpansion(base, { volume: 'pydio-data', sets: 1 }, settings);
    expect(refused.kind === 'refused' && refused.reason).toMatch(/distinct zones/);
    const allowed = planExpansion(base, { volume: 'pydio-data', sets: 1, allowSameZone: true }, settings) as ExpansionPlan;
    expect(allowed.sets[0]!.zones).toEqual([A, A]);
  });
  it('two sets over three zones keep each set in distinct zones', () => {
    const plan = planExpansion(snap({ group: { name: 'pydio-storage', min: 2, max: 6, desired: 2, zones: [A, B, C] } }), { volume: 'pydio-data', sets: 2 }, settings) as ExpansionPlan;
    expect(plan.launchZones).toEqual([C, A, B, C]);
    for (const set of plan.sets) expect(new Set(set.zones).size).toBe(2);
    expect(plan.desiredAfter).toBe(6);
    expect(plan.capacityAfter).toBe(300 * GiB);
  });
  it('force is passed for sandbox bricks', () => {
    const plan = planExpansion(snap(), { volume: 'pydio-data', sets: 1 }, { ...settings, forceBricks: true }) as ExpansionPlan;
    expect(plan.commands[1]).toMatch(/ force$/);
  });
});

describe('planExpansion: grow in place', () => {
  const grow: StorageSettings = { ...settings, growInPlace: { enabled: true, toBytes: 200 * GiB, preferred: true } };
  const two = snap({ members: [m1, m2, m3, m4], volumes: [data([brick(m1), brick(m2), brick(m3, { sizeFree: 5 * GiB }), brick(m4, { sizeFree: 5 * GiB })])] });
  it('the stage prefers it: the fullest set grows, no launch, no rebalance', () => {
    const plan = planExpansion(two, { volume: 'pydio-data', sets: 1 }, grow) as ExpansionPlan;
    expect(plan.strategy).toBe('grow-in-place');
    expect(plan.why).toMatch(/prefers growing in place/);
    expect(plan.steps.map((s) => s.kind === 'grow-brick' && s.instanceId)).toEqual(['i-3', 'i-4']);
    expect(plan.capacityBefore).toBe(200 * GiB);
    expect(plan.capacityAfter).toBe(300 * GiB);
    expect(plan.desiredAfter).toBe(plan.desiredBefore);
    expect(plan.commands.join('\n')).not.toMatch(/rebalance/);
  });
  it('more than one set asked: adds bricks and says why', () => {
    const plan = planExpansion(two, { volume: 'pydio-data', sets: 2 }, { ...grow, maxSetsPerRequest: 3 }) as ExpansionPlan;
    expect(plan.strategy).toBe('add-bricks');
    expect(plan.why).toMatch(/grows one replica set and 2 were asked/);
  });
  it('refuses a target size that does not enlarge', () => {
    const out = planExpansion(two, { volume: 'pydio-data', sets: 1 }, { ...grow, growInPlace: { enabled: true, toBytes: 100 * GiB } , }, );
    expect(out.kind).toBe('plan'); // not preferred -> add bricks
    const asked = planExpansion(two, { volume: 'pydio-data', sets: 1, strategy: 'grow-in-place' }, { ...grow, growInPlace: { enabled: true, toBytes: 100 * GiB } });
    expect(asked.kind === 'refused' && asked.reason).toMatch(/would not enlarge/);
  });
});

describe('placeNewMembers', () => {
  it.each<[string, string[], Record<string, number>, number, string[]]>([
    ['balanced start', [A, B], {}, 2, [A, B]],
    ['fills the emptier zone first', [A, B, C], { [A]: 2, [B]: 2 }, 3, [C, C, A]],
    ['ties follow zone order', [B, A], { [A]: 1, [B]: 1 }, 2, [B, A]],
    ['none', [A], {}, 0, []],
  ])('%s', (_name, zones, existing, count, expected) => {
    expect(placeNewMembers(zones, existing, count)).toEqual(expected);
  });
});

describe('pickBricksForNewSet', () => {
  const c = (host: string, zone: string) => ({ host, zone });
  it('pairs across zones', () => {
    const out = pickBricksForNewSet([c('h1', A), c('h2', A), c('h3', B), c('h4', B)], 2);
    expect(out.kind === 'sets' && out.sets.map((s) => s.map((x) => x.zone))).toEqual([[A, B], [A, B]]);
  });
  it('replica 3 over three zones', () => {
    const out = pickBricksForNewSet([c('h1', A), c('h2', B), c('h3', C)], 3);
    expect(out.kind === 'sets' && new Set(out.sets[0]!.map((x) => x.zone)).size).toBe(3);
  });
  it.each([
    ['3 in A, 1 in B', [c('h1', A), c('h2', A), c('h3', A), c('h4', B)], 2, /replica set 2 of 2/],
    ['odd count', [c('h1', A), c('h2', B), c('h3', C)], 2, /whole replica sets/],
  ])('refuses %s', (_name, cands, replica, reason) => {
    const out = pickBricksForNewSet(cands, replica);
    expect(out.kind === 'refused' && out.reason).toMatch(reason);
  });
});

describe('planReplacement', () => {
  const cfg = (bricks: Brick[]): VolumeSnapshot => ({ name: 'pydio-config', replicaCount: 2, bricks: bricks.map((b) => ({ ...b, path: '/bricks/pydio-config/brick' })), rebalance: 'none', healPending: 0 });
  const dead = { ...m2, lifecycleState: 'Terminating:Wait', peerState: 'disconnected' as const };
  const repl = member(7, B);
  const cluster = snap({ members: [m1, dead, repl], volumes: [data([brick(m1), brick(m2, { online: false })]), cfg([brick(m1), brick(m2, { online: false })])] });
  it('replaces every brick of the dead member, then heals each volume', () => {
    const plan = planReplacement(cluster, 'i-2', repl, settings);
    expect(plan.kind).toBe('plan');
    expect(plan.kind === 'plan' && plan.commands).toEqual([
      'gluster --mode=script volume replace-brick pydio-data 10.71.2.2:/bricks/pydio-data/brick 10.71.2.7:/bricks/pydio-data/brick commit force',
      'gluster --mode=script volume replace-brick pydio-config 10.71.2.2:/bricks/pydio-config/brick 10.71.2.7:/bricks/pydio-config/brick commit force',
      'gluster --mode=script volume heal pydio-data full',
      'gluster --mode=script volume heal pydio-config full',
    ]);
  });
  it.each<[string, ClusterSnapshot, string, StorageMember, RegExp, string | undefined]>([
    ['unknown dead', cluster, 'i-99', repl, /not a known storage member/, undefined],
    ['other zone', cluster, 'i-2', member(8, A), /is in eu-west-1a, the dead member i-2 was in eu-west-1b/, undefined],
    ['replacement not probed', cluster, 'i-2', { ...repl, peerState: 'absent' }, /absent in the Gluster pool: probe it first/, undefined],
    ['itself', cluster, 'i-2', dead, /dead member itself/, undefined],
    ['no healthy replica left', snap({ members: [m1, dead, repl], volumes: [data([brick(m1, { online: false }), brick(m2, { online: false })])] }), 'i-2', repl, /no online data replica left/, undefined],
    ['holds nothing', snap({ members: [m1, dead, repl, m3], volumes: [data([brick(m1), brick(m3)])] }), 'i-2', repl, /holds no bricks/, undefined],
    ['lock', cluster, 'i-2', repl, /lock \(expand\)/, 'expand'],
  ])('refuses: %s', (_name, s, deadId, r, reason, lock) => {
    const out = planReplacement(s, deadId, r, settings, lock);
    expect(out.kind === 'refused' && out.reason).toMatch(reason);
  });
});

describe('planShrink', () => {
  const four = (free: number, over: Partial<ClusterSnapshot> = {}) => snap({
    members: [m1, m2, m3, m4],
    group: { name: 'pydio-storage', min: 2, max: 6, desired: 4, zones: [A, B] },
    volumes: [data([brick(m1, { sizeFree: free }), brick(m2, { sizeFree: free }), brick(m3, { sizeFree: free }), brick(m4, { sizeFree: free })])],
    ...over,
  });
  it('removes the last set, watches, commits, detaches the released peers, then releases its members', () => {
    const plan = planShrink(four(80 * GiB), 'pydio-data');
    expect(plan.kind).toBe('plan');
    if (plan.kind !== 'plan') return;
    expect(plan.usedBytes).toBe(40 * GiB);
    expect(plan.capacityAfter).toBe(100 * GiB);
    expect(plan.releasedInstanceIds).toEqual(['i-3', 'i-4']);
    expect(plan.commands).toEqual([
      'gluster --mode=script volume remove-brick pydio-data replica 2 10.71.1.3:/bricks/pydio-data/brick 10.71.2.4:/bricks/pydio-data/brick start',
      'gluster --mode=script volume remove-brick pydio-data replica 2 10.71.1.3:/bricks/pydio-data/brick 10.71.2.4:/bricks/pydio-data/brick status',
      'gluster --mode=script volume remove-brick pydio-data replica 2 10.71.1.3:/bricks/pydio-data/brick 10.71.2.4:/bricks/pydio-data/brick commit',
      'gluster --mode=script peer detach 10.71.1.3',
      'gluster --mode=script peer detach 10.71.2.4',
      'release i-3, i-4 (desired capacity 2)',
    ]);
  });
  it.each<[string, number, number | undefined, 'plan' | 'refused']>([
    ['used 80 of 100 with 20% headroom: exactly at the limit', 60 * GiB, undefined, 'plan'],
    ['used 82 of 100: over the limit', 59 * GiB, undefined, 'refused'],
    ['used 82 with 10% headroom', 59 * GiB, 0.1, 'plan'],
  ])('%s', (_name, free, headroom, kind) => {
    // Used = 2 sets x (100 - free).
    expect(planShrink(four(free), 'pydio-data', { headroom }).kind).toBe(kind);
  });
  it('says why when the rest could not hold the data', () => {
    const out = planShrink(four(50 * GiB), 'pydio-data');
    expect(out.kind === 'refused' && out.reason).toMatch(/holds 100 GiB; without its last replica set it would have 100 GiB usable, and at most 80 GiB/);
  });
  it.each<[string, ClusterSnapshot, RegExp]>([
    ['single set', snap(), /single replica set/],
    ['below group min', four(90 * GiB, { group: { name: 'pydio-storage', min: 3, max: 6, desired: 4, zones: [A, B] } }), /below its minimum 3/],
    ['rebalance', four(90 * GiB, { volumes: [data([brick(m1), brick(m2), brick(m3), brick(m4)], { rebalance: 'in-progress' })] }), /rebalance/],
  ])('refuses: %s', (_name, s, reason) => {
    const out = planShrink(s, 'pydio-data');
    expect(out.kind === 'refused' && out.reason).toMatch(reason);
  });
  it('keeps members that still hold another volume\'s brick', () => {
    const cfg: VolumeSnapshot = { name: 'pydio-config', replicaCount: 2, bricks: [brick(m3), brick(m4)], rebalance: 'none', healPending: 0 };
    const s = four(90 * GiB);
    const out = planShrink({ ...s, volumes: [...s.volumes, cfg] }, 'pydio-data');
    expect(out.kind === 'plan' && out.releasedInstanceIds).toEqual([]);
  });
});

describe('decideRebalance', () => {
  const st = (state: 'none' | 'in-progress' | 'completed' | 'stopped' | 'failed', failures = 0) => ({
    state, statusText: state, files: 12, failures, nodes: [{ node: 'localhost', state, statusText: state, files: 12, size: 0, lookups: 0, failures, skipped: 0, runtimeSeconds: 1 }],
  });
  it.each([
    ['in-progress', 0, 'wait'],
    ['completed', 0, 'next'],
    ['completed', 3, 'fail'],
    ['failed', 0, 'fail'],
    ['stopped', 0, 'fail'],
    ['none', 0, 'fail'],
  ] as const)('%s (%d failures) -> %s', (state, failures, kind) => {
    expect(decideRebalance(st(state, failures)).kind).toBe(kind);
  });
  it('names the nodes still running', () => {
    expect(decideRebalance(st('in-progress'))).toEqual({ kind: 'wait', reason: 'rebalance in progress: 12 files moved, still running on localhost' });
  });
});

describe('decideHeal', () => {
  it.each([
    [0, 10, 0, 'next'],
    [5, 10, 0, 'wait'],
    [5, 601, 0, 'fail'],
    [0, 10, 1, 'wait'],
    [0, 601, 1, 'fail'],
  ] as const)('%d pending at %ds, %d unreachable -> %s', (pending, elapsed, unreachable, kind) => {
    expect(decideHeal(pending, elapsed, 600, unreachable).kind).toBe(kind);
  });
});

describe('bootstrapPlan', () => {
  const opts = { volumes: ['pydio-config', 'pydio-data'], brickRoot: '/bricks' };
  it('creates both volumes once two zones have a connected member, sets their quorum options, then starts them', () => {
    const out = bootstrapPlan([member(2, B), member(1, A), member(3, A)], QUORUM_LAYOUT, opts);
    expect(out.kind === 'plan' && out.commands).toEqual([
      'gluster --mode=script volume create pydio-config replica 2 10.71.1.1:/bricks/pydio-config/brick 10.71.2.2:/bricks/pydio-config/brick',
      'gluster --mode=script volume create pydio-data replica 2 10.71.1.1:/bricks/pydio-data/brick 10.71.2.2:/bricks/pydio-data/brick',
      'gluster --mode=script volume set pydio-config cluster.quorum-type auto',
      'gluster --mode=script volume set pydio-data cluster.quorum-type auto',
      'gluster --mode=script volume set all cluster.server-quorum-ratio 51%',
      'gluster --mode=script volume set pydio-config cluster.server-quorum-type server',
      'gluster --mode=script volume set pydio-data cluster.server-quorum-type server',
      'gluster --mode=script volume start pydio-config',
      'gluster --mode=script volume start pydio-data',
    ]);
  });
  it.each<[string, StorageMember[], RegExp]>([
    ['one member', [member(1, A)], /2 connected members in distinct zones are needed to create the volumes as replica 2 with client quorum auto and server quorum \(two zones\); 1 connected in 1 zone\(s\) \(eu-west-1a\)/],
    ['two in one zone', [member(1, A), member(3, A)], /2 connected in 1 zone/],
    ['second not connected yet', [member(1, A), member(2, B, { peerState: 'absent' })], /1 connected/],
  ])('waits: %s', (_name, members, reason) => {
    const out = bootstrapPlan(members, QUORUM_LAYOUT, opts);
    expect(out.kind).toBe('wait');
    expect(out.kind === 'wait' && out.reason).toMatch(reason);
  });
  it('only the volumes still missing (the pool-wide ratio already set stays); done when none', () => {
    const out = bootstrapPlan([member(1, A), member(2, B)], QUORUM_LAYOUT, { ...opts, existing: [{ name: 'pydio-config', options: { 'cluster.server-quorum-ratio': '51%' } }] });
    expect(out.kind === 'plan' && out.steps.map((s) => `${s.action} ${s.volume}`)).toEqual(['volume-create pydio-data', 'volume-set pydio-data', 'volume-set pydio-data', 'volume-start pydio-data']);
    expect(bootstrapPlan([member(1, A), member(2, B)], QUORUM_LAYOUT, { ...opts, existing: [{ name: 'pydio-config' }, { name: 'pydio-data' }] }).kind).toBe('done');
  });
});

describe('poolStart (a joining node with no in-service member to be probed from)', () => {
  const at = (instanceId: string, lifecycleState: string) => ({ instanceId, lifecycleState });
  it.each<[string, string, ReturnType<typeof at>[], 'start' | RegExp]>([
    ['alone in the group', 'i-2', [at('i-2', 'Pending:Wait')], 'start'],
    ['the lowest id of two launched together', 'i-1', [at('i-1', 'Pending:Wait'), at('i-2', 'Pending:Wait')], 'start'],
    ['not the lowest of two launched together', 'i-2', [at('i-1', 'Pending:Wait'), at('i-2', 'Pending:Wait')], /^i-1 launched with this node and starts the pool/],
    ['a lower id still Pending (before its hook)', 'i-2', [at('i-1', 'Pending'), at('i-2', 'Pending:Wait')], /^i-1 launched with this node/],
    ['a lower id leaving (abandoned launch)', 'i-2', [at('i-1', 'Terminating:Wait'), at('i-2', 'Pending:Wait')], 'start'],
    ['a member in service whose agent is offline', 'i-1', [at('i-1', 'Pending:Wait'), at('i-7', 'InService')], /^i-7 in service but no member has an online SSM agent/],
    ['self missing from the group answer', 'i-3', [at('i-4', 'Pending:Wait')], 'start'],
  ])('%s: %s', (_name, self, members, expected) => {
    const out = poolStart(self, members);
    if (expected === 'start') expect(out).toEqual({ kind: 'start' });
    else expect(out.kind === 'wait' && out.reason).toMatch(expected);
  });
});

describe('command rendering', () => {
  it('document parameters match the command line', () => {
    const step = { kind: 'gluster' as const, action: 'add-brick' as const, volume: 'pydio-data', replica: 2, bricks: ['10.0.1.5:/bricks/pydio-data/brick', '10.0.2.6:/bricks/pydio-data/brick'] };
    expect(commandLine(step)).toBe('gluster --mode=script volume add-brick pydio-data replica 2 10.0.1.5:/bricks/pydio-data/brick 10.0.2.6:/bricks/pydio-data/brick');
    expect(commandParameters(step)).toEqual({ Action: 'add-brick', Volume: 'pydio-data', Replica: '2', Bricks: '10.0.1.5:/bricks/pydio-data/brick,10.0.2.6:/bricks/pydio-data/brick', Force: 'no' });
  });
  it('usable capacity is the smallest brick of each set', () => {
    expect(usableCapacity(data([brick(m1, { sizeTotal: 100 }), brick(m2, { sizeTotal: 80 }), brick(m3, { sizeTotal: 50 }), brick(m4, { sizeTotal: 70 })]))).toBe(130);
  });
});
