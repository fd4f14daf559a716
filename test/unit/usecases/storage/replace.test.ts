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
function deadMemberCluster(): { cloud: FakeStorage; m1: FakeNode; m2: FakeNode } {
  const cloud = new FakeStorage();
  const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)] as [FakeNode, FakeNode];
  cloud.cluster([m1, m2]);
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
    ]);
    // The detach ran on the surviving member, after the heal was seen complete.
    expect(cloud.sent('doc-gluster-command').at(-1)!.instanceId).toBe(m2.instanceId);
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
});
