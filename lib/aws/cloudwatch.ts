import { CloudWatchClient, DescribeAlarmsCommand, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { AwsCallError } from '../errors';
import { MAX_ATTEMPTS, MAX_PAGES, callAws, chunk, type AdapterOptions } from './call';
import type { AlarmDescription, AlarmState, MetricsPort } from '../ports/cloudwatch';


export interface MetricsOptions extends AdapterOptions {
  /** Clock for the metric window; tests pin it. */
  readonly now?: () => Date;
}

/** Builds the client once per cold start: region and AWS_ENDPOINT_URL come from the standard environment. */
export function createCloudWatchClient(): CloudWatchClient {
  return new CloudWatchClient({ maxAttempts: MAX_ATTEMPTS });
}

const ALARM_STATES: ReadonlySet<string> = new Set<AlarmState>(['OK', 'ALARM', 'INSUFFICIENT_DATA']);

/** GetMetricStatistics returns at most 1440 datapoints per call. */
const MAX_DATAPOINTS = 1440;
/** Periods CloudWatch accepts: 1, 5, 10, 30 (high resolution) or a multiple of 60. */
const HIGH_RESOLUTION_PERIODS = new Set([1, 5, 10, 30]);

export function createMetricsPort(client: CloudWatchClient, opts: MetricsOptions): MetricsPort {
  const now = opts.now ?? (() => new Date());

  async function describeAlarms(names: readonly string[]): Promise<AlarmDescription[]> {
    const operation = 'DescribeAlarms';
    const alarms: AlarmDescription[] = [];
    // AlarmNames takes at most 100 names per call.
    for (const batch of chunk([...new Set(names)], 100)) {
      let nextToken: string | undefined;
      for (let page = 0; page < MAX_PAGES; page += 1) {
        const output = await callAws(operation, () =>
          client.send(new DescribeAlarmsCommand({
            AlarmNames: batch,
            AlarmTypes: ['MetricAlarm'],
            ...(nextToken ? { NextToken: nextToken } : {}),
          })),
        );
        for (const alarm of output.MetricAlarms ?? []) {
          if (!alarm.AlarmName || !alarm.StateValue || !alarm.StateUpdatedTimestamp) {
            throw new AwsCallError(operation, `an alarm in the answer lacks its name, state or state time (${alarm.AlarmName ?? 'unnamed'})`);
          }
          if (!ALARM_STATES.has(alarm.StateValue)) {
            throw new AwsCallError(operation, `unknown alarm state ${JSON.stringify(alarm.StateValue)} for ${alarm.AlarmName}`);
          }
          alarms.push({
            name: alarm.AlarmName,
            state: alarm.StateValue as AlarmState,
            stateReason: alarm.StateReason ?? '',
            stateUpdated: alarm.StateUpdatedTimestamp,
            ...(typeof alarm.Threshold === 'number' ? { threshold: alarm.Threshold } : {}),
            ...(alarm.MetricName ? { metricName: alarm.MetricName } : {}),
          });
        }
        nextToken = output.NextToken;
        if (!nextToken) break;
      }
    }
    return alarms;
  }

  async function getMetricMax(
    namespace: string,
    metricName: string,
    dimensions: Readonly<Record<string, string>>,
    periodSeconds: number,
    minutes: number,
  ): Promise<number | undefined> {
    const operation = 'GetMetricStatistics';
    if (!Number.isInteger(periodSeconds) || periodSeconds < 1 || (!HIGH_RESOLUTION_PERIODS.has(periodSeconds) && periodSeconds % 60 !== 0)) {
      throw new RangeError(`${operation}: periodSeconds must be 1, 5, 10, 30 or a multiple of 60, got ${periodSeconds}`);
    }
    if (!Number.isFinite(minutes) || minutes <= 0) {
      throw new RangeError(`${operation}: minutes must be a positive number, got ${minutes}`);
    }
    if ((minutes * 60) / periodSeconds > MAX_DATAPOINTS) {
      throw new RangeError(`${operation}: ${minutes} min at ${periodSeconds} s is more than ${MAX_DATAPOINTS} datapoints`);
    }
    const end = now();
    const start = new Date(end.getTime() - minutes * 60_000);
    const output = await callAws(operation, () =>
      client.send(new GetMetricStatisticsCommand({
        Namespace: namespace,
        MetricName: metricName,
        Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })),
        StartTime: start,
        EndTime: end,
        Period: periodSeconds,
        Statistics: ['Maximum'],
      })),
    );
    const values = (output.Datapoints ?? [])
      .map((point) => point.Maximum)
      .filter((value): value is number => typeof value === 'number' && Number.isFinite(value));
    return values.length === 0 ? undefined : Math.max(...values);
  }

  return { describeAlarms, getMetricMax };
}
