import { readFileSync } from 'fs';
import { join } from 'path';
import { MalformedEventError, StepFailedError } from '../../../../lib/errors';
import {
  isPeerInCluster,
  parseCommandResult,
  parseHealInfoSummary,
  parsePeerStatus,
  parsePoolList,
  parseRebalanceStatus,
  parseRemoveBrickStatus,
  parseStatusBundle,
  parseVolumeInfo,
  parseVolumeStatusDetail,
} from '../../../../lib/core/storage/gluster-parse';
import { parseXml } from '../../../../lib/core/storage/xml';
import { BUNDLE_END } from '../../../../lib/core/storage/status-frame';
import { buildClusterSnapshot } from '../../../../lib/core/storage/snapshot';

const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', `${name}.xml`), 'utf8');
const N1 = '10.97.0.11';
const N2 = '10.97.0.12';

describe('parseXml (strict)', () => {
  it('reads elements, attributes, mixed text and entities', () => {
    const doc = parseXml('<?xml version="1.0"?>\n<!-- c --><a x="1" y=\'&lt;2&gt;\'>t&amp;u<b/>v&#65;&#x42;<![CDATA[<raw>]]></a>', 't');
    expect(doc.attributes).toEqual({ x: '1', y: '<2>' });
    expect(doc.text).toBe('t&uvAB<raw>');
    expect(doc.children.map((c) => c.name)).toEqual(['b']);
  });
  it.each([
    ['empty output', ''],
    ['truncated', '<cliOutput><opRet>0</opRet>'],
    ['mismatched close', '<a><b></a></b>'],
    ['text after root', '<a/>junk'],
    ['two roots', '<a/><b/>'],
    ['unquoted attribute', '<a x=1/>'],
    ['repeated attribute', '<a x="1" x="2"/>'],
    ['bare ampersand', '<a>x & y</a>'],
    ['unknown entity', '<a>&nbsp;</a>'],
    ['doctype', '<a><!DOCTYPE x></a>'],
    ['plain text (gluster without --xml)', 'Number of Peers: 1'],
  ])('refuses %s with MalformedEventError', (_name, text) => {
    expect(() => parseXml(text, 'gluster x')).toThrow(MalformedEventError);
  });
  it('names the source and position', () => {
    expect(() => parseXml('<a>\n<b></c>', 'gluster pool list')).toThrow(/gluster pool list: malformed XML at line 2 column \d+: <\/c> closes <b>/);
  });
});

describe('peers', () => {
  it('peer status: the other peer, connected, in cluster', () => {
    const peers = parsePeerStatus(fixture('peer-status-connected'));
    expect(peers).toEqual([expect.objectContaining({ hostname: N2, connected: true, state: 'Peer in Cluster', isLocal: false, hostnames: [N2] })]);
    expect(isPeerInCluster(peers[0]!)).toBe(true);
  });
  it('a dead peer keeps "Peer in Cluster" but is not connected', () => {
    const [peer] = parsePeerStatus(fixture('peer-status-disconnected'));
    expect(peer).toEqual(expect.objectContaining({ hostname: N2, connected: false, state: 'Peer in Cluster' }));
    expect(isPeerInCluster(peer!)).toBe(false);
  });
  it.each([
    ['pool-list-single', [['localhost', true, true]]],
    ['pool-list-connected', [[N2, true, false], ['localhost', true, true]]],
    ['pool-list-disconnected', [[N2, false, false], ['localhost', true, true]]],
  ] as const)('pool list %s', (name, expected) => {
    expect(parsePoolList(fixture(name)).map((p) => [p.hostname, p.connected, p.isLocal])).toEqual(expected);
  });
  it('a peer with <connected>2</connected> is malformed', () => {
    expect(() => parsePeerStatus(fixture('peer-status-connected').replace('<connected>1<', '<connected>2<'))).toThrow(MalformedEventError);
  });
});

describe('volume info', () => {
  it('two replica-2 volumes after create', () => {
    const vols = parseVolumeInfo(fixture('volume-info-created'));
    expect(vols.map((v) => [v.name, v.status, v.replicaCount, v.brickCount, v.type])).toEqual([
      ['pydio-config', 'Created', 2, 2, 'Replicate'],
      ['pydio-data', 'Created', 2, 2, 'Replicate'],
    ]);
    expect(vols[1]!.bricks.map((b) => `${b.host}:${b.path}`)).toEqual([`${N1}:/srv/bricks/pydio-data/brick`, `${N2}:/srv/bricks/pydio-data/brick`]);
  });
  it('2 x 2 after add-brick keeps Gluster order (sets are consecutive)', () => {
    const [vol] = parseVolumeInfo(fixture('volume-info-2x2'));
    expect(vol).toEqual(expect.objectContaining({ name: 'pydio-data', status: 'Started', type: 'Distributed-Replicate', distCount: 2, replicaCount: 2 }));
    expect(vol!.bricks.map((b) => b.path)).toEqual(['/srv/bricks/pydio-data/brick', '/srv/bricks/pydio-data/brick', '/srv/bricks/pydio-data/brick2', '/srv/bricks/pydio-data/brick2']);
    expect(vol!.options['nfs.disable']).toBe('on');
  });
  it('replace-brick shows the new brick in place of the old', () => {
    const [vol] = parseVolumeInfo(fixture('volume-info-replaced'));
    expect(vol!.bricks.map((b) => `${b.host}:${b.path}`)).toEqual([`${N1}:/srv/bricks/pydio-data/brick`, `${N2}:/srv/bricks/pydio-data/brick-new`]);
  });
  it('a missing volume is Gluster refusing, with its words', () => {
    expect(() => parseVolumeInfo(fixture('volume-info-missing'))).toThrow(StepFailedError);
    expect(() => parseVolumeInfo(fixture('volume-info-missing'))).toThrow(/Volume does not exist/);
  });
  it('brickCount disagreeing with the list is malformed', () => {
    expect(() => parseVolumeInfo(fixture('volume-info-2x2').replace('<brickCount>4<', '<brickCount>6<'))).toThrow(/brickCount says 6 but 4/);
  });
});

