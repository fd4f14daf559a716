import { encodeHealthCheck } from '../../../../lib/core/storage/health-check';
import { decodeHealthState } from '../../../../lib/core/storage/health-record';
import { A, B, FakeStorage, type FakeNode } from './fake-storage';

/**
 * The health flow over the in-memory storage tier: the watch's healthCheck
 * message on the StorageQueue -> storage-gluster-status on a live member ->
 * metrics, the health record, a change told once, an offline brick of a live
 * member restarted under the lock.
 */
const HEALTH = '/pydio-autoscaler/test/storage/health';
/** The storage lock's key in the coordination table (records.ts LOCK_KEY). */
const LOCK = 'storage/lock';

function cluster(): { cloud: FakeStorage; m1: FakeNode; m2: FakeNode } {
  const cloud = new FakeStorage();
  const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)];
  cloud.cluster([m1!, m2!]);
  return { cloud, m1: m1!, m2: m2! };
}

/** One period: the watch asks, the queue is drained; the clock then moves a minute on. */
async function period(cloud: FakeStorage, env: Record<string, string> = {}): Promise<string[]> {
  cloud.enqueue(encodeHealthCheck(cloud.now), 0);
  const outcomes = await cloud.drain(cloud.deps(env));
  cloud.now = new Date(cloud.now.getTime() + 60_000);
  // The flow waits for its document once or twice: the outcome of the period is the last one.
  expect(outcomes.slice(0, -1).every((o) => o === 'waiting')).toBe(true);
  return outcomes.slice(-1);
}

const killBrick = (cloud: FakeStorage, volume: string, node: FakeNode) => {
  const v = cloud.volumes.find((x) => x.name === volume)!;
  v.down = new Set([...(v.down ?? []), `${node.ip}:/bricks/${volume}/brick`]);
};
const gauge = (cloud: FakeStorage, name: string, volume?: string) =>
  cloud.gauges.filter((g) => g.name === name && g.dimensions.Volume === volume).map((g) => g.value);
const ofType = (cloud: FakeStorage, type: string) => cloud.notifications.filter((n) => n.eventType === type);
const record = (cloud: FakeStorage) => decodeHealthState(cloud.params.get(HEALTH))!;

describe('health flow: a healthy cluster', () => {
  it('reads on an in-service member, publishes every gauge at 0 per volume and pool-wide, records the read, tells nothing', async () => {
    const { cloud, m1 } = cluster();
    expect(await period(cloud)).toEqual(['completed']);
    const [read] = cloud.sent('doc-gluster-status');
    expect(read!.instanceId).toBe(m1.instanceId);
    expect(cloud.gauges.map((g) => `${g.name}${g.dimensions.Volume ? ` ${g.dimensions.Volume}` : ''}=${g.value}`).sort()).toEqual([
      'GlusterBricksOffline pydio-config=0', 'GlusterBricksOffline pydio-data=0', 'GlusterBricksOffline=0',
      'GlusterHealEntries pydio-config=0', 'GlusterHealEntries pydio-data=0', 'GlusterHealEntries=0',
      'GlusterPeersDisconnected=0',
      'GlusterSplitBrainEntries pydio-config=0', 'GlusterSplitBrainEntries pydio-data=0', 'GlusterSplitBrainEntries=0',
    ]);
    // Read when the status document ended: found by its safety net here (RETRY_MAX_SECONDS), no status-change event in this fake.
    expect(record(cloud)).toMatchObject({ healthy: true, at: expect.stringMatching(/^2026-11-21T10:0[01]:\d\d\.000Z$/), problemCount: 0 });
    expect(record(cloud).readAt).toBe(record(cloud).at);
    expect(cloud.notifications).toEqual([]);
    await period(cloud);
    expect(cloud.notifications).toEqual([]);
    expect(cloud.glusterActions()).toEqual([]);
    // The status summary is written too (the status function reads it).
    expect(cloud.params.has('/pydio-autoscaler/test/storage/summary')).toBe(true);
  });

  it('checks covered by a read answered after they were asked, or by a read still running, are skipped (one read at a time; a backlog costs one read)', async () => {
    const { cloud } = cluster();
    await period(cloud);
    const asked = cloud.now;
    cloud.enqueue(encodeHealthCheck(asked), 0);
    cloud.enqueue(encodeHealthCheck(asked), 0);
    cloud.enqueue(encodeHealthCheck(asked), 0);
    await cloud.drain();
    expect(cloud.sent('doc-gluster-status')).toHaveLength(2);
    // A check asked after that read answered is read again.
    cloud.now = new Date(cloud.now.getTime() + 60_000);
    await period(cloud);
    expect(cloud.sent('doc-gluster-status')).toHaveLength(3);
  });

  it('a malformed check is refused by name and starts nothing', async () => {
    const { cloud } = cluster();
    cloud.enqueue(JSON.stringify({ healthCheck: { requestedAt: 'yesterday' } }), 0);
    expect(await cloud.drain()).toEqual(['rejected']);
    expect(cloud.events()).toEqual(['event.malformed']);
    expect(cloud.notifications[0]!.body).toContain('requestedAt must be an ISO 8601 UTC time');
    expect(cloud.sent('doc-gluster-status')).toEqual([]);
  });
});

