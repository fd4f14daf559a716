/**
 * A storage member dies and the group replaces it (issue 4), through the
 * storage flows against the Gluster model: the terminate flow of a dead
 * member that never joined through the function (no member record) still
 * records where its bricks were; the replacement takes them over, the heal is
 * watched, and the dead peer then leaves the pool.
 */
import type { CommandInvocation } from '../../../../lib/ports/ssm';
import type { StorageDeps } from '../../../../lib/usecases/storage/cluster';
import { A, B, FakeStorage, type FakeNode } from './fake-storage';

const MEMBERS = '/pydio-autoscaler/test/storage/members';
const LOCK = 'storage/lock';

/** Two members in a and b; m1 (zone a) dies: its glusterd and agent go silent. */
function deadMemberCluster(layout: 'bare' | 'quorum' = 'bare'): { cloud: FakeStorage; m1: FakeNode; m2: FakeNode } {
  const cloud = new FakeStorage();
  const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)] as [FakeNode, FakeNode];
  cloud.cluster([m1, m2], undefined, undefined, layout);
  Object.assign(m1, { alive: false, online: false });
  return { cloud, m1, m2 };
}

/** What the group does about the dead member: Unhealthy -> terminate hook -> gone. */
async function groupTerminates(cloud: FakeStorage, dead: FakeNode, deps?: StorageDeps): Promise<void> {
  dead.lifecycleState = 'Terminating:Wait';
  cloud.enqueue(cloud.event('terminate', dead), 0);
  await cloud.drain(deps);
  expect(dead.lifecycleState).toBe('Terminated');
  dead.lifecycleState = 'Gone';
}

/** Runs every gluster-command whose Action is `action` as a failure. */
function failingAction(cloud: FakeStorage, action: string): StorageDeps {
  const deps = cloud.deps();
  const failed: CommandInvocation = { status: 'Failed', exitCode: 1, stdout: '', stderr: 'storage-gluster-command[peer-detach]: ERROR: gluster said no' };
  return {
    ...deps,
    ssm: {
      ...cloud.ssm,
      getInvocation: async (commandId, instanceId, report) => (cloud.commands.get(commandId)?.input.parameters.Action === action ? failed : cloud.ssm.getInvocation(commandId, instanceId, report)),
    },
  };
}

