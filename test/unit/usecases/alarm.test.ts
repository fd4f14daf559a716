/**
 * The alarm use case against an in-memory cloud: asserts effects (desired
 * capacity, notifications, queued re-checks, metrics), not call order.
 */
import type { GroupDescription, ScalingActivity } from '../../../lib/ports/autoscaling';
import type { AlarmDescription } from '../../../lib/ports/cloudwatch';
import { parseScalingConfig } from '../../../lib/config/scaling';
import { encodeRecheck } from '../../../lib/core/scaling/alarm-event';
import type { Notification } from '../../../lib/core/notification';
import type { Log } from '../../../lib/logger';
import { activityFacts, handleAlarmMessage, type AlarmDeps } from '../../../lib/usecases/alarm';
import { DECISION_LOGGED } from '../../../lib/core/log-messages';
import { STORAGE_HEALTH_UNKNOWN, STORAGE_NOT_DEPLOYED, storageNotDeployed } from '../../../lib/usecases/storage-not-deployed';
import type { ExpansionRequest, StorageExpansionPort } from '../../../lib/ports/storage';
import { stateChange } from '../core/scaling/fixtures';

const CPU_HIGH = 'pydio-autoscaler-test-compute-cpu-high';
const CPU_LOW = 'pydio-autoscaler-test-compute-cpu-low';
const DISK_HIGH = 'pydio-autoscaler-test-brick-disk-high';
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/decisions';

const ENV = {
  STAGE: 'test',
  COMPUTE_ASG_NAME: 'pydio-compute',
  STORAGE_ASG_NAME: 'pydio-storage',
  TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:ops',
  DECISION_QUEUE_URL: QUEUE,
  CPU_HIGH_ALARM_NAME: CPU_HIGH,
  CPU_LOW_ALARM_NAME: CPU_LOW,
  DISK_HIGH_ALARM_NAME: DISK_HIGH,
  SCALE_OUT_STEP: '1',
  SCALE_OUT_LARGE_STEP: '2',
  LARGE_STEP_FACTOR: '1.5',
  SCALE_COOLDOWN_SECONDS: '300',
};

class FakeScalingCloud {
  public now = new Date('2026-11-21T10:00:00Z');
  public compute: GroupDescription = {
    name: 'pydio-compute', minSize: 1, maxSize: 4, desiredCapacity: 2, targetGroupArns: [], availabilityZones: ['eu-west-1a'],
    instances: ['i-0a', 'i-0b'].map((instanceId) => ({ instanceId, availabilityZone: 'eu-west-1a', lifecycleState: 'InService', healthStatus: 'Healthy', protectedFromScaleIn: false })),
  };
  public activities: ScalingActivity[] = [];
  public alarmStates = new Map<string, AlarmDescription>();
  public setCalls: Array<{ group: string; desired: number; honorCooldown: boolean }> = [];
  public awsBusy = false;
  public notifications: Notification[] = [];
  public queued: Array<{ url: string; body: string; delaySeconds: number }> = [];
  public counted: Array<[string, number]> = [];
  public logged: Array<[string, Record<string, unknown>]> = [];
  public expansions: ExpansionRequest[] = [];

  public alarm(name: string, state: AlarmDescription['state'], threshold: number, reason = 'Threshold Crossed: 1 datapoint [80.0 (x)] was greater', updated = new Date('2026-11-21T09:59:00Z')) {
    this.alarmStates.set(name, { name, state, threshold, stateReason: reason, stateUpdated: updated });
  }

  public deps(env: Record<string, string> = {}, storage: AlarmDeps['storage'] = storageNotDeployed): AlarmDeps {
    const log = {
      debug: () => undefined, warn: () => undefined, error: () => undefined,
      info: (message: string, fields: Record<string, unknown>) => this.logged.push([message, fields]),
    } as unknown as Log;
    return {
      config: parseScalingConfig({ ...ENV, ...env }),
      autoScaling: {
        describeGroup: async (name) => (name === 'pydio-compute' ? this.compute : undefined),
        describeScalingActivities: async () => this.activities,
        setDesiredCapacity: async (group, desired, honorCooldown) => {
          this.setCalls.push({ group, desired, honorCooldown });
          if (this.awsBusy) return 'in-progress';
          this.compute = { ...this.compute, desiredCapacity: desired };
          this.activities = [{ activityId: `a-${this.setCalls.length}`, statusCode: 'Successful', startTime: this.now, endTime: this.now, description: `set ${desired}` }, ...this.activities];
          return 'set';
        },
      },
      alarms: { describeAlarms: async (names) => names.flatMap((n) => (this.alarmStates.has(n) ? [this.alarmStates.get(n)!] : [])) },
      storage,
      notifier: { publish: async (n) => void this.notifications.push(n) },
      queue: { send: async (url, body, delaySeconds) => void this.queued.push({ url, body, delaySeconds }) },
      metrics: { count: (name, value) => void this.counted.push([name, value]), seconds: () => undefined, flush: () => undefined },
      log,
      now: () => this.now,
    };
  }