describe('volume status detail', () => {
  it('all bricks online with sizes', () => {
    const d = parseVolumeStatusDetail(fixture('volume-status-detail-2x2'));
    expect(d.volume).toBe('pydio-data');
    expect(d.bricks).toHaveLength(4);
    expect(d.bricks.every((b) => b.online && b.sizeTotal > 0 && b.sizeFree <= b.sizeTotal)).toBe(true);
  });
  it('a killed brick process is offline (status 0, pid -1)', () => {
    const d = parseVolumeStatusDetail(fixture('volume-status-detail-brick-down'));
    expect(d.bricks.map((b) => [b.host, b.online, b.pid > 0])).toEqual([[N1, true, true], [N2, false, false]]);
  });
  it('a dead peer\'s bricks are missing altogether', () => {
    expect(parseVolumeStatusDetail(fixture('volume-status-detail-peer-down')).bricks.map((b) => b.host)).toEqual([N1]);
  });
  it('free above total is malformed', () => {
    const xml = fixture('volume-status-detail-replica2').replace(/<sizeFree>[0-9]+</, '<sizeFree>999999999999999<');
    expect(() => parseVolumeStatusDetail(xml)).toThrow(/sizes out of range/);
  });
});

describe('rebalance and remove-brick status', () => {
  it.each([
    ['rebalance-status-early', 'in-progress'],
    ['rebalance-status-completed', 'completed'],
    ['rebalance-status-not-started', 'none'],
  ] as const)('%s -> %s', (name, state) => {
    expect(parseRebalanceStatus(fixture(name)).state).toBe(state);
  });
  it('counts nodes and files', () => {
    const s = parseRebalanceStatus(fixture('rebalance-status-early'));
    expect(s.nodes.map((n) => n.node)).toEqual([N2, 'localhost']);
    expect(s.taskId).toMatch(/^[0-9a-f-]{36}$/);
  });
  it('one failed node makes the whole task failed', () => {
    const xml = fixture('rebalance-status-completed').replace('<status>3</status>', '<status>4</status>');
    expect(parseRebalanceStatus(xml).state).toBe('failed');
  });
  it('an unknown status code is malformed', () => {
    expect(() => parseRebalanceStatus(fixture('rebalance-status-completed').replace('<status>3</status>', '<status>42</status>'))).toThrow(/unknown task status code 42/);
  });
  it.each([
    ['remove-brick-status-early', 'in-progress'],
    ['remove-brick-status-completed', 'completed'],
  ] as const)('%s -> %s', (name, state) => {
    expect(parseRemoveBrickStatus(fixture(name)).state).toBe(state);
  });
  it('other refusals are errors, not "none"', () => {
    const xml = fixture('rebalance-status-not-started').replace(/Volume pydio-data is not a distribute volume or contains only 1 brick.\nNot performing rebalance/g, 'Another transaction is in progress');
    expect(() => parseRebalanceStatus(xml)).toThrow(StepFailedError);
  });
});

describe('heal info summary', () => {
  it('clean: nothing pending', () => {
    expect(parseHealInfoSummary(fixture('heal-info-summary-clean'))).toEqual(expect.objectContaining({ pending: 0, unreachable: 0 }));
  });
  it('writes during a dead brick: entries pending, the dead brick unreachable', () => {
    const s = parseHealInfoSummary(fixture('heal-info-summary-pending'));
    expect(s.pending).toBe(21);
    expect(s.unreachable).toBe(1);
    expect(s.bricks.map((b) => [b.host, b.connected])).toEqual([[N1, true], [N2, false]]);
  });
  it('server quorum lost: heal info cannot load the volume, the heal state of every brick is unknown (not an error of the read)', () => {
    const s = parseHealInfoSummary(fixture('heal-info-summary-server-quorum-lost'));
    expect(s).toEqual({ bricks: [], pending: 0, splitBrain: 0, unreachable: 0, unavailable: 'rep: Not able to fetch volfile from glusterd' });
  });
  it('any other refusal still fails the read', () => {
    const xml = fixture('heal-info-summary-server-quorum-lost').replace('Not able to fetch volfile from glusterd', 'Another transaction is in progress');
    expect(() => parseHealInfoSummary(xml)).toThrow(StepFailedError);
  });
});

