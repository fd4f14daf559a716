import { CloudWatchClient, DescribeAlarmsCommand, GetMetricStatisticsCommand, type StateValue } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { createCloudWatchClient, createMetricsPort } from '../../../lib/aws/cloudwatch';
import { AwsCallError } from '../../../lib/errors';
import { awsError, recordingLog } from './helpers';

const cwMock = mockClient(CloudWatchClient);
const NOW = new Date('2024-05-01T12:00:00Z');

function port() {
  return createMetricsPort(new CloudWatchClient({ region: 'eu-west-1' }), { dryRun: false, log: recordingLog(), now: () => NOW });
}

const alarm = (name: string, state: StateValue, extra: object = {}) => ({
  AlarmName: name, StateValue: state, StateReason: `reason ${name}`, StateUpdatedTimestamp: new Date('2024-05-01T11:58:00Z'), ...extra,
});

beforeEach(() => cwMock.reset());

describe('describeAlarms', () => {
  it('asks for metric alarms by name, follows NextToken and maps each alarm', async () => {
    // Prepare
    cwMock.on(DescribeAlarmsCommand)
      .resolvesOnce({ MetricAlarms: [alarm('cpu-high', 'ALARM', { Threshold: 70, MetricName: 'CPUUtilization' })], NextToken: 't2' })
      .resolvesOnce({ MetricAlarms: [alarm('cpu-low', 'OK', { Threshold: 20, MetricName: 'CPUUtilization' }), alarm('math', 'INSUFFICIENT_DATA')] });
    // Act
    const alarms = await port().describeAlarms(['cpu-high', 'cpu-low', 'math']);
    // Assess
    expect(cwMock.commandCalls(DescribeAlarmsCommand).map((call) => call.args[0].input)).toEqual([
      { AlarmNames: ['cpu-high', 'cpu-low', 'math'], AlarmTypes: ['MetricAlarm'] },
      { AlarmNames: ['cpu-high', 'cpu-low', 'math'], AlarmTypes: ['MetricAlarm'], NextToken: 't2' },
    ]);
    expect(alarms).toEqual([
      { name: 'cpu-high', state: 'ALARM', stateReason: 'reason cpu-high', stateUpdated: new Date('2024-05-01T11:58:00Z'), threshold: 70, metricName: 'CPUUtilization' },
      { name: 'cpu-low', state: 'OK', stateReason: 'reason cpu-low', stateUpdated: new Date('2024-05-01T11:58:00Z'), threshold: 20, metricName: 'CPUUtilization' },
      { name: 'math', state: 'INSUFFICIENT_DATA', stateReason: 'reason math', stateUpdated: new Date('2024-05-01T11:58:00Z') },
    ]);
  });

  it('asks nothing for no names, and batches over 100 names', async () => {
    cwMock.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
    await expect(port().describeAlarms([])).resolves.toEqual([]);
    expect(cwMock.calls()).toHaveLength(0);
    await port().describeAlarms(Array.from({ length: 150 }, (_, i) => `a-${i}`));
    expect(cwMock.commandCalls(DescribeAlarmsCommand).map((call) => call.args[0].input.AlarmNames?.length)).toEqual([100, 50]);
  });

  it('fails on an alarm state it does not know', async () => {
    cwMock.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [alarm('odd', 'PANIC' as StateValue)] });
    await expect(port().describeAlarms(['odd'])).rejects.toThrow(/unknown alarm state "PANIC"/);
  });

  it('wraps SDK failures', async () => {
    cwMock.on(DescribeAlarmsCommand).rejects(awsError('InvalidNextToken', 'bad token'));
    await expect(port().describeAlarms(['x'])).rejects.toThrow(AwsCallError);
  });
});

describe('getMetricMax', () => {
  it('asks for Maximum over the window ending now and returns the largest', async () => {
    cwMock.on(GetMetricStatisticsCommand).resolves({
      Datapoints: [{ Maximum: 41.5 }, { Maximum: 87.25 }, { Maximum: 12 }, { Average: 99 }],
    });
    const max = await port().getMetricMax('AWS/EC2', 'CPUUtilization', { AutoScalingGroupName: 'pydio-compute' }, 60, 10);
    expect(cwMock.commandCalls(GetMetricStatisticsCommand)[0].args[0].input).toEqual({
      Namespace: 'AWS/EC2',
      MetricName: 'CPUUtilization',
      Dimensions: [{ Name: 'AutoScalingGroupName', Value: 'pydio-compute' }],
      StartTime: new Date('2024-05-01T11:50:00Z'),
      EndTime: NOW,
      Period: 60,
      Statistics: ['Maximum'],
    });
    expect(max).toBe(87.25);
  });

  it('is undefined without datapoints', async () => {
    cwMock.on(GetMetricStatisticsCommand).resolves({ Datapoints: [] });
    await expect(port().getMetricMax('AWS/EC2', 'CPUUtilization', {}, 300, 15)).resolves.toBeUndefined();
  });

  it.each([
    [0, 10, /periodSeconds/],
    [90, 10, /periodSeconds/],
    [60, 0, /minutes/],
    [1, 30, /1440 datapoints/],
  ])('refuses period %p over %p min', async (period, minutes, message) => {
    await expect(port().getMetricMax('AWS/EC2', 'CPUUtilization', {}, period, minutes)).rejects.toThrow(message);
    expect(cwMock.calls()).toHaveLength(0);
  });
});

it('createCloudWatchClient retries up to 5 attempts', async () => {
  await expect(createCloudWatchClient().config.maxAttempts()).resolves.toBe(5);
});
