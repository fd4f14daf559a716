import { readFileSync } from 'fs';
import { join } from 'path';
import { parsePoolList, parseStatusBundle, parseVolumeInfo } from '../../../../lib/core/storage/gluster-parse';
import { assessHealth, healthGauges, healthProblems, healthSummary, serverQuorumLost, type ClusterHealth, type HealthMember } from '../../../../lib/core/storage/health';
import { decodeHealthState, digestOf, encodeHealthState, healthChange, HEALTH_RECORD_MAX_BYTES, isCovered, keptRepairs, restartsWithin, type HealthState } from '../../../../lib/core/storage/health-record';
import { serverQuorumMet } from '../../../../lib/core/storage/layout';
import { brickLog, decideRepairs, restartSteps, type RepairSettings } from '../../../../lib/core/storage/repair';
import { BUNDLE_END } from '../../../../lib/core/storage/status-frame';
import { encodeHealthCheck, isHealthCheckMessage, parseHealthCheck } from '../../../../lib/core/storage/health-check';
import { MalformedEventError } from '../../../../lib/errors';

/**
 * Health states built from genuine glusterfs 10.3 output (fixtures/README.md).
 * The brick-repair and split-brain captures ran on 10.96.0.11/12; the older
 * ones on 10.97.0.11/12, whose addresses are rewritten to 10.96 where both are
 * joined in one bundle (the XML is otherwise unchanged).
 */
const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', `${name}.xml`), 'utf8').replace(/10\.97\.0\./g, '10.96.0.');
const N1 = '10.96.0.11';
const N2 = '10.96.0.12';
const READ_ON = { instanceId: 'i-1', host: N1 };

type Section = [marker: string, xml: string];
function bundle(sections: readonly Section[]): string {
  return [...sections.flatMap(([marker, xml]) => [`### gluster-status ${marker} ###`, xml]), BUNDLE_END, ''].join('\n');
}
/** volume info of both volumes, Started (the capture's "created" state, started as it was right after). */
const startedInfo = () => fixture('volume-info-created').replace(/<status>0<\/status>/g, '<status>1</status>').replace(/<statusStr>Created<\/statusStr>/g, '<statusStr>Started</statusStr>');
const config = (detail: string, heal: string, split?: string): Section[] => [
  ['volume-status-detail pydio-config rc=0', fixture(detail).replace(/pydio-data/g, 'pydio-config')],
  ['rebalance-status pydio-config rc=1', fixture('rebalance-status-not-started')],
  ['heal-info-summary pydio-config rc=0', fixture(heal).replace(/pydio-data/g, 'pydio-config')],
  ...(split ? ([['heal-info-split-brain pydio-config rc=0', fixture(split)]] as Section[]) : []),
];
const data = (detail: string, heal: string): Section[] => [
  ['volume-status-detail pydio-data rc=0', fixture(detail)],
  ['rebalance-status pydio-data rc=1', fixture('rebalance-status-not-started')],
  ['heal-info-summary pydio-data rc=0', fixture(heal)],
];

const member = (instanceId: string, host: string, over: Partial<HealthMember> = {}): HealthMember => ({ instanceId, host, zone: host === N1 ? 'eu-west-1a' : 'eu-west-1b', lifecycleState: 'InService', agentOnline: true, ...over });
const MEMBERS = [member('i-1', N1), member('i-2', N2)];
const VOLUMES = ['pydio-config', 'pydio-data'];