  public advance(seconds: number) {
    this.now = new Date(this.now.getTime() + seconds * 1000);
  }
}

const event = (name: string, value: string, reasonData?: string) =>
  JSON.stringify(stateChange({ detail: { alarmName: name }, state: { value, ...(reasonData !== undefined ? { reasonData } : {}) } }));
const message = (body: string, id = 'm-1') => ({ messageId: id, body });

let cloud: FakeScalingCloud;
beforeEach(() => {
  cloud = new FakeScalingCloud();
  cloud.alarm(CPU_HIGH, 'ALARM', 70);
  cloud.alarm(CPU_LOW, 'OK', 25);
});

describe('compute scaling', () => {
  it('CPU high: raises desired capacity by one, without AWS cooldown, reports once and schedules a re-check', async () => {
    const outcome = await handleAlarmMessage(message(event(CPU_HIGH, 'ALARM', '{"recentDatapoints":[80],"threshold":70}')), cloud.deps());
    expect(outcome).toBe('acted');
    expect(cloud.setCalls).toEqual([{ group: 'pydio-compute', desired: 3, honorCooldown: false }]);
    expect(cloud.notifications).toHaveLength(1);
    expect(cloud.notifications[0]).toMatchObject({ eventType: 'scaling.decided', subject: expect.stringContaining('scale-out pydio-compute 2->3') });
    expect(cloud.notifications[0].body).toContain(STORAGE_HEALTH_UNKNOWN); // the default storage port is named in the message
    expect(cloud.logged.filter(([m]) => m === 'scaling decision')).toHaveLength(1);
    // The operator CLI's `decisions` shows each decision with the notice it sent, read from this line.
    const [, decisionLine] = cloud.logged.find(([m]) => m === DECISION_LOGGED) ?? [];
    expect(decisionLine).toMatchObject({ decision: 'scale', outcome: 'acted', notified: true, notice: { subject: cloud.notifications[0].subject, eventType: 'scaling.decided', severity: 'info' } });
    expect(cloud.counted).toEqual([['ScaleOut', 1]]);
    expect(cloud.queued).toEqual([{ url: QUEUE, body: encodeRecheck(CPU_HIGH, 1, cloud.now), delaySeconds: 300 }]);
  });

  it('far above the threshold (the alarm\'s own threshold counts): the large step', async () => {
    await handleAlarmMessage(message(event(CPU_HIGH, 'ALARM', '{"recentDatapoints":[110],"threshold":60}')), cloud.deps());
    expect(cloud.setCalls.map((c) => c.desired)).toEqual([4]);
    expect(cloud.counted).toEqual([['ScaleOut', 2]]);
  });

  it('an alarm that stays in ALARM is acted on again after the cooldown, and stops once OK', async () => {
    const deps = cloud.deps();
    await handleAlarmMessage(message(event(CPU_HIGH, 'ALARM', '{"recentDatapoints":[80],"threshold":70}')), deps);
    // the re-check arrives after the delay; the alarm is still ALARM
    cloud.advance(cloud.queued[0].delaySeconds);
    await handleAlarmMessage(message(cloud.queued[0].body, 'm-2'), deps);
    expect(cloud.compute.desiredCapacity).toBe(4);
    expect(cloud.queued).toHaveLength(2);
    // back to OK: no action, no further re-check
    cloud.advance(cloud.queued[1].delaySeconds);
    cloud.alarm(CPU_HIGH, 'OK', 70, 'Threshold Crossed: no datapoint above', cloud.now);
    const outcome = await handleAlarmMessage(message(cloud.queued[1].body, 'm-3'), deps);
    expect(outcome).toBe('no-action');
    expect(cloud.setCalls).toHaveLength(2);
    expect(cloud.queued).toHaveLength(2);
    // The re-check finding OK is logged, not told: the ALARM -> OK change is an event of its own.
    expect(cloud.notifications.map((n) => n.eventType)).toEqual(['scaling.decided', 'scaling.decided']);
    expect(cloud.logged.filter(([m]) => m === 'scaling decision').map(([, f]) => (f as { notified?: boolean }).notified)).toEqual([true, true, false]);
  });

  it('a re-check early in the cooldown is suppressed with the seconds left and waits the rest', async () => {
    cloud.activities = [{ activityId: 'a', statusCode: 'Successful', startTime: cloud.now, endTime: new Date(cloud.now.getTime() - 120_000), description: '' }];
    await handleAlarmMessage(message(encodeRecheck(CPU_HIGH, 1, cloud.now)), cloud.deps());
    expect(cloud.setCalls).toEqual([]);
    expect(cloud.notifications[0]).toMatchObject({ eventType: 'scaling.suppressed' });
    expect(cloud.notifications[0].body).toContain('180s left of 300s');
    expect(cloud.queued[0].delaySeconds).toBe(180);
    expect(cloud.counted).toEqual([['ScaleSuppressed', 1]]);
  });

  it('at maximum: suppressed, no call, no re-check', async () => {
    cloud.compute = { ...cloud.compute, desiredCapacity: 4 };
    await handleAlarmMessage(message(event(CPU_HIGH, 'ALARM')), cloud.deps());
    expect(cloud.setCalls).toEqual([]);
    expect(cloud.notifications[0].body).toContain('already at maximum 4');
    expect(cloud.queued).toEqual([]);
  });

  it('CPU low with a pending lifecycle action: no scale-in, re-check later', async () => {
    cloud.alarm(CPU_LOW, 'ALARM', 25);
    cloud.compute = { ...cloud.compute, desiredCapacity: 3, instances: [...cloud.compute.instances, { ...cloud.compute.instances[0], instanceId: 'i-0c', lifecycleState: 'Terminating:Wait' }] };
    await handleAlarmMessage(message(event(CPU_LOW, 'ALARM')), cloud.deps());
    expect(cloud.setCalls).toEqual([]);
    expect(cloud.notifications[0].body).toContain('i-0c Terminating:Wait');
    expect(cloud.queued[0].delaySeconds).toBe(60);
  });

  it('CPU low: scales in by one', async () => {
    cloud.alarm(CPU_LOW, 'ALARM', 25);
    await handleAlarmMessage(message(event(CPU_LOW, 'ALARM')), cloud.deps());
    expect(cloud.setCalls).toEqual([{ group: 'pydio-compute', desired: 1, honorCooldown: false }]);
    expect(cloud.counted).toEqual([['ScaleIn', 1]]);
  });

  it('unhealthy storage: no compute scale-out, ops are told why', async () => {
    const storage: StorageExpansionPort = {
      requestExpansion: async () => ({ accepted: false }),
      volumesHealth: async () => ({ healthy: false, reason: 'pydio-data: brick 10.0.2.10:/bricks/pydio-data/brick offline' }),
    };
    await handleAlarmMessage(message(event(CPU_HIGH, 'ALARM')), cloud.deps({}, storage));
    expect(cloud.setCalls).toEqual([]);
    expect(cloud.notifications[0]).toMatchObject({ eventType: 'scaling.suppressed', severity: 'warning' });
    expect(cloud.notifications[0].body).toMatch(/offline.*more web nodes would not help/);
  });

  it('AWS answering "scaling activity in progress" is reported as refused and re-checked', async () => {
    cloud.awsBusy = true;
    const outcome = await handleAlarmMessage(message(event(CPU_HIGH, 'ALARM')), cloud.deps());
    expect(outcome).toBe('refused');
    expect(cloud.notifications[0]).toMatchObject({ eventType: 'scaling.suppressed' });
    expect(cloud.notifications[0].body).toContain('a scaling activity is in progress');
    expect(cloud.queued).toHaveLength(1);
  });

  it('a stale queued ALARM event yields to the alarm state now (OK since)', async () => {
    cloud.alarm(CPU_HIGH, 'OK', 70, 'back to normal', new Date('2026-11-21T10:00:30Z'));
    const outcome = await handleAlarmMessage(message(event(CPU_HIGH, 'ALARM')), cloud.deps());
    expect(outcome).toBe('no-action');
    expect(cloud.setCalls).toEqual([]);
  });

  it('a re-check of a deleted alarm stops the chain', async () => {
    cloud.alarmStates.delete(CPU_HIGH);
    await handleAlarmMessage(message(encodeRecheck(CPU_HIGH, 2, cloud.now)), cloud.deps());
    expect(cloud.setCalls).toEqual([]);
    expect(cloud.queued).toEqual([]);
    expect(cloud.notifications[0].body).toContain('no longer exists');
  });

  it('dry run decides and reports, the adapters (not the use case) skip the change', async () => {
    await handleAlarmMessage(message(event(CPU_HIGH, 'ALARM')), cloud.deps({ DRY_RUN: 'true' }));
    expect(cloud.notifications[0].body).toContain('Dry run: yes');
    expect(cloud.notifications[0].body).toContain('dry run: would set desired capacity to 3');
  });
});

