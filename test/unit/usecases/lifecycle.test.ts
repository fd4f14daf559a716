import type { MessageOutcome } from '../../../lib/usecases/flow-runner';
import { handleLifecycleMessage } from '../../../lib/usecases/lifecycle';
import { FakeCloud, INSTANCE, lifecycleEvent } from './fake-cloud';

/** Deliver a message, then every continuation it queues (advancing the clock by each delay). */
async function deliverAll(cloud: FakeCloud, body: string, env: Record<string, string> = {}, max = 50): Promise<MessageOutcome[]> {
  const deps = cloud.deps(env);
  const outcomes = [await handleLifecycleMessage({ messageId: 'msg-1', body }, deps)];
  for (let i = 0; i < max && cloud.queued.length > 0; i += 1) {
    const next = cloud.queued.shift()!;
    cloud.now = new Date(cloud.now.getTime() + next.delaySeconds * 1000);
    outcomes.push(await handleLifecycleMessage({ messageId: next.id, body: next.body }, deps));
  }
  return outcomes;
}

const subjects = (cloud: FakeCloud) => cloud.notifications.map((n) => n.eventType);

describe('scale-out (launch hook)', () => {
  it('mounts, configures, registers, waits for health and completes with CONTINUE', async () => {
    // Prepare
    const cloud = new FakeCloud();
    cloud.agentOnlineAfter = 2;
    cloud.commandScript['doc-configure'] = { polls: 3, result: { status: 'Success', exitCode: 0, stdout: 'configured', stderr: '' } };
    cloud.healthyAfter = 2;
    // Act
    const outcomes = await deliverAll(cloud, lifecycleEvent('launch'));
    // Assess
    expect(outcomes[0]).toBe('waiting');
    expect(outcomes.at(-1)).toBe('completed');
    expect(cloud.completed).toBe('CONTINUE');
    expect(cloud.lifecycleState).toBe('InService');
    expect(cloud.mutatingCalls()).toEqual(['sendCommand', 'sendCommand', 'registerTarget', 'completeLifecycleAction']);
    const [mount, configure] = cloud.calls.filter((c) => c.op === 'sendCommand').map((c) => c.args as { documentName: string; parameters: Record<string, string> });
    expect(mount).toMatchObject({ documentName: 'doc-mount', parameters: { Servers: '10.0.1.10,10.0.2.10', ConfigVolume: 'pydio-config', DataVolume: 'pydio-data' } });
    expect(configure).toMatchObject({ documentName: 'doc-configure', parameters: { AppRoot: '/var/www/pydio', AppPort: '80', KeepAliveTimeout: '65' } });
    expect(subjects(cloud)).toEqual(['lifecycle.started', 'lifecycle.succeeded']);
    expect(cloud.coordination.keptKeys()).toEqual([]);
    expect(cloud.metrics).toEqual([['LifecycleDurationSeconds', expect.any(Number)]]);
  });

  it('never asks the queue for a delay beyond the configured maximum', async () => {
    const cloud = new FakeCloud();
    cloud.commandScript['doc-mount'] = { polls: 7, result: { status: 'Success', exitCode: 0, stdout: 'mounted', stderr: '' } };
    // ELB's longest interval (300 s): the timed waits for the target are capped at RETRY_MAX_SECONDS too.
    cloud.healthCheck = { intervalSeconds: 300, healthyThreshold: 2 };
    cloud.healthyAfter = 2;
    const delays: Array<{ step: string; delay: number }> = [];
    const send = cloud.queue.send;
    cloud.queue.send = async (url, body, delay) => {
      delays.push({ step: (JSON.parse(body) as { state: { step: string } }).state.step, delay });
      return send(url, body, delay);
    };
    await deliverAll(cloud, lifecycleEvent('launch'), { HEALTHY_TIMEOUT_SECONDS: '1200' });
    expect(cloud.completed).toBe('CONTINUE');
    expect(Math.max(...delays.map((d) => d.delay))).toBeLessThanOrEqual(60);
    // 301 s to the first look in waits of at most 60 s, then a look every 60 s (not 300): initial, initial, healthy.
    expect(delays.filter((d) => d.step === 'await-healthy').map((d) => d.delay)).toEqual([60, 60, 60, 60, 60, 1, 60, 60]);
    expect(cloud.healthReads).toBe(3);
  });

  it('looks for the SSM agent every RETRY_BASE_SECONDS, without a growing backoff', async () => {
    const cloud = new FakeCloud();
    cloud.agentOnlineAfter = 6;
    const delays: number[] = [];
    const send = cloud.queue.send;
    cloud.queue.send = async (url, body, delay) => { delays.push(delay); return send(url, body, delay); };
    await deliverAll(cloud, lifecycleEvent('launch'));
    expect(delays.slice(0, 6)).toEqual([5, 5, 5, 5, 5, 5]);
    expect(cloud.agentPolls).toBe(7);
  });

  it('reads the health check once, first looks at the target one interval after registration, then every interval', async () => {
    const cloud = new FakeCloud();
    cloud.healthCheck = { intervalSeconds: 20, healthyThreshold: 3 };
    cloud.healthyAfter = 2;
    const waits: Array<{ step: string; delay: number }> = [];
    const send = cloud.queue.send;
    cloud.queue.send = async (url, body, delay) => {
      waits.push({ step: (JSON.parse(body) as { state: { step: string } }).state.step, delay });
      return send(url, body, delay);
    };
    let reads = 0;
    const describeHealthCheck = cloud.targets.describeHealthCheck;
    cloud.targets.describeHealthCheck = async (arn) => { reads += 1; return describeHealthCheck(arn); };
    await deliverAll(cloud, lifecycleEvent('launch'));
    expect(cloud.completed).toBe('CONTINUE');
    expect(reads).toBe(1);
    // 21 s (interval + 1 s margin) with no look at the target, then looks 20 s apart: initial, initial, healthy.
    expect(waits.filter((w) => w.step === 'await-healthy').map((w) => w.delay)).toEqual([21, 20, 20]);
    expect(cloud.healthReads).toBe(3);
  });

  it('records a lifecycle heartbeat when a wait could outlast half the hook timeout', async () => {
    const cloud = new FakeCloud();
    cloud.heartbeatTimeout = 120;
    cloud.agentOnlineAfter = 8;
    await deliverAll(cloud, lifecycleEvent('launch'));
    expect(cloud.mutatingCalls().filter((op) => op === 'recordHeartbeat').length).toBeGreaterThan(0);
    expect(cloud.completed).toBe('CONTINUE');
  });

  it('abandons when a document fails, and tells ops which step failed with the output tail', async () => {
    const cloud = new FakeCloud();
    cloud.commandScript['doc-mount'] = { polls: 1, result: { status: 'Failed', exitCode: 32, stdout: 'mounting pydio-data', stderr: 'mount error: no route to host' } };
    const outcomes = await deliverAll(cloud, lifecycleEvent('launch'));
    expect(outcomes.at(-1)).toBe('failed');
    expect(cloud.completed).toBe('ABANDON');
    expect(cloud.mutatingCalls()).not.toContain('registerTarget');
    const failed = cloud.notifications.find((n) => n.eventType === 'lifecycle.failed')!;
    expect(failed.subject).toContain('FAILED at mount-volumes');
    expect(failed.body).toContain('exit code 32');
    expect(failed.body).toContain('no route to host');
    expect(cloud.metrics.map(([name]) => name)).toEqual(['LifecycleFailures', 'LifecycleDurationSeconds']);
  });

  it('abandons and deregisters when the target never turns healthy', async () => {
    const cloud = new FakeCloud();
    cloud.healthyAfter = undefined;
    await deliverAll(cloud, lifecycleEvent('launch'), { HEALTHY_TIMEOUT_SECONDS: '60' });
    expect(cloud.completed).toBe('ABANDON');
    expect(cloud.mutatingCalls().slice(-2)).toEqual(['deregisterTarget', 'completeLifecycleAction']);
  });

  it('abandons when the SSM agent never comes online', async () => {
    const cloud = new FakeCloud();
    cloud.agentOnlineAfter = undefined;
    await deliverAll(cloud, lifecycleEvent('launch'), { SSM_ONLINE_TIMEOUT_SECONDS: '100' });
    expect(cloud.completed).toBe('ABANDON');
    expect(cloud.mutatingCalls()).toEqual(['completeLifecycleAction']);
    expect(cloud.notifications.at(-1)!.body).toMatch(/SSM agent not online/);
  });

  it('abandons at once, naming the version, when the agent is too old to pass document parameters (ENV_VAR): nothing is sent to it', async () => {
    const cloud = new FakeCloud();
    cloud.agentOnlineAfter = 0;
    cloud.agentVersion = '3.2.1297.0';
    await deliverAll(cloud, lifecycleEvent('launch'));
    expect(cloud.completed).toBe('ABANDON');
    expect(cloud.mutatingCalls()).toEqual(['completeLifecycleAction']);
    expect(cloud.notifications.at(-1)!.body).toMatch(/SSM agent 3.2.1297.0 is older than 3.3.2746.0/);
  });

  it('has Apache keep idle connections 5 s longer than the load balancer\'s idle timeout', async () => {
    const cloud = new FakeCloud();
    cloud.agentOnlineAfter = 0;
    await deliverAll(cloud, lifecycleEvent('launch'), { LB_IDLE_TIMEOUT_SECONDS: '300' });
    const configure = cloud.calls.find((c) => c.op === 'sendCommand' && (c.args as { documentName: string }).documentName === 'doc-configure');
    expect((configure?.args as { parameters: Record<string, string> }).parameters.KeepAliveTimeout).toBe('305');
  });

  it('warns ops when the target group sticks on Pydio, a cookie Pydio 8 never sets', async () => {
    const cloud = new FakeCloud();
    cloud.settings = { ...cloud.settings, cookieName: 'Pydio' };
    await deliverAll(cloud, lifecycleEvent('launch'));
    const warning = cloud.notifications.find((n) => n.eventType === 'lifecycle.warning');
    expect(warning?.body).toMatch(/expected app_cookie on AjaXplorer/);
    expect(cloud.completed).toBe('CONTINUE');
  });

  it('does not warn when the target group sticks on the app\'s session cookie', async () => {
    const cloud = new FakeCloud();
    await deliverAll(cloud, lifecycleEvent('launch'));
    expect(subjects(cloud)).not.toContain('lifecycle.warning');
  });

  it('warns ops when the target group is not sticky on the Pydio cookie', async () => {
    const cloud = new FakeCloud();
    cloud.settings = { ...cloud.settings, stickinessEnabled: false };
    await deliverAll(cloud, lifecycleEvent('launch'));
    expect(subjects(cloud)).toContain('lifecycle.warning');
    expect(cloud.completed).toBe('CONTINUE');
  });

  it('warns ops when the target group is attached to the group itself', async () => {
    const cloud = new FakeCloud();
    cloud.computeGroup = { ...cloud.computeGroup, targetGroupArns: [cloud.deps().config.targetGroupArn] };
    await deliverAll(cloud, lifecycleEvent('launch'));
    const warning = cloud.notifications.find((n) => n.eventType === 'lifecycle.warning');
    expect(warning?.body).toMatch(/attached to the Auto Scaling group itself/);
    expect(cloud.completed).toBe('CONTINUE');
  });

  it('discovers the Gluster servers from the storage group when none are configured', async () => {
    const cloud = new FakeCloud();
    cloud.storageGroup = {
      name: 'pydio-storage', minSize: 2, maxSize: 4, desiredCapacity: 2, targetGroupArns: [], availabilityZones: [],
      instances: [
        { instanceId: 'i-000000000000000a1', availabilityZone: 'eu-west-1a', lifecycleState: 'InService', healthStatus: 'Healthy', protectedFromScaleIn: true },
        { instanceId: 'i-000000000000000b2', availabilityZone: 'eu-west-1b', lifecycleState: 'InService', healthStatus: 'Healthy', protectedFromScaleIn: true },
        { instanceId: 'i-000000000000000c3', availabilityZone: 'eu-west-1a', lifecycleState: 'Pending:Wait', healthStatus: 'Healthy', protectedFromScaleIn: true },
      ],
    };
    cloud.storageAgents = [
      { instanceId: 'i-000000000000000a1', online: true, ipAddress: '10.71.1.20' },
      { instanceId: 'i-000000000000000b2', online: true, ipAddress: '10.71.2.20' },
      { instanceId: 'i-000000000000000c3', online: true, ipAddress: '10.71.1.30' },
    ];
    await deliverAll(cloud, lifecycleEvent('launch'), { GLUSTER_SERVERS: '', STORAGE_ASG_NAME: 'pydio-storage' });
    const mount = cloud.calls.find((c) => c.op === 'sendCommand')!.args as { parameters: Record<string, string> };
    expect(mount.parameters.Servers).toBe('10.71.1.20,10.71.2.20');
  });
});