const STATES: Record<string, { text: string; members?: HealthMember[] }> = {
  healthy: { text: bundle([['pool-list rc=0', fixture('pool-list-connected')], ['volume-info rc=0', startedInfo()], ...config('volume-status-detail-replica2', 'heal-info-summary-clean'), ...data('volume-status-detail-replica2', 'heal-info-summary-clean')]) },
  'brick killed on a live member': {
    text: bundle([['pool-list rc=0', fixture('pool-list-connected')], ['volume-info rc=0', startedInfo()], ...config('volume-status-detail-config-brick-killed', 'heal-info-summary-brick-killed'), ...data('volume-status-detail-replica2', 'heal-info-summary-clean')]),
  },
  'member down (peer disconnected)': {
    text: bundle([['pool-list rc=0', fixture('pool-list-disconnected')], ['volume-info rc=0', startedInfo()], ...config('volume-status-detail-replica2', 'heal-info-summary-clean'), ...data('volume-status-detail-peer-down', 'heal-info-summary-pending')]),
  },
  'split-brain on pydio-config': {
    text: bundle([['pool-list rc=0', fixture('pool-list-connected')], ['volume-info rc=0', startedInfo()], ...config('volume-status-detail-replica2', 'heal-info-summary-split-brain', 'heal-info-split-brain'), ...data('volume-status-detail-replica2', 'heal-info-summary-clean')]),
  },
  'pydio-data not created yet': {
    text: bundle([['pool-list rc=0', fixture('pool-list-connected')], ['volume-info rc=0', fixture('volume-info-created').replace(/<volume>(?:(?!<volume>)[\s\S])*?<name>pydio-data<\/name>[\s\S]*?<\/volume>\s*/, '').replace('<count>2</count>', '<count>1</count>').replace(/<status>0<\/status>/g, '<status>1</status>').replace(/<statusStr>Created<\/statusStr>/g, '<statusStr>Started</statusStr>')], ...config('volume-status-detail-replica2', 'heal-info-summary-clean')]),
  },
  'volumes created, not started': { text: bundle([['pool-list rc=0', fixture('pool-list-connected')], ['volume-info rc=0', fixture('volume-info-created')]]) },
  'an in-service member not in the pool': {
    text: bundle([['pool-list rc=0', fixture('pool-list-connected')], ['volume-info rc=0', startedInfo()], ...config('volume-status-detail-replica2', 'heal-info-summary-clean'), ...data('volume-status-detail-replica2', 'heal-info-summary-clean')]),
    members: [...MEMBERS, member('i-3', '10.96.0.13')],
  },
};

const assess = (name: string): ClusterHealth => {
  const state = STATES[name]!;
  return assessHealth(parseStatusBundle(state.text), state.members ?? MEMBERS, VOLUMES, READ_ON);
};
const gauge = (h: ClusterHealth, name: string, volume?: string) => healthGauges(h).find((g) => g.name === name && g.volume === volume)?.value;

