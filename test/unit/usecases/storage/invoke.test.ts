import { createStorageExpansion, handleStorageInvoke } from '../../../../lib/usecases/storage/invoke';
import { parseStorageRequest } from '../../../../lib/usecases/storage/requests';
import { A, B, FakeStorage } from './fake-storage';

const twoNodes = () => {
  const cloud = new FakeStorage();
  const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)];
  cloud.cluster([m1!, m2!]);
  return cloud;
};

describe('direct invoke', () => {
  it('dry run: reads the status synchronously (bounded), answers the plan, changes nothing, queues nothing', async () => {
    const cloud = twoNodes();
    cloud.commandPolls = 3;
    const started = cloud.now.getTime();
    const answer = await handleStorageInvoke({ volume: 'pydio-data', sets: 1, dryRun: true }, cloud.deps(), 'req-1');
    expect(answer).toMatchObject({ outcome: 'planned', dryRun: true });
    expect(answer.outcome === 'planned' && answer.plan).toMatchObject({ volume: 'pydio-data', desiredBefore: 2, desiredAfter: 4, awaitsLaunch: true });
    expect(answer.outcome === 'planned' && answer.commands.join('\n')).toContain('set desired capacity to 4');
    expect(cloud.ops()).toEqual(['sendCommand']);
    expect(cloud.queue).toEqual([]);
    expect(cloud.now.getTime() - started).toBeLessThanOrEqual(20_000);
    expect(cloud.events()).toEqual(['storage.planned']);
  });

  it('dry run gives up after the bound when the status does not arrive', async () => {
    const cloud = twoNodes();
    cloud.commandPolls = 1000;
    const started = cloud.now.getTime();
    const answer = await handleStorageInvoke({ volume: 'pydio-data', sets: 1, dryRun: true }, cloud.deps({ STORAGE_SYNC_STATUS_SECONDS: '10' }), 'req-1');
    expect(answer).toMatchObject({ outcome: 'refused', reason: expect.stringMatching(/did not arrive within 10s/) });
    expect(cloud.now.getTime() - started).toBe(10_000);
  });

  it('dry run shrink answers the refusal when the data would not fit', async () => {
    const cloud = twoNodes();
    const answer = await handleStorageInvoke({ action: 'shrink', volume: 'pydio-data', dryRun: true }, cloud.deps(), 'req-1');
    expect(answer).toMatchObject({ outcome: 'refused', reason: expect.stringMatching(/single replica set/) });
    expect(cloud.events()).toEqual(['storage.refused']);
  });

  it('a real run is queued for the storage flow', async () => {
    const cloud = twoNodes();
    const answer = await handleStorageInvoke({ volume: 'pydio-data', sets: 1 }, cloud.deps(), 'req-1');
    expect(answer).toMatchObject({ outcome: 'accepted', dryRun: false });
    expect(cloud.queue).toHaveLength(1);
    await cloud.drain();
    expect(cloud.volumes[1]!.bricks).toHaveLength(4);
  });

  it('a real run is refused at once while another operation holds the lock', async () => {
    const cloud = twoNodes();
    cloud.coordination.holdAs('storage/lock', 'msg-other', 3600, cloud.now.toISOString());
    const answer = await handleStorageInvoke({ action: 'shrink', volume: 'pydio-data' }, cloud.deps(), 'req-1');
    expect(answer).toMatchObject({ outcome: 'refused', reason: expect.stringMatching(/holds the cluster lock \(msg-other\)/) });
    expect(cloud.queue).toEqual([]);
  });

  it.each([
    [[1, 2], /expected a JSON object/],
    [{ volume: 'pydio-data' }, /field sets must be a whole number from 1 to 16/],
    [{ volume: 'pydio data', sets: 1 }, /field volume must be a Gluster volume name/],
    [{ volume: 'pydio-data', sets: 1, dryRun: 'yes' }, /field dryRun must be true or false/],
    [{ action: 'delete', volume: 'pydio-data' }, /field action must be "expand", "shrink" or "layout"/],
    [{ action: 'shrink', volume: 'pydio-data', sets: 1 }, /unknown field "sets" for shrink/],
  ])('rejects %j naming the field, with a notification and no action', async (payload, reason) => {
    const cloud = twoNodes();
    const answer = await handleStorageInvoke(payload, cloud.deps(), 'req-1');
    expect(answer).toMatchObject({ outcome: 'rejected', error: expect.stringMatching(reason) });
    expect(cloud.events()).toEqual(['event.malformed']);
    expect(cloud.ops()).toEqual([]);
    expect(cloud.queue).toEqual([]);
  });
});