describe('scale-out while a new storage group is still starting', () => {
  const group = (states: string[]) => ({
    name: 'pydio-storage', minSize: 2, maxSize: 4, desiredCapacity: 2, targetGroupArns: [], availabilityZones: [],
    instances: states.map((lifecycleState, n) => ({ instanceId: `i-00000000000000${n}a1`, availabilityZone: 'eu-west-1a', lifecycleState, healthStatus: 'Healthy', protectedFromScaleIn: true })),
  });
  const env = { GLUSTER_SERVERS: '', STORAGE_ASG_NAME: 'pydio-storage' };

  it('waits for an in-service storage node instead of abandoning, then mounts from it', async () => {
    const cloud = new FakeCloud();
    cloud.storageGroup = group(['Pending:Wait', 'Pending:Wait']);
    cloud.storageAgents = [{ instanceId: 'i-000000000000000a1', online: true, ipAddress: '10.71.1.20' }];
    const deps = cloud.deps(env);
    const outcomes = [await handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, deps)];
    for (let i = 0; i < 50 && cloud.queued.length > 0; i += 1) {
      const next = cloud.queued.shift()!;
      cloud.now = new Date(cloud.now.getTime() + next.delaySeconds * 1000);
      // The storage group's first member completes its join after a few continuations.
      if (i === 4) cloud.storageGroup = group(['InService', 'Pending:Wait']);
      outcomes.push(await handleLifecycleMessage({ messageId: next.id, body: next.body }, deps));
    }
    expect(outcomes.slice(0, 4).every((o) => o === 'waiting')).toBe(true);
    expect(outcomes.at(-1)).toBe('completed');
    const mount = cloud.calls.find((c) => c.op === 'sendCommand')!.args as { parameters: Record<string, string> };
    expect(mount.parameters.Servers).toBe('10.71.1.20');
    expect(cloud.completed).toBe('CONTINUE');
  });

  it('abandons at the command timeout, saying the storage group had no in-service node', async () => {
    const cloud = new FakeCloud();
    cloud.storageGroup = group(['Pending:Wait']);
    await deliverAll(cloud, lifecycleEvent('launch'), { ...env, COMMAND_TIMEOUT_SECONDS: '120' });
    expect(cloud.completed).toBe('ABANDON');
    expect(cloud.mutatingCalls()).toEqual(['completeLifecycleAction']);
    const failed = cloud.notifications.find((n) => n.eventType === 'lifecycle.failed')!;
    expect(failed.subject).toContain('FAILED at mount-volumes');
    expect(failed.body).toMatch(/no in-service storage node with an online agent in pydio-storage after \d+s: nothing to mount from/);
  });
});