describe('assessHealth over captured cluster states', () => {
  it.each<[string, { summary: string; offline: string[]; peers: string[]; heal: Record<string, number>; split: Record<string, number>; keys: string[] }]>([
    ['healthy', { summary: 'healthy', offline: [], peers: [], heal: { 'pydio-config': 0, 'pydio-data': 0 }, split: { 'pydio-config': 0, 'pydio-data': 0 }, keys: [] }],
    ['brick killed on a live member', {
      summary: '1 brick offline (pydio-config)', offline: [`pydio-config ${N2}:/srv/bricks/pydio-config/brick i-2`], peers: [],
      heal: { 'pydio-config': 0, 'pydio-data': 0 }, split: { 'pydio-config': 0, 'pydio-data': 0 },
      keys: [`brick pydio-config ${N2}:/srv/bricks/pydio-config/brick offline`],
    }],
    ['member down (peer disconnected)', {
      summary: '1 brick offline (pydio-data); 1 peer disconnected', offline: [`pydio-data ${N2}:/srv/bricks/pydio-data/brick i-2`], peers: [`${N2} disconnected i-2`],
      heal: { 'pydio-config': 0, 'pydio-data': 21 }, split: { 'pydio-config': 0, 'pydio-data': 0 },
      keys: [`brick pydio-data ${N2}:/srv/bricks/pydio-data/brick offline`, `peer ${N2} disconnected`],
    }],
    ['split-brain on pydio-config', {
      summary: '3 split-brain entries (pydio-config)', offline: [], peers: [],
      heal: { 'pydio-config': 3, 'pydio-data': 0 }, split: { 'pydio-config': 3, 'pydio-data': 0 },
      keys: ['split-brain pydio-config 3'],
    }],
    ['pydio-data not created yet', { summary: 'missing volume pydio-data', offline: [], peers: [], heal: { 'pydio-config': 0 }, split: { 'pydio-config': 0 }, keys: ['volume pydio-data missing'] }],
    ['volumes created, not started', {
      summary: 'pydio-config Created; pydio-data Created', offline: [`pydio-config ${N1}:/srv/bricks/pydio-config/brick i-1`, `pydio-config ${N2}:/srv/bricks/pydio-config/brick i-2`, `pydio-data ${N1}:/srv/bricks/pydio-data/brick i-1`, `pydio-data ${N2}:/srv/bricks/pydio-data/brick i-2`], peers: [],
      heal: { 'pydio-config': 0, 'pydio-data': 0 }, split: { 'pydio-config': 0, 'pydio-data': 0 },
      keys: ['volume pydio-config Created', 'volume pydio-data Created'],
    }],
    ['an in-service member not in the pool', { summary: '1 peer disconnected', offline: [], peers: ['10.96.0.13 absent i-3'], heal: { 'pydio-config': 0, 'pydio-data': 0 }, split: { 'pydio-config': 0, 'pydio-data': 0 }, keys: ['peer 10.96.0.13 absent'] }],
  ])('%s', (name, expected) => {
    const h = assess(name);
    expect(healthSummary(h)).toBe(expected.summary);
    expect(h.volumes.flatMap((v) => v.bricksOffline.map((b) => `${b.volume} ${b.host}:${b.path} ${b.instanceId}`))).toEqual(expected.offline);
    expect(h.peers.map((p) => `${p.host} ${p.state} ${p.instanceId}`)).toEqual(expected.peers);
    expect(Object.fromEntries(h.volumes.map((v) => [v.volume, v.healEntries]))).toEqual(expected.heal);
    expect(Object.fromEntries(h.volumes.map((v) => [v.volume, v.splitBrainEntries]))).toEqual(expected.split);
    expect(healthProblems(h).map((p) => p.key)).toEqual(expected.keys);
    // The pool-wide gauges add the volumes up; peers are pool-wide only.
    expect(gauge(h, 'GlusterBricksOffline')).toBe(expected.offline.length);
    expect(gauge(h, 'GlusterPeersDisconnected')).toBe(expected.peers.length);
    expect(gauge(h, 'GlusterPeersDisconnected', 'pydio-data')).toBeUndefined();
    for (const v of h.volumes) expect(gauge(h, 'GlusterBricksOffline', v.volume)).toBe(v.bricksOffline.length);
  });

  it('split-brain: every file named by its path (the brick that knew it by gfid only does not hide it), never resolved', () => {
    const h = assess('split-brain on pydio-config');
    expect(h.volumes[0]!.splitBrainFiles).toEqual(['/conf/bootstrap.json', '/conf/plugins conf.json', '/conf/users.json']);
    const [problem] = healthProblems(h);
    expect(problem!.text).toBe(
      '3 entries of pydio-config in split-brain (not resolved: choose the good copy by hand, see gluster volume heal pydio-config split-brain):\n    /conf/bootstrap.json\n    /conf/plugins conf.json\n    /conf/users.json',
    );
    expect(gauge(h, 'GlusterSplitBrainEntries', 'pydio-config')).toBe(3);
  });

  it('a brick whose heal state could not be read is counted as unknown, not as zero entries', () => {
    const h = assess('brick killed on a live member');
    expect(h.volumes.find((v) => v.volume === 'pydio-config')!.healUnknownBricks).toBe(1);
  });

  it('split-brain paths beyond the ones named are counted', () => {
    const h = assess('split-brain on pydio-config');
    const many: ClusterHealth = { ...h, volumes: h.volumes.map((v) => (v.volume === 'pydio-config' ? { ...v, splitBrainEntries: 75, splitBrainFiles: Array.from({ length: 50 }, (_, i) => `/f${i}`) } : v)) };
    const text = healthProblems(many)[0]!.text;
    expect(text.split('\n').filter((l) => l.startsWith('    /f'))).toHaveLength(20);
    expect(text).toContain('... and 55 more');
  });
});

