/**
 * The layouts through the storage flows (issue 10), against the fake Gluster
 * (which refuses what glusterd refuses: add-brick of an incomplete set, volume
 * operations and new peers without server quorum): new volumes in the layout
 * of the group's zones, arbiter volumes expanded and shrunk by whole sets,
 * quorum options set by the next storage operation and told once, and the
 * layout request.
 */
import { encodeStorageRequest } from '../../../../lib/core/storage/flow-state';
import { handleStorageInvoke } from '../../../../lib/usecases/storage/invoke';
import { A, B, C, FakeStorage } from './fake-storage';

const QUORUM_SET = [
  'volume-set pydio-config cluster.quorum-type=auto',
  'volume-set pydio-data cluster.quorum-type=auto',
  'volume-set all cluster.server-quorum-ratio=51%',
  'volume-set pydio-config cluster.server-quorum-type=server',
  'volume-set pydio-data cluster.server-quorum-type=server',
];
const expand = (over: Record<string, unknown> = {}) => encodeStorageRequest({ action: 'expand', volume: 'pydio-data', sets: 1, allowSameZone: false, dryRun: false, reason: 'test', ...over });
const layout = (dryRun = false) => encodeStorageRequest({ action: 'layout', volume: '', sets: 0, allowSameZone: false, dryRun, reason: 'manual invoke' });
const told = (cloud: FakeStorage, type: string) => cloud.notifications.filter((n) => n.eventType === type);

describe('new volumes in the layout of the group\'s zones', () => {
  it('three zones: the third member to join creates replica 3 arbiter 1, the arbiter on the last brick of each set', async () => {
    const cloud = new FakeStorage();
    cloud.group.zones = [A, B, C];
    const members = [cloud.launch(A)];
    await cloud.drain();
    members.push(cloud.launch(B));
    await cloud.drain();
    expect(cloud.volumes).toEqual([]);
    expect(told(cloud, 'lifecycle.succeeded').at(-1)!.body).toMatch(/3 connected members in distinct zones are needed to create the volumes as replica 3 arbiter 1/);
    members.push(cloud.launch(C));
    await cloud.drain();
    const bricks = (v: string) => members.map((m) => `${m.ip}:/bricks/${v}/brick`).join(',');
    expect(cloud.glusterActions()).toEqual([
      `volume-create pydio-config arbiter 1 ${bricks('pydio-config')}`,
      `volume-create pydio-data arbiter 1 ${bricks('pydio-data')}`,
      'volume-start pydio-config',
      'volume-start pydio-data',
    ]);
    expect(cloud.volumes.map((v) => [v.name, v.replica, v.arbiter])).toEqual([['pydio-config', 3, 1], ['pydio-data', 3, 1]]);
    expect(told(cloud, 'storage.succeeded')[0]!.body).toContain('created as replica 3 arbiter 1 (two data bricks and an arbiter per set, three zones) and started');
    expect(told(cloud, 'storage.layout')).toEqual([]);
  });

  it('an arbiter volume grows by a whole set of three members in three zones (add-brick replica 3 arbiter 1) and rebalances', async () => {
    const cloud = new FakeStorage();
    cloud.group.zones = [A, B, C];
    const members = [cloud.addNode(A), cloud.addNode(B), cloud.addNode(C)];
    cloud.cluster(members, [members], undefined, 'arbiter');
    cloud.group.max = 6;
    cloud.enqueue(expand(), 0);
    const outcomes = await cloud.drain();
    expect(outcomes).not.toContain('failed');
    const fresh = cloud.nodes.slice(3);
    expect(fresh.map((n) => n.zone)).toEqual([A, B, C]);
    const add = cloud.glusterActions().find((a) => a.startsWith('add-brick'))!;
    expect(add).toMatch(/^add-brick pydio-data arbiter 1 /);
    expect(cloud.sent('doc-gluster-command').find((c) => c.parameters.Action === 'add-brick')!.parameters).toMatchObject({ Replica: '3', Arbiter: '1' });
    expect(cloud.volumes[1]!.bricks).toHaveLength(6);
    expect(told(cloud, 'storage.planned')[0]!.body).toContain('Layout: replica 3 arbiter 1 - each new set is two data bricks and an arbiter (the last brick).');
    expect(told(cloud, 'storage.succeeded').at(-1)!.subject).toMatch(/expand of pydio-data done/);
  });

  it('an arbiter volume shrinks by its last whole set', async () => {
    const cloud = new FakeStorage();
    cloud.group.zones = [A, B, C];
    const ms = [cloud.addNode(A), cloud.addNode(B), cloud.addNode(C), cloud.addNode(A), cloud.addNode(B), cloud.addNode(C)];
    cloud.cluster(ms, [ms.slice(0, 3), ms.slice(3)], 10 * 1024 ** 3, 'arbiter');
    cloud.volumes[0]!.bricks = cloud.volumes[0]!.bricks.slice(0, 3);
    cloud.enqueue(encodeStorageRequest({ action: 'shrink', volume: 'pydio-data', sets: 0, allowSameZone: false, dryRun: false, reason: 'test' }), 0);
    await cloud.drain();
    const removed = ms.slice(3).map((m) => `${m.ip}:/bricks/pydio-data/brick`).join(',');
    expect(cloud.glusterActions().filter((a) => a.startsWith('remove-brick-commit'))).toEqual([`remove-brick-commit pydio-data ${removed}`]);
    expect(cloud.sent('doc-gluster-command').find((c) => c.parameters.Action === 'remove-brick-start')!.parameters).toMatchObject({ Replica: '3' });
    expect(cloud.volumes[1]!.bricks.map((b) => b.host)).toEqual(ms.slice(0, 3).map((m) => m.ip));
    expect(ms.slice(3).every((m) => !cloud.pool.has(m.ip))).toBe(true);
  });
});

