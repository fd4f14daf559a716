import { wrapError } from '../../../../lib/aws/call';
import { AwsCallError } from '../../../../lib/errors';
import { parseStatusBundle } from '../../../../lib/core/storage/gluster-parse';
import { SSM_STDOUT_LIMIT, STATUS_PART_CHARS } from '../../../../lib/core/storage/status-frame';
import { encodeStorageRequest } from '../../../../lib/core/storage/flow-state';
import { A, B, FakeStorage, GiB, frameStatus } from './fake-storage';
import { isWakeMessage, wakeKeyOf } from '../../../../lib/core/flow';
import { commandEvent } from '../fake-cloud';

const request = (over: Record<string, unknown> = {}) =>
  encodeStorageRequest({ action: 'expand', volume: 'pydio-data', sets: 1, allowSameZone: false, dryRun: false, reason: 'test', ...over });

const subjectsOf = (cloud: FakeStorage, type: string) => cloud.notifications.filter((n) => n.eventType === type).map((n) => n.subject);

describe('the fake Gluster answers what the real parsers read', () => {
  it('produces a status bundle parseStatusBundle accepts', () => {
    const cloud = new FakeStorage();
    const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)];
    cloud.cluster([m1!, m2!]);
    const bundle = parseStatusBundle(cloud.statusBundle(m1!, ['pydio-config', 'pydio-data']));
    expect(bundle.pool.map((p) => p.isLocal || p.connected)).toEqual([true, true]);
    expect(bundle.volumes.map((v) => [v.name, v.replicaCount, v.bricks.length])).toEqual([['pydio-config', 2, 2], ['pydio-data', 2, 2]]);
    expect(bundle.details['pydio-data']!.bricks[0]!.sizeFree).toBe(60 * GiB);
    expect(bundle.rebalance['pydio-data']!.state).toBe('none');
  });
});

describe('a storage launch waiting for its SSM agent', () => {
  /** When the launching node's agent, online `onlineAt` s after the launch, is seen (prepare-brick sent), and how many looks it took. */
  async function agentSeen(onlineAt: number): Promise<{ seenAt: number; looks: number }> {
    const cloud = new FakeStorage();
    const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)];
    cloud.cluster([m1!, m2!], undefined, undefined, 'quorum');
    const node = cloud.launch(A);
    node.online = false;
    const start = cloud.now.getTime();
    const deps = cloud.deps();
    for (let i = 0; i < 200; i += 1) {
      const due = Math.min(...cloud.queue.map((m) => m.due));
      if ((due - start) / 1000 >= onlineAt) node.online = true;
      await cloud.deliver(deps, 1);
      if (cloud.sent('doc-prepare-brick').length > 0) return { seenAt: (cloud.now.getTime() - start) / 1000, looks: i + 1 };
    }
    throw new Error(`the agent online at ${onlineAt} s was not seen`);
  }

  // RETRY_BASE_SECONDS is 5 and RETRY_MAX_SECONDS 60 here.
  it('looks every half RETRY_BASE_SECONDS within RETRY_MAX_SECONDS: an agent online at 45 s is seen within 3 s, not up to 5 s late as with the base', async () => {
    expect((await agentSeen(45)).seenAt).toBeLessThanOrEqual(45 + 3);
  });

  it('past RETRY_MAX_SECONDS looks after a tenth of the wait: an agent online at 400 s is seen within 10 % of it, in far fewer looks than every 3 s', async () => {
    const { seenAt, looks } = await agentSeen(400);
    expect(seenAt).toBeLessThanOrEqual(400 * 1.1 + 1);
    expect(looks).toBeLessThan(60 / 3 + (400 - 60) / 6);
  });
});

describe('a document whose success is all its step uses', () => {
  /** A join up to its prepare-brick command sent and parked; the invocation then reads InProgress whatever the event says (Run Command's reads lag). */
  async function prepareBrickParked() {
    const cloud = new FakeStorage();
    const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)];
    cloud.cluster([m1!, m2!], undefined, undefined, 'quorum');
    const node = cloud.launch(A);
    const deps = cloud.deps();
    for (let i = 0; i < 20 && cloud.sent('doc-prepare-brick').length === 0; i += 1) await cloud.deliver(deps, 1);
    const [id, command] = [...cloud.commands.entries()].find(([, c]) => c.input.documentName === 'doc-prepare-brick')!;
    cloud.commandPolls = 1000;
    return { cloud, deps, id, command, node };
  }

  it('goes on when its command\'s event says Success, without reading the invocation that still lags it', async () => {
    const { cloud, deps, id, command, node } = await prepareBrickParked();
    cloud.enqueue(commandEvent(id, 'Success', 'doc-prepare-brick', node.instanceId), 0);
    // The event is due first; the next command (the agent install) follows within the same delivery.
    await cloud.deliver(deps, 1);
    expect(command.polls).toBe(0);
    expect(cloud.sent('AWS-ConfigureAWSPackage')).toHaveLength(1);
  });

  it('reads the invocation when the event says it failed: the reason and output come from there', async () => {
    const { cloud, deps, id, command, node } = await prepareBrickParked();
    cloud.enqueue(commandEvent(id, 'Failed', 'doc-prepare-brick', node.instanceId), 0);
    await cloud.deliver(deps, 1);
    expect(command.polls).toBe(1);
    expect(cloud.sent('AWS-ConfigureAWSPackage')).toHaveLength(0);
  });
});