const portDeps = (cloud: FakeStorage) => {
  const deps = cloud.deps();
  return { stage: deps.config.stage, queueUrl: deps.storage.queueUrl, healthMaxAgeSeconds: 300, ssm: deps.ssm, queue: deps.queue, log: deps.log, now: deps.now };
};

describe('StorageExpansionPort implementation', () => {
  it('queues an expansion request that the storage flow carries out', async () => {
    const cloud = twoNodes();
    const port = createStorageExpansion(portDeps(cloud));
    await expect(port.requestExpansion({ volume: 'pydio-data', sets: 1, reason: 'alarm pydio-data-disk-usage', dryRun: true })).resolves.toEqual({ accepted: true });
    await cloud.drain();
    expect(cloud.notifications.find((n) => n.eventType === 'storage.planned')!.subject).toContain('dry run');
  });

  it('refuses a malformed request without queueing it', async () => {
    const cloud = twoNodes();
    const answer = await createStorageExpansion(portDeps(cloud)).requestExpansion({ volume: 'pydio-data', sets: 0, reason: 'alarm', dryRun: false });
    expect(answer).toEqual({ accepted: false, reason: expect.stringMatching(/field sets/) });
    expect(cloud.queue).toEqual([]);
  });

  const NOW = Date.parse('2026-11-21T10:00:00Z');
  const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();
  it.each<[string, string | undefined, { healthy: boolean | 'unknown'; reason?: unknown }]>([
    ['no record yet: unknown', undefined, { healthy: 'unknown', reason: expect.stringMatching(/no Gluster health recorded yet/) }],
    ['a fresh healthy read', JSON.stringify({ healthy: true, at: ago(60) }), { healthy: true }],
    ['a fresh unhealthy read, with its reason', JSON.stringify({ healthy: false, reason: '1 brick of pydio-data offline', at: ago(60) }), { healthy: false, reason: '1 brick of pydio-data offline' }],
    ['a read exactly as old as allowed still counts', JSON.stringify({ healthy: false, reason: 'x', at: ago(300) }), { healthy: false, reason: 'x' }],
    ['an unhealthy read older than allowed: unknown, not unhealthy', JSON.stringify({ healthy: false, reason: 'x', at: ago(301) }), { healthy: 'unknown', reason: 'the last Gluster health read is 301s old, more than the 300s it is trusted for (STORAGE_HEALTH_MAX_AGE_SECONDS)' }],
    ['a healthy read older than allowed: unknown, not healthy', JSON.stringify({ healthy: true, at: ago(3600) }), { healthy: 'unknown', reason: expect.stringMatching(/3600s old/) }],
    ['an unreadable record: unknown', '{not json', { healthy: 'unknown', reason: 'the recorded Gluster health is unreadable' }],
    ['a record without its time: unknown', JSON.stringify({ healthy: true }), { healthy: 'unknown', reason: 'the recorded Gluster health is incomplete' }],
  ])('volumesHealth: %s', async (_name, record, expected) => {
    const cloud = twoNodes();
    cloud.now = new Date(NOW);
    if (record !== undefined) cloud.params.set('/pydio-autoscaler/test/storage/health', record);
    await expect(createStorageExpansion(portDeps(cloud)).volumesHealth()).resolves.toEqual(expected);
  });

  it('a dry-run status read (an operation) leaves the health record to the health flow', async () => {
    const cloud = twoNodes();
    await handleStorageInvoke({ volume: 'pydio-data', sets: 1, dryRun: true }, cloud.deps(), 'req-1');
    expect(cloud.params.has('/pydio-autoscaler/test/storage/health')).toBe(false);
    expect(cloud.params.has('/pydio-autoscaler/test/storage/summary')).toBe(true);
  });
});

describe('parseStorageRequest', () => {
  it('defaults to an expansion that is not a dry run', () => {
    expect(parseStorageRequest({ volume: 'pydio-data', sets: 2 }, 'manual invoke')).toEqual({
      action: 'expand', volume: 'pydio-data', sets: 2, allowSameZone: false, dryRun: false, reason: 'manual invoke',
    });
  });
});
