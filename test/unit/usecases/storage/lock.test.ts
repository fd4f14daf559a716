/**
 * The storage lock and the bootstrap claim in the coordination table, through
 * the real storage flows on the fake storage tier: a live lock is respected
 * (its holder named), a stale one is broken exactly once and only by the one
 * write that takes it, a holder keeps its lock however long its operation
 * runs, an operation that lost its lock stops, and the volumes are created
 * once only.
 */
import { BOOTSTRAP_KEY, LOCK_KEY } from '../../../../lib/core/records';
import { encodeStorageRequest } from '../../../../lib/core/storage/flow-state';
import { A, B, FakeStorage } from './fake-storage';

const request = (over: Record<string, unknown> = {}) =>
  encodeStorageRequest({ action: 'expand', volume: 'pydio-data', sets: 1, allowSameZone: false, dryRun: false, reason: 'test', ...over });

const epoch = (date: Date) => Math.floor(date.getTime() / 1000);

function twoNodes(): FakeStorage {
  const cloud = new FakeStorage();
  const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)];
  cloud.cluster([m1!, m2!]);
  return cloud;
}

describe('the storage lock', () => {
  it('held by a live operation: another is refused naming the holder, and the lock stays the holder\'s', async () => {
    // Prepare
    const cloud = twoNodes();
    cloud.coordination.holdAs(LOCK_KEY, 'op-live', 3600, cloud.now.toISOString());
    cloud.enqueue(request(), 0);
    // Act
    const outcomes = await cloud.drain();
    // Assess
    expect(outcomes).toEqual(['completed']);
    const refused = cloud.notifications.filter((n) => n.eventType === 'storage.refused');
    expect(refused.map((n) => n.body)).toEqual([expect.stringContaining('another storage operation holds the cluster lock (op-live)')]);
    expect(cloud.ops()).toEqual([]);
    expect((await cloud.coordination.holder(LOCK_KEY))?.owner).toBe('op-live');
  });

  it('left by a dead operation and expired: two operations racing on it, exactly one takes it (one lock-broken notice), the other is refused naming the winner', async () => {
    // Prepare: not renewed since 07:00, so expired at 08:00 (lockStaleSeconds 3600); now is 10:00.
    const cloud = twoNodes();
    cloud.coordination.items.set(LOCK_KEY, { owner: 'op-dead', expiresAt: epoch(new Date('2026-11-21T08:00:00Z')), value: '2026-11-21T07:00:00.000Z' });
    cloud.enqueue(request({ reason: 'alarm' }), 0);
    cloud.enqueue(request({ reason: 'operator' }), 0);
    // Act
    await cloud.drain();
    // Assess
    const broken = cloud.notifications.filter((n) => n.subject.includes('stale storage lock broken'));
    expect(broken).toHaveLength(1);
    expect(broken[0]!.subject).toContain('held by op-dead');
    expect(broken[0]!.body).toContain('was not refreshed for 3h');
    const refused = cloud.notifications.filter((n) => n.eventType === 'storage.refused');
    expect(refused).toHaveLength(1);
    expect(cloud.glusterActions().filter((a) => a.startsWith('add-brick'))).toHaveLength(1);
    expect(cloud.coordination.items.has(LOCK_KEY)).toBe(false);
  });

  it('is kept by its holder on every delivery, however much longer than lockStaleSeconds its operation runs: a request ten TTLs in is refused, nothing broken', async () => {
    // Prepare: a long rebalance; a second request arrives 1300 s (ten lock TTLs) after the first.
    const cloud = twoNodes();
    cloud.rebalanceReads = 60;
    const deps = cloud.deps({ STORAGE_LOCK_STALE_SECONDS: '130' });
    cloud.enqueue(request({ reason: 'first' }), 0);
    cloud.enqueue(request({ reason: 'second' }), 1300);
    const start = cloud.now.getTime();
    // Act
    await cloud.drain(deps);
    // Assess
    expect((cloud.now.getTime() - start) / 1000).toBeGreaterThan(1300);
    expect(cloud.events().filter((e) => e === 'storage.succeeded')).toHaveLength(1);
    expect(cloud.notifications.filter((n) => n.eventType === 'storage.refused').map((n) => n.body)).toEqual([expect.stringContaining('holds the cluster lock')]);
    expect(cloud.notifications.filter((n) => n.subject.includes('lock broken'))).toEqual([]);
    expect(cloud.glusterActions().filter((a) => a.startsWith('add-brick'))).toHaveLength(1);
    expect(cloud.coordination.items.has(LOCK_KEY)).toBe(false);
  });

  it('lost by an operation given up for dead (its lock expired and another took it): its next delivery fails, names the new holder, leaves the new holder\'s lock and runs no Gluster command', async () => {
    // Prepare: the expansion holds the lock and waits for its status read.
    const cloud = twoNodes();
    const deps = cloud.deps({ STORAGE_LOCK_STALE_SECONDS: '130' });
    cloud.enqueue(request(), 0);
    await cloud.deliver(deps, 1);
    expect((await cloud.coordination.holder(LOCK_KEY))?.owner).toBeDefined();
    // Its continuation comes back late, after another operation took the expired lock.
    cloud.now = new Date(cloud.now.getTime() + 200_000);
    cloud.coordination.holdAs(LOCK_KEY, 'op-new', 130, cloud.now.toISOString());
    const sent = cloud.ops().length;
    // Act
    const outcomes = await cloud.drain(deps);
    // Assess
    expect(outcomes).toEqual(['failed']);
    const failed = cloud.notifications.find((n) => n.eventType === 'storage.failed')!;
    expect(failed.body).toContain('the storage lock was taken by op-new');
    expect(cloud.ops().length).toBe(sent);
    expect((await cloud.coordination.holder(LOCK_KEY))?.owner).toBe('op-new');
  });

  it('a dry run takes the lock for its plan and gives it back', async () => {
    const cloud = twoNodes();
    cloud.enqueue(request({ dryRun: true }), 0);
    await cloud.drain();
    expect(cloud.coordination.log.filter((l) => l.includes(LOCK_KEY)).map((l) => l.split(' ')[0]).join(' ')).toMatch(/^(take )+release$/);
    expect(cloud.coordination.items.has(LOCK_KEY)).toBe(false);
  });
});