describe('replica 2 volumes older than their layout get the quorum options from the next storage operation', () => {
  const older = () => {
    const cloud = new FakeStorage();
    const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)];
    cloud.cluster([m1!, m2!]);
    return cloud;
  };

  it('an expansion sets them before its add-brick, lists them in its plan, and tells ops once', async () => {
    const cloud = older();
    cloud.enqueue(expand(), 0);
    expect(await cloud.drain()).not.toContain('failed');
    const actions = cloud.glusterActions();
    expect(actions.slice(0, 5)).toEqual(QUORUM_SET);
    expect(actions[5]).toMatch(/^add-brick pydio-data /);
    const planned = told(cloud, 'storage.planned')[0]!;
    expect(planned.body).toContain('First the quorum options the volumes lack for their layout (README, "Split-brain: layouts and quorum"):');
    expect(planned.body).toContain('    pydio-data: cluster.server-quorum-type (unset) -> server');
    expect(planned.body).toContain('gluster --mode=script volume set all cluster.server-quorum-ratio 51%');
    const layoutNotes = told(cloud, 'storage.layout');
    expect(layoutNotes).toHaveLength(1);
    expect(layoutNotes[0]!.severity).toBe('warning');
    expect(layoutNotes[0]!.body).toContain('a replica set takes writes only while its FIRST brick is reachable');
    expect(layoutNotes[0]!.body).toContain('With two storage members, losing either one stops the bricks of both volumes');
    // The new members joined a pool in server quorum (four of four): nothing refused them.
    expect(cloud.serverQuorumMet()).toBe(true);
    // A second expansion has nothing to set and says nothing about it.
    cloud.group.max = 8;
    cloud.enqueue(expand(), 0);
    await cloud.drain();
    expect(cloud.glusterActions().filter((a) => a.startsWith('volume-set'))).toHaveLength(5);
    expect(told(cloud, 'storage.layout')).toHaveLength(1);
  });

  it('an expansion that launches members asks for them before it sets the options: they boot meanwhile', async () => {
    const cloud = older();
    cloud.enqueue(expand(), 0);
    await cloud.drain();
    const order = cloud.calls.filter((c) => c.op === 'setDesiredCapacity' || (c.op === 'sendCommand' && (c.args as { parameters: Record<string, string> }).parameters.Action === 'volume-set'));
    expect(order.map((c) => c.op)).toEqual(['setDesiredCapacity', 'sendCommand', 'sendCommand', 'sendCommand', 'sendCommand', 'sendCommand']);
  });

  it('its members do not peer-probe while it sets the options: glusterd hung a volume set that ran beside a probe (CI on ac1d6ba)', async () => {
    const cloud = older();
    cloud.enqueue(expand(), 0);
    expect(await cloud.drain()).not.toContain('failed');
    const sent = cloud.calls.filter((c) => c.op === 'sendCommand').map((c) => c.args as { documentName: string; parameters: Record<string, string> });
    const kinds = sent.map((i) => (i.documentName === 'doc-peer-probe' ? 'probe' : i.parameters.Action === 'volume-set' ? 'set' : 'other'));
    const lastSet = kinds.lastIndexOf('set');
    expect(lastSet).toBeGreaterThan(0);
    // Every probe comes after the last volume set, and both members were probed.
    expect(kinds.slice(0, lastSet)).not.toContain('probe');
    expect(kinds.filter((k) => k === 'probe')).toHaveLength(2);
    // The members found the options set: the expansion told ops once, no join set them again.
    expect(cloud.glusterActions().filter((a) => a.startsWith('volume-set'))).toHaveLength(5);
    expect(told(cloud, 'storage.layout')).toHaveLength(1);
  });

  it('a member waits at peer-probe only while the lock\'s holder says it is setting them, and gives up at the join timeout naming it', async () => {
    const cloud = older();
    const deps = cloud.deps({ STORAGE_JOIN_TIMEOUT_SECONDS: '60' });
    // A gate left 'applying' by an operation that no longer holds the lock stops nothing.
    await cloud.coordination.write('storage/layout-gate/expand-gone', 'applying', 3600);
    const free = cloud.launch(A);
    await cloud.drain(deps);
    expect(cloud.sent('doc-peer-probe').map((i) => i.parameters.Peers)).toEqual([free.ip]);
    // A holder silent for more than twice RETRY_MAX_SECONDS (60 s here) is dead: its gate stops nothing either.
    await cloud.coordination.take('storage/lock', 'expand-dead', 3600, new Date(cloud.now.getTime() - 121_000).toISOString());
    await cloud.coordination.write('storage/layout-gate/expand-dead', 'applying', 3600);
    const afterDead = cloud.launch(B);
    await cloud.drain(deps);
    expect(cloud.sent('doc-peer-probe').map((i) => i.parameters.Peers)).toEqual([free.ip, afterDead.ip]);
    await cloud.coordination.release('storage/lock', 'expand-dead');
    // The holder's gate says applying: no probe, and the join fails at its timeout saying why.
    await cloud.coordination.take('storage/lock', 'expand-busy', 3600, cloud.now.toISOString());
    await cloud.coordination.write('storage/layout-gate/expand-busy', 'applying', 3600);
    const held = cloud.launch(A);
    // A live holder renews its lock on each of its deliveries: here, before each of the member's.
    await cloud.drain(deps, 400, () => void cloud.coordination.take('storage/lock', 'expand-busy', 3600, cloud.now.toISOString()));
    expect(cloud.sent('doc-peer-probe')).toHaveLength(2);
    const failed = cloud.notifications.find((n) => n.eventType === 'lifecycle.failed')!;
    expect(failed.subject).toContain('FAILED at peer-probe');
    expect(failed.body).toContain('expand-busy is setting the volumes\' quorum options; no peer probe beside a volume set, still after');
    expect(cloud.calls.find((c) => c.op === 'completeLifecycleAction' && (c.args as { instanceId: string }).instanceId === held.instanceId)!.args).toMatchObject({ result: 'ABANDON' });
  });

  it('an expansion that was at apply-layout before its members were launched (the order of an earlier version) launches them, then sets the options', async () => {
    const cloud = older();
    const deps = cloud.deps();
    // The group refuses the first capacity change (a scaling activity in progress): the flow waits at launch-members.
    const setDesired = deps.autoScaling.setDesiredCapacity;
    deps.autoScaling.setDesiredCapacity = async () => {
      deps.autoScaling.setDesiredCapacity = setDesired;
      return 'in-progress';
    };
    cloud.enqueue(expand(), 0);
    let parked: { body: string } | undefined;
    await cloud.drain(deps, 400, (message) => {
      const state = (JSON.parse(message.body) as { state?: { step?: string } }).state;
      if (state?.step !== 'launch-members' || parked) return true;
      parked = message;
      return false;
    });
    const body = JSON.parse(parked!.body) as { state: Record<string, unknown> };
    expect(cloud.calls.some((c) => c.op === 'setDesiredCapacity')).toBe(false);
    expect(cloud.glusterActions()).toEqual([]);
    // The same state at apply-layout, as the earlier order left it.
    cloud.enqueue(JSON.stringify({ ...body, state: { ...body.state, step: 'apply-layout' } }), 0);
    expect(await cloud.drain(deps)).not.toContain('failed');
    expect(cloud.calls.filter((c) => c.op === 'setDesiredCapacity')).toHaveLength(1);
    expect(cloud.glusterActions().filter((a) => a.startsWith('volume-set'))).toHaveLength(5);
    expect(cloud.events()).toContain('storage.succeeded');
  });

  it('a dry run shows them and sets nothing', async () => {
    const cloud = older();
    const answer = await handleStorageInvoke({ volume: 'pydio-data', sets: 1, dryRun: true }, cloud.deps(), 'req-1');
    expect(answer.outcome).toBe('planned');
    expect(answer.outcome === 'planned' && answer.commands.slice(0, 5)).toEqual([
      'gluster --mode=script volume set pydio-config cluster.quorum-type auto',
      'gluster --mode=script volume set pydio-data cluster.quorum-type auto',
      'gluster --mode=script volume set all cluster.server-quorum-ratio 51%',
      'gluster --mode=script volume set pydio-config cluster.server-quorum-type server',
      'gluster --mode=script volume set pydio-data cluster.server-quorum-type server',
    ]);
    expect(cloud.glusterActions()).toEqual([]);
    expect(cloud.volumes.every((v) => v.options === undefined)).toBe(true);
  });

  it('a join of a member to a whole cluster sets them; a join while a brick is offline does not, and says why', async () => {
    const cloud = older();
    cloud.volumes[1]!.heal = 0;
    const down = cloud.nodes[1]!;
    down.alive = false;
    down.keepsIpOffline = true;
    cloud.launch(A);
    await cloud.drain();
    expect(cloud.glusterActions()).toEqual([]);
    expect(told(cloud, 'lifecycle.succeeded')[0]!.body).toMatch(/quorum options not set yet \(member i-\w+ \(10\.0\.2\.\d+, eu-west-1b\) disconnected from the Gluster pool\); the next storage operation sets them/);
    down.alive = true;
    cloud.launch(B);
    await cloud.drain();
    expect(cloud.glusterActions()).toEqual(QUORUM_SET);
    expect(told(cloud, 'storage.layout')).toHaveLength(1);
  });
});