describe('storage-launch', () => {
  it('joins a new node: prepares its brick, probes it from a healthy member until connected, protects, records and completes', async () => {
    // Prepare: volumes in the layout of two zones already (no quorum option to set)
    const cloud = new FakeStorage();
    const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)];
    cloud.cluster([m1!, m2!], undefined, undefined, 'quorum');
    cloud.commandPolls = 2;
    const node = cloud.launch(A);
    // Act
    const outcomes = await cloud.drain();
    // Assess
    expect(outcomes.at(-1)).toBe('completed');
    expect(cloud.node(node.instanceId).lifecycleState).toBe('InService');
    expect(cloud.sent('doc-prepare-brick')[0]).toMatchObject({ instanceId: node.instanceId, parameters: { BrickRoot: '/bricks', Volumes: 'pydio-config,pydio-data', Device: '' } });
    expect(cloud.sent('doc-peer-probe')).toEqual([expect.objectContaining({ instanceId: m1!.instanceId, parameters: { Peers: node.ip } })]);
    expect(cloud.pool.has(node.ip)).toBe(true);
    expect(cloud.node(node.instanceId).protected).toBe(true);
    expect(JSON.parse(cloud.params.get(`/pydio-autoscaler/test/storage/members/${node.instanceId}`)!)).toMatchObject({ host: node.ip, zone: A, state: 'joined' });
    expect(cloud.tags.get(node.instanceId)).toEqual({ 'pydio-autoscaler:storage-state': 'joined', 'pydio-autoscaler:storage-state-since': expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(cloud.ops().filter((op) => op === 'completeLifecycleAction')).toHaveLength(1);
    expect(cloud.glusterActions()).toEqual([]);
    expect(subjectsOf(cloud, 'lifecycle.succeeded')[0]).toContain(`storage node ${node.instanceId} joined`);
    // Only the lifecycle claim was taken besides the flow parked on each command, and all are given back.
    const keys = new Set(cloud.coordination.log.map((l) => l.split(' ')[1]).filter((key) => !key?.startsWith('storage/command/')));
    expect(keys).toEqual(new Set([`storage/lifecycle/${node.instanceId}/launch`]));
    expect(cloud.coordination.keptKeys()).toEqual([]);
  });

  it('a refused tag does not stop the join: the node is protected, recorded, completed, and ops read the warning', async () => {
    const cloud = new FakeStorage();
    const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)];
    cloud.cluster([m1!, m2!]);
    cloud.tagError = new Error('CreateTags: UnauthorizedOperation: You are not authorized to perform this operation.');
    const node = cloud.launch(B);
    const outcomes = await cloud.drain();
    expect(outcomes.at(-1)).toBe('completed');
    expect(cloud.node(node.instanceId).protected).toBe(true);
    expect(cloud.calls.find((c) => c.op === 'completeLifecycleAction')!.args).toMatchObject({ instanceId: node.instanceId, result: 'CONTINUE' });
    expect(cloud.tags.has(node.instanceId)).toBe(false);
    const joined = cloud.notifications.find((n) => n.eventType === 'lifecycle.succeeded')!;
    expect(joined.body).toContain(`could not tag ${node.instanceId} with its state`);
    expect(joined.body).toContain('UnauthorizedOperation');
  });

  it('installs the CloudWatch agent and starts it with the stack\'s configuration on the launching node, after its brick is prepared', async () => {
    const cloud = new FakeStorage();
    const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)];
    cloud.cluster([m1!, m2!]);
    const node = cloud.launch(A);
    await cloud.drain();
    expect(cloud.sent('AWS-ConfigureAWSPackage')).toEqual([
      expect.objectContaining({ instanceId: node.instanceId, parameters: { action: 'Install', installationType: 'Uninstall and reinstall', name: 'AmazonCloudWatchAgent' } }),
    ]);
    expect(cloud.sent('AmazonCloudWatch-ManageAgent')).toEqual([
      expect.objectContaining({
        instanceId: node.instanceId,
        parameters: { action: 'configure', mode: 'ec2', optionalConfigurationSource: 'ssm', optionalConfigurationLocation: 'AmazonCloudWatch-pydio-autoscaler-test-storage', optionalRestart: 'yes' },
      }),
    ]);
    const order = cloud.calls.filter((c) => c.op === 'sendCommand').map((c) => (c.args as { documentName: string }).documentName);
    expect(order.slice(0, 4)).toEqual(['doc-prepare-brick', 'AWS-ConfigureAWSPackage', 'AmazonCloudWatch-ManageAgent', 'doc-peer-probe']);
    expect(cloud.notifications.find((n) => n.eventType === 'lifecycle.succeeded')!.body).not.toContain('CloudWatch agent');
  });

  it.each([
    ['AWS-ConfigureAWSPackage', 'not installed', 0],
    ['AmazonCloudWatch-ManageAgent', 'not configured', 1],
  ])('a failed %s is a warning of the join told to ops, not an abandon', async (document, what, configureRuns) => {
    const cloud = new FakeStorage();
    const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)];
    cloud.cluster([m1!, m2!]);
    cloud.failDocument[document] = { status: 'Failed', exitCode: 1, stdout: 'CloudWatch Agent not installed.', stderr: '' };
    const node = cloud.launch(B);
    const outcomes = await cloud.drain();
    expect(outcomes.at(-1)).toBe('completed');
    expect(cloud.calls.find((c) => c.op === 'completeLifecycleAction')!.args).toMatchObject({ instanceId: node.instanceId, result: 'CONTINUE' });
    expect(cloud.sent('AmazonCloudWatch-ManageAgent')).toHaveLength(configureRuns);
    expect(cloud.pool.has(node.ip)).toBe(true);
    const joined = cloud.notifications.find((n) => n.eventType === 'lifecycle.succeeded')!;
    expect(joined.body).toContain(`CloudWatch agent ${what} on ${node.instanceId}`);
    expect(joined.body).toContain('the brick disk alarm does not see this brick');
  });

  it('AWS refusing the agent document (access denied) is a warning of the join too, not a re-delivery until the dead letters', async () => {
    const cloud = new FakeStorage();
    const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)];
    cloud.cluster([m1!, m2!]);
    const denied = Object.assign(new Error('User is not authorized to perform: ssm:SendCommand'), { name: 'AccessDeniedException', $fault: 'client' });
    cloud.refuseSend['AWS-ConfigureAWSPackage'] = new AwsCallError('SendCommand', denied.message, { cause: denied });
    const node = cloud.launch(B);
    const outcomes = await cloud.drain();
    expect(outcomes.at(-1)).toBe('completed');
    expect(cloud.calls.find((c) => c.op === 'completeLifecycleAction')!.args).toMatchObject({ instanceId: node.instanceId, result: 'CONTINUE' });
    expect(cloud.notifications.find((n) => n.eventType === 'lifecycle.succeeded')!.body).toContain(`CloudWatch agent not installed on ${node.instanceId}`);
  });

  it('a throttled agent document waits and is sent again once AWS answers, not turned into a warning', async () => {
    const cloud = new FakeStorage();
    const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)];
    cloud.cluster([m1!, m2!]);
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    cloud.refuseSend['AWS-ConfigureAWSPackage'] = wrapError('SendCommand', throttled);
    const node = cloud.launch(B);
    const deps = { ...cloud.deps(), random: () => 0.5 };
    const throttledDeliveries = await cloud.deliver(deps, 12);
    const waitingAt = cloud.queue.map((q) => (JSON.parse(q.body) as { state?: { step?: string; attempt?: number } }).state);
    delete cloud.refuseSend['AWS-ConfigureAWSPackage'];
    const outcomes = await cloud.drain(deps);
    expect(throttledDeliveries.at(-1)).toBe('waiting');
    expect(waitingAt).toEqual([expect.objectContaining({ step: 'install-cloudwatch-agent', attempt: expect.any(Number) })]);
    expect(waitingAt[0]!.attempt).toBeGreaterThan(1);
    expect(outcomes.at(-1)).toBe('completed');
    expect(cloud.sent('AWS-ConfigureAWSPackage')).toEqual([expect.objectContaining({ instanceId: node.instanceId })]);
    expect(cloud.notifications.find((n) => n.eventType === 'lifecycle.succeeded')!.body).not.toContain('CloudWatch agent not installed');
  });

  it('a lifecycle event throttled on its first delivery is re-sent owning its claim: a genuine duplicate is skipped, one flow joins the node', async () => {
    const cloud = new FakeStorage();
    const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)];
    cloud.cluster([m1!, m2!]);
    const node = cloud.launch(B);
    const firstId = cloud.queue[0]!.id;
    const describe = cloud.autoScaling.describeInstance;
    let throttle = 1;
    cloud.autoScaling.describeInstance = async (id) => {
      if (throttle-- > 0) throw wrapError('DescribeAutoScalingInstances', Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }));
      return describe(id);
    };
    const deps = { ...cloud.deps(), random: () => 0.5 };
    const [first] = await cloud.deliver(deps, 1);
    cloud.enqueue(cloud.event('launch', node), 0); // EventBridge's duplicate: another message id
    const [duplicate] = await cloud.deliver(deps, 1);
    const outcomes = await cloud.drain(deps);
    expect([first, duplicate]).toEqual(['waiting', 'skipped']);
    expect(outcomes.at(-1)).toBe('completed');
    expect(cloud.calls.filter((c) => c.op === 'completeLifecycleAction').map((c) => c.args)).toEqual([expect.objectContaining({ instanceId: node.instanceId, result: 'CONTINUE' })]);
    const claimKey = `storage/lifecycle/${node.instanceId}/launch`;
    const owners = cloud.coordination.log.filter((l) => l.startsWith(`take ${claimKey} `)).map((l) => l.split(' ')[2]);
    expect(owners.filter((o) => o !== firstId)).toHaveLength(1); // the duplicate's one try
    expect(owners.filter((o) => o === firstId).length).toBeGreaterThan(2); // first delivery, re-sent one, every continuation
    expect(cloud.coordination.items.has(claimKey)).toBe(false);
  });

  it('a stage without an agent configuration parameter leaves the agent alone', async () => {
    const cloud = new FakeStorage();
    const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)];
    cloud.cluster([m1!, m2!]);
    cloud.launch(A);
    expect((await cloud.drain(cloud.deps({ STORAGE_AGENT_CONFIG_PARAMETER: '' }))).at(-1)).toBe('completed');
    expect([...cloud.sent('AWS-ConfigureAWSPackage'), ...cloud.sent('AmazonCloudWatch-ManageAgent')]).toEqual([]);
  });

  it('abandons and notifies when the brick cannot be prepared', async () => {
    const cloud = new FakeStorage();
    const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)];
    cloud.cluster([m1!, m2!]);
    cloud.failDocument['doc-prepare-brick'] = { status: 'Failed', exitCode: 3, stdout: '', stderr: 'refusing to format /dev/nvme1n1: it holds data' };
    const node = cloud.launch(B);
    await cloud.drain();
    expect(cloud.calls.find((c) => c.op === 'completeLifecycleAction')!.args).toMatchObject({ instanceId: node.instanceId, result: 'ABANDON' });
    const failed = cloud.notifications.find((n) => n.eventType === 'lifecycle.failed')!;
    expect(failed.subject).toContain('FAILED at prepare-brick');
    expect(failed.body).toContain('holds data');
    expect(cloud.ops()).not.toContain('setInstanceProtection');
  });

  it('abandons a node whose SSM agent is too old to pass document parameters, before any document runs', async () => {
    const cloud = new FakeStorage();
    const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)];
    cloud.cluster([m1!, m2!]);
    const node = cloud.launch(B);
    node.agentVersion = '3.1.1732.0';
    await cloud.drain();
    expect(cloud.calls.find((c) => c.op === 'completeLifecycleAction')!.args).toMatchObject({ instanceId: node.instanceId, result: 'ABANDON' });
    expect(cloud.notifications.find((n) => n.eventType === 'lifecycle.failed')!.body).toContain('SSM agent 3.1.1732.0 is older than 3.3.2746.0');
    expect(cloud.sent('doc-prepare-brick')).toEqual([]);
  });

  it('bootstraps the volumes once, when the second member in a second zone joined', async () => {
    const cloud = new FakeStorage();
    // First node: a pool of one, no volume yet.
    const first = cloud.launch(A);
    await cloud.drain();
    expect(cloud.volumes).toEqual([]);
    expect(cloud.node(first.instanceId).lifecycleState).toBe('InService');
    const joined = cloud.notifications.find((n) => n.eventType === 'lifecycle.succeeded')!;
    expect(joined.body).toMatch(/volumes not created yet: 2 connected members in distinct zones are needed/);

    // Second node in another zone: probed by the first, then both volumes are created and started.
    const second = cloud.launch(B);
    await cloud.drain();
    expect(cloud.glusterActions()).toEqual([
      `volume-create pydio-config ${first.ip}:/bricks/pydio-config/brick,${second.ip}:/bricks/pydio-config/brick`,
      `volume-create pydio-data ${first.ip}:/bricks/pydio-data/brick,${second.ip}:/bricks/pydio-data/brick`,
      'volume-set pydio-config cluster.quorum-type=auto',
      'volume-set pydio-data cluster.quorum-type=auto',
      'volume-set all cluster.server-quorum-ratio=51%',
      'volume-set pydio-config cluster.server-quorum-type=server',
      'volume-set pydio-data cluster.server-quorum-type=server',
      'volume-start pydio-config',
      'volume-start pydio-data',
    ]);
    expect(cloud.volumes.map((v) => [v.name, v.started, v.replica, v.options])).toEqual(['pydio-config', 'pydio-data'].map((v) => [v, true, 2, { 'cluster.quorum-type': 'auto', 'cluster.server-quorum-type': 'server' }]));
    expect(cloud.poolOptions).toEqual({ 'cluster.server-quorum-ratio': '51%' });
    expect(subjectsOf(cloud, 'storage.succeeded')[0]).toContain('bootstrap of pydio-config, pydio-data done');
    expect(cloud.notifications.find((n) => n.eventType === 'storage.succeeded')!.body).toContain('created as replica 2 with client quorum auto and server quorum (two zones) and started');

    // A third node finds the volumes in their layout and creates or sets nothing.
    cloud.launch(A);
    await cloud.drain();
    expect(cloud.glusterActions()).toHaveLength(9);
    expect(cloud.events()).not.toContain('storage.layout');
  });

  it('two first members launched together make one pool and create the volumes: the later instance id waits for the first to start the pool', async () => {
    const cloud = new FakeStorage();
    const first = cloud.launch(A);
    const second = cloud.launch(B);
    const outcomes = await cloud.drain();
    expect(outcomes.filter((o) => o === 'completed')).toHaveLength(2);
    expect(cloud.node(first.instanceId).lifecycleState).toBe('InService');
    expect(cloud.node(second.instanceId).lifecycleState).toBe('InService');
    expect(cloud.volumes.map((v) => [v.name, v.started, v.replica])).toEqual([['pydio-config', true, 2], ['pydio-data', true, 2]]);
    // One pool: the second was probed from the first, never the other way round.
    expect(cloud.sent('doc-peer-probe')).toEqual([expect.objectContaining({ instanceId: first.instanceId, parameters: { Peers: second.ip } })]);
    expect(cloud.volumes.every((v) => v.bricks.map((b) => b.host).sort().join() === [first.ip, second.ip].sort().join())).toBe(true);
  });

  it('a member waiting for the lowest launching id gives up at the join timeout, naming it (the founder never got its event)', async () => {
    const cloud = new FakeStorage();
    const first = cloud.launch(A);
    cloud.queue.splice(0); // its lifecycle event is lost: it stays Pending:Wait, no flow runs for it
    const second = cloud.launch(B);
    await cloud.drain(cloud.deps({ STORAGE_JOIN_TIMEOUT_SECONDS: '60' }));
    expect(cloud.calls.find((c) => c.op === 'completeLifecycleAction')!.args).toMatchObject({ instanceId: second.instanceId, result: 'ABANDON' });
    const failed = cloud.notifications.find((n) => n.eventType === 'lifecycle.failed')!;
    expect(failed.subject).toContain('FAILED at peer-probe');
    expect(failed.body).toContain(`${first.instanceId} launched with this node and starts the pool`);
    expect(cloud.sent('doc-peer-probe')).toEqual([]);
    expect(cloud.volumes).toEqual([]);
  });

  it('waits with the bootstrap while both members are in the same zone', async () => {
    const cloud = new FakeStorage();
    cloud.launch(A);
    await cloud.drain();
    cloud.launch(A);
    await cloud.drain();
    expect(cloud.volumes).toEqual([]);
    expect(cloud.glusterActions()).toEqual([]);
  });

  it('replaces a dead member in the same zone: replace-brick per volume, full heal watched, one-replica time reported', async () => {
    // Prepare: m1 (zone a) died at 09:00 and was terminated by the group.
    const cloud = new FakeStorage();
    const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)];
    cloud.cluster([m1!, m2!]);
    m1!.alive = false;
    m1!.lifecycleState = 'Gone';
    cloud.params.set(`/pydio-autoscaler/test/storage/members/${m1!.instanceId}`, JSON.stringify({ instanceId: m1!.instanceId, host: m1!.ip, zone: A, state: 'departed', lastSeen: '2026-11-21T09:30:00.000Z' }));
    // Act: the group launches the replacement in zone a.
    const fresh = cloud.launch(A);
    const outcomes = await cloud.drain();
    // Assess
    expect(outcomes.at(-1)).toBe('completed');
    expect(cloud.glusterActions()).toEqual([
      `replace-brick pydio-config ${m1!.ip}:/bricks/pydio-config/brick,${fresh.ip}:/bricks/pydio-config/brick`,
      `replace-brick pydio-data ${m1!.ip}:/bricks/pydio-data/brick,${fresh.ip}:/bricks/pydio-data/brick`,
      'heal-full pydio-config',
      'heal-full pydio-data',
      `peer-detach ${m1!.ip}`,
      // The volumes predate their layout's options: the join sets them once the pool is whole again.
      'volume-set pydio-config cluster.quorum-type=auto',
      'volume-set pydio-data cluster.quorum-type=auto',
      'volume-set all cluster.server-quorum-ratio=51%',
      'volume-set pydio-config cluster.server-quorum-type=server',
      'volume-set pydio-data cluster.server-quorum-type=server',
    ]);
    expect(subjectsOf(cloud, 'storage.layout')).toHaveLength(1);
    expect(cloud.sent('doc-peer-probe')[0]!.instanceId).toBe(m2!.instanceId);
    expect(cloud.volumes.every((v) => v.heal === 0 && v.bricks.some((b) => b.host === fresh.ip))).toBe(true);
    const done = cloud.notifications.find((n) => n.eventType === 'storage.succeeded')!;
    expect(done.subject).toContain(`${fresh.instanceId} replaced ${m1!.instanceId} in ${A}`);
    // From the recorded last-seen time (09:30) to the end of the heal.
    const degraded = Math.round((cloud.now.getTime() - Date.parse('2026-11-21T09:30:00Z')) / 1000);
    expect(degraded).toBeGreaterThan(1800);
    expect(done.body).toMatch(/ran with one replica less for \d+m/);
    expect(cloud.params.has(`/pydio-autoscaler/test/storage/members/${m1!.instanceId}`)).toBe(false);
    expect(cloud.coordination.items.has('storage/lock')).toBe(false);
    expect(cloud.node(fresh.instanceId).lifecycleState).toBe('InService');
  });

  it('does not take over a dead member of another zone', async () => {
    const cloud = new FakeStorage();
    const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)];
    cloud.cluster([m1!, m2!]);
    m1!.alive = false;
    m1!.lifecycleState = 'Gone';
    cloud.launch(B);
    await cloud.drain();
    expect(cloud.glusterActions()).toEqual([]);
  });
});

