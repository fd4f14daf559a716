/** Test fixtures shared by the scaling tests. */

/** The documented shape of a single-metric "CloudWatch Alarm State Change" event. */
export function stateChange(over: { detail?: Record<string, unknown>; state?: Record<string, unknown>; top?: Record<string, unknown> } = {}) {
  return {
    version: '0',
    id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: '2026-11-21T10:00:00Z',
    region: 'eu-west-1',
    resources: ['arn:aws:cloudwatch:eu-west-1:123456789012:alarm:pydio-autoscaler-test-compute-cpu-high'],
    detail: {
      alarmName: 'pydio-autoscaler-test-compute-cpu-high',
      configuration: {
        metrics: [{ id: 'm1', metricStat: { metric: { dimensions: { AutoScalingGroupName: 'pydio-compute' }, name: 'CPUUtilization', namespace: 'AWS/EC2' }, period: 300, stat: 'Average' }, returnData: true }],
      },
      previousState: { reason: 'Threshold Crossed', timestamp: '2026-11-21T09:00:00.000+0000', value: 'OK' },
      state: {
        reason: 'Threshold Crossed: 2 out of the last 2 datapoints [91.5 (21/11/26 09:55:00), 88.0 (21/11/26 09:50:00)] were greater than the threshold (70.0).',
        reasonData: '{"version":"1.0","queryDate":"2026-11-21T10:00:00.000+0000","startDate":"2026-11-21T09:50:00.000+0000","statistic":"Average","period":300,"recentDatapoints":[88.0,91.5],"threshold":70.0,"evaluatedDatapoints":[{"timestamp":"2026-11-21T09:55:00.000+0000","sampleCount":5.0,"value":91.5}]}',
        timestamp: '2026-11-21T10:00:00.123+0000',
        value: 'ALARM',
        ...over.state,
      },
      ...over.detail,
    },
    ...over.top,
  };
}