describe('scale-in (terminate hook)', () => {
  it('deregisters, waits for the drain, runs the drain document and completes', async () => {
    const cloud = new FakeCloud();
    cloud.lifecycleState = 'Terminating:Wait';
    cloud.targetState = 'healthy';
    const outcomes = await deliverAll(cloud, lifecycleEvent('terminate'));
    expect(outcomes.at(-1)).toBe('completed');
    expect(cloud.mutatingCalls()).toEqual(['deregisterTarget', 'sendCommand', 'completeLifecycleAction']);
    expect(cloud.completed).toBe('CONTINUE');
    expect((cloud.calls[1]!.args as { documentName: string }).documentName).toBe('doc-drain');
  });

  it('honours the deregistration delay when it waits', async () => {
    const cloud = new FakeCloud();
    cloud.lifecycleState = 'Terminating:Wait';
    cloud.targetState = 'healthy';
    cloud.drainReads = 100;
    cloud.settings = { ...cloud.settings, deregistrationDelaySeconds: 45 };
    const start = cloud.now.getTime();
    await deliverAll(cloud, lifecycleEvent('terminate'));
    const waited = (cloud.now.getTime() - start) / 1000;
    expect(waited).toBeGreaterThanOrEqual(45);
    // The drain document, with no status-change event here, is read by its safety net: RETRY_MAX_SECONDS (60).
    expect(waited).toBeLessThanOrEqual(45 + 30 + 60);
    expect(subjects(cloud)).toContain('lifecycle.warning');
    expect(cloud.completed).toBe('CONTINUE');
  });

  it('first looks at a drained target at the end of the deregistration delay, then at short intervals', async () => {
    const cloud = new FakeCloud();
    cloud.lifecycleState = 'Terminating:Wait';
    cloud.targetState = 'healthy';
    cloud.drainReads = 1;
    cloud.settings = { ...cloud.settings, deregistrationDelaySeconds: 45 };
    const waits: Array<{ step: string; delay: number }> = [];
    const send = cloud.queue.send;
    cloud.queue.send = async (url, body, delay) => {
      waits.push({ step: (JSON.parse(body) as { state: { step: string } }).state.step, delay });
      return send(url, body, delay);
    };
    await deliverAll(cloud, lifecycleEvent('terminate'));
    expect(cloud.completed).toBe('CONTINUE');
    // 46 s (the delay and 1 s) without a look, then RETRY_BASE_SECONDS (5): draining, then gone.
    expect(waits.filter((w) => w.step === 'await-drained').map((w) => w.delay)).toEqual([46, 5]);
    expect(cloud.healthReads).toBe(2);
  });

  it('does not block termination when the agent is gone', async () => {
    const cloud = new FakeCloud();
    cloud.lifecycleState = 'Terminating:Wait';
    cloud.agentOnlineAfter = undefined;
    await deliverAll(cloud, lifecycleEvent('terminate'));
    expect(cloud.mutatingCalls()).toEqual(['completeLifecycleAction']);
    expect(cloud.completed).toBe('CONTINUE');
    expect(cloud.notifications.some((n) => /SSM agent is not online/.test(n.body))).toBe(true);
  });

  it('does not block termination when the drain document fails', async () => {
    const cloud = new FakeCloud();
    cloud.lifecycleState = 'Terminating:Wait';
    cloud.commandScript['doc-drain'] = { polls: 1, result: { status: 'Failed', exitCode: 1, stdout: '', stderr: 'umount: target is busy' } };
    await deliverAll(cloud, lifecycleEvent('terminate'));
    expect(cloud.completed).toBe('CONTINUE');
    expect(cloud.notifications.some((n) => /target is busy/.test(n.body))).toBe(true);
  });
});