describe('{"action":"layout"}: the quorum options set now', () => {
  it('a dry run lists them; the request sets them under the lock and tells once; a second has nothing to do', async () => {
    const cloud = new FakeStorage();
    const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)];
    cloud.cluster([m1!, m2!]);
    const dry = await handleStorageInvoke({ action: 'layout', dryRun: true }, cloud.deps(), 'req-1');
    expect(dry).toMatchObject({ outcome: 'planned', dryRun: true });
    expect(dry.outcome === 'planned' && dry.commands).toHaveLength(5);
    expect(told(cloud, 'storage.planned')[0]!.subject).toBe('[test] dry run: quorum options planned for pydio-config, pydio-data');

    cloud.enqueue(layout(), 0);
    await cloud.drain();
    expect(cloud.glusterActions()).toEqual(QUORUM_SET);
    expect(told(cloud, 'storage.layout').map((n) => n.subject)).toEqual(['[test] quorum options set on pydio-config, pydio-data: no split-brain, less availability']);
    expect(told(cloud, 'storage.succeeded').at(-1)!.subject).toMatch(/^\[test\] layout of the volumes done in/);
    expect(cloud.params.has('/pydio-autoscaler/test/storage/lock')).toBe(false);

    cloud.enqueue(layout(), 0);
    await cloud.drain();
    expect(cloud.glusterActions()).toHaveLength(5);
    expect(told(cloud, 'storage.planned').at(-1)!.subject).toBe('[test] the volumes already have the quorum options of their layout');
    expect(told(cloud, 'storage.layout')).toHaveLength(1);
  });

  it('is refused like any operation when a brick is offline, and sets nothing', async () => {
    const cloud = new FakeStorage();
    const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)];
    cloud.cluster([m1!, m2!]);
    m2!.alive = false;
    m2!.keepsIpOffline = true;
    cloud.enqueue(layout(), 0);
    await cloud.drain();
    expect(cloud.glusterActions()).toEqual([]);
    expect(told(cloud, 'storage.refused')[0]!.body).toMatch(/layout of the volumes was refused and nothing was changed.\n.*member .* disconnected from the Gluster pool/);
  });

  it.each<[unknown, RegExp]>([
    [{ action: 'layout', volume: 'pydio-data' }, /unknown field "volume" for layout \(allowed: action, dryRun, reason\)/],
    [{ action: 'layout', sets: 1 }, /unknown field "sets" for layout/],
  ])('refuses %j naming the field', async (payload, reason) => {
    const cloud = new FakeStorage();
    const answer = await handleStorageInvoke(payload, cloud.deps(), 'req-1');
    expect(answer).toMatchObject({ outcome: 'rejected', error: expect.stringMatching(reason) });
  });
});
