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
  return { stage: deps.config.stage, queueUrl: deps.storage.queueUrl, ssm: deps.ssm, queue: deps.queue, log: deps.log, now: deps.now };
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

  it('reports the health recorded by the last status read', async () => {
    const cloud = twoNodes();
    const port = createStorageExpansion(portDeps(cloud));
    await expect(port.volumesHealth()).resolves.toMatchObject({ healthy: true, reason: expect.stringMatching(/no storage status recorded/) });
    cloud.volumes[1]!.heal = 10;
    await handleStorageInvoke({ volume: 'pydio-data', sets: 1, dryRun: true }, cloud.deps(), 'req-1');
    await expect(port.volumesHealth()).resolves.toEqual({ healthy: false, reason: 'a heal of pydio-data is in progress (20 entries pending)' });
    cloud.volumes[1]!.heal = 0;
    await handleStorageInvoke({ volume: 'pydio-data', sets: 1, dryRun: true }, cloud.deps(), 'req-2');
    await expect(port.volumesHealth()).resolves.toEqual({ healthy: true });
  });
});

describe('parseStorageRequest', () => {
  it('defaults to an expansion that is not a dry run', () => {
    expect(parseStorageRequest({ volume: 'pydio-data', sets: 2 }, 'manual invoke')).toEqual({
      action: 'expand', volume: 'pydio-data', sets: 2, allowSameZone: false, dryRun: false, reason: 'manual invoke',
    });
  });
});