describe('a change of health is told once', () => {
  const NOW = new Date('2026-11-21T10:00:00Z');
  const told = (keys: string[]): HealthState => ({ healthy: keys.length === 0, at: NOW.toISOString(), told: { digest: digestOf(keys), problems: keys, at: NOW.toISOString() } });
  const p = (key: string) => ({ key, text: key });
  it.each<[string, HealthState | undefined, string[], { tell: boolean; added: string[]; resolved: string[] }]>([
    ['first read, healthy: the baseline, nothing to tell', undefined, [], { tell: false, added: [], resolved: [] }],
    ['first read, unhealthy: told', undefined, ['brick a offline'], { tell: true, added: ['brick a offline'], resolved: [] }],
    ['same problems as told: not told again', told(['brick a offline']), ['brick a offline'], { tell: false, added: [], resolved: [] }],
    ['same problems in another order: not told again', told(['b', 'a']), ['a', 'b'], { tell: false, added: [], resolved: [] }],
    ['a new problem: told, the new one named', told(['brick a offline']), ['brick a offline', 'peer x disconnected'], { tell: true, added: ['peer x disconnected'], resolved: [] }],
    ['healthy again: told, what was resolved named', told(['brick a offline']), [], { tell: true, added: [], resolved: ['brick a offline'] }],
    ['healthy and told healthy: nothing', told([]), [], { tell: false, added: [], resolved: [] }],
    ['more split-brain entries: told (new files in split-brain are news)', told(['split-brain v 3']), ['split-brain v 5'], { tell: true, added: ['split-brain v 5'], resolved: ['split-brain v 3'] }],
  ])('%s', (_name, previous, keys, expected) => {
    const change = healthChange(previous, keys.map(p), NOW);
    expect({ tell: change.tell, added: change.added, resolved: change.resolved }).toEqual(expected);
    expect(change.told.digest).toBe(digestOf(keys));
  });

  it('an unchanged state keeps the time it was told', () => {
    const before = told(['a']);
    expect(healthChange(before, [p('a')], new Date('2026-11-21T11:00:00Z')).told.at).toBe(NOW.toISOString());
  });
});

describe('the health record', () => {
  const NOW = new Date('2026-11-21T10:00:00Z');
  it('fits Parameter Store\'s 4 KB: cut lists and old repairs go first, the digest stays exact', () => {
    const keys = Array.from({ length: 60 }, (_, i) => `brick pydio-data 10.0.${i}.10:/bricks/pydio-data/brick-with-a-long-name-${i} offline`);
    const repairs = Object.fromEntries(keys.map((k, i) => [k, { restarts: [new Date(NOW.getTime() - i * 1000).toISOString()], told: 'not repaired: brick repair is off (stage parameter glusterRepairBricks)' }]));
    const state: HealthState = { healthy: false, reason: 'x'.repeat(1000), at: NOW.toISOString(), problems: keys, problemCount: 60, told: { digest: digestOf(keys), problems: keys, at: NOW.toISOString() }, repairs };
    const encoded = encodeHealthState(state);
    expect(Buffer.byteLength(encoded)).toBeLessThanOrEqual(HEALTH_RECORD_MAX_BYTES);
    const back = decodeHealthState(encoded)!;
    expect(back.told!.digest).toBe(digestOf(keys));
    expect(back.problemCount).toBe(60);
    // The newest repairs are the ones kept.
    expect(Object.keys(back.repairs ?? {})).toContain(keys[0]);
  });

  it.each([
    ['absent', undefined],
    ['not JSON', '{'],
    ['without healthy', JSON.stringify({ at: NOW.toISOString() })],
    ['with a malformed told state', JSON.stringify({ healthy: true, at: NOW.toISOString(), told: { digest: 1 } })],
    ['with malformed repairs', JSON.stringify({ healthy: true, at: NOW.toISOString(), repairs: { a: { restarts: 'x' } } })],
  ])('a record %s reads as none (the next read is a first read)', (_name, raw) => {
    expect(decodeHealthState(raw)).toBeUndefined();
  });

  it('restarts count within the window; repairs of bricks back online and quiet are forgotten', () => {
    const state: HealthState = {
      healthy: true, at: NOW.toISOString(),
      repairs: {
        'v a': { restarts: ['2026-11-21T09:50:00.000Z', '2026-11-21T08:00:00.000Z'], told: 'restarted' },
        'v b': { restarts: ['2026-11-21T07:00:00.000Z'], told: 'restarted' },
        'v c': { restarts: [], told: 'not repaired: x' },
      },
    };
    expect(restartsWithin(state, 'v a', NOW, 3600)).toBe(1);
    expect(restartsWithin(state, 'v b', NOW, 3600)).toBe(0);
    expect(keptRepairs(state, ['v c'], NOW, 3600)).toEqual({ 'v a': { restarts: ['2026-11-21T09:50:00.000Z'], told: 'restarted' }, 'v c': { restarts: [], told: 'not repaired: x' } });
  });
});