describe('storage-terminate', () => {
  it('says loudly that a node leaving with bricks leaves its data on the surviving replica', async () => {
    const cloud = new FakeStorage();
    const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)];
    cloud.cluster([m1!, m2!]);
    m2!.lifecycleState = 'Terminating:Wait';
    cloud.enqueue(cloud.event('terminate', m2!), 0);
    await cloud.drain();
    expect(cloud.calls.find((c) => c.op === 'completeLifecycleAction')!.args).toMatchObject({ result: 'CONTINUE' });
    const warning = cloud.notifications.find((n) => n.eventType === 'lifecycle.warning')!;
    expect(warning.severity).toBe('warning');
    expect(warning.subject).toContain('LEAVES WITH 2 BRICK(S)');
    expect(warning.body).toContain('relies on the surviving replica');
    expect(warning.body).toContain(`replacement launched in ${B}`);
    expect(JSON.parse(cloud.params.get(`/pydio-autoscaler/test/storage/members/${m2!.instanceId}`)!)).toMatchObject({ state: 'departed', lastSeen: cloud.now.toISOString() });
  });
});

describe('expand', () => {
  const twoNodes = (layout: 'bare' | 'quorum' = 'quorum') => {
    const cloud = new FakeStorage();
    const [m1, m2] = [cloud.addNode(A), cloud.addNode(B)];
    cloud.cluster([m1!, m2!], undefined, undefined, layout);
    return { cloud, m1: m1!, m2: m2! };
  };

  it('launches a replica set in two zones, waits for it to join, adds the bricks, rebalances with progress, unlocks', async () => {
    const { cloud } = twoNodes();
    cloud.rebalanceReads = 4;
    cloud.enqueue(request(), 0);
    const outcomes = await cloud.drain();
    expect(outcomes).not.toContain('failed');
    expect(cloud.calls.find((c) => c.op === 'setDesiredCapacity')!.args).toEqual({ name: 'pydio-storage', desired: 4 });
    const fresh = cloud.nodes.slice(2);
    expect(fresh.map((n) => [n.zone, n.lifecycleState, n.protected])).toEqual([[A, 'InService', true], [B, 'InService', true]]);
    const actions = cloud.glusterActions();
    expect(actions[0]).toBe(`add-brick pydio-data ${fresh.map((n) => `${n.ip}:/bricks/pydio-data/brick`).join(',')}`);
    expect(actions[1]).toBe('rebalance-start pydio-data');
    // The rebalance is watched through the status document (gluster's rebalance status grows with the pool).
    expect(actions.slice(2)).toEqual([]);
    expect(cloud.sent('doc-gluster-status').length).toBeGreaterThanOrEqual(1 + cloud.rebalanceReads);
    expect(cloud.volumes.find((v) => v.name === 'pydio-data')!.bricks).toHaveLength(4);
    expect(cloud.events()).toEqual(expect.arrayContaining(['storage.planned', 'storage.started', 'storage.progress', 'storage.succeeded']));
    expect(subjectsOf(cloud, 'storage.started')).toEqual(['[test] rebalance of pydio-data started']);
    expect(subjectsOf(cloud, 'storage.progress')[0]).toMatch(/rebalance of pydio-data: in progress, \d+ files moved/);
    expect(subjectsOf(cloud, 'storage.succeeded').at(-1)).toMatch(/expand of pydio-data done/);
    expect(cloud.coordination.items.has('storage/lock')).toBe(false);
  });

  it('watches the rebalance on when a status read finds glusterd unable to gather it from a node, and gives up past the command timeout', async () => {
    const { cloud } = twoNodes();
    cloud.enqueue(request(), 0);
    // Until the rebalance started: then two status reads are refused (the fake sends no command events: each read comes with its safety net).
    let deps = cloud.deps();
    for (let i = 0; i < 400 && !cloud.volumes.find((v) => v.name === 'pydio-data')!.rebalance; i += 1) await cloud.deliver(deps, 1);
    cloud.statusRebalanceGatherFailures = 2;
    await cloud.drain(deps);
    expect(cloud.events()).not.toContain('storage.failed');
    expect(subjectsOf(cloud, 'storage.succeeded').at(-1)).toMatch(/expand of pydio-data done/);
    // Refused on every read: the expansion fails, saying so, and unlocks.
    const again = twoNodes().cloud;
    deps = again.deps({ COMMAND_TIMEOUT_SECONDS: '60' });
    again.enqueue(request(), 0);
    for (let i = 0; i < 400 && !again.volumes.find((v) => v.name === 'pydio-data')!.rebalance; i += 1) await again.deliver(deps, 1);
    again.statusRebalanceGatherFailures = 10_000;
    await again.drain(deps, 2000);
    const failed = again.notifications.find((n) => n.eventType === 'storage.failed')!;
    expect(failed.body).toMatch(/Glusterd Syncop Mgmt brick op 'Rebalance' failed.*; refused for \d+s/s);
    expect(again.coordination.items.has('storage/lock')).toBe(false);
  });

  /** The keys of the wake messages among the ones `drain` delivers. */
  const wakesOf = (wakes: string[]) => (message: { body: string }) => {
    const body = JSON.parse(message.body) as Record<string, unknown>;
    if (isWakeMessage(body)) wakes.push(wakeKeyOf(body));
  };

  it('waits for its new members parked under its joins key, and each member that joins wakes it (a wake message naming that key)', async () => {
    const { cloud } = twoNodes();
    cloud.enqueue(request(), 0);
    const wakes: string[] = [];
    await cloud.drain(cloud.deps(), 400, wakesOf(wakes));
    expect(cloud.events()).toContain('storage.succeeded');
    const expansion = cloud.coordination.log.find((l) => l.startsWith('take storage/lock '))!.split(' ')[2]!;
    const key = `storage/joins/${expansion}`;
    expect(cloud.coordination.log).toContain(`take ${key} ${expansion}`);
    expect(wakes).toEqual([key, key]);
    expect(await cloud.coordination.read(`${key}/signalled`)).toBeDefined();
  });

  it('a member that joins while no operation holds the lock wakes nothing', async () => {
    const { cloud } = twoNodes();
    cloud.launch(A);
    const wakes: string[] = [];
    await cloud.drain(cloud.deps(), 400, wakesOf(wakes));
    expect(cloud.events()).toContain('lifecycle.succeeded');
    expect(wakes).toEqual([]);
  });

  it('a joined member that Auto Scaling has not put InService yet (Pending:Proceed) is looked at again within seconds, not parked', async () => {
    const { cloud } = twoNodes();
    const deps = cloud.deps();
    const complete = deps.autoScaling.completeLifecycleAction;
    // Auto Scaling moves a completed launch through Pending:Proceed to InService a little later.
    deps.autoScaling.completeLifecycleAction = async (ref, result) => {
      const answer = await complete(ref, result);
      const node = cloud.node(ref.instanceId);
      if (node.lifecycleState === 'InService') node.lifecycleState = 'Pending:Proceed';
      cloud.enqueue(JSON.stringify({ inService: ref.instanceId }), 90);
      return answer;
    };
    // The delays the expansion's looks at await-members went back to the queue with.
    const waits: number[] = [];
    const send = deps.queue.send;
    const watched = { ...deps, queue: { send: async (url: string, body: string, delaySeconds: number) => {
      if ((JSON.parse(body) as { state?: { step?: string } }).state?.step === 'await-members') waits.push(delaySeconds);
      return send(url, body, delaySeconds);
    } } };
    cloud.enqueue(request(), 0);
    await cloud.drain(watched, 400, (message) => {
      const marker = JSON.parse(message.body) as { inService?: string };
      if (marker.inService === undefined) return true;
      cloud.node(marker.inService).lifecycleState = 'InService';
      return false;
    });
    expect(cloud.events()).toContain('storage.succeeded');
    // A look that found a member joined but not InService came back within RETRY_BASE_SECONDS.
    expect(waits.some((delay) => delay > 0 && delay <= 10)).toBe(true);
  });

  it('retries a Gluster command and a status read that found glusterd busy with another transaction', async () => {
    const { cloud } = twoNodes();
    cloud.busyRuns = { 'doc-gluster-command': 2, 'doc-gluster-status': 2 };
    cloud.enqueue(request(), 0);
    const outcomes = await cloud.drain();
    expect(outcomes).not.toContain('failed');
    expect(cloud.busyRuns).toEqual({ 'doc-gluster-command': 0, 'doc-gluster-status': 0 });
    expect(cloud.volumes.find((v) => v.name === 'pydio-data')!.bricks).toHaveLength(4);
    expect(cloud.events()).toContain('storage.succeeded');
  });

  it('comes back after a random delay (1 s to twice RETRY_BASE_SECONDS) when glusterd was busy: flows that collided on its lock do not collide again in step', async () => {
    // Prepare: every busy retry draws from this sequence
    const { cloud } = twoNodes();
    cloud.busyRuns = { 'doc-gluster-status': 2 };
    const draws = [0, 0.99];
    const deps = { ...cloud.deps(), random: () => draws.shift() ?? 0.5 };
    const delays: number[] = [];
    const send = cloud.queuePort.send;
    cloud.queuePort.send = async (url, body, delaySeconds) => {
      if (body.includes('"step":"plan"') && !body.includes('"command":{')) delays.push(delaySeconds);
      return send(url, body, delaySeconds);
    };
    cloud.enqueue(request(), 0);
    // Act
    await cloud.drain(deps);
    // Assess: RETRY_BASE_SECONDS 5 here, so between 1 and 10 s, as drawn
    expect(delays).toEqual([1, 10]);
  });

  it('fails once glusterd stays busy past the command timeout', async () => {
    const { cloud } = twoNodes();
    cloud.busyRuns = { 'doc-gluster-command': 10_000 };
    cloud.enqueue(request(), 0);
    const outcomes = await cloud.drain(cloud.deps({ COMMAND_TIMEOUT_SECONDS: '60' }), 2000);
    expect(outcomes).toContain('failed');
    expect(cloud.notifications.find((n) => n.eventType === 'storage.failed')!.body).toMatch(/Another transaction is in progress/);
    expect(cloud.coordination.items.has('storage/lock')).toBe(false);
  });

  it('uses spare members without launching when they are there', async () => {
    const cloud = new FakeStorage();
    const nodes = [cloud.addNode(A), cloud.addNode(B), cloud.addNode(A), cloud.addNode(B)];
    cloud.cluster(nodes, [nodes.slice(0, 2)], undefined, 'quorum');
    cloud.enqueue(request(), 0);
    await cloud.drain();
    expect(cloud.ops()).not.toContain('setDesiredCapacity');
    expect(cloud.glusterActions()[0]).toBe(`add-brick pydio-data ${nodes[2]!.ip}:/bricks/pydio-data/brick,${nodes[3]!.ip}:/bricks/pydio-data/brick`);
  });

  it('dry run answers the plan and changes nothing', async () => {
    const { cloud } = twoNodes();
    cloud.enqueue(request({ dryRun: true }), 0);
    await cloud.drain();
    expect(cloud.ops().filter((op) => op !== 'sendCommand')).toEqual([]);
    expect(cloud.sent('doc-gluster-command')).toEqual([]);
    const planned = cloud.notifications.find((n) => n.eventType === 'storage.planned')!;
    expect(planned.subject).toContain('dry run: pydio-data expansion planned');
    expect(planned.body).toContain('Dry run: nothing was changed.');
    expect(planned.body).toContain('desired 2 -> 4');
    expect(cloud.coordination.items.has('storage/lock')).toBe(false);
  });

  it('a cluster whose status passes Run Command\'s 24,000-character stdout still plans and expands: the status is read compressed', async () => {
    const cloud = new FakeStorage();
    cloud.group.max = 40;
    const nodes = Array.from({ length: 24 }, (_, i) => cloud.addNode(i % 2 === 0 ? A : B));
    const sets = Array.from({ length: 12 }, (_, i) => nodes.slice(2 * i, 2 * i + 2));
    cloud.cluster(nodes, sets);
    expect(cloud.statusBundle(nodes[0]!, ['pydio-config', 'pydio-data']).length).toBeGreaterThan(SSM_STDOUT_LIMIT);
    cloud.enqueue(request(), 0);
    const outcomes = await cloud.drain();
    expect(outcomes).not.toContain('failed');
    expect(cloud.calls.find((c) => c.op === 'setDesiredCapacity')!.args).toEqual({ name: 'pydio-storage', desired: 26 });
    expect(cloud.volumes.find((v) => v.name === 'pydio-data')!.bricks).toHaveLength(26);
    expect(cloud.events()).toContain('storage.succeeded');
  });

  it('a cluster whose compressed status passes one step\'s output is read from the document\'s part steps, in order, and expands', async () => {
    const cloud = new FakeStorage();
    cloud.group.max = 260;
    const nodes = Array.from({ length: 240 }, (_, i) => cloud.addNode(i % 2 === 0 ? A : B));
    cloud.cluster(nodes, Array.from({ length: 120 }, (_, i) => nodes.slice(2 * i, 2 * i + 2)));
    expect(frameStatus(cloud.statusBundle(nodes[0]!, ['pydio-config', 'pydio-data'])).length).toBeGreaterThan(STATUS_PART_CHARS);
    cloud.enqueue(request(), 0);
    const outcomes = await cloud.drain();
    expect(cloud.notifications.filter((n) => n.eventType === 'storage.failed').map((n) => n.body)).toEqual([]);
    expect(outcomes).not.toContain('failed');
    expect(cloud.calls.find((c) => c.op === 'setDesiredCapacity')!.args).toEqual({ name: 'pydio-storage', desired: 242 });
    const partReads = cloud.calls.filter((c) => c.op === 'getStepOutput').map((c) => (c.args as { step: string }).step);
    // Two parts each time (about 22,000 characters): the first step's, then part1's; no step read past the end line.
    expect(partReads.length).toBeGreaterThan(0);
    expect(new Set(partReads)).toEqual(new Set(['part1']));
    expect(cloud.events()).toContain('storage.succeeded');
  });

  it('the same cluster read as plain text (what the status document printed before) is cut at 24,000 characters and refused by name, never planned from', async () => {
    const cloud = new FakeStorage();
    cloud.group.max = 40;
    cloud.statusEncoding = 'plain';
    const nodes = Array.from({ length: 24 }, (_, i) => cloud.addNode(i % 2 === 0 ? A : B));
    cloud.cluster(nodes, Array.from({ length: 12 }, (_, i) => nodes.slice(2 * i, 2 * i + 2)));
    cloud.enqueue(request(), 0);
    const outcomes = await cloud.drain();
    expect(outcomes).toContain('failed');
    expect(cloud.ops()).not.toContain('setDesiredCapacity');
    expect(cloud.notifications.map((n) => n.body).join('\n')).toMatch(/cut at Run Command's 24,000-character stdout limit/);
  });

  it('two requests at once (an alarm and an operator): exactly one expansion, the other refused with the lock', async () => {
    const { cloud } = twoNodes();
    cloud.enqueue(request({ reason: 'alarm pydio-data-disk-usage' }), 0);
    cloud.enqueue(request({ reason: 'manual invoke' }), 0);
    await cloud.drain();
    expect(cloud.ops().filter((op) => op === 'setDesiredCapacity')).toHaveLength(1);
    expect(cloud.glusterActions().filter((a) => a.startsWith('add-brick'))).toHaveLength(1);
    const refusals = cloud.notifications.filter((n) => n.eventType === 'storage.refused');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]!.body).toMatch(/another storage operation holds the cluster lock/);
    expect(cloud.volumes.find((v) => v.name === 'pydio-data')!.bricks).toHaveLength(4);
  });

  it('breaks a stale lock with a notification and goes on', async () => {
    const { cloud } = twoNodes();
    // Held by an operation that died: not renewed since 07:00, expired an hour later (the stage's 3600 s).
    cloud.coordination.items.set('storage/lock', { owner: 'msg-dead', expiresAt: Date.parse('2026-11-21T08:00:00.000Z') / 1000, value: '2026-11-21T07:00:00.000Z' });
    cloud.enqueue(request({ dryRun: true }), 0);
    await cloud.drain();
    expect(subjectsOf(cloud, 'storage.started')[0]).toContain('stale storage lock broken (held by msg-dead)');
    expect(cloud.events()).toContain('storage.planned');
  });

  it.each<[string, (cloud: FakeStorage, nodes: { m1: ReturnType<FakeStorage['addNode']>; m2: ReturnType<FakeStorage['addNode']> }) => void, Record<string, unknown>, RegExp]>([
    ['a rebalance is in progress', (c) => { c.volumes[1]!.rebalance = { reads: 0, until: 99, failures: 0 }; }, {}, /a rebalance of pydio-data is in progress/],
    ['a heal is in progress', (c) => { c.volumes[1]!.heal = 45; }, {}, /a heal of pydio-data is in progress \(90 entries pending\)/],
    ['a member is disconnected', (_c, { m2 }) => { m2.alive = false; }, {}, /disconnected from the Gluster pool/],
    ['it would go above the maximum', (c) => { c.group.max = 3; }, {}, /desired 2 -> 4 is above the maximum 3/],
    ['the group spans one zone', (c) => { c.group.zones = [A]; }, {}, /spans 1 zone .*allowSameZone/],
    ['the volume is unknown', () => undefined, { volume: 'pydio-other' }, /unknown volume "pydio-other"/],
  ])('refuses when %s, says why, changes nothing and unlocks', async (_name, arrange, over, reason) => {
    const { cloud, m1, m2 } = twoNodes();
    arrange(cloud, { m1, m2 });
    cloud.enqueue(request(over), 0);
    await cloud.drain();
    const refusal = cloud.notifications.find((n) => n.eventType === 'storage.refused')!;
    expect(refusal.body).toMatch(reason);
    expect(cloud.ops()).not.toContain('setDesiredCapacity');
    expect(cloud.sent('doc-gluster-command')).toEqual([]);
    expect(cloud.coordination.items.has('storage/lock')).toBe(false);
  });

  it('fails loudly and unlocks when the rebalance fails', async () => {
    const { cloud } = twoNodes();
    cloud.enqueue(request(), 0);
    const deps = cloud.deps();
    // Run until the rebalance started, then make it fail.
    for (let i = 0; i < 200 && !cloud.volumes[1]!.rebalance; i += 1) await cloud.deliver(deps, 1);
    cloud.volumes[1]!.rebalance!.failures = 2;
    await cloud.drain(deps);
    const failed = cloud.notifications.find((n) => n.eventType === 'storage.failed')!;
    expect(failed.subject).toContain('expand of pydio-data FAILED');
    expect(failed.body).toContain('rebalance completed with 2 failure(s)');
    expect(cloud.coordination.items.has('storage/lock')).toBe(false);
  });
});