describe('the bootstrap claim', () => {
  it('becomes a permanent record once the volumes are created: no owner, no expiry, and the lifecycle claims are gone', async () => {
    const cloud = new FakeStorage();
    cloud.launch(A);
    await cloud.drain();
    const second = cloud.launch(B);
    await cloud.drain();
    expect(cloud.volumes.map((v) => v.name)).toEqual(['pydio-config', 'pydio-data']);
    const record = cloud.coordination.items.get(BOOTSTRAP_KEY);
    expect(record).toEqual({ value: expect.any(String) });
    expect(JSON.parse(record!.value!)).toMatchObject({ instanceId: second.instanceId, volumes: ['pydio-config', 'pydio-data'] });
    expect(cloud.coordination.keptKeys()).toEqual([BOOTSTRAP_KEY]);
    // Far later, it is still there: nothing expires it.
    cloud.now = new Date(cloud.now.getTime() + 365 * 86400_000);
    expect(await cloud.coordination.read(BOOTSTRAP_KEY)).toBe(record!.value);
  });

  it('once the volumes were created, a later member that finds none does not create them again, and tells ops', async () => {
    // Prepare: bootstrapped, then the volumes vanished from Gluster.
    const cloud = new FakeStorage();
    cloud.launch(A);
    await cloud.drain();
    cloud.launch(B);
    await cloud.drain();
    const created = cloud.glusterActions().length;
    cloud.volumes = [];
    // Act
    const third = cloud.launch(A);
    await cloud.drain();
    // Assess
    expect(cloud.glusterActions()).toHaveLength(created);
    expect(cloud.volumes).toEqual([]);
    const refused = cloud.notifications.filter((n) => n.eventType === 'storage.refused');
    expect(refused.map((n) => n.body)).toEqual([expect.stringMatching(/volumes were created once already .* they are not created again/)]);
    expect(cloud.node(third.instanceId).lifecycleState).toBe('InService');
  });

  it('held by a member that died while creating the volumes: once it expired, the next member creates them', async () => {
    const cloud = new FakeStorage();
    cloud.launch(A);
    await cloud.drain();
    cloud.coordination.items.set(BOOTSTRAP_KEY, { owner: 'op-dead', expiresAt: epoch(cloud.now) - 1 });
    cloud.launch(B);
    await cloud.drain();
    expect(cloud.volumes.map((v) => [v.name, v.started])).toEqual([['pydio-config', true], ['pydio-data', true]]);
    expect(cloud.coordination.items.get(BOOTSTRAP_KEY)?.owner).toBeUndefined();
  });

  it('held by a live member creating the volumes: another joins without creating anything, naming it', async () => {
    const cloud = new FakeStorage();
    cloud.launch(A);
    await cloud.drain();
    cloud.coordination.holdAs(BOOTSTRAP_KEY, 'op-creating', 900);
    cloud.launch(B);
    await cloud.drain();
    expect(cloud.volumes).toEqual([]);
    const joined = cloud.notifications.filter((n) => n.eventType === 'lifecycle.succeeded').at(-1)!;
    expect(joined.body).toContain('another member is creating the volumes (op-creating)');
  });
});
