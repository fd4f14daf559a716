/**
 * The watch use case against an in-memory cloud: runs one period apart, and
 * asserts effects (queued events, SetInstanceHealth calls, notices, the
 * remembered state), not call order.
 */
import { parseWatchConfig } from '../../../lib/config/watch';
import type { Notification } from '../../../lib/core/notification';
import { WATCH_RUN_KEY, WATCH_STATE_KEY } from '../../../lib/core/records';
import type { WatchTrigger } from '../../../lib/core/watch/messages';
import type { Log } from '../../../lib/logger';
import type { GroupDescription, GroupInstance, LifecycleHookDescription } from '../../../lib/ports/autoscaling';
import type { RegisteredTarget } from '../../../lib/ports/elbv2';
import { runWatch, type WatchDeps } from '../../../lib/usecases/watch';
import { WATCH_ENV } from '../config/watch-env';
import { FakeCoordination } from './fake-coordination';

const TRIGGER: WatchTrigger = { kind: 'schedule', ruleArn: 'arn:aws:events:eu-west-1:123456789012:rule/watch', time: '2026-11-21T10:00:00Z' };
const COMPUTE_ARN = 'arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:0f0e0d0c-0000-4000-8000-000000000000:autoScalingGroupName/pydio-compute';
const STORAGE_ARN = 'arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:0f0e0d0c-0000-4000-8000-000000000001:autoScalingGroupName/pydio-storage';

function member(instanceId: string, lifecycleState = 'InService', healthStatus = 'Healthy'): GroupInstance {
  return { instanceId, availabilityZone: 'eu-west-1a', lifecycleState, healthStatus, protectedFromScaleIn: false };
}

class FakeWatchCloud {
  public now = new Date('2026-11-21T10:00:00Z');
  public compute: GroupDescription = {
    name: 'pydio-compute', arn: COMPUTE_ARN, minSize: 1, maxSize: 6, desiredCapacity: 3, targetGroupArns: [], availabilityZones: ['eu-west-1a'], healthCheckGracePeriodSeconds: 0,
    instances: [member('i-01'), member('i-02'), member('i-03')],
  };
  public storage: GroupDescription = {
    name: 'pydio-storage', arn: STORAGE_ARN, minSize: 2, maxSize: 4, desiredCapacity: 2, targetGroupArns: [], availabilityZones: ['eu-west-1a'], healthCheckGracePeriodSeconds: 0,
    instances: [member('i-s1'), member('i-s2')],
  };
  public hooks: Record<string, LifecycleHookDescription[]> = {
    'pydio-compute': [
      { name: 'pydio-autoscaler-test-compute-launch', transition: 'launch', heartbeatTimeoutSeconds: 900, defaultResult: 'ABANDON' },
      { name: 'pydio-autoscaler-test-compute-terminate', transition: 'terminate', heartbeatTimeoutSeconds: 900, defaultResult: 'CONTINUE' },
    ],
    'pydio-storage': [{ name: 'pydio-autoscaler-test-storage-launch', transition: 'launch', heartbeatTimeoutSeconds: 1800, defaultResult: 'ABANDON', metadata: 'storage' }],
  };
  public targets: RegisteredTarget[] | Error = ['i-01', 'i-02', 'i-03'].map((instanceId) => ({ instanceId, port: 80, state: 'healthy' }));
  public health: string | undefined = undefined;
  /** The coordination table (the shared fake, on this cloud's clock). */
  public table = new FakeCoordination(() => this.now);
  public healthCalls: Array<[string, string, boolean]> = [];
  public healthAnswer: 'set' | 'in-grace-period' | 'not-found' = 'set';
  public sendFails = false;
  public queued: Array<{ url: string; body: string }> = [];
  public notifications: Notification[] = [];
  public counted: Array<[string, number]> = [];
  public logged: Array<[string, string, Record<string, unknown>]> = [];
  private ids = 0;

  /** A flow's (or another run's) hold on `key` for `seconds` from now. */
  public hold(key: string, owner: string, seconds: number): void {
    this.table.items.set(key, { owner, expiresAt: Math.floor(this.now.getTime() / 1000) + seconds });
  }