describe('which decisions to do nothing reach ops (all are logged)', () => {
  const change = (value: string, previous: string | undefined) =>
    JSON.stringify(stateChange({ detail: { alarmName: CPU_HIGH, previousState: previous === undefined ? undefined : { value: previous } }, state: { value } }));
  it.each<[string, string, string | undefined, boolean]>([
    ['the first evaluation, INSUFFICIENT_DATA -> OK: not told', 'OK', 'INSUFFICIENT_DATA', false],
    ['a recovery, ALARM -> OK: told', 'OK', 'ALARM', true],
    ['OK with no previous state in the event: told', 'OK', undefined, true],
    ['data lost, OK -> INSUFFICIENT_DATA: told', 'INSUFFICIENT_DATA', 'OK', true],
    ['data lost in ALARM, ALARM -> INSUFFICIENT_DATA: told', 'INSUFFICIENT_DATA', 'ALARM', true],
  ])('%s', async (_what, value, previous, told) => {
    cloud.alarm(CPU_HIGH, value as AlarmDescription['state'], 70);
    const outcome = await handleAlarmMessage(message(change(value, previous)), cloud.deps());
    expect(outcome).toBe('no-action');
    expect(cloud.notifications.map((n) => n.subject)).toEqual(told ? [`[test] no scaling: ${CPU_HIGH} is ${value}`] : []);
    expect(cloud.logged.filter(([m]) => m === 'scaling decision').map(([, f]) => f.notified)).toEqual([told]);
    expect(cloud.logged.filter(([m]) => m === 'scaling decision').map(([, f]) => (f.notice as { subject?: string } | undefined)?.subject)).toEqual([told ? `[test] no scaling: ${CPU_HIGH} is ${value}` : undefined]);
    expect(cloud.setCalls).toEqual([]);
    expect(cloud.queued).toEqual([]);
  });

  it('a recovery is told even when DescribeAlarms dates the state a moment after the event does', async () => {
    cloud.alarm(CPU_HIGH, 'OK', 70, 'Threshold Crossed: no datapoint above', new Date('2026-11-21T10:00:00.900Z'));
    await handleAlarmMessage(message(change('OK', 'ALARM')), cloud.deps());
    expect(cloud.notifications.map((n) => n.subject)).toEqual([`[test] no scaling: ${CPU_HIGH} is OK`]);
  });

  it('a stale event whose alarm has left that state since is not told (the newer change is)', async () => {
    cloud.alarm(CPU_HIGH, 'OK', 70, 'back to normal', new Date('2026-11-21T10:00:30Z'));
    await handleAlarmMessage(message(change('ALARM', 'OK')), cloud.deps());
    expect(cloud.notifications).toEqual([]);
  });

  it('an alarm in ALARM that is not ours is still told', async () => {
    cloud.alarm('someone-elses-alarm', 'ALARM', 70);
    await handleAlarmMessage(message(JSON.stringify(stateChange({ detail: { alarmName: 'someone-elses-alarm' } }))), cloud.deps());
    expect(cloud.notifications).toHaveLength(1);
  });
});

