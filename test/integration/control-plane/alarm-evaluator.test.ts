/**
 * The alarm evaluator against moto: datapoints put with PutMetricData ->
 * CloudWatch's decision per alarm -> the state and reason in moto, and the
 * "CloudWatch Alarm State Change" event delivered to the matching rule's
 * queue, in a shape the alarm function parses. Also the metrics agent's
 * PutMetricData path and the scaling activities the front now answers.
 */
import { AutoScalingClient, CompleteLifecycleActionCommand, DescribeScalingActivitiesCommand, SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, DescribeAlarmsCommand, PutMetricAlarmCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { parseAlarmMessage } from '../../../lib/core/scaling/alarm-event';
import { AlarmEvaluator } from '../../sandbox/control-plane/alarm-evaluator';
import { clientConfig, createQueue, createStageEnvironment, eventsMaySend } from '../../sandbox/control-plane/aws-setup';
import { EventBus } from '../../sandbox/control-plane/event-bus';
import type { MotoServer } from '../../sandbox/control-plane/moto';
import { drainQueue, eventually, startHarness, startMoto, type Harness } from './harness';

jest.setTimeout(60_000);


let moto: MotoServer;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

const PREFIX = 'pydio-autoscaler-itest-';
const HIGH = `${PREFIX}compute-cpu-high`;
const LOW = `${PREFIX}compute-cpu-low`;
const GROUP = 'ita-compute';
const dims = [{ Name: 'AutoScalingGroupName', Value: GROUP }];

describe('alarm evaluator over moto', () => {
  let cw: CloudWatchClient;
  let queue: { queueUrl: string; queueArn: string };
  /** Period boundaries in the recent past (moto keeps any timestamp). */
  const base = Math.floor(Date.now() / 10_000) * 10_000 - 600_000;
  let clock = base;

  beforeAll(async () => {
    await moto.reset();
    const config = clientConfig(moto.url);
    cw = new CloudWatchClient(config);
    const common = { Namespace: 'AWS/EC2', MetricName: 'CPUUtilization', Dimensions: dims, Statistic: 'Average' as const, Period: 10, TreatMissingData: 'missing' };
    await cw.send(new PutMetricAlarmCommand({ ...common, AlarmName: HIGH, AlarmDescription: 'cpu high', EvaluationPeriods: 2, Threshold: 70, ComparisonOperator: 'GreaterThanThreshold' }));
    await cw.send(new PutMetricAlarmCommand({ ...common, AlarmName: LOW, AlarmDescription: 'cpu low', EvaluationPeriods: 3, Threshold: 25, ComparisonOperator: 'LessThanThreshold' }));
    // An alarm of another stage: never evaluated.
    await cw.send(new PutMetricAlarmCommand({ ...common, AlarmName: 'pydio-autoscaler-other-compute-cpu-high', EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' }));
    queue = await createQueue(moto.url, 'ita-decision');
    const events = new EventBridgeClient(config);
    const rule = await events.send(
      new PutRuleCommand({
        Name: 'ita-alarm-state',
        State: 'ENABLED',
        EventPattern: JSON.stringify({ source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], detail: { alarmName: [HIGH, LOW] } }),
      }),
    );
    await events.send(new PutTargetsCommand({ Rule: 'ita-alarm-state', Targets: [{ Id: 'decision-queue', Arn: queue.queueArn }] }));
    // As the stack's DecisionQueuePolicy: EventBridge sends only where the queue's policy lets it.
    await new SQSClient(config).send(new SetQueueAttributesCommand({ QueueUrl: queue.queueUrl, Attributes: { Policy: JSON.stringify(eventsMaySend(queue.queueArn, rule.RuleArn ?? '')) } }));
  });

  test("EventBridge delivers nothing to a queue whose policy does not let the rule send (none, or another rule's)", async () => {
    const config = clientConfig(moto.url);
    const events = new EventBridgeClient(config);
    const sqs = new SQSClient(config);
    const bare = await createQueue(moto.url, 'ita-no-policy');
    const rule = await events.send(new PutRuleCommand({ Name: 'ita-policy-check', State: 'ENABLED', EventPattern: JSON.stringify({ source: ['ita.policy'] }) }));
    await events.send(new PutTargetsCommand({ Rule: 'ita-policy-check', Targets: [{ Id: 'bare', Arn: bare.queueArn }] }));
    const event = { version: '0' as const, id: 'e-1', 'detail-type': 'Check', source: 'ita.policy', account: '123456789012', time: new Date().toISOString(), region: 'eu-west-1', resources: [], detail: {} };
    const bus = new EventBus(config);
    const refused = await bus.publish(event);
    expect(refused).toEqual([expect.objectContaining({ ruleName: 'ita-policy-check', ok: false, error: expect.stringMatching(/does not let events.amazonaws.com sqs:SendMessage/) })]);
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: bare.queueUrl, Attributes: { Policy: JSON.stringify(eventsMaySend(bare.queueArn, 'arn:aws:events:eu-west-1:123456789012:rule/another')) } }));
    expect((await bus.publish(event))[0]).toMatchObject({ ok: false });
    expect(await drainQueue(moto.url, bare.queueUrl, 1, 1500)).toHaveLength(0);
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: bare.queueUrl, Attributes: { Policy: JSON.stringify(eventsMaySend(bare.queueArn, rule.RuleArn ?? '')) } }));
    expect((await bus.publish(event))[0]).toMatchObject({ ok: true });
    expect(await drainQueue(moto.url, bare.queueUrl, 1)).toHaveLength(1);
  });

  /** Two datapoints (two instances) per 10 s period starting at `from`, values per period. */
  async function put(from: number, perPeriod: ReadonlyArray<readonly [number, number]>): Promise<void> {
    const data = perPeriod.flatMap(([a, b], i) => [
      { MetricName: 'CPUUtilization', Dimensions: dims, Timestamp: new Date(from + i * 10_000 + 2000), Value: a, Unit: 'Percent' as const },
      { MetricName: 'CPUUtilization', Dimensions: dims, Timestamp: new Date(from + i * 10_000 + 7000), Value: b, Unit: 'Percent' as const },
    ]);
    await cw.send(new PutMetricDataCommand({ Namespace: 'AWS/EC2', MetricData: data }));
  }

  async function stateOf(name: string): Promise<{ value?: string; reason?: string; reasonData?: string }> {
    const out = await cw.send(new DescribeAlarmsCommand({ AlarmNames: [name] }));
    const a = out.MetricAlarms?.[0];
    return { value: a?.StateValue, reason: a?.StateReason, reasonData: a?.StateReasonData };
  }

  test('2 of 2 periods above 70 -> cpu-high ALARM with CloudWatch reason, event delivered and parsed; cpu-low OK', async () => {
    const evaluator = new AlarmEvaluator({ clientConfig: clientConfig(moto.url), bus: new EventBus(clientConfig(moto.url)), alarmNamePrefix: PREFIX, now: () => clock });
    await put(base, [
      [90, 80.2],
      [100, 60],
    ]);
    clock = base + 20_000 + 1500; // both periods complete
    const made = await evaluator.evaluateNow();

    expect(made.map((t) => [t.alarmName, t.from, t.to])).toEqual([
      [HIGH, 'INSUFFICIENT_DATA', 'ALARM'],
      [LOW, 'INSUFFICIENT_DATA', 'OK'],
    ]);
    expect(made[0]?.datapoints).toEqual([80, 85.1]);
    const high = await stateOf(HIGH);
    expect(high.value).toBe('ALARM');
    expect(high.reason).toMatch(/^Threshold Crossed: 2 out of the last 2 datapoints \[80\.0 \(\d\d\/\d\d\/\d\d \d\d:\d\d:\d0\), 85\.1 \(.*\)\] were greater than the threshold \(70\.0\) \(minimum 2 datapoints for OK -> ALARM transition\)\.$/);
    expect(JSON.parse(high.reasonData ?? '{}')).toMatchObject({ version: '1.0', statistic: 'Average', period: 10, recentDatapoints: [85.1, 80], threshold: 70 });
    // Another stage's alarm is left as moto created it.
    expect((await stateOf('pydio-autoscaler-other-compute-cpu-high')).reason).toBe('Unchecked: Initial alarm creation');

    const bodies = (await drainQueue(moto.url, queue.queueUrl, 2)) as Array<Record<string, unknown>>;
    expect(bodies).toHaveLength(2);
    const highEvent = bodies.find((b) => (b.detail as { alarmName?: string }).alarmName === HIGH);
    expect(highEvent).toMatchObject({
      version: '0',
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      account: '123456789012',
      region: 'eu-west-1',
      detail: {
        alarmName: HIGH,
        state: { value: 'ALARM' },
        previousState: { value: 'INSUFFICIENT_DATA' },
        configuration: { description: 'cpu high', metrics: [{ metricStat: { metric: { namespace: 'AWS/EC2', name: 'CPUUtilization', dimensions: { AutoScalingGroupName: GROUP } }, period: 10, stat: 'Average' }, returnData: true }] },
      },
    });
    const signal = parseAlarmMessage(highEvent);
    expect(signal).toMatchObject({ alarmName: HIGH, state: 'ALARM', source: 'event', metricValue: 80, threshold: 70 });

    // Nothing changed: no transition, no event.
    expect(await evaluator.evaluateNow()).toEqual([]);
    expect(await drainQueue(moto.url, queue.queueUrl, 1, 1500)).toEqual([]);
    await evaluator.stop();
  });

  test('load gone: three periods below 25 -> cpu-high OK, then cpu-low ALARM; the transitions are kept in order', async () => {
    const evaluator = new AlarmEvaluator({ clientConfig: clientConfig(moto.url), bus: new EventBus(clientConfig(moto.url)), alarmNamePrefix: PREFIX, now: () => clock });
    const from = base + 20_000;
    await put(from, [
      [4, 6],
      [3, 1],
      [10, 12],
    ]);
    clock = from + 10_000 + 1500; // one low period complete: high goes OK (1 of 2 above), low still OK (needs 3)
    expect((await evaluator.evaluateNow()).map((t) => [t.alarmName, t.to])).toEqual([[HIGH, 'OK']]);
    clock = from + 30_000 + 1500;
    const made = await evaluator.evaluateNow();
    expect(made.map((t) => [t.alarmName, t.from, t.to])).toEqual([[LOW, 'OK', 'ALARM']]);
    expect(made[0]?.reason).toMatch(/^Threshold Crossed: 3 out of the last 3 datapoints \[11\.0 .*, 2\.0 .*, 5\.0 .*\] were less than the threshold \(25\.0\)/);
    expect(evaluator.transitions().map((t) => `${t.alarmName.replace(PREFIX, '')}:${t.to}`)).toEqual(['compute-cpu-high:OK', 'compute-cpu-low:ALARM']);
    const bodies = (await drainQueue(moto.url, queue.queueUrl, 2)) as Array<{ detail: { alarmName: string; state: { value: string } } }>;
    expect(bodies.map((b) => `${b.detail.alarmName.replace(PREFIX, '')}:${b.detail.state.value}`).sort()).toEqual(['compute-cpu-high:OK', 'compute-cpu-low:ALARM']);
    await evaluator.stop();
  });

  test('a metric that stops reporting -> INSUFFICIENT_DATA (TreatMissingData missing)', async () => {
    const evaluator = new AlarmEvaluator({ clientConfig: clientConfig(moto.url), bus: new EventBus(clientConfig(moto.url)), alarmNamePrefix: PREFIX, now: () => clock });
    clock = base + 200_000;
    const made = await evaluator.evaluateNow();
    expect(made.map((t) => [t.alarmName, t.to]).sort()).toEqual([
      [HIGH, 'INSUFFICIENT_DATA'],
      [LOW, 'INSUFFICIENT_DATA'],
    ]);
    expect((await stateOf(LOW)).reason).toBe('Insufficient Data: 3 datapoints were unknown.');
    await drainQueue(moto.url, queue.queueUrl, 2);
    await evaluator.stop();
  });

  test('runs by itself every interval once started, and stop() ends it', async () => {
    await cw.send(new PutMetricAlarmCommand({ AlarmName: `${PREFIX}tick`, Namespace: 'PAS/Test', MetricName: 'Tick', Statistic: 'Maximum', Period: 10, EvaluationPeriods: 1, Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching' }));
    const seen: string[] = [];
    const evaluator = new AlarmEvaluator({
      clientConfig: clientConfig(moto.url),
      bus: new EventBus(clientConfig(moto.url)),
      alarmNamePrefix: `${PREFIX}tick`,
      intervalSeconds: 1,
      settleMs: 50,
      onTransition: (t) => seen.push(`${t.alarmName}:${t.to}`),
    });
    evaluator.start();
    await eventually(async () => (seen.length > 0 ? true : undefined), 'the scheduled evaluation', 10_000);
    await evaluator.stop();
    expect(seen).toEqual([`${PREFIX}tick:OK`]);
  });
});

describe('scaling activities (moto answers none): launch and termination with their end times', () => {
  let h: Harness;
  afterAll(async () => {
    await h?.cp.stop();
  });

  test('a launch is InProgress until its hook answers CONTINUE, then Successful with an EndTime; a scale-in adds a termination', async () => {
    h = await startHarness(moto);
    const env = await createStageEnvironment(h.cp.url, {
      prefix: 'itb',
      launchHook: { name: 'launch', defaultResult: 'ABANDON' },
      terminateHook: { name: 'terminate', defaultResult: 'CONTINUE' },
    });
    const asg = new AutoScalingClient(h.config);
    const activities = async () => (await asg.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: env.groupName }))).Activities ?? [];
    expect(await activities()).toEqual([]);

    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: env.groupName, DesiredCapacity: 1 }));
    const [launch] = (await drainQueue(h.cp.url, env.lifecycleQueue.queueUrl, 1)) as Array<{ detail: Record<string, string> }>;
    const instanceId = launch?.detail.EC2InstanceId ?? '';
    const during = await activities();
    expect(during).toHaveLength(1);
    expect(during[0]).toMatchObject({ AutoScalingGroupName: env.groupName, StatusCode: 'InProgress', Description: `Launching a new EC2 instance: ${instanceId}` });
    expect(during[0]?.EndTime).toBeUndefined();

    await asg.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: env.groupName, LifecycleHookName: 'launch', InstanceId: instanceId, LifecycleActionResult: 'CONTINUE' }));
    const after = await activities();
    expect(after[0]).toMatchObject({ StatusCode: 'Successful' });
    expect(after[0]?.EndTime?.getTime()).toBeGreaterThanOrEqual(after[0]?.StartTime?.getTime() ?? Infinity);

    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: env.groupName, DesiredCapacity: 0 }));
    await drainQueue(h.cp.url, env.lifecycleQueue.queueUrl, 1);
    await asg.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: env.groupName, LifecycleHookName: 'terminate', InstanceId: instanceId, LifecycleActionResult: 'CONTINUE' }));
    const all = await activities();
    expect(all.map((a) => [a.Description, a.StatusCode])).toEqual([
      [`Terminating EC2 instance: ${instanceId}`, 'Successful'],
      [`Launching a new EC2 instance: ${instanceId}`, 'Successful'],
    ]);
    const other = await asg.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'no-such-group' }));
    expect(other.Activities).toEqual([]);
  });
});