describe('shrink', () => {
  const fourNodes = (usedGiB: number) => {
    const cloud = new FakeStorage();
    const nodes = [cloud.addNode(A), cloud.addNode(B), cloud.addNode(A), cloud.addNode(B)];
    cloud.cluster(nodes, [nodes.slice(0, 2), nodes.slice(2, 4)], usedGiB * GiB);
    // pydio-config lives on the first set only.
    cloud.volumes[0]!.bricks = cloud.volumes[0]!.bricks.slice(0, 2);
    return { cloud, nodes };
  };
  const shrink = (over: Record<string, unknown> = {}) => encodeStorageRequest({ action: 'shrink', volume: 'pydio-data', sets: 0, allowSameZone: false, dryRun: false, reason: 'manual invoke', ...over });

  it('starts remove-brick, watches the migration, commits only once it completed, then lets the members go', async () => {
    const { cloud, nodes } = fourNodes(40);
    cloud.removeReads = 3;
    let commitSeenAfter = -1;
    const send = cloud.ssm.sendCommand;
    cloud.ssm.sendCommand = async (input) => {
      if (input.parameters.Action === 'remove-brick-commit') commitSeenAfter = cloud.volumes[1]!.removing!.reads;
      return send(input);
    };
    cloud.enqueue(shrink(), 0);
    await cloud.drain();
    const removed = `${nodes[2]!.ip}:/bricks/pydio-data/brick,${nodes[3]!.ip}:/bricks/pydio-data/brick`;
    // The volumes predate their layout's quorum options: the shrink sets them first, and says so once.
    const all = cloud.glusterActions();
    expect(all.slice(0, 5)).toEqual([
      'volume-set pydio-config cluster.quorum-type=auto',
      'volume-set pydio-data cluster.quorum-type=auto',
      'volume-set all cluster.server-quorum-ratio=51%',
      'volume-set pydio-config cluster.server-quorum-type=server',
      'volume-set pydio-data cluster.server-quorum-type=server',
    ]);
    expect(subjectsOf(cloud, 'storage.layout')).toEqual(['[test] quorum options set on pydio-config, pydio-data: no split-brain, less availability']);
    const actions = all.slice(5);
    expect(actions[0]).toBe(`remove-brick-start pydio-data ${removed}`);
    expect(actions.filter((a) => a.startsWith('remove-brick-status'))).toHaveLength(3);
    // Commit after the migration, then the released members' peers leave the pool.
    expect(actions.slice(-3)).toEqual([`remove-brick-commit pydio-data ${removed}`, `peer-detach ${nodes[2]!.ip}`, `peer-detach ${nodes[3]!.ip}`]);
    expect(commitSeenAfter).toBe(3);
    expect(cloud.volumes[1]!.bricks).toHaveLength(2);
    expect([...cloud.pool].sort()).toEqual([nodes[0]!.ip, nodes[1]!.ip].sort());
    const terminated = cloud.calls.filter((c) => c.op === 'terminateInstance').map((c) => c.args);
    expect(terminated).toEqual([{ id: nodes[2]!.instanceId, decrement: true }, { id: nodes[3]!.instanceId, decrement: true }]);
    // Detached before they were terminated.
    const lastDetach = cloud.calls.map((c, i) => ({ c, i })).filter(({ c }) => c.op === 'sendCommand' && (c.args as { parameters: Record<string, string> }).parameters.Action === 'peer-detach').at(-1)!.i;
    expect(cloud.calls.findIndex((c) => c.op === 'terminateInstance')).toBeGreaterThan(lastDetach);
    expect(cloud.calls.find((c) => c.op === 'setInstanceProtection')!.args).toMatchObject({ protect: false });
    expect(cloud.group.desired).toBe(2);
    // Their terminate hooks found no brick left on them.
    expect(subjectsOf(cloud, 'lifecycle.succeeded').filter((s) => s.includes('left (no bricks)'))).toHaveLength(2);
    expect(subjectsOf(cloud, 'storage.succeeded').at(-1)).toMatch(/shrink of pydio-data done/);
  });

  it('runs its Gluster commands on a member that stays when the status was read on one it releases', async () => {
    const cloud = new FakeStorage();
    const nodes = [cloud.addNode(A), cloud.addNode(B), cloud.addNode(A), cloud.addNode(B)];
    // The last set is on the first two instances: the ones a member pick (sorted ids) meets first.
    cloud.cluster(nodes, [nodes.slice(2, 4), nodes.slice(0, 2)], 40 * GiB);
    cloud.volumes[0]!.bricks = cloud.volumes[0]!.bricks.slice(0, 2);
    cloud.enqueue(shrink(), 0);
    await cloud.drain();
    const released = [nodes[0]!.instanceId, nodes[1]!.instanceId];
    const runOn = cloud.sent('doc-gluster-command').map((i) => i.instanceId);
    expect(runOn.length).toBeGreaterThan(0);
    expect(runOn.filter((id) => released.includes(id))).toEqual([]);
    expect(cloud.glusterActions().filter((a) => a.startsWith('peer-detach'))).toEqual([`peer-detach ${nodes[0]!.ip}`, `peer-detach ${nodes[1]!.ip}`]);
    expect(cloud.calls.filter((c) => c.op === 'terminateInstance').map((c) => (c.args as { id: string }).id)).toEqual(released);
    expect(subjectsOf(cloud, 'storage.succeeded').at(-1)).toMatch(/shrink of pydio-data done/);
  });

  it('terminates no member when a peer detach fails after the commit, and says the data is safe', async () => {
    const { cloud } = fourNodes(40);
    const deps = cloud.deps();
    cloud.enqueue(shrink(), 0);
    // Until the commit took effect (the volume lost the set).
    for (let i = 0; i < 200 && cloud.volumes[1]!.bricks.length > 2; i += 1) await cloud.deliver(deps, 1);
    cloud.failDocument['doc-gluster-command'] = { status: 'Failed', exitCode: 1, stdout: '', stderr: 'peer detach: failed: glusterd unreachable' };
    await cloud.drain(deps);
    const failed = cloud.notifications.find((n) => n.eventType === 'storage.failed')!;
    expect(failed.subject).toContain('shrink of pydio-data FAILED');
    expect(failed.body).toMatch(/remove-brick committed \(the data is on the remaining bricks\), but the peer detach of 10\.0\.\d+\.\d+ failed, so no member was terminated/);
    expect(cloud.ops()).not.toContain('terminateInstance');
    expect(cloud.volumes[1]!.bricks).toHaveLength(2);
    expect(cloud.coordination.items.has('storage/lock')).toBe(false);
  });

  it('never commits when the migration fails', async () => {
    const { cloud } = fourNodes(40);
    const deps = cloud.deps();
    cloud.enqueue(shrink(), 0);
    for (let i = 0; i < 200 && !cloud.volumes[1]!.removing; i += 1) await cloud.deliver(deps, 1);
    cloud.failDocument['doc-gluster-command'] = { status: 'Failed', exitCode: 1, stdout: '', stderr: 'remove-brick status: failed on 10.0.1.12' };
    await cloud.drain(deps);
    expect(cloud.glusterActions().some((a) => a.startsWith('remove-brick-commit'))).toBe(false);
    expect(cloud.events()).toContain('storage.failed');
    expect(cloud.ops()).not.toContain('terminateInstance');
    expect(cloud.coordination.items.has('storage/lock')).toBe(false);
  });

  it('reads the migration again when glusterd could not gather a node\'s status (its rebalance process starting or exiting), and commits once it reads completed', async () => {
    const { cloud } = fourNodes(40);
    cloud.removeStatusGatherFailures = 2;
    cloud.enqueue(shrink(), 0);
    await cloud.drain();
    expect(cloud.events()).not.toContain('storage.failed');
    expect(subjectsOf(cloud, 'storage.succeeded').at(-1)).toMatch(/shrink of pydio-data done/);
    // Two refused reads, then the three that watched the migration to completed.
    expect(cloud.glusterActions().filter((a) => a.startsWith('remove-brick-status'))).toHaveLength(5);
    expect(cloud.volumes[1]!.bricks).toHaveLength(2);
  });

  it('reads its own node\'s refusal too (glusterd words it without "Brick ops failed on")', async () => {
    const { cloud } = fourNodes(40);
    cloud.removeStatusGatherFailures = 1;
    const status = cloud.ssm.getInvocation;
    cloud.ssm.getInvocation = async (id, instanceId, report) => {
      const answer = await status(id, instanceId, report);
      return { ...answer, stdout: answer.stdout.replace(/Brick ops failed on [0-9.]+\. /, '') };
    };
    cloud.enqueue(shrink(), 0);
    await cloud.drain();
    expect(cloud.events()).not.toContain('storage.failed');
    expect(subjectsOf(cloud, 'storage.succeeded').at(-1)).toMatch(/shrink of pydio-data done/);
  });

  it('fails, without a commit, when glusterd cannot gather the status for longer than the command timeout', async () => {
    const { cloud } = fourNodes(40);
    cloud.removeStatusGatherFailures = 10_000;
    cloud.enqueue(shrink(), 0);
    await cloud.drain(cloud.deps({ COMMAND_TIMEOUT_SECONDS: '60' }), 2000);
    const failed = cloud.notifications.find((n) => n.eventType === 'storage.failed')!;
    expect(failed.subject).toContain('shrink of pydio-data FAILED');
    expect(failed.body).toMatch(/Glusterd Syncop Mgmt brick op 'Rebalance' failed.*; refused for \d+s/s);
    expect(cloud.glusterActions().some((a) => a.startsWith('remove-brick-commit'))).toBe(false);
    expect(cloud.ops()).not.toContain('terminateInstance');
    expect(cloud.coordination.items.has('storage/lock')).toBe(false);
  });

  it('refuses without headroom: the remaining bricks could not hold the data', async () => {
    const { cloud } = fourNodes(150);
    cloud.enqueue(shrink(), 0);
    await cloud.drain();
    const refusal = cloud.notifications.find((n) => n.eventType === 'storage.refused')!;
    expect(refusal.body).toMatch(/holds 150 GiB; without its last replica set it would have 100 GiB usable/);
    expect(cloud.sent('doc-gluster-command')).toEqual([]);
    expect(cloud.ops()).not.toContain('terminateInstance');
  });

  it('dry run answers the shrink plan and changes nothing', async () => {
    const { cloud } = fourNodes(40);
    cloud.enqueue(shrink({ dryRun: true }), 0);
    await cloud.drain();
    expect(cloud.sent('doc-gluster-command')).toEqual([]);
    expect(subjectsOf(cloud, 'storage.planned')[0]).toContain('dry run: pydio-data shrinks by one replica set');
  });

  it('on a DRY_RUN stage a shrink request is a dry run: the plan, then nothing (no remove-brick, no capacity change)', async () => {
    const { cloud } = fourNodes(40);
    cloud.enqueue(shrink(), 0);
    const outcomes = await cloud.drain(cloud.deps({ DRY_RUN: 'true' }));
    expect(outcomes).not.toContain('failed');
    expect(cloud.sent('doc-gluster-command')).toEqual([]);
    expect(cloud.ops()).not.toContain('setDesiredCapacity');
    expect(cloud.ops()).not.toContain('terminateInstance');
    expect(subjectsOf(cloud, 'storage.planned')[0]).toContain('dry run: pydio-data shrinks by one replica set');
    expect(cloud.queue).toEqual([]);
  });
});

describe('malformed messages', () => {
  it.each([
    ['not JSON', '{nope', /not JSON/],
    ['a request without sets', JSON.stringify({ 'pydio-autoscaler/storage-request': 1, request: { volume: 'pydio-data' } }), /field sets must be a whole number/],
    ['a continuation of an unknown flow', JSON.stringify({ 'pydio-autoscaler/storage-flow': 1, state: { flow: 'explode' } }), /unknown flow "explode"/],
  ])('rejects %s with a notification, no action', async (_name, body, reason) => {
    const cloud = new FakeStorage();
    cloud.enqueue(body, 0);
    expect(await cloud.drain()).toEqual(['rejected']);
    const note = cloud.notifications.find((n) => n.eventType === 'event.malformed')!;
    expect(note.body).toMatch(reason);
    expect(cloud.ops()).toEqual([]);
    expect(cloud.coordination.log).toEqual([]);
  });
});
