/**
 * Embedded metric format: the functions publish their own metrics
 * (PydioAutoscaler namespace) as EMF log lines, which CloudWatch Logs turns
 * into metrics in AWS. The sandbox has no CloudWatch Logs, so the dashboard
 * reads them from the functions' log file: one datapoint per metric value,
 * aggregated per period with the widget's statistic.
 */
import fs from 'node:fs';
import { DashboardError } from './body';
import type { Point } from './data';

export interface EmfPoint {
  readonly t: number;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly value: number;
}

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Datapoints of every EMF line in `text` (other lines are skipped; a malformed EMF directive is refused by line number). */
export function parseEmf(text: string): EmfPoint[] {
  const out: EmfPoint[] = [];
  text.split('\n').forEach((line, index) => {
    if (!line.includes('"_aws"')) return;
    let record: Json;
    try {
      record = JSON.parse(line);
    } catch {
      return; // a log line that merely mentions _aws
    }
    if (!isObject(record) || !isObject(record._aws)) return;
    const where = `EMF line ${index + 1}`;
    const { Timestamp, CloudWatchMetrics } = record._aws;
    if (typeof Timestamp !== 'number' || !Array.isArray(CloudWatchMetrics)) throw new DashboardError(`${where}: _aws needs a numeric Timestamp and a CloudWatchMetrics array`);
    for (const directive of CloudWatchMetrics) {
      if (!isObject(directive) || typeof directive.Namespace !== 'string' || !Array.isArray(directive.Metrics)) throw new DashboardError(`${where}: a directive needs Namespace and Metrics`);
      const dimensionSets = Array.isArray(directive.Dimensions) && directive.Dimensions.length > 0 ? directive.Dimensions : [[]];
      for (const set of dimensionSets) {
        if (!Array.isArray(set)) throw new DashboardError(`${where}: Dimensions must be arrays of names`);
        const dimensions: Record<string, string> = {};
        for (const name of set) {
          const value = typeof name === 'string' ? record[name] : undefined;
          if (typeof value !== 'string') throw new DashboardError(`${where}: dimension ${String(name)} has no string value in the record`);
          dimensions[name as string] = value;
        }
        for (const metric of directive.Metrics) {
          if (!isObject(metric) || typeof metric.Name !== 'string') throw new DashboardError(`${where}: a metric needs a Name`);
          const raw = record[metric.Name];
          const values = Array.isArray(raw) ? raw : [raw];
          for (const v of values) {
            if (typeof v !== 'number' || !Number.isFinite(v)) throw new DashboardError(`${where}: ${metric.Name} is not a number`);
            out.push({ t: Timestamp, namespace: directive.Namespace, metricName: metric.Name, dimensions, value: v });
          }
        }
      }
    }
  });
  return out;
}

export function readEmfFile(file: string): EmfPoint[] {
  return fs.existsSync(file) ? parseEmf(fs.readFileSync(file, 'utf8')) : [];
}

function aggregate(values: readonly number[], stat: string): number | undefined {
  if (values.length === 0) return undefined;
  switch (stat) {
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'Maximum':
      return Math.max(...values);
    case 'Minimum':
      return Math.min(...values);
    case 'SampleCount':
      return values.length;
    default:
      return undefined; // percentiles: not computed from log lines
  }
}

/** The EMF datapoints of one metric (same namespace, name and dimensions) in [start, end), one point per period. */
export function emfSeries(points: readonly EmfPoint[], m: { namespace: string; metricName: string; dimensions: Readonly<Record<string, string>>; stat: string }, start: number, end: number, periodSeconds: number): Point[] {
  const key = JSON.stringify(Object.entries(m.dimensions).sort());
  const buckets = new Map<number, number[]>();
  for (const p of points) {
    if (p.namespace !== m.namespace || p.metricName !== m.metricName || JSON.stringify(Object.entries(p.dimensions).sort()) !== key) continue;
    if (p.t < start || p.t >= end) continue;
    const bucket = start + Math.floor((p.t - start) / (periodSeconds * 1000)) * periodSeconds * 1000;
    buckets.set(bucket, [...(buckets.get(bucket) ?? []), p.value]);
  }
  const out: Point[] = [];
  for (const [t, values] of [...buckets].sort((a, b) => a[0] - b[0])) {
    const v = aggregate(values, m.stat);
    if (v !== undefined) out.push({ t, v });
  }
  return out;
}