describe('health flow: a brick killed on a live member', () => {
  it('metric 1, the change told once, the brick restarted under the lock and told; the next read 0 and healthy again told', async () => {
    const { cloud, m2 } = cluster();
    await period(cloud); // healthy baseline
    killBrick(cloud, 'pydio-data', m2);
    cloud.gauges.length = 0;
    expect(await period(cloud)).toEqual(['completed']);

    expect(gauge(cloud, 'GlusterBricksOffline', 'pydio-data')).toEqual([1]);
    expect(gauge(cloud, 'GlusterBricksOffline')).toEqual([1]);
    expect(gauge(cloud, 'GlusterBricksOffline', 'pydio-config')).toEqual([0]);
    const [changed] = ofType(cloud, 'storage.health');
    expect(changed!.subject).toBe('[test] Gluster unhealthy: 1 brick offline (pydio-data)');
    expect(changed!.severity).toBe('warning');
    expect(changed!.body).toContain(`brick ${m2.ip}:/bricks/pydio-data/brick of pydio-data offline (member ${m2.instanceId})`);
    expect(changed!.body).toContain(`brick ${m2.ip}:/bricks/pydio-data/brick of pydio-data on ${m2.instanceId}: restarting it (gluster volume start pydio-data force)`);
    // The repair: one allow-listed command, under the lock, which is given back.
    expect(cloud.glusterActions()).toEqual(['volume-start-force pydio-data']);
    expect(cloud.coordination.log.filter((l) => l.startsWith(`take ${LOCK} `)).length).toBeGreaterThanOrEqual(1); // taken, then kept on each later delivery
    expect(cloud.coordination.log.filter((l) => l.startsWith(`release ${LOCK} `))).toHaveLength(1);
    expect(await cloud.coordination.holder(LOCK)).toBeUndefined();
    const [restarted] = ofType(cloud, 'storage.repair');
    expect(restarted!.subject).toBe(`[test] brick of pydio-data offline on ${m2.instanceId}: restarted`);
    expect(record(cloud)).toMatchObject({ healthy: false, reason: '1 brick offline (pydio-data)' });
    expect(record(cloud).repairs?.[`pydio-data ${m2.ip}:/bricks/pydio-data/brick`]).toEqual({ restarts: [expect.stringMatching(/^2026-11-21T10:0[1-3]:/)], told: 'restarted' });

    cloud.gauges.length = 0;
    await period(cloud);
    expect(gauge(cloud, 'GlusterBricksOffline')).toEqual([0]);
    const recovered = ofType(cloud, 'storage.health')[1]!;
    expect(recovered.subject).toBe('[test] Gluster healthy again');
    expect(recovered.severity).toBe('info');
    expect(recovered.body).toContain(`Resolved: brick pydio-data ${m2.ip}:/bricks/pydio-data/brick offline`);
    expect(record(cloud)).toMatchObject({ healthy: true });

    await period(cloud);
    expect(cloud.events()).toEqual(['storage.health', 'storage.repair', 'storage.health']);
  });

  it('repair off (glusterRepairBricks false): told with the reason, no Gluster command, not told again next period', async () => {
    const { cloud, m2 } = cluster();
    killBrick(cloud, 'pydio-config', m2);
    const env = { STORAGE_REPAIR_BRICKS: 'false' };
    await period(cloud, env);
    await period(cloud, env);
    expect(cloud.glusterActions()).toEqual([]);
    expect(cloud.events()).toEqual(['storage.health']);
    expect(cloud.notifications[0]!.body).toContain(`brick ${m2.ip}:/bricks/pydio-config/brick of pydio-config on ${m2.instanceId}: not repaired: brick repair is off (stage parameter glusterRepairBricks)`);
  });

  it('another operation holds the lock: not repaired, told once; repaired at a later read once the lock is free', async () => {
    const { cloud, m2 } = cluster();
    const hold = () => cloud.coordination.take(LOCK, 'expand-op-1', 3600, cloud.now.toISOString());
    await hold();
    killBrick(cloud, 'pydio-data', m2);
    await period(cloud);
    await hold(); // the holder keeps it
    await period(cloud);
    expect(cloud.glusterActions()).toEqual([]);
    const notRepaired = ofType(cloud, 'storage.repair');
    expect(notRepaired).toHaveLength(1);
    expect(notRepaired[0]!.subject).toBe(`[test] pydio-data brick offline on ${m2.instanceId}: not repaired`);
    expect(notRepaired[0]!.body).toContain('another storage operation holds the cluster lock (expand-op-1)');
    await cloud.coordination.release(LOCK, 'expand-op-1');
    await period(cloud);
    expect(cloud.glusterActions()).toEqual(['volume-start-force pydio-data']);
    expect(await cloud.coordination.holder(LOCK)).toBeUndefined();
  });

  it('a brick that dies again after each restart is restarted at most 3 times an hour, then left offline and told why, once', async () => {
    const { cloud, m2 } = cluster();
    cloud.bricksDieAgain = true;
    killBrick(cloud, 'pydio-data', m2);
    for (let i = 0; i < 6; i += 1) await period(cloud);
    expect(cloud.glusterActions()).toEqual(['volume-start-force pydio-data', 'volume-start-force pydio-data', 'volume-start-force pydio-data']);
    const repairs = ofType(cloud, 'storage.repair');
    expect(repairs.map((n) => n.subject.replace(/^\[test\] /, '').replace(m2.instanceId, 'i-2').replace(m2.ip, 'ip'))).toEqual([
      'brick of pydio-data offline on i-2: restarted',
      'brick of pydio-data offline on i-2: restarted',
      'brick of pydio-data offline on i-2: restarted',
      'pydio-data brick offline on i-2: not repaired',
    ]);
    expect(repairs[3]!.body).toContain('restarted 3 times in the last 60 minutes and offline again: see /var/log/glusterfs/bricks/bricks-pydio-data-brick.log');
    // The health change itself was told once.
    expect(ofType(cloud, 'storage.health')).toHaveLength(1);
  });

  it('dry run: tells it would restart (once), runs no Gluster command, takes no lock', async () => {
    const { cloud, m2 } = cluster();
    killBrick(cloud, 'pydio-data', m2);
    await period(cloud, { DRY_RUN: 'true' });
    await period(cloud, { DRY_RUN: 'true' });
    expect(cloud.glusterActions()).toEqual([]);
    expect(cloud.coordination.log.some((l) => l.startsWith(`take ${LOCK} `))).toBe(false);
    expect(ofType(cloud, 'storage.repair').map((n) => n.subject)).toEqual([`[test] dry run: brick of pydio-data offline on ${m2.instanceId}: would restart`]);
  });

  it('gluster refusing the restart: the brick is told not repaired with gluster\'s words, the lock given back', async () => {
    const { cloud, m2 } = cluster();
    killBrick(cloud, 'pydio-data', m2);
    cloud.failDocument['doc-gluster-command'] = { status: 'Failed', exitCode: 1, stdout: '<?xml version="1.0"?>\n<cliOutput>\n  <opRet>-1</opRet>\n  <opErrno>30800</opErrno>\n  <opErrstr>Staging failed on 10.0.2.11. Error: Failed to find brick directory</opErrstr>\n</cliOutput>', stderr: '' };
    expect(await period(cloud)).toEqual(['failed']);
    const [notRepaired] = ofType(cloud, 'storage.repair');
    expect(notRepaired!.body).toContain('gluster volume start ... force failed');
    expect(notRepaired!.body).toContain('Failed to find brick directory');
    expect(await cloud.coordination.holder(LOCK)).toBeUndefined();
  });
});

