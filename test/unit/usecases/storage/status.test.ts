import type { ClusterSnapshot } from '../../../../lib/core/storage/snapshot';
import type { Log } from '../../../../lib/logger';
import { summaryName } from '../../../../lib/core/records';
import {
  createStorageStatus, decodeSummary, encodeSummary, NO_SUMMARY_YET, SUMMARY_MAX_BYTES, summarizeSnapshot,
  type RecordedStorageStatus, type StatusSummary,
} from '../../../../lib/usecases/storage/status';

const quiet: Log = { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() } as unknown as Log;
const AT = new Date('2026-11-21T10:00:00.000Z');

const brick = (host: string, online = true) => ({ host, path: '/bricks/pydio-data/brick', online, sizeTotal: 100, sizeFree: 50 });

function snapshot(overrides: Partial<ClusterSnapshot> = {}): ClusterSnapshot {
  return {
    group: { name: 'storage', min: 2, max: 6, desired: 2, zones: ['eu-west-1a', 'eu-west-1b'] },
    members: [
      { instanceId: 'i-a', host: '10.0.1.10', zone: 'eu-west-1a', lifecycleState: 'InService', peerState: 'connected', protected: true },
      { instanceId: 'i-b', host: '10.0.2.10', zone: 'eu-west-1b', lifecycleState: 'InService', peerState: 'disconnected', protected: true },
    ],
    volumes: [
      { name: 'pydio-data', replicaCount: 2, bricks: [brick('10.0.1.10'), brick('10.0.2.10', false)], rebalance: 'in-progress', healPending: 3, healUnreachable: 1, status: 'Started' },
      { name: 'pydio-config', replicaCount: 2, bricks: [brick('10.0.1.10'), brick('10.0.2.10')], rebalance: 'none', healPending: 0, status: 'Started' },
    ],
    strayPeers: [{ host: '10.0.3.10', connected: false }],
    ...overrides,
  };
}

describe('summarizeSnapshot', () => {
  it('lists peers (members and strays), volume health, every brick and running rebalance/heal', () => {
    const summary = summarizeSnapshot(snapshot(), AT);
    expect(summary.at).toBe(AT.toISOString());
    expect(summary.peers).toEqual([
      { host: '10.0.1.10', state: 'connected' },
      { host: '10.0.2.10', state: 'disconnected' },
      { host: '10.0.3.10', state: 'disconnected, not in the storage group' },
    ]);
    expect(summary.volumes).toEqual([
      { name: 'pydio-data', status: 'Started', replicaCount: 2, healthy: false },
      { name: 'pydio-config', status: 'Started', replicaCount: 2, healthy: true },
    ]);
    expect(summary.bricks).toHaveLength(4);
    expect(summary.bricks[1]).toEqual({ volume: 'pydio-data', host: '10.0.2.10', path: '/bricks/pydio-data/brick', online: false });
    expect(summary.tasks).toEqual([
      { volume: 'pydio-data', kind: 'rebalance', status: 'in-progress' },
      { volume: 'pydio-data', kind: 'heal', status: '3 entries pending' },
      { volume: 'pydio-data', kind: 'heal', status: 'unknown on 1 unreachable brick(s)' },
    ]);
  });

  it.each([
    ['stopped volume', { status: 'Stopped' }, false],
    ['failed rebalance', { rebalance: 'failed' as const }, false],
    ['status unknown, bricks online', { status: undefined }, true],
    ['started, bricks online', {}, true],
  ])('volume health: %s', (_name, patch, healthy) => {
    const volume = { name: 'v', replicaCount: 2, bricks: [brick('h1'), brick('h2')], rebalance: 'none' as const, healPending: 0, status: 'Started', ...patch };
    expect(summarizeSnapshot(snapshot({ volumes: [volume] }), AT).volumes[0].healthy).toBe(healthy);
  });
});