describe('isCovered: one health read at a time', () => {
  const NOW = new Date('2026-11-21T10:10:00Z');
  const base: HealthState = { healthy: true, at: '2026-11-21T10:00:00.000Z', readAt: '2026-11-21T10:00:00.000Z' };
  it.each<[string, HealthState | undefined, string, boolean]>([
    ['no record yet: read', undefined, '2026-11-21T10:09:00.000Z', false],
    ['asked after the last read answered: read', base, '2026-11-21T10:09:00.000Z', false],
    ['asked before the last read answered: covered', base, '2026-11-21T09:59:59.000Z', true],
    ['a read running (started 30 s ago), asked after it started: covered, the next period reads again', { ...base, reading: { since: '2026-11-21T10:09:30.000Z', operationId: 'm1' } }, '2026-11-21T10:09:50.000Z', true],
    ['a read started longer ago than the command timeout is dead: read', { ...base, reading: { since: '2026-11-21T09:59:00.000Z', operationId: 'm1' } }, '2026-11-21T10:09:50.000Z', false],
    ['an unreadable time: read', base, 'yesterday', false],
  ])('%s', (_name, state, requestedAt, covered) => {
    expect(isCovered(state, requestedAt, NOW, 600)).toBe(covered);
  });
});

describe('decideRepairs', () => {
  const ON: RepairSettings = { enabled: true, maxRestarts: 3, windowSeconds: 3600 };
  const killed = () => assess('brick killed on a live member');
  it.each<[string, () => ClusterHealth, HealthMember[], number, RepairSettings, string]>([
    ['a brick killed on a live member: restarted', killed, MEMBERS, 0, ON, 'restart'],
    ['repair off: told, not restarted', killed, MEMBERS, 0, { ...ON, enabled: false }, 'not repaired: brick repair is off (stage parameter glusterRepairBricks)'],
    ['member not InService', killed, [MEMBERS[0]!, member('i-2', N2, { lifecycleState: 'Terminating:Wait' })], 0, ON, 'not repaired: member i-2 is Terminating:Wait, not InService'],
    ['agent offline', killed, [MEMBERS[0]!, member('i-2', N2, { agentOnline: false })], 0, ON, 'not repaired: the SSM agent of member i-2 is not online'],
    ['no member at that address', killed, [MEMBERS[0]!], 0, ON, `not repaired: no member of the storage group has the address ${N2}`],
    ['restarted too often already', killed, MEMBERS, 3, ON, `not repaired: restarted 3 times in the last 60 minutes and offline again: see ${brickLog('/srv/bricks/pydio-config/brick')} on i-2`],
    ['the member itself is down (peer disconnected): the group replaces it', () => assess('member down (peer disconnected)'), MEMBERS, 0, ON, 'not repaired: glusterd of member i-2 does not answer (peer disconnected): the member itself is down, the group replaces it'],
    ['a volume that is not started is left to ops', () => assess('volumes created, not started'), MEMBERS, 0, ON, 'not repaired: volume pydio-config is Created: starting a volume is left to ops'],
  ])('%s', (_name, health, members, restarts, settings, expected) => {
    const [first] = decideRepairs(health(), members, () => restarts, settings);
    expect(first!.kind === 'restart' ? 'restart' : `not repaired: ${first!.reason}`).toBe(expected);
  });

  it('bricks glusterd stopped for server quorum are not restarted (it refuses without quorum and starts them itself once quorum is back)', () => {
    const h = killed();
    const lost: ClusterHealth = { ...h, volumes: h.volumes.map((v) => (v.volume === 'pydio-config' ? { ...v, serverQuorumLost: { connected: 1, peers: 2 } } : v)) };
    const [first] = decideRepairs(lost, MEMBERS, () => 0, ON);
    expect(first).toMatchObject({ kind: 'not-repaired', reason: 'glusterd stopped it: server quorum lost (1 of 2 peers connected); glusterd starts it again once the pool has quorum (the missing member back, or replaced by the group)' });
    expect(restartSteps(decideRepairs(lost, MEMBERS, () => 0, ON))).toEqual([]);
  });

  it('server quorum lost, read from genuine output: a volume in server quorum with one of two peers connected', () => {
    const [inQuorum] = parseVolumeInfo(fixture('volume-info-server-quorum-lost'));
    const [noQuorumOption] = parseVolumeInfo(startedInfo());
    expect(serverQuorumLost(inQuorum!, parsePoolList(fixture('pool-list-disconnected')))).toEqual({ connected: 1, peers: 2 });
    expect(serverQuorumLost(inQuorum!, parsePoolList(fixture('pool-list-connected')))).toBeUndefined();
    expect(serverQuorumLost(noQuorumOption!, parsePoolList(fixture('pool-list-disconnected')))).toBeUndefined();
  });

  it.each<[string, number, number, number | undefined, boolean]>([
    ['51% of 2: both', 2, 2, 51, true],
    ['51% of 2: one is not enough', 1, 2, 51, false],
    ['51% of 3: two', 2, 3, 51, true],
    ['no ratio, 2 peers: more than half is both', 1, 2, undefined, false],
    ['no ratio, 3 peers: two', 2, 3, undefined, true],
    ['no ratio, 4 peers: three', 2, 4, undefined, false],
  ])('glusterd counts server quorum: %s', (_name, connected, peers, ratio, met) => {
    expect(serverQuorumMet(connected, peers, ratio)).toBe(met);
  });

  it('one volume start force per volume, whatever the number of its dead bricks', () => {
    const h = assess('volumes created, not started');
    const started: ClusterHealth = { ...h, volumes: h.volumes.map((v) => ({ ...v, status: 'Started' })) };
    expect(restartSteps(decideRepairs(started, MEMBERS, () => 0, ON))).toEqual([
      { kind: 'gluster', action: 'volume-start-force', volume: 'pydio-config' },
      { kind: 'gluster', action: 'volume-start-force', volume: 'pydio-data' },
    ]);
  });

  it('a healthy cluster repairs nothing', () => {
    expect(decideRepairs(assess('healthy'), MEMBERS, () => 0, ON)).toEqual([]);
  });

  it('the brick log is where glusterd writes it', () => {
    expect(brickLog('/bricks/pydio-data/brick')).toBe('/var/log/glusterfs/bricks/bricks-pydio-data-brick.log');
  });
});