describe('replacing a dead storage member', () => {
  it('a dead member without a record: the terminate flow records its last reported address, the replacement takes over its bricks, heals, then detaches the dead peer', async () => {
    // Prepare: m1 joined before the function ran (no record); SSM keeps its last address.
    const { cloud, m1, m2 } = deadMemberCluster();
    cloud.params.delete(`${MEMBERS}/${m1.instanceId}`);
    m1.keepsIpOffline = true;
    const hookFiredAt = cloud.now.toISOString();
    await groupTerminates(cloud, m1);
    // Its bricks were offline: last known serving when the hook fired, not when the inspection ended.
    expect(cloud.now.toISOString() > hookFiredAt).toBe(true);
    expect(JSON.parse(cloud.params.get(`${MEMBERS}/${m1.instanceId}`)!)).toEqual({ instanceId: m1.instanceId, host: m1.ip, zone: A, state: 'departed', lastSeen: hookFiredAt });
    // Act: the group launches the replacement in the dead member's zone.
    const fresh = cloud.launch(A);
    const outcomes = await cloud.drain();
    // Assess
    expect(outcomes.at(-1)).toBe('completed');
    expect(cloud.glusterActions()).toEqual([
      `replace-brick pydio-config ${m1.ip}:/bricks/pydio-config/brick,${fresh.ip}:/bricks/pydio-config/brick`,
      `replace-brick pydio-data ${m1.ip}:/bricks/pydio-data/brick,${fresh.ip}:/bricks/pydio-data/brick`,
      'heal-full pydio-config',
      'heal-full pydio-data',
      `peer-detach ${m1.ip}`,
      // The volumes predate their layout's quorum options: the join sets them once the pool is whole.
      'volume-set pydio-config cluster.quorum-type=auto',
      'volume-set pydio-data cluster.quorum-type=auto',
      'volume-set all cluster.server-quorum-ratio=51%',
      'volume-set pydio-config cluster.server-quorum-type=server',
      'volume-set pydio-data cluster.server-quorum-type=server',
    ]);
    // The detach ran on the surviving member, after the heal was seen complete.
    expect(cloud.sent('doc-gluster-command').at(-6)!.instanceId).toBe(m2.instanceId);
    expect([...cloud.pool].sort()).toEqual([m2.ip, fresh.ip].sort());
    expect(cloud.volumes.every((v) => v.heal === 0 && !v.bricks.some((b) => b.host === m1.ip))).toBe(true);
    const done = cloud.notifications.find((n) => n.eventType === 'storage.succeeded')!;
    expect(done.subject).toContain(`${fresh.instanceId} replaced ${m1.instanceId} in ${A}`);
    expect(done.body).toMatch(/ran with one replica less for (\d+h)?(\d+m)?\d+s\./);
    const joined = cloud.notifications.find((n) => n.eventType === 'lifecycle.succeeded')!;
    expect(joined.body).not.toContain('left in the Gluster pool');
    expect(cloud.coordination.items.has(LOCK)).toBe(false);
    expect(cloud.params.has(`${MEMBERS}/${m1.instanceId}`)).toBe(false);
    expect(cloud.node(fresh.instanceId).lifecycleState).toBe('InService');
  });

  it('a dead peer already gone from the pool is not detached again', async () => {
    const { cloud, m1 } = deadMemberCluster();
    await groupTerminates(cloud, m1);
    cloud.pool.delete(m1.ip);
    const fresh = cloud.launch(A);
    await cloud.drain();
    expect(cloud.glusterActions().filter((a) => a.startsWith('peer-detach'))).toEqual([]);
    expect(cloud.volumes.every((v) => v.bricks.some((b) => b.host === fresh.ip))).toBe(true);
    expect(cloud.node(fresh.instanceId).lifecycleState).toBe('InService');
    expect(cloud.coordination.items.has(LOCK)).toBe(false);
  });

  it('a failed detach does not abandon the replacement: it joins, the lock is released, the join names the peer left behind', async () => {
    const { cloud, m1 } = deadMemberCluster();
    await groupTerminates(cloud, m1);
    const fresh = cloud.launch(A);
    const deps = failingAction(cloud, 'peer-detach');
    await cloud.drain(deps);
    expect(cloud.glusterActions().at(-1)).toBe(`peer-detach ${m1.ip}`);
    expect(cloud.calls.filter((c) => c.op === 'completeLifecycleAction').map((c) => c.args)).toContainEqual(expect.objectContaining({ instanceId: fresh.instanceId, result: 'CONTINUE' }));
    expect(cloud.node(fresh.instanceId).lifecycleState).toBe('InService');
    expect(cloud.events()).not.toContain('lifecycle.failed');
    const joined = cloud.notifications.find((n) => n.eventType === 'lifecycle.succeeded')!;
    expect(joined.body).toContain(`dead peer ${m1.ip} left in the Gluster pool: the detach failed`);
    expect(cloud.pool.has(m1.ip)).toBe(true);
    expect(cloud.coordination.items.has(LOCK)).toBe(false);
  });

  describe('two members with server quorum: the survivor stops its bricks and the pool refuses new peers', () => {
    it('the replacement lifts server quorum (the dead member is gone from the group), joins, takes over, heals, detaches, and sets it back', async () => {
      const { cloud, m1, m2 } = deadMemberCluster('quorum');
      expect(cloud.serverQuorumMet()).toBe(false);
      await groupTerminates(cloud, m1);
      const fresh = cloud.launch(A);
      const outcomes = await cloud.drain();
      expect(outcomes.at(-1)).toBe('completed');
      expect(cloud.glusterActions()).toEqual([
        'volume-set pydio-config cluster.server-quorum-type=none',
        'volume-set pydio-data cluster.server-quorum-type=none',
        `replace-brick pydio-config ${m1.ip}:/bricks/pydio-config/brick,${fresh.ip}:/bricks/pydio-config/brick`,
        `replace-brick pydio-data ${m1.ip}:/bricks/pydio-data/brick,${fresh.ip}:/bricks/pydio-data/brick`,
        'heal-full pydio-config',
        'heal-full pydio-data',
        `peer-detach ${m1.ip}`,
        'volume-set pydio-config cluster.server-quorum-type=server',
        'volume-set pydio-data cluster.server-quorum-type=server',
      ]);
      // The first probe was refused, the second (after the lift) went through, both from the survivor.
      expect(cloud.sent('doc-peer-probe').map((c) => c.instanceId)).toEqual([m2.instanceId, m2.instanceId]);
      expect(cloud.volumes.map((v) => v.options?.['cluster.server-quorum-type'])).toEqual(['server', 'server']);
      expect(cloud.serverQuorumMet()).toBe(true);
      expect([...cloud.pool].sort()).toEqual([m2.ip, fresh.ip].sort());
      const told = cloud.notifications.filter((n) => n.eventType === 'storage.layout');
      expect(told.map((n) => n.subject)).toEqual([
        '[test] server quorum lifted on pydio-config, pydio-data for a replacement',
        '[test] server quorum restored on pydio-config, pydio-data: no split-brain, less availability',
      ]);
      expect(told[0]!.body).toContain(`The pool misses only ${m1.ip} (no instance of the group)`);
      expect(cloud.node(fresh.instanceId).lifecycleState).toBe('InService');
      expect(cloud.params.has(LOCK)).toBe(false);
    });

    it.each<[string, boolean, string]>([
      ['its agent still reports its address', true, 'still in the storage group but cut off from the pool: a partition, not a dead member'],
      ['its agent is silent too', false, 'of the storage group with no known address: a peer the pool misses may be alive there'],
    ])('a member still in service but cut off (%s) keeps server quorum: the replacement waits, then fails at the join timeout, nothing is set', async (_name, keepsIp, reason) => {
      const { cloud, m1 } = deadMemberCluster('quorum');
      // m1 is not dead to the group: no terminate hook, still InService (a partition, as far as anyone can tell).
      m1.keepsIpOffline = keepsIp;
      expect(m1.lifecycleState).toBe('InService');
      const fresh = cloud.launch(A);
      const outcomes = await cloud.drain(cloud.deps({ STORAGE_JOIN_TIMEOUT_SECONDS: '600' }));
      expect(outcomes.at(-1)).toBe('failed');
      expect(cloud.glusterActions()).toEqual([]);
      expect(cloud.volumes.map((v) => v.options?.['cluster.server-quorum-type'])).toEqual(['server', 'server']);
      const failed = cloud.notifications.find((n) => n.eventType === 'lifecycle.failed')!;
      expect(failed.body).toContain(m1.instanceId);
      expect(failed.body).toContain(reason);
      expect(cloud.calls.filter((c) => c.op === 'completeLifecycleAction').map((c) => c.args)).toContainEqual(expect.objectContaining({ instanceId: fresh.instanceId, result: 'ABANDON' }));
    });

    it('a failed detach still sets server quorum back: two live peers of three hold it', async () => {
      const { cloud, m1 } = deadMemberCluster('quorum');
      await groupTerminates(cloud, m1);
      const fresh = cloud.launch(A);
      await cloud.drain(failingAction(cloud, 'peer-detach'));
      expect(cloud.glusterActions().slice(-3)).toEqual([`peer-detach ${m1.ip}`, 'volume-set pydio-config cluster.server-quorum-type=server', 'volume-set pydio-data cluster.server-quorum-type=server']);
      expect(cloud.pool.has(m1.ip)).toBe(true);
      expect(cloud.serverQuorumMet()).toBe(true);
      expect(cloud.node(fresh.instanceId).lifecycleState).toBe('InService');
    });
  });
});
