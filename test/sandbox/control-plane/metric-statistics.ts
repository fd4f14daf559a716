/**
 * GetMetricStatistics as CloudWatch answers it: for the metric with exactly
 * the dimensions asked. "CloudWatch treats each unique combination of
 * dimensions as a separate metric. You can't retrieve statistics using
 * combinations of dimensions that were not specially published. You must
 * specify the same dimensions that were used when the metrics were created"
 * (GetMetricStatistics, Dimensions). moto 5.2.1's GetMetricStatistics also
 * counts every datapoint whose dimensions merely include those asked
 * (moto/cloudwatch/models.py, MetricDatumBase.filter): asking for
 * {service} would mix in the {service, Volume} datapoints, so a pool-wide
 * alarm would fire on per-volume data the product never published pool-wide.
 * moto's GetMetricData compares the dimensions exactly (sorted equality), so
 * the statistics are read through it, one query per statistic, in buckets of
 * Period from StartTime.
 *
 * Used by the front (which answers GetMetricStatistics itself) and by the
 * alarm evaluator. Extended statistics (percentiles) and a query with no
 * dimensions are left to moto's GetMetricStatistics (its GetMetricData
 * matches any dimensions then too), as lenient as before: none of the
 * stack's alarms or widgets asks for them.
 */
import { GetMetricDataCommand, GetMetricStatisticsCommand, type CloudWatchClient, type Datapoint, type Dimension, type Statistic } from '@aws-sdk/client-cloudwatch';

export interface StatisticsQuery {
  readonly Namespace: string;
  readonly MetricName: string;
  readonly Dimensions: readonly Dimension[];
  readonly StartTime: Date;
  readonly EndTime: Date;
  readonly Period: number;
  readonly Statistics: readonly Statistic[];
  readonly Unit?: string;
}

export class MetricStatisticsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricStatisticsError';
  }
}

/** The datapoints GetMetricStatistics answers, oldest first, from the metric with exactly these dimensions. */
export async function exactStatistics(cw: CloudWatchClient, q: StatisticsQuery): Promise<Datapoint[]> {
  if (q.Statistics.length === 0) throw new MetricStatisticsError('exactStatistics needs at least one statistic');
  if (q.Dimensions.length === 0) {
    const out = await cw.send(new GetMetricStatisticsCommand({
      Namespace: q.Namespace, MetricName: q.MetricName, Dimensions: [], StartTime: q.StartTime, EndTime: q.EndTime, Period: q.Period, Statistics: [...q.Statistics],
      ...(q.Unit ? { Unit: q.Unit as never } : {}),
    }));
    return [...(out.Datapoints ?? [])].sort((a, b) => (a.Timestamp?.getTime() ?? 0) - (b.Timestamp?.getTime() ?? 0));
  }
  const out = await cw.send(
    new GetMetricDataCommand({
      StartTime: q.StartTime,
      EndTime: q.EndTime,
      ScanBy: 'TimestampAscending',
      MetricDataQueries: q.Statistics.map((stat, i) => ({
        Id: `s${i}`,
        MetricStat: { Metric: { Namespace: q.Namespace, MetricName: q.MetricName, Dimensions: [...q.Dimensions] }, Period: q.Period, Stat: stat, ...(q.Unit ? { Unit: q.Unit as never } : {}) },
        ReturnData: true,
      })),
    }),
  );
  const byTime = new Map<number, Datapoint>();
  for (const result of out.MetricDataResults ?? []) {
    const stat = q.Statistics[Number((result.Id ?? '').slice(1))];
    if (stat === undefined) continue;
    (result.Timestamps ?? []).forEach((t, i) => {
      const value = result.Values?.[i];
      if (value === undefined) return;
      const at = t.getTime();
      byTime.set(at, { ...(byTime.get(at) ?? { Timestamp: t, ...(q.Unit ? { Unit: q.Unit as never } : {}) }), [stat]: value });
    });
  }
  return [...byTime.values()].sort((a, b) => (a.Timestamp?.getTime() ?? 0) - (b.Timestamp?.getTime() ?? 0));
}