describe('encodeSummary / decodeSummary', () => {
  const many = (n: number, offline: number): StatusSummary => ({
    at: AT.toISOString(),
    peers: [{ host: '10.0.1.10', state: 'connected' }],
    volumes: [{ name: 'pydio-data', status: 'Started', replicaCount: 2, healthy: offline === 0 }],
    bricks: Array.from({ length: n }, (_, i) => ({ volume: 'pydio-data', host: `10.0.${i}.10`, path: '/bricks/pydio-data/brick', online: i >= offline })),
    tasks: [],
  });

  it('round-trips a summary that fits', () => {
    const summary = summarizeSnapshot(snapshot(), AT);
    expect(decodeSummary(encodeSummary(summary))).toEqual({ summary });
  });

  it('keeps only the offline bricks when the whole list exceeds 4 KB, and says so', () => {
    const text = encodeSummary(many(80, 2));
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(SUMMARY_MAX_BYTES);
    const decoded = decodeSummary(text);
    if (!('summary' in decoded)) throw new Error(decoded.problem);
    expect(decoded.summary.bricks.map((b) => b.host)).toEqual(['10.0.0.10', '10.0.1.10']);
    expect(decoded.summary.truncated).toMatch(/only the offline bricks.*80 bricks/);
  });

  it('drops every brick when even the offline ones do not fit', () => {
    const decoded = decodeSummary(encodeSummary(many(80, 80)));
    if (!('summary' in decoded)) throw new Error(decoded.problem);
    expect(decoded.summary.bricks).toEqual([]);
    expect(decoded.summary.truncated).toMatch(/no brick is listed/);
  });

  it.each([
    ['not json', '{', /not JSON/],
    ['not an object', '3', /not an object/],
    ['no time', JSON.stringify({ peers: [], volumes: [], bricks: [], tasks: [] }), /no valid time/],
    ['no bricks list', JSON.stringify({ at: AT.toISOString(), peers: [], volumes: [], tasks: [] }), /no bricks list/],
    ['malformed task', JSON.stringify({ at: AT.toISOString(), peers: [], volumes: [], bricks: [], tasks: [{ volume: 'v', kind: 'scrub', status: 'x' }] }), /malformed tasks entry/],
    ['malformed brick', JSON.stringify({ at: AT.toISOString(), peers: [], volumes: [], bricks: [{ volume: 'v', host: 'h', path: 'p', online: 'yes' }], tasks: [] }), /malformed bricks entry/],
  ])('refuses a recorded summary that is %s', (_name, raw, problem) => {
    const decoded = decodeSummary(raw);
    expect('problem' in decoded && decoded.problem).toMatch(problem);
  });
});

describe('createStorageStatus (status function, read-only)', () => {
  function port(params: Record<string, string>) {
    const getParameter = jest.fn(async (name: string) => params[name]);
    const listParameters = jest.fn(async (path: string) =>
      Object.entries(params).filter(([name]) => name.startsWith(`${path}/`)).map(([name, value]) => ({ name, value })),
    );
    const status = createStorageStatus({ stage: 'dev', ssm: { getParameter, listParameters }, log: quiet, now: () => new Date(AT.getTime() + 90_000) });
    return { status, getParameter, listParameters };
  }
  const base = '/pydio-autoscaler/dev/storage';

  it('answers the recorded summary with its age, the recorded health and the members', async () => {
    const summary = summarizeSnapshot(snapshot(), AT);
    const { status, listParameters } = port({
      [summaryName('dev')]: encodeSummary(summary),
      [`${base}/health`]: JSON.stringify({ healthy: false, reason: 'brick 10.0.2.10 offline', at: AT.toISOString() }),
      [`${base}/members/i-b`]: JSON.stringify({ instanceId: 'i-b', host: '10.0.2.10', zone: 'eu-west-1b', state: 'joined', lastSeen: AT.toISOString() }),
      [`${base}/members/i-a`]: JSON.stringify({ instanceId: 'i-a', host: '10.0.1.10', zone: 'eu-west-1a', state: 'joined', lastSeen: AT.toISOString() }),
      [`${base}/members/i-x`]: 'not json',
    });
    const answer = (await status.describeStorage()) as RecordedStorageStatus;
    expect(answer).toMatchObject({
      available: true,
      peers: summary.peers,
      volumes: summary.volumes,
      bricks: summary.bricks,
      tasks: summary.tasks,
      recordedAt: AT.toISOString(),
      ageSeconds: 90,
      healthy: false,
      healthReason: 'brick 10.0.2.10 offline',
      ignoredMemberRecords: 1,
    });
    expect(answer.members.map((m) => m.instanceId)).toEqual(['i-a', 'i-b']);
    expect(listParameters).toHaveBeenCalledWith(`${base}/members`);
  });

  it('says why when nothing was recorded yet', async () => {
    const { status } = port({});
    await expect(status.describeStorage()).resolves.toEqual({ available: false, reason: NO_SUMMARY_YET });
  });

  it('says why when the recorded summary is unreadable', async () => {
    const { status } = port({ [summaryName('dev')]: '{"at":"x"}' });
    await expect(status.describeStorage()).resolves.toEqual({ available: false, reason: expect.stringMatching(/no valid time/) });
  });

  it('health unknown when none is recorded', async () => {
    const { status } = port({ [summaryName('dev')]: encodeSummary(summarizeSnapshot(snapshot(), AT)) });
    await expect(status.describeStorage()).resolves.toMatchObject({ available: true, healthy: 'unknown', healthReason: 'no health recorded yet' });
  });

  it('a failing read rejects (describeCluster turns it into an unavailable section)', async () => {
    const getParameter = jest.fn(async () => {
      throw new Error('AccessDenied');
    });
    const status = createStorageStatus({ stage: 'dev', ssm: { getParameter, listParameters: jest.fn(async () => []) }, log: quiet, now: () => AT });
    await expect(status.describeStorage()).rejects.toThrow('AccessDenied');
  });
});