  public deps(env: Record<string, string> = {}): WatchDeps {
    const record = (level: string) => (message: string, fields: Record<string, unknown> = {}) => void this.logged.push([level, message, fields]);
    return {
      config: parseWatchConfig({ ...WATCH_ENV, ...env }),
      autoScaling: {
        describeGroup: async (name) => (name === this.compute.name ? this.compute : name === this.storage.name ? this.storage : undefined),
        listLifecycleHooks: async (name) => this.hooks[name] ?? [],
        setInstanceHealth: async (instanceId, status, respect) => {
          this.healthCalls.push([instanceId, status, respect]);
          if (this.healthAnswer === 'set') this.compute = { ...this.compute, instances: this.compute.instances.map((i) => (i.instanceId === instanceId ? { ...i, healthStatus: status } : i)) };
          return this.healthAnswer;
        },
      },
      targets: {
        describeTargets: async () => {
          if (this.targets instanceof Error) throw this.targets;
          return this.targets;
        },
      },
      coordination: this.table,
      parameters: { getParameter: async (name) => (name === '/pydio-autoscaler/test/storage/health' ? this.health : undefined) },
      queue: {
        send: async (url, body) => {
          if (this.sendFails && !body.includes('healthCheck')) throw new Error('SendMessage: ServiceUnavailable');
          this.queued.push({ url, body });
        },
      },
      notifier: { publish: async (n) => void this.notifications.push(n) },
      metrics: { count: (name, value) => void this.counted.push([name, value]), seconds: () => undefined, flush: () => undefined },
      log: { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') } as unknown as Log,
      now: () => this.now,
      newId: () => `00000000-0000-4000-8000-00000000000${(this.ids += 1)}`,
    };
  }

  /** One run, then the clock moves on one period. */
  public async run(env: Record<string, string> = {}) {
    const report = await runWatch(this.deps(env), TRIGGER, `run-${this.now.getTime()}`);
    this.now = new Date(this.now.getTime() + 60_000);
    return report;
  }

  public events(): Array<Record<string, unknown>> {
    return this.queued.filter((q) => !q.body.includes('healthCheck')).map((q) => ({ url: q.url, ...(JSON.parse(q.body) as Record<string, unknown>) }));
  }

  public eventTypes(): string[] {
    return this.notifications.map((n) => n.eventType);
  }

  public state(): Record<string, unknown> {
    return JSON.parse(this.table.items.get(WATCH_STATE_KEY)?.value ?? '{}') as Record<string, unknown>;
  }

  public setTarget(instanceId: string, state: RegisteredTarget['state']): void {
    if (this.targets instanceof Error) throw this.targets;
    this.targets = this.targets.map((t) => (t.instanceId === instanceId ? { ...t, state, ...(state === 'unhealthy' ? { reason: 'Target.FailedHealthChecks' } : {}) } : t));
  }
}

let cloud: FakeWatchCloud;
beforeEach(() => {
  cloud = new FakeWatchCloud();
});

describe('lost lifecycle events', () => {
  it('a launch no flow took is re-driven on the second run, to the lifecycle queue, shaped like the EventBridge event without a token', async () => {
    cloud.compute = { ...cloud.compute, instances: [...cloud.compute.instances, member('i-0abcdef1234567890', 'Pending:Wait')] };
    await cloud.run();
    expect(cloud.events()).toEqual([]);
    await cloud.run();
    expect(cloud.events()).toEqual([{
      url: WATCH_ENV.LIFECYCLE_QUEUE_URL,
      version: '0', id: '00000000-0000-4000-8000-000000000001', 'detail-type': 'EC2 Instance-launch Lifecycle Action', source: 'pydio-autoscaler.watch',
      account: '123456789012', region: 'eu-west-1', time: '2026-11-21T10:01:00Z', resources: [COMPUTE_ARN],
      detail: { AutoScalingGroupName: 'pydio-compute', LifecycleHookName: 'pydio-autoscaler-test-compute-launch', EC2InstanceId: 'i-0abcdef1234567890', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', Origin: 'EC2', Destination: 'AutoScalingGroup' },
    }]);
    expect(cloud.eventTypes()).toEqual(['watch.redriven']);
    expect(cloud.notifications[0]?.subject).toBe('[test] watch: lost launch event of i-0abcdef1234567890 picked up (pydio-compute)');
    expect(cloud.counted).toEqual([['WatchLostEventsRedriven', 1]]);
    expect(cloud.logged.filter(([, m]) => m === 'watch: lost lifecycle event re-driven')).toHaveLength(1);
    // Not again within the claim TTL, even if the flow has not taken it yet.
    await cloud.run();
    await cloud.run();
    expect(cloud.events()).toHaveLength(1);
  });

  it('a flow that holds the action is left alone', async () => {
    cloud.compute = { ...cloud.compute, instances: [...cloud.compute.instances, member('i-09', 'Terminating:Wait')] };
    cloud.hold('lifecycle/i-09/terminate', 'msg-1', 900);
    await cloud.run();
    await cloud.run();
    expect(cloud.events()).toEqual([]);
    expect(cloud.notifications).toEqual([]);
  });

  it('a dead flow whose claim expired: re-driven two runs after the expiry', async () => {
    cloud.compute = { ...cloud.compute, instances: [...cloud.compute.instances, member('i-09', 'Terminating:Wait')] };
    cloud.hold('lifecycle/i-09/terminate', 'msg-1', 30);
    await cloud.run();
    await cloud.run();
    expect(cloud.events()).toEqual([]);
    await cloud.run();
    expect(cloud.events().map((e) => [e['detail-type'], (e.detail as Record<string, unknown>).LifecycleHookName])).toEqual([['EC2 Instance-terminate Lifecycle Action', 'pydio-autoscaler-test-compute-terminate']]);
  });

  it('a storage member: to the storage queue, with the hook metadata', async () => {
    cloud.storage = { ...cloud.storage, instances: [...cloud.storage.instances, member('i-s3', 'Pending:Wait')] };
    await cloud.run();
    await cloud.run();
    const [event] = cloud.events();
    expect(event?.url).toBe(WATCH_ENV.STORAGE_QUEUE_URL);
    expect(event?.resources).toEqual([STORAGE_ARN]);
    expect(event?.detail).toMatchObject({ AutoScalingGroupName: 'pydio-storage', LifecycleHookName: 'pydio-autoscaler-test-storage-launch', NotificationMetadata: 'storage' });
  });

  it('the group lost its hook: nothing sent, nothing told, tried again next run', async () => {
    cloud.compute = { ...cloud.compute, instances: [...cloud.compute.instances, member('i-09', 'Pending:Wait')] };
    cloud.hooks['pydio-compute'] = [];
    await cloud.run();
    await cloud.run();
    expect(cloud.events()).toEqual([]);
    expect(cloud.notifications).toEqual([]);
    expect(cloud.state().redriven).toEqual({});
    cloud.hooks['pydio-compute'] = [{ name: 'h', transition: 'launch', heartbeatTimeoutSeconds: 900, defaultResult: 'ABANDON' }];
    await cloud.run();
    expect(cloud.events()).toHaveLength(1);
  });

  it('a send that fails is logged, not remembered, and tried again next run; the other actions go on', async () => {
    cloud.compute = { ...cloud.compute, instances: [...cloud.compute.instances, member('i-09', 'Pending:Wait')] };
    await cloud.run();
    cloud.sendFails = true;
    const report = await cloud.run();
    expect(report.actions).toEqual([{ kind: 'redrive', instanceId: 'i-09', outcome: 'failed' }]);
    expect(cloud.logged.some(([level, m]) => level === 'error' && m === 'watch: action failed; the next run tries again')).toBe(true);
    cloud.sendFails = false;
    await cloud.run();
    expect(cloud.events()).toHaveLength(1);
  });
});

describe('unhealthy compute nodes', () => {
  it('marked Unhealthy (grace period respected) after three consecutive unhealthy runs, once, and told once', async () => {
    cloud.setTarget('i-02', 'unhealthy');
    await cloud.run();
    await cloud.run();
    expect(cloud.healthCalls).toEqual([]);
    await cloud.run();
    expect(cloud.healthCalls).toEqual([['i-02', 'Unhealthy', true]]);
    expect(cloud.eventTypes()).toEqual(['watch.replacing']);
    expect(cloud.notifications[0]?.subject).toBe('[test] watch: replacing i-02 (target unhealthy in 3 checks)');
    expect(cloud.counted).toEqual([['WatchNodesMarkedUnhealthy', 1]]);
    await cloud.run();
    await cloud.run();
    expect(cloud.healthCalls).toHaveLength(1);
  });

  it('refused within the grace period: not told, tried again next run', async () => {
    cloud.setTarget('i-02', 'unhealthy');
    cloud.healthAnswer = 'in-grace-period';
    await cloud.run();
    await cloud.run();
    await cloud.run();
    expect(cloud.healthCalls).toHaveLength(1);
    expect(cloud.notifications).toEqual([]);
    cloud.healthAnswer = 'set';
    await cloud.run();
    expect(cloud.healthCalls).toHaveLength(2);
    expect(cloud.eventTypes()).toEqual(['watch.replacing']);
  });

  it('every target unhealthy: told once, nobody marked; told once again when it ends', async () => {
    for (const id of ['i-01', 'i-02', 'i-03']) cloud.setTarget(id, 'unhealthy');
    for (let i = 0; i < 4; i += 1) await cloud.run();
    expect(cloud.healthCalls).toEqual([]);
    expect(cloud.eventTypes()).toEqual(['watch.cluster-wide']);
    cloud.setTarget('i-01', 'healthy');
    cloud.setTarget('i-03', 'healthy');
    await cloud.run();
    expect(cloud.eventTypes()).toEqual(['watch.cluster-wide', 'watch.recovered']);
    // i-02 starts its count over.
    await cloud.run();
    await cloud.run();
    expect(cloud.healthCalls).toEqual([['i-02', 'Unhealthy', true]]);
  });

  it('the volumes down (fresh record): told once, nobody marked', async () => {
    cloud.setTarget('i-02', 'unhealthy');
    for (let i = 0; i < 4; i += 1) {
      cloud.health = JSON.stringify({ healthy: false, reason: 'brick 10.0.1.10:/bricks/pydio-data/brick offline', at: cloud.now.toISOString() });
      await cloud.run();
    }
    expect(cloud.healthCalls).toEqual([]);
    expect(cloud.eventTypes()).toEqual(['watch.cluster-wide']);
    expect(cloud.notifications[0]?.body).toContain('brick 10.0.1.10:/bricks/pydio-data/brick offline');
  });

  it('a volumes-down record an hour old is not trusted', async () => {
    cloud.setTarget('i-02', 'unhealthy');
    cloud.health = JSON.stringify({ healthy: false, reason: 'old', at: new Date(cloud.now.getTime() - 3_600_000).toISOString() });
    for (let i = 0; i < 3; i += 1) await cloud.run();
    expect(cloud.healthCalls).toEqual([['i-02', 'Unhealthy', true]]);
  });

  it('target health unreadable: the run goes on with the other rules', async () => {
    cloud.targets = new Error('DescribeTargetHealth: Throttling');
    cloud.compute = { ...cloud.compute, instances: [...cloud.compute.instances, member('i-09', 'Pending:Wait')] };
    await cloud.run();
    await cloud.run();
    expect(cloud.events()).toHaveLength(1);
    expect(cloud.logged.some(([level, m]) => level === 'warn' && m.includes('target health could not be read'))).toBe(true);
  });

  it('dry run: the notice says nothing was changed', async () => {
    cloud.setTarget('i-02', 'unhealthy');
    for (let i = 0; i < 3; i += 1) await cloud.run({ DRY_RUN: 'true' });
    expect(cloud.notifications[0]?.body).toContain('Dry run: yes');
  });
});

describe('every run', () => {
  it('sends the storage queue nothing its function cannot read (no health request until the health flow exists)', async () => {
    await cloud.run();
    await cloud.run();
    expect(cloud.queued.filter((q) => q.url === WATCH_ENV.STORAGE_QUEUE_URL)).toEqual([]);
  });

  it('without a storage tier: no request, no storage group read', async () => {
    await cloud.run({ STORAGE_ASG_NAME: '', STORAGE_QUEUE_URL: '' });
    expect(cloud.queued).toEqual([]);
  });

  it('remembers its state for five periods and gives its run hold back', async () => {
    await cloud.run();
    expect(cloud.table.items.get(WATCH_STATE_KEY)?.expiresAt).toBe(Date.parse('2026-11-21T10:00:00Z') / 1000 + 300);
    expect(cloud.table.items.has(WATCH_RUN_KEY)).toBe(false);
  });

  it('stops at once while another run holds the run key (an event delivered twice)', async () => {
    cloud.hold(WATCH_RUN_KEY, 'other-run', 50);
    const report = await cloud.run();
    expect(report).toEqual({ outcome: 'skipped', reason: 'another run is at work', actions: [], notes: [] });
    expect(cloud.queued).toEqual([]);
    expect(cloud.table.items.has(WATCH_STATE_KEY)).toBe(false);
  });

  it('an unreadable state starts afresh, saying so', async () => {
    cloud.table.items.set(WATCH_STATE_KEY, { value: '{"version":7}' });
    await cloud.run();
    expect(cloud.logged.some(([level, m, f]) => level === 'warn' && m === 'watch: starting afresh' && String(f.reason).includes('version 7'))).toBe(true);
    expect(cloud.state().version).toBe(1);
  });

  it('a compute group that does not exist fails the run, naming it, and gives the hold back', async () => {
    await expect(cloud.run({ COMPUTE_ASG_NAME: 'nope' })).rejects.toThrow('the Auto Scaling group nope does not exist');
    expect(cloud.table.items.has(WATCH_RUN_KEY)).toBe(false);
  });
});