describe('duplicates, late events and foreign events', () => {
  it('a duplicate delivery (another message id) finds the action owned and changes nothing', async () => {
    const cloud = new FakeCloud();
    cloud.agentOnlineAfter = 3;
    const deps = cloud.deps();
    expect(await handleLifecycleMessage({ messageId: 'first', body: lifecycleEvent('launch') }, deps)).toBe('waiting');
    const before = cloud.calls.length;
    expect(await handleLifecycleMessage({ messageId: 'second', body: lifecycleEvent('launch') }, deps)).toBe('skipped');
    expect(cloud.calls.length).toBe(before);
    expect(cloud.queued).toHaveLength(1);
  });

  it('a re-delivery of the same first message recognises its own claim and goes on', async () => {
    const cloud = new FakeCloud();
    const deps = cloud.deps();
    cloud.coordination.holdAs(`lifecycle/${INSTANCE}/launch`, 'first', 900);
    expect(await handleLifecycleMessage({ messageId: 'first', body: lifecycleEvent('launch') }, deps)).toBe('waiting');
  });

  it('a late event for an instance already in service is skipped with a notification', async () => {
    const cloud = new FakeCloud();
    cloud.lifecycleState = 'InService';
    const outcome = await handleLifecycleMessage({ messageId: 'm', body: lifecycleEvent('launch') }, cloud.deps());
    expect(outcome).toBe('skipped');
    expect(cloud.calls).toEqual([]);
    expect(cloud.notifications[0]!.body).toMatch(/already completed or timed out/);
  });

  it('a continuation whose hook ended elsewhere stops without acting', async () => {
    const cloud = new FakeCloud();
    cloud.agentOnlineAfter = 5;
    const deps = cloud.deps();
    await handleLifecycleMessage({ messageId: 'm', body: lifecycleEvent('launch') }, deps);
    cloud.lifecycleState = 'Terminated';
    cloud.now = new Date(cloud.now.getTime() + 60_000);
    expect(await handleLifecycleMessage({ messageId: 'c', body: cloud.queued[0]!.body }, deps)).toBe('skipped');
    expect(cloud.calls).toEqual([]);
  });

  it('checks that the hook still waits at most once per RETRY_MAX_SECONDS (60 s here), not on every delivery', async () => {
    // Prepare
    const cloud = new FakeCloud();
    cloud.agentOnlineAfter = 100;
    const deps = cloud.deps();
    let reads = 0;
    const describe = cloud.autoScaling.describeInstance.bind(cloud.autoScaling);
    (cloud.autoScaling as { describeInstance: typeof describe }).describeInstance = async (id) => {
      reads += 1;
      return describe(id);
    };
    await handleLifecycleMessage({ messageId: 'm', body: lifecycleEvent('launch') }, deps);
    expect(reads).toBe(1);
    // Act: deliveries 10 s apart (agent still offline)
    const at = (seconds: number) => new Date(Date.parse('2026-11-21T10:00:00Z') + seconds * 1000);
    const readsAt: number[] = [];
    for (const seconds of [10, 20, 50, 61, 70, 100, 125]) {
      cloud.now = at(seconds);
      expect(await handleLifecycleMessage({ messageId: `c${seconds}`, body: cloud.queued.pop()!.body }, deps)).toBe('waiting');
      readsAt.push(reads);
    }
    // Assess: re-read at 61 s (60 s after the claim's check), then at 125 s (64 s after that)
    expect(readsAt).toEqual([1, 1, 1, 2, 2, 2, 3]);
  });

  it('the Auto Scaling test notification is skipped quietly', async () => {
    const cloud = new FakeCloud();
    const outcome = await handleLifecycleMessage({ messageId: 'm', body: JSON.stringify({ Event: 'autoscaling:TEST_NOTIFICATION', AutoScalingGroupName: 'pydio-compute' }) }, cloud.deps());
    expect(outcome).toBe('skipped');
    expect(cloud.calls).toEqual([]);
    expect(cloud.notifications).toEqual([]);
  });

  it('events of other groups are skipped', async () => {
    const cloud = new FakeCloud();
    const outcome = await handleLifecycleMessage({ messageId: 'm', body: lifecycleEvent('launch', { AutoScalingGroupName: 'someone-elses' }) }, cloud.deps());
    expect(outcome).toBe('skipped');
    expect(cloud.calls).toEqual([]);
  });

  it.each([
    ['not JSON', '{"detail":', /message body is not JSON/],
    ['a malformed lifecycle event', lifecycleEvent('launch', { EC2InstanceId: 'i-$(reboot)' }), /EC2InstanceId has an unexpected value/],
    ['a tampered continuation', JSON.stringify({ 'pydio-autoscaler/flow': 1, state: { flow: 'compute-launch', step: 'rm -rf' } }), /step "rm -rf" is not part of flow/],
  ])('%s is rejected with a notification and no action', async (_name, body, problem) => {
    const cloud = new FakeCloud();
    const outcome = await handleLifecycleMessage({ messageId: 'm', body }, cloud.deps());
    expect(outcome).toBe('rejected');
    expect(cloud.calls).toEqual([]);
    expect(cloud.notifications).toHaveLength(1);
    expect(cloud.notifications[0]).toMatchObject({ eventType: 'event.malformed', severity: 'error' });
    expect(cloud.notifications[0]!.body).toMatch(problem);
  });

  it('a transient AWS error is thrown so the queue re-delivers the message', async () => {
    const cloud = new FakeCloud();
    cloud.ssm.describeManagedInstances = async () => { throw new Error('Throttling'); };
    await expect(handleLifecycleMessage({ messageId: 'm', body: lifecycleEvent('launch') }, cloud.deps())).rejects.toThrow('Throttling');
    expect(cloud.completed).toBeUndefined();
  });
});

it('uses the instance id from the event everywhere', async () => {
  const cloud = new FakeCloud();
  await deliverAll(cloud, lifecycleEvent('launch'));
  for (const call of cloud.calls.filter((c) => c.op === 'sendCommand')) {
    expect((call.args as { instanceId: string }).instanceId).toBe(INSTANCE);
  }
});