describe('health flow: a member down, split-brain, nothing to read', () => {
  it('a dead member: its bricks offline and its peer disconnected, not restarted (the group replaces it), told once', async () => {
    const { cloud, m2 } = cluster();
    m2.alive = false;
    await period(cloud);
    await period(cloud);
    expect(gauge(cloud, 'GlusterPeersDisconnected')).toEqual([1, 1]);
    expect(gauge(cloud, 'GlusterBricksOffline')).toEqual([2, 2]);
    expect(cloud.glusterActions()).toEqual([]);
    expect(cloud.events()).toEqual(['storage.health']);
    expect(cloud.notifications[0]!.subject).toBe('[test] Gluster unhealthy: 2 bricks offline (pydio-config, pydio-data); 1 peer disconnected');
    expect(cloud.notifications[0]!.body).toContain(`not repaired: glusterd of member ${m2.instanceId} does not answer (peer disconnected)`);
  });

  it('split-brain: the paths told (severity error), the metric, and nothing resolved', async () => {
    const { cloud } = cluster();
    cloud.volumes.find((v) => v.name === 'pydio-config')!.splitBrain = ['/conf/bootstrap.json', '/conf/users.json'];
    await period(cloud);
    await period(cloud);
    expect(gauge(cloud, 'GlusterSplitBrainEntries', 'pydio-config')).toEqual([2, 2]);
    const [told] = ofType(cloud, 'storage.health');
    expect(told!.severity).toBe('error');
    expect(told!.subject).toBe('[test] Gluster unhealthy: 2 split-brain entries (pydio-config)');
    expect(told!.body).toContain('    /conf/bootstrap.json\n        /conf/users.json');
    expect(cloud.events()).toEqual(['storage.health']);
    expect(cloud.glusterActions()).toEqual([]);
  });

  it('no member to read from: told once, no metric (the alarms see missing data); readable again: told', async () => {
    const { cloud, m1, m2 } = cluster();
    m1.online = false;
    m2.online = false;
    await period(cloud);
    await period(cloud);
    expect(cloud.gauges).toEqual([]);
    expect(cloud.events()).toEqual(['storage.health']);
    expect(cloud.notifications[0]!.subject).toBe('[test] Gluster health cannot be read');
    expect(cloud.notifications[0]!.body).toContain('no in-service member of pydio-storage with an online SSM agent');
    m1.online = true;
    m2.online = true;
    await period(cloud);
    expect(cloud.notifications.map((n) => n.subject)).toEqual(['[test] Gluster health cannot be read', '[test] Gluster healthy again']);
  });

  it("glusterd busy with another member's transaction: the read is sent again, nothing told", async () => {
    const { cloud } = cluster();
    cloud.busyRuns['doc-gluster-status'] = 1; // the document fails
    cloud.busyStatusSections = 1; // the document succeeds, a section inside says busy
    expect(await period(cloud)).toEqual(['completed']);
    expect(cloud.sent('doc-gluster-status')).toHaveLength(3);
    expect(cloud.notifications).toEqual([]);
    expect(record(cloud)).toMatchObject({ healthy: true });
  });

  it('the status document failing on one member: told once, and the next read asks the other member', async () => {
    const { cloud, m1, m2 } = cluster();
    cloud.failDocument['doc-gluster-status'] = { status: 'Failed', exitCode: 1, stdout: '', stderr: 'storage-gluster-status[pool]: ERROR: gluster pool list failed: is glusterd running?' };
    expect(await period(cloud)).toEqual(['failed']);
    expect(await period(cloud)).toEqual(['failed']);
    expect(cloud.sent('doc-gluster-status').map((i) => i.instanceId)).toEqual([m1.instanceId, m2.instanceId]);
    expect(cloud.events()).toEqual(['storage.health']);
    expect(cloud.notifications[0]!.body).toContain('is glusterd running?');
  });
});