describe('command results', () => {
  it.each([
    ['replace-brick', true, 'replace-brick commit force operation successful'],
    ['remove-brick-commit', true, 'Remove Brick commit successful'],
    ['volume-info-missing', false, 'Volume does not exist'],
    ['rebalance-start', true, ''],
  ] as const)('%s', (name, ok, message) => {
    expect(parseCommandResult(fixture(name))).toEqual(expect.objectContaining({ ok, message }));
  });
});

const bundle = (parts: Array<[string, string]>) => `${parts.map(([marker, name]) => `### gluster-status ${marker} ###\n${fixture(name)}`).join('\n')}\n${BUNDLE_END}\n`;

describe('status bundle -> cluster snapshot', () => {
  const stdout = bundle([
    ['pool-list rc=0', 'pool-list-connected'],
    ['volume-info rc=0', 'volume-info-2x2'],
    ['volume-status-detail pydio-data rc=0', 'volume-status-detail-2x2'],
    ['rebalance-status pydio-data rc=0', 'rebalance-status-early'],
    ['heal-info-summary pydio-data rc=0', 'heal-info-summary-clean'],
  ]);
  const group = { name: 'pydio-storage', min: 2, max: 6, desired: 2, zones: ['eu-west-1a', 'eu-west-1b'] };
  const instances = [
    { instanceId: 'i-1', host: N1, zone: 'eu-west-1a', lifecycleState: 'InService', protected: true },
    { instanceId: 'i-2', host: N2, zone: 'eu-west-1b', lifecycleState: 'InService', protected: true },
    { instanceId: 'i-3', host: '10.97.0.13', zone: 'eu-west-1a', lifecycleState: 'Pending:Wait', protected: false },
  ];
  it('joins the group with Gluster', () => {
    const snap = buildClusterSnapshot(group, instances, parseStatusBundle(stdout), N1);
    expect(snap.members.map((m) => [m.instanceId, m.peerState])).toEqual([['i-1', 'connected'], ['i-2', 'connected'], ['i-3', 'absent']]);
    expect(snap.volumes).toHaveLength(1);
    expect(snap.volumes[0]).toEqual(expect.objectContaining({ name: 'pydio-data', replicaCount: 2, rebalance: 'in-progress', healPending: 0 }));
    expect(snap.volumes[0]!.bricks.every((b) => b.online && b.sizeTotal > 0)).toBe(true);
    expect(snap.strayPeers).toEqual([]);
  });
  it('a dead peer is disconnected and its bricks offline', () => {
    const out = bundle([
      ['pool-list rc=0', 'pool-list-disconnected'],
      ['volume-info rc=0', 'volume-info-replaced'],
      ['volume-status-detail pydio-data rc=0', 'volume-status-detail-peer-down'],
      ['heal-info-summary pydio-data rc=0', 'heal-info-summary-pending'],
    ]);
    const snap = buildClusterSnapshot(group, instances.slice(0, 2), parseStatusBundle(out), N1);
    expect(snap.members[1]!.peerState).toBe('disconnected');
    expect(snap.volumes[0]!.bricks.map((b) => b.online)).toEqual([true, false]);
    expect(snap.volumes[0]!.healPending).toBe(21);
    expect(snap.volumes[0]!.rebalance).toBe('none');
  });
  it('a peer outside the group is a stray peer', () => {
    const snap = buildClusterSnapshot(group, instances.slice(0, 1), parseStatusBundle(stdout), N1);
    expect(snap.strayPeers).toEqual([{ host: N2, connected: true }]);
  });
  it.each([
    ['text before the first marker', `hello\n${stdout}`, /text before the first marker/],
    ['a bad marker', stdout.replace('### gluster-status pool-list rc=0 ###', '### gluster-status pool list ###'), /bad marker/],
    ['no pool list', stdout.replace('### gluster-status pool-list rc=0 ###', '### gluster-status heal-info-summary x rc=0 ###'), /expected one pool-list/],
    ['a per-volume section without volume', stdout.replace('rebalance-status pydio-data', 'rebalance-status'), /needs a volume/],
    ['a truncated document', stdout.replace(`\n${BUNDLE_END}\n`, '').slice(0, -30) + `\n${BUNDLE_END}\n`, /malformed XML/],
    ['a bundle without its end marker (cut)', stdout.replace(BUNDLE_END, ''), /no end marker "### gluster-status end ###" \(output incomplete\)/],
  ])('refuses %s', (_name, text, message) => {
    expect(() => parseStatusBundle(text)).toThrow(message);
  });
  it('refuses status read on a host outside the group', () => {
    expect(() => buildClusterSnapshot(group, instances, parseStatusBundle(stdout), '10.0.0.99')).toThrow(/not an instance of storage group/);
  });
});