describe('the health check message', () => {
  it('round-trips what the watch sends', () => {
    const body = JSON.parse(encodeHealthCheck(new Date('2026-11-21T10:00:00Z'))) as unknown;
    expect(isHealthCheckMessage(body)).toBe(true);
    expect(parseHealthCheck(body as { healthCheck: unknown })).toEqual({ requestedAt: '2026-11-21T10:00:00.000Z' });
  });
  it.each([
    ['not an object', { healthCheck: 'now' }, /healthCheck must be an object/],
    ['no time', { healthCheck: {} }, /requestedAt must be an ISO 8601 UTC time/],
    ['a local time', { healthCheck: { requestedAt: '2026-11-21T10:00:00+02:00' } }, /requestedAt must be/],
    ['an impossible date', { healthCheck: { requestedAt: '2026-13-45T10:00:00Z' } }, /requestedAt must be/],
    ['an unknown field', { healthCheck: { requestedAt: '2026-11-21T10:00:00Z', repair: true } }, /unknown field repair/],
    ['an unknown top-level field', { healthCheck: { requestedAt: '2026-11-21T10:00:00Z' }, volume: 'x' }, /unknown top-level field volume/],
  ])('refuses %s by name', (_name, body, message) => {
    expect(() => parseHealthCheck(body)).toThrow(MalformedEventError);
    expect(() => parseHealthCheck(body)).toThrow(message);
  });
});