describe('storage', () => {
  it('disk high: requests an expansion from the storage tier with the reason and dry-run flag', async () => {
    cloud.alarm(DISK_HIGH, 'ALARM', 80);
    const requests: ExpansionRequest[] = [];
    const storage: StorageExpansionPort = {
      requestExpansion: async (r) => {
        requests.push(r);
        return { accepted: true };
      },
      volumesHealth: async () => ({ healthy: true }),
    };
    const outcome = await handleAlarmMessage(message(event(DISK_HIGH, 'ALARM', '{"recentDatapoints":[91],"threshold":80}')), cloud.deps({ DRY_RUN: 'true' }, storage));
    expect(outcome).toBe('acted');
    expect(requests).toEqual([{ volume: 'pydio-data', sets: 1, reason: expect.stringContaining('brick disk usage high'), dryRun: true }]);
    expect(cloud.counted).toEqual([['StorageExpansionRequested', 1]]);
    expect(cloud.queued).toHaveLength(1);
  });

  it('with the not-deployed default: refused, and the message says the storage tier is not deployed', async () => {
    cloud.alarm(DISK_HIGH, 'ALARM', 80);
    const outcome = await handleAlarmMessage(message(event(DISK_HIGH, 'ALARM')), cloud.deps());
    expect(outcome).toBe('refused');
    expect(cloud.setCalls).toEqual([]);
    expect(cloud.notifications[0].eventType).toBe('scaling.suppressed');
    expect(cloud.notifications[0].body).toContain(STORAGE_NOT_DEPLOYED);
  });
});

