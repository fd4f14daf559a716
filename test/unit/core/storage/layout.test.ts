/**
 * Layouts over tables of cluster states (issue 10): the zones a storage group
 * spans decide the layout of new volumes; expansion, replacement and shrink keep
 * a volume's layout; a replica 2 volume without quorum options gets them; server
 * quorum is lifted for a replacement only when the missing peers are gone.
 * Volume shapes come from genuine glusterfs 10.3 output (fixtures/).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrapPlan } from '../../../../lib/core/storage/bootstrap';
import { usableCapacity, usedBytes } from '../../../../lib/core/storage/capacity';
import { planExpansion, type ExpansionPlan } from '../../../../lib/core/storage/expand';
import { commandLine } from '../../../../lib/core/storage/gluster-actions';
import { parseVolumeInfo, parseVolumeStatusDetail } from '../../../../lib/core/storage/gluster-parse';
import {
  ARBITER_LAYOUT,
  hasClientQuorum,
  layoutFixes,
  layoutForZones,
  layoutOfVolume,
  planServerQuorumLift,
  QUORUM_LAYOUT,
  serverQuorumHolds,
} from '../../../../lib/core/storage/layout';
import { planReplacement, type ReplacementPlan } from '../../../../lib/core/storage/replace';
import type { StorageSettings } from '../../../../lib/core/storage/settings';
import { planShrink, type ShrinkPlan } from '../../../../lib/core/storage/shrink';
import { buildClusterSnapshot, type Brick, type ClusterSnapshot, type StorageMember, type VolumeSnapshot } from '../../../../lib/core/storage/snapshot';

const FIXTURES = join(__dirname, 'fixtures');
const fixture = (name: string) => readFileSync(join(FIXTURES, `${name}.xml`), 'utf8');

const GiB = 1024 ** 3;
const [A, B, C, D] = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c', 'eu-west-1d'];
const subnet: Record<string, number> = { [A]: 1, [B]: 2, [C]: 3, [D]: 4 };
const member = (n: number, zone: string, over: Partial<StorageMember> = {}): StorageMember => ({
  instanceId: `i-${n}`, host: `10.71.${subnet[zone]}.${n}`, zone, lifecycleState: 'InService', peerState: 'connected', protected: true, ...over,
});
const brick = (m: StorageMember, over: Partial<Brick> = {}): Brick => ({ host: m.host, path: '/bricks/pydio-data/brick', online: true, sizeTotal: 100 * GiB, sizeFree: 60 * GiB, ...over });
const arbiterBrick = (m: StorageMember, over: Partial<Brick> = {}) => brick(m, { arbiter: true, sizeTotal: 10 * GiB, sizeFree: 9 * GiB, ...over });
const QUORUM_OPTIONS = { 'cluster.quorum-type': 'auto', 'cluster.server-quorum-type': 'server', 'cluster.server-quorum-ratio': '51%' };
const volume = (name: string, bricks: Brick[], over: Partial<VolumeSnapshot> = {}): VolumeSnapshot => ({ name, replicaCount: 2, bricks, rebalance: 'none', healPending: 0, ...over });
const arbiterVolume = (bricks: Brick[], over: Partial<VolumeSnapshot> = {}) => volume('pydio-data', bricks, { replicaCount: 3, arbiterCount: 1, ...over });
const group = (zones: string[], over: Partial<ClusterSnapshot['group']> = {}) => ({ name: 'pydio-storage', min: 2, max: 9, desired: 3, zones, ...over });
const settings: StorageSettings = { brickRoot: '/bricks', newBrickBytes: 100 * GiB, maxSetsPerRequest: 3 };
const OPTS = { volumes: ['pydio-config', 'pydio-data'], brickRoot: '/bricks' };

describe('layoutForZones: the zones the storage group spans decide the layout of new volumes', () => {
  it.each<[string, string[], string]>([
    ['no zone', [], 'refused'],
    ['one zone', [A], 'refused'],
    ['one zone named twice', [A, A], 'refused'],
    ['two zones', [A, B], 'quorum'],
    ['three zones', [A, B, C], 'arbiter'],
    ['four zones', [A, B, C, D], 'arbiter'],
  ])('%s -> %s', (_name, zones, kind) => {
    expect(layoutForZones(zones).kind).toBe(kind);
  });
  it('says why one zone cannot hold replicas', () => {
    const out = layoutForZones([A]);
    expect(out.kind === 'refused' && out.reason).toBe('storage group spans 1 zone (eu-west-1a): replicas need two zones (replica 2 with quorum) or three (replica 3 arbiter 1)');
  });
});

describe('bootstrapPlan over the zones of the group', () => {
  const members = [member(1, A), member(2, B), member(3, C), member(4, D), member(5, A)];
  it.each<[string, string[], StorageMember[], string[] | RegExp]>([
    ['one zone: waits, saying why', [A], members, /cannot be created: storage group spans 1 zone/],
    ['two zones: replica 2, quorum options before the first start', [A, B], members.slice(0, 2), [
      'volume create pydio-config replica 2 10.71.1.1:/bricks/pydio-config/brick 10.71.2.2:/bricks/pydio-config/brick',
      'volume create pydio-data replica 2 10.71.1.1:/bricks/pydio-data/brick 10.71.2.2:/bricks/pydio-data/brick',
      'volume set pydio-config cluster.quorum-type auto',
      'volume set pydio-data cluster.quorum-type auto',
      'volume set all cluster.server-quorum-ratio 51%',
      'volume set pydio-config cluster.server-quorum-type server',
      'volume set pydio-data cluster.server-quorum-type server',
      'volume start pydio-config',
      'volume start pydio-data',
    ]],
    ['three zones: replica 3 arbiter 1 over three zones, the third member the arbiter; Gluster sets its client quorum', [A, B, C], members.slice(0, 3), [
      'volume create pydio-config replica 3 arbiter 1 10.71.1.1:/bricks/pydio-config/brick 10.71.2.2:/bricks/pydio-config/brick 10.71.3.3:/bricks/pydio-config/brick',
      'volume create pydio-data replica 3 arbiter 1 10.71.1.1:/bricks/pydio-data/brick 10.71.2.2:/bricks/pydio-data/brick 10.71.3.3:/bricks/pydio-data/brick',
      'volume start pydio-config',
      'volume start pydio-data',
    ]],
    ['four zones: an arbiter set over three of them (lowest instance ids)', [A, B, C, D], [members[3]!, members[2]!, members[1]!, members[0]!], [
      'volume create pydio-config replica 3 arbiter 1 10.71.1.1:/bricks/pydio-config/brick 10.71.2.2:/bricks/pydio-config/brick 10.71.3.3:/bricks/pydio-config/brick',
      'volume create pydio-data replica 3 arbiter 1 10.71.1.1:/bricks/pydio-data/brick 10.71.2.2:/bricks/pydio-data/brick 10.71.3.3:/bricks/pydio-data/brick',
      'volume start pydio-config',
      'volume start pydio-data',
    ]],
    ['three zones, members in two of them so far: waits for the third zone', [A, B, C], [members[0]!, members[1]!, members[4]!], /3 connected members in distinct zones are needed to create the volumes as replica 3 arbiter 1 \(two data bricks and an arbiter per set, three zones\); 3 connected in 2 zone\(s\)/],
  ])('%s', (_name, zones, joined, expected) => {
    const out = bootstrapPlan(joined, layoutForZones(zones), OPTS);
    if (expected instanceof RegExp) {
      expect(out.kind).toBe('wait');
      expect(out.kind === 'wait' && out.reason).toMatch(expected);
    } else {
      expect(out.kind === 'plan' && out.commands.map((c) => c.replace('gluster --mode=script ', ''))).toEqual(expected);
    }
  });
});

describe('the volume layout read from genuine volume info', () => {
  it.each<[string, string, number, number, string, number[]]>([
    ['replica 3 arbiter 1 (1 x 3)', 'volume-info-arbiter-1x3', 3, 1, 'arbiter', [2]],
    ['arbiter after add-brick replica 3 arbiter 1 (2 x 3)', 'volume-info-arbiter-2x3', 3, 1, 'arbiter', [2, 5]],
    ['arbiter after replace-brick of the second arbiter: the new brick is the arbiter', 'volume-info-arbiter-replaced', 3, 1, 'arbiter', [2, 5]],
    ['replica 2 converted with add-brick replica 3 arbiter 1', 'volume-info-converted-to-arbiter', 3, 1, 'arbiter', [2]],
    ['replica 2 with quorum options', 'volume-info-replica2-quorum', 2, 0, 'quorum', []],
    ['replica 2 of a cluster older than issue 10 (2 x 2)', 'volume-info-2x2', 2, 0, 'quorum', []],
  ])('%s', (_name, file, replica, arbiter, kind, arbiterAt) => {
    const [info] = parseVolumeInfo(fixture(file));
    expect({ replica: info!.replicaCount, arbiter: info!.arbiterCount }).toEqual({ replica, arbiter });
    expect(info!.bricks.flatMap((b, i) => (b.isArbiter ? [i] : []))).toEqual(arbiterAt);
    expect(layoutOfVolume(info!).kind).toBe(kind);
  });

  it('the snapshot carries the roles and the options into the plans', () => {
    const [info] = parseVolumeInfo(fixture('volume-info-arbiter-2x3'));
    const detail = parseVolumeStatusDetail(fixture('volume-status-detail-arbiter-2x3'));
    const hosts = ['10.98.0.11', '10.98.0.12', '10.98.0.13'];
    const snap = buildClusterSnapshot(
      group([A, B, C]),
      hosts.map((host, i) => ({ instanceId: `i-${i + 1}`, host, zone: [A, B, C][i]!, lifecycleState: 'InService', protected: true })),
      { pool: hosts.map((h, i) => ({ uuid: `u${i}`, hostname: i === 0 ? 'localhost' : h, hostnames: [h], connected: true, state: i === 0 ? '' : 'Peer in Cluster', isLocal: i === 0 })), volumes: [info!], details: { arb: detail }, rebalance: {}, heal: {}, splitBrain: {} },
      hosts[0]!,
    );
    const [vol] = snap.volumes;
    expect(vol!.bricks.map((b) => Boolean(b.arbiter))).toEqual([false, false, true, false, false, true]);
    expect(vol!.bricks.every((b) => b.online)).toBe(true);
    expect(vol!.arbiterCount).toBe(1);
    expect(layoutFixes([vol!]).changes).toEqual([]);
  });
});

describe('layoutFixes: what each cluster state lacks for its layout', () => {
  const config = (options?: Record<string, string>, over: Partial<VolumeSnapshot> = {}) => volume('pydio-config', [], { ...(options ? { options } : {}), ...over });
  const data = (options?: Record<string, string>, over: Partial<VolumeSnapshot> = {}) => volume('pydio-data', [], { ...(options ? { options } : {}), ...over });
  it.each<[string, VolumeSnapshot[], string[]]>([
    ['replica 2 without options (older than issue 10)', [config(), data()], [
      'pydio-config cluster.quorum-type auto', 'pydio-data cluster.quorum-type auto', 'all cluster.server-quorum-ratio 51%',
      'pydio-config cluster.server-quorum-type server', 'pydio-data cluster.server-quorum-type server',
    ]],
    ['replica 2 in its layout', [config(QUORUM_OPTIONS), data(QUORUM_OPTIONS)], []],
    ['replica 2 with client quorum only', [data({ 'cluster.quorum-type': 'auto' })], ['all cluster.server-quorum-ratio 51%', 'pydio-data cluster.server-quorum-type server']],
    ['replica 2, server quorum lifted for a replacement', [data({ ...QUORUM_OPTIONS, 'cluster.server-quorum-type': 'none' })], ['pydio-data cluster.server-quorum-type server']],
    ['replica 2 with client quorum none', [data({ ...QUORUM_OPTIONS, 'cluster.quorum-type': 'none' })], ['pydio-data cluster.quorum-type auto']],
    ['replica 2 with fixed quorum of both bricks (stricter, kept)', [data({ ...QUORUM_OPTIONS, 'cluster.quorum-type': 'fixed', 'cluster.quorum-count': '2' })], []],
    ['replica 2 with fixed quorum of one brick (split-brain possible)', [data({ ...QUORUM_OPTIONS, 'cluster.quorum-type': 'fixed', 'cluster.quorum-count': '1' })], ['pydio-data cluster.quorum-type auto']],
    ['a pool ratio of 60% kept', [data({ ...QUORUM_OPTIONS, 'cluster.server-quorum-ratio': '60%' })], []],
    ['a pool ratio of 50% raised', [data({ ...QUORUM_OPTIONS, 'cluster.server-quorum-ratio': '50%' })], ['all cluster.server-quorum-ratio 51%']],
    ['an arbiter volume as created (client quorum auto by default)', [data(undefined, { replicaCount: 3, arbiterCount: 1 })], []],
    ['an arbiter volume whose client quorum was turned off', [data({ 'cluster.quorum-type': 'none' }, { replicaCount: 3, arbiterCount: 1 })], ['pydio-data cluster.quorum-type auto']],
    ['a plain replica 3 volume (auto by default)', [data(undefined, { replicaCount: 3 })], []],
    ['one volume older, one in its layout: the ratio once, the older one only', [config(QUORUM_OPTIONS), data({ 'cluster.server-quorum-ratio': '51%' })], ['pydio-data cluster.quorum-type auto', 'pydio-data cluster.server-quorum-type server']],
  ])('%s', (_name, volumes, expected) => {
    const fix = layoutFixes(volumes);
    expect(fix.steps.map((s) => commandLine(s).replace('gluster --mode=script volume set ', ''))).toEqual(expected);
    expect(fix.changes.map((c) => `${c.volume} ${c.option} ${c.to}`)).toEqual(expected);
  });
  it.each<[string, Partial<VolumeSnapshot>, boolean]>([
    ['replica 2, unset', { replicaCount: 2 }, false],
    ['replica 2, auto', { replicaCount: 2, options: { 'cluster.quorum-type': 'auto' } }, true],
    ['replica 3, unset', { replicaCount: 3 }, true],
    ['replica 3, none', { replicaCount: 3, options: { 'cluster.quorum-type': 'none' } }, false],
    ['replica 3, fixed 2', { replicaCount: 3, options: { 'cluster.quorum-type': 'fixed', 'cluster.quorum-count': '2' } }, true],
    ['replica 4, unset', { replicaCount: 4 }, false],
  ])('hasClientQuorum: %s -> %s', (_name, over, expected) => {
    expect(hasClientQuorum(volume('v', [], over))).toBe(expected);
  });
});

describe('expansion keeps the layout', () => {
  const [m1, m2, m3] = [member(1, A), member(2, B), member(3, C)];
  const arbiter1x3 = (over: Partial<VolumeSnapshot> = {}) => arbiterVolume([brick(m1), brick(m2), arbiterBrick(m3)], over);
  const snap = (zones: string[], volumes: VolumeSnapshot[], members = [m1, m2, m3]): ClusterSnapshot => ({ group: group(zones), members, volumes });

  it('an arbiter volume gets a whole set of two data bricks and an arbiter in three zones', () => {
    const plan = planExpansion(snap([A, B, C], [arbiter1x3()]), { volume: 'pydio-data', sets: 1 }, settings) as ExpansionPlan;
    expect(plan).toEqual(expect.objectContaining({ kind: 'plan', replicaCount: 3, arbiterCount: 1, desiredAfter: 6, launchZones: [A, B, C] }));
    expect(plan.commands[1]).toBe('gluster --mode=script volume add-brick pydio-data replica 3 arbiter 1 new:eu-west-1a#1:/bricks/pydio-data/brick new:eu-west-1b#2:/bricks/pydio-data/brick new:eu-west-1c#3:/bricks/pydio-data/brick');
    // Usable capacity counts the data bricks: 100 GiB a set, not the 10 GiB arbiter.
    expect({ before: plan.capacityBefore, after: plan.capacityAfter }).toEqual({ before: 100 * GiB, after: 200 * GiB });
  });
  it('once the three new members joined, they are named; each set in three distinct zones', () => {
    const fresh = [member(4, A), member(5, B), member(6, C)];
    const plan = planExpansion({ ...snap([A, B, C], [arbiter1x3()], [m1, m2, m3, ...fresh]), group: group([A, B, C], { desired: 6 }) }, { volume: 'pydio-data', sets: 1 }, settings) as ExpansionPlan;
    expect(plan.awaitsLaunch).toBe(false);
    expect(new Set(plan.sets[0]!.zones).size).toBe(3);
    expect(plan.commands[0]).toMatch(/^gluster --mode=script volume add-brick pydio-data replica 3 arbiter 1 (10\.71\.\d\.\d:\/bricks\/pydio-data\/brick ?){3}$/);
  });
  it('an arbiter volume in a group spanning two zones is refused without allowSameZone', () => {
    const out = planExpansion(snap([A, B], [arbiter1x3()]), { volume: 'pydio-data', sets: 1 }, settings);
    expect(out.kind === 'refused' && out.reason).toMatch(/keeps 3 replicas in distinct zones but storage group pydio-storage spans 2 zones/);
  });
  it('a replica 2 volume in a group that now spans three zones stays replica 2 and the plan says how it could change', () => {
    const plan = planExpansion(snap([A, B, C], [volume('pydio-data', [brick(m1), brick(m2)], { options: QUORUM_OPTIONS })]), { volume: 'pydio-data', sets: 1 }, settings) as ExpansionPlan;
    expect(plan.arbiterCount).toBe(0);
    expect(plan.commands.find((c) => c.includes('add-brick'))).toMatch(/add-brick pydio-data replica 2 \S+ \S+$/);
    expect(plan.note).toMatch(/keeps its layout \(replica 2 with quorum\) although pydio-storage spans 3 zones; converting it to replica 3 arbiter 1 is the operator's step/);
  });
  it('grow in place grows the data bricks of the fullest set and leaves its arbiter alone', () => {
    const grow: StorageSettings = { ...settings, growInPlace: { enabled: true, toBytes: 200 * GiB, preferred: true } };
    const plan = planExpansion(snap([A, B, C], [arbiter1x3()]), { volume: 'pydio-data', sets: 1 }, grow) as ExpansionPlan;
    expect(plan.steps.map((s) => s.kind === 'grow-brick' && s.instanceId)).toEqual(['i-1', 'i-2']);
    expect(plan.capacityAfter).toBe(200 * GiB);
  });
});

describe('shrink keeps the layout: whole sets go', () => {
  const ms = [member(1, A), member(2, B), member(3, C), member(4, A), member(5, B), member(6, C)];
  const twoSets = arbiterVolume([brick(ms[0]!, { sizeFree: 90 * GiB }), brick(ms[1]!, { sizeFree: 90 * GiB }), arbiterBrick(ms[2]!), brick(ms[3]!, { sizeFree: 90 * GiB }), brick(ms[4]!, { sizeFree: 90 * GiB }), arbiterBrick(ms[5]!)]);
  it('the last arbiter set (two data bricks and its arbiter) with replica 3, its three members released', () => {
    const plan = planShrink({ group: group([A, B, C], { desired: 6 }), members: ms, volumes: [twoSets] }, 'pydio-data') as ShrinkPlan;
    expect(plan.kind).toBe('plan');
    expect(plan.removed).toEqual(['10.71.1.4:/bricks/pydio-data/brick', '10.71.2.5:/bricks/pydio-data/brick', '10.71.3.6:/bricks/pydio-data/brick']);
    expect(plan.commands[0]).toBe('gluster --mode=script volume remove-brick pydio-data replica 3 10.71.1.4:/bricks/pydio-data/brick 10.71.2.5:/bricks/pydio-data/brick 10.71.3.6:/bricks/pydio-data/brick start');
    expect(plan.releasedInstanceIds).toEqual(['i-4', 'i-5', 'i-6']);
    expect({ used: plan.usedBytes, before: plan.capacityBefore, after: plan.capacityAfter }).toEqual({ used: 20 * GiB, before: 200 * GiB, after: 100 * GiB });
  });
  it('capacity and use count the data bricks, never the arbiter', () => {
    expect(usableCapacity(twoSets)).toBe(200 * GiB);
    expect(usedBytes(arbiterVolume([brick(ms[0]!, { sizeFree: 40 * GiB }), brick(ms[1]!, { sizeFree: 50 * GiB }), arbiterBrick(ms[2]!, { sizeTotal: 200 * GiB, sizeFree: 0 })]))).toBe(60 * GiB);
  });
});

describe('replacement keeps each brick\'s role', () => {
  const [m1, m2, m3] = [member(1, A), member(2, B), member(3, C)];
  const snap = (bricks: Brick[], deadZone: string, dead: StorageMember): ClusterSnapshot => ({
    group: group([A, B, C]),
    members: [m1, m2, m3].map((m) => (m.instanceId === dead.instanceId ? { ...m, peerState: 'disconnected' as const, lifecycleState: 'Terminated' } : m)),
    volumes: [arbiterVolume(bricks)],
    strayPeers: [],
    ...(deadZone ? {} : {}),
  });
  it.each<[string, Brick[], StorageMember, boolean]>([
    ['the arbiter member died: the replacement takes the arbiter brick, which stays the arbiter', [brick(m1), brick(m2), arbiterBrick(m3, { online: false })], m3, true],
    ['a data member died: the other data brick heals it', [brick(m1, { online: false }), brick(m2), arbiterBrick(m3)], m1, false],
  ])('%s', (_name, bricks, dead, arbiter) => {
    const fresh = member(9, dead.zone);
    const plan = planReplacement(snap(bricks, dead.zone, dead), dead.instanceId, fresh, settings) as ReplacementPlan;
    expect(plan.kind).toBe('plan');
    expect(plan.bricks).toEqual([{ volume: 'pydio-data', from: `${dead.host}:/bricks/pydio-data/brick`, to: `${fresh.host}:/bricks/pydio-data/brick`, ...(arbiter ? { arbiter: true } : {}) }]);
    expect(plan.commands[0]).toBe(`gluster --mode=script volume replace-brick pydio-data ${dead.host}:/bricks/pydio-data/brick ${fresh.host}:/bricks/pydio-data/brick commit force`);
  });
  it('a data member died while the other data brick is offline: refused, the arbiter holds no file data to heal from', () => {
    const out = planReplacement(snap([brick(m1, { online: false }), brick(m2, { online: false }), arbiterBrick(m3)], A, m1), m1.instanceId, member(9, A), settings);
    expect(out.kind === 'refused' && out.reason).toMatch(/no online data replica left in the pydio-data set .*10\.71\.3\.3:\/bricks\/pydio-data\/brick \(arbiter\).*the arbiter holds no file data/);
  });
});

describe('planServerQuorumLift: only when every missing peer is gone from the group', () => {
  const [m1, m2, fresh] = [member(1, A), member(2, B), member(3, A, { lifecycleState: 'Pending:Wait', peerState: 'absent' })];
  const withQuorum = [volume('pydio-config', [], { options: QUORUM_OPTIONS }), volume('pydio-data', [], { options: QUORUM_OPTIONS })];
  const snap = (over: Partial<ClusterSnapshot>): ClusterSnapshot => ({ group: group([A, B]), members: [m2, fresh], volumes: withQuorum, strayPeers: [], ...over });
  it.each<[string, ClusterSnapshot, { instanceId: string; lifecycleState: string }[], string | RegExp]>([
    ['the dead member terminated: only a stray peer is missing', snap({ strayPeers: [{ host: m1.host, connected: false }] }), [], 'lift'],
    ['the dead member still terminating', snap({ members: [{ ...m1, peerState: 'disconnected', lifecycleState: 'Terminating:Wait' }, m2, fresh] }), [], 'lift'],
    ['a member in service cut off (partition)', snap({ members: [{ ...m1, peerState: 'disconnected' }, m2, fresh] }), [], /i-1 \(10\.71\.1\.1, eu-west-1a, InService\) still in the storage group but cut off/],
    ['an in-service instance with no known address', snap({ strayPeers: [{ host: m1.host, connected: false }] }), [{ instanceId: 'i-1', lifecycleState: 'InService' }], /i-1 \(InService\) of the storage group with no known address/],
    ['no volume in server quorum', snap({ volumes: [volume('pydio-data', [])], strayPeers: [{ host: m1.host, connected: false }] }), [], /no volume of the stage is in server quorum/],
    ['another volume of the pool in server quorum too (glusterd takes no peer while any is)', snap({ volumes: [...withQuorum, volume('other', [], { options: QUORUM_OPTIONS })], strayPeers: [{ host: m1.host, connected: false }] }), [], /volume other of the pool, not this stage's, is in server quorum too: .*lift it by hand/],
    ['every peer connected', snap({}), [], /no peer of the pool is disconnected/],
  ])('%s', (_name, s, unaddressed, expected) => {
    const out = planServerQuorumLift(s, ['pydio-config', 'pydio-data'], unaddressed);
    if (expected === 'lift') {
      expect(out.kind).toBe('lift');
      expect(out.kind === 'lift' && out.steps.map(commandLine)).toEqual([
        'gluster --mode=script volume set pydio-config cluster.server-quorum-type none',
        'gluster --mode=script volume set pydio-data cluster.server-quorum-type none',
      ]);
    } else {
      expect(out.kind === 'keep' && out.reason).toMatch(expected);
    }
  });
  it('never lifts another stage\'s volume: with one in server quorum the lift would not let the peer in, so it keeps and names it', () => {
    const out = planServerQuorumLift(snap({ strayPeers: [{ host: m1.host, connected: false }] }), ['pydio-data'], []);
    expect(out.kind === 'keep' && out.reason).toMatch(/^volume pydio-config of the pool, not this stage's, is in server quorum too/);
  });
});

describe('serverQuorumHolds (51% of the pool, as glusterd counts it)', () => {
  const c = (n: number) => member(n, A);
  const d = (n: number) => member(n, B, { peerState: 'disconnected' });
  it.each<[string, StorageMember[], { host: string; connected: boolean }[], boolean]>([
    ['two of two', [c(1), c(2)], [], true],
    ['one of two', [c(1), d(2)], [], false],
    ['two of three (a dead peer left in the pool)', [c(1), c(2)], [{ host: '10.9.9.9', connected: false }], true],
    ['two of four (a zone lost)', [c(1), c(2), d(3), d(4)], [], false],
    ['three of four', [c(1), c(2), c(3), d(4)], [], true],
    ['a member not in the pool does not count', [c(1), c(2), member(3, A, { peerState: 'absent' })], [], true],
  ])('%s -> %s', (_name, members, strayPeers, holds) => {
    expect(serverQuorumHolds({ members, strayPeers })).toBe(holds);
  });
});

describe('the layouts as data', () => {
  it('arbiter is replica 3 arbiter 1, quorum is replica 2', () => {
    expect(ARBITER_LAYOUT).toEqual({ kind: 'arbiter', replica: 3, arbiter: 1 });
    expect(QUORUM_LAYOUT).toEqual({ kind: 'quorum', replica: 2, arbiter: 0 });
  });
});
