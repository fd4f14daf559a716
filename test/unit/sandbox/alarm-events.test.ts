import { parseAlarmMessage } from '../../../lib/core/scaling/alarm-event';
import { matchesPattern } from '../../sandbox/control-plane/event-bus';
import { alarmStateChangeEvent, cloudWatchTime } from '../../sandbox/control-plane/alarm-events';

const arn = 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:pydio-autoscaler-pasbox-compute-cpu-high';
const base = {
  alarmArn: arn,
  alarmName: 'pydio-autoscaler-pasbox-compute-cpu-high',
  description: 'cpu high',
  state: { value: 'ALARM', reason: 'Threshold Crossed: 1 datapoint [91.0 (21/11/26 21:40:00)] was greater than the threshold (70.0).', timestamp: cloudWatchTime(Date.UTC(2026, 10, 21, 21, 40, 11, 250)) },
  previousState: { value: 'OK', reason: 'x', timestamp: cloudWatchTime(Date.UTC(2026, 10, 21, 21, 30)) },
};

describe('alarmStateChangeEvent: what CloudWatch sends to EventBridge', () => {
  it('envelope and detail as documented; the alarm function parses it; the stack rule pattern matches it', () => {
    const e = alarmStateChangeEvent({ ...base, metric: { namespace: 'AWS/EC2', name: 'CPUUtilization', dimensions: { AutoScalingGroupName: 'pas-compute' }, period: 10, stat: 'Average' } });
    expect(e).toMatchObject({
      version: '0',
      'detail-type': 'CloudWatch Alarm State Change',
      source: 'aws.cloudwatch',
      account: '123456789012',
      region: 'eu-west-1',
      time: '2026-11-21T21:40:11Z',
      resources: [arn],
      detail: {
        alarmName: base.alarmName,
        state: { value: 'ALARM', timestamp: '2026-11-21T21:40:11.250+0000' },
        previousState: { value: 'OK' },
        configuration: { description: 'cpu high', metrics: [{ metricStat: { metric: { namespace: 'AWS/EC2', name: 'CPUUtilization', dimensions: { AutoScalingGroupName: 'pas-compute' } }, period: 10, stat: 'Average' }, returnData: true }] },
      },
    });
    expect(parseAlarmMessage(JSON.parse(JSON.stringify(e)))).toMatchObject({ alarmName: base.alarmName, state: 'ALARM', metricValue: 91, source: 'event', at: '2026-11-21T21:40:11.250Z' });
    const pattern = { source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], detail: { alarmName: [base.alarmName] } };
    expect(matchesPattern(pattern, JSON.parse(JSON.stringify(e)) as Record<string, unknown>)).toBe(true);
  });

  it('without a metric (the CLI alarm command) the configuration has only the description', () => {
    const e = alarmStateChangeEvent(base);
    expect(e.detail.configuration).toEqual({ description: 'cpu high' });
    expect(parseAlarmMessage(JSON.parse(JSON.stringify(e))).state).toBe('ALARM');
  });
});