describe('bad input', () => {
  it.each([
    ['not JSON', '{', /message body is not JSON/],
    ['a configuration change event', JSON.stringify(stateChange({ top: { 'detail-type': 'CloudWatch Alarm Configuration Change' } })), /detail-type/],
    ['a state change without alarm name', JSON.stringify(stateChange({ detail: { alarmName: undefined } })), /detail.alarmName is missing/],
  ])('%s: rejected with a clear error, no action', async (_what, body, problem) => {
    const outcome = await handleAlarmMessage(message(body), cloud.deps());
    expect(outcome).toBe('rejected');
    expect(cloud.setCalls).toEqual([]);
    expect(cloud.queued).toEqual([]);
    expect(cloud.notifications).toHaveLength(1);
    expect(cloud.notifications[0].eventType).toBe('event.malformed');
    expect(cloud.notifications[0].body).toMatch(problem);
  });

  it('an alarm that is not ours: suppressed with the reason, nothing read or changed', async () => {
    await handleAlarmMessage(message(event('someone-elses-alarm', 'ALARM')), cloud.deps());
    expect(cloud.setCalls).toEqual([]);
    expect(cloud.notifications[0]).toMatchObject({ eventType: 'scaling.suppressed' });
    expect(cloud.notifications[0].body).toContain('not one of the configured scaling alarms');
  });

  it('a failing AWS read is thrown, so the queue re-delivers', async () => {
    const deps = cloud.deps();
    const failing: AlarmDeps = { ...deps, alarms: { describeAlarms: async () => { throw new Error('throttled'); } } };
    await expect(handleAlarmMessage(message(event(CPU_HIGH, 'ALARM')), failing)).rejects.toThrow('throttled');
    expect(cloud.notifications).toEqual([]);
  });
});

describe('activityFacts', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 10, 21, 10, 0, s));
  it.each<[string, ScalingActivity[], { lastActivityEnd?: Date; activityInProgress: boolean }]>([
    ['none', [], { activityInProgress: false }],
    ['latest successful end', [
      { activityId: '1', statusCode: 'Successful', startTime: at(0), endTime: at(10), description: '' },
      { activityId: '2', statusCode: 'Successful', startTime: at(0), endTime: at(30), description: '' },
      { activityId: '3', statusCode: 'Failed', startTime: at(0), endTime: at(50), description: '' },
    ], { lastActivityEnd: at(30), activityInProgress: false }],
    ['one still running', [
      { activityId: '1', statusCode: 'InProgress', startTime: at(0), description: '' },
      { activityId: '2', statusCode: 'WaitingForELBConnectionDraining', startTime: at(0), description: '' },
    ], { activityInProgress: true }],
  ])('%s', (_what, activities, expected) => {
    expect(activityFacts(activities)).toEqual(expected);
  });
});
