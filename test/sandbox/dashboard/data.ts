/**
 * Datapoints for the dashboard's widgets, read from the emulator as the
 * console reads them: GetMetricStatistics per metric (the widget's stat and
 * period, or a period override), and for a SEARCH expression ListMetrics
 * with the expression's namespace, metric name and dimension filters, then
 * GetMetricStatistics per match.
 */
import { CloudWatchClient, GetMetricStatisticsCommand, ListMetricsCommand, type Statistic } from '@aws-sdk/client-cloudwatch';
import { DashboardError, type Dashboard, type MetricSeriesSpec, type SeriesSpec } from './body';
import { emfSeries, type EmfPoint } from './emf';

export interface Point {
  /** Epoch ms of the period's start. */
  readonly t: number;
  readonly v: number;
}

export interface SeriesData {
  readonly label: string;
  readonly yAxis: 'left' | 'right';
  readonly points: readonly Point[];
  /** Why the series has no points beyond "none were published" (e.g. an expression the emulator cannot run). */
  readonly note?: string;
  /** Set when the points come from the functions' EMF log lines rather than CloudWatch. */
  readonly source?: 'emf';
}

/** Data of one dashboard, widget by widget (same order as `dashboard.widgets`; text widgets get []). */
export type DashboardData = readonly (readonly SeriesData[])[];

export interface Window {
  readonly start: Date;
  readonly end: Date;
  /** Use this period for every metric instead of the widget's (a short sandbox run at the dashboard's 300 s is one point). */
  readonly periodOverride?: number;
  /** EMF datapoints of the functions' logs: used for a metric CloudWatch has no datapoints of (the sandbox has no CloudWatch Logs to extract them). */
  readonly emf?: readonly EmfPoint[];
}

const STATISTICS = new Set(['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum']);

/** `SEARCH('{Ns,DimA,DimB} MetricName="X" DimA="v"', 'Stat', period)` -> its parts. Other expressions: undefined. */
export function parseSearch(expression: string): { namespace: string; schema: readonly string[]; metricName?: string; filters: Readonly<Record<string, string>>; stat: string; period: number } | undefined {
  const m = /^\s*SEARCH\(\s*'(.*)'\s*,\s*'([A-Za-z0-9.]+)'\s*,\s*(\d+)\s*\)\s*$/s.exec(expression);
  if (m === null) return undefined;
  const [, query = '', stat = 'Average', period = '300'] = m;
  const schema = /^\s*\{([^}]*)\}/.exec(query);
  if (schema === null) return undefined;
  const [namespace = '', ...dims] = (schema[1] ?? '').split(',').map((s) => s.trim());
  const filters: Record<string, string> = {};
  let metricName: string | undefined;
  for (const f of query.slice(schema[0].length).matchAll(/([A-Za-z0-9_]+)="([^"]*)"/g)) {
    const [, key = '', value = ''] = f;
    if (key === 'MetricName') metricName = value;
    else filters[key] = value;
  }
  return { namespace, schema: dims, ...(metricName !== undefined ? { metricName } : {}), filters, stat, period: Number(period) };
}

async function statistics(cw: CloudWatchClient, m: Pick<MetricSeriesSpec, 'namespace' | 'metricName' | 'dimensions' | 'stat' | 'period'>, window: Window): Promise<Point[]> {
  const extended = !STATISTICS.has(m.stat);
  const period = window.periodOverride ?? m.period;
  const out = await cw.send(
    new GetMetricStatisticsCommand({
      Namespace: m.namespace,
      MetricName: m.metricName,
      Dimensions: Object.entries(m.dimensions).map(([Name, Value]) => ({ Name, Value })),
      StartTime: window.start,
      EndTime: window.end,
      Period: period,
      ...(extended ? { ExtendedStatistics: [m.stat] } : { Statistics: [m.stat as Statistic] }),
    }),
  );
  const points: Point[] = [];
  for (const d of out.Datapoints ?? []) {
    const v = extended ? d.ExtendedStatistics?.[m.stat] : (d as Record<string, unknown>)[m.stat];
    if (d.Timestamp !== undefined && typeof v === 'number') points.push({ t: d.Timestamp.getTime(), v });
  }
  return points.sort((a, b) => a.t - b.t);
}

async function seriesOf(cw: CloudWatchClient, spec: SeriesSpec, window: Window): Promise<SeriesData[]> {
  if (spec.kind === 'metric') {
    const points = await statistics(cw, spec, window);
    if (points.length === 0 && window.emf !== undefined) {
      const fromLogs = emfSeries(window.emf, spec, window.start.getTime(), window.end.getTime(), window.periodOverride ?? spec.period);
      if (fromLogs.length > 0) return [{ label: spec.label, yAxis: spec.yAxis, points: fromLogs, source: 'emf' }];
    }
    return [{ label: spec.label, yAxis: spec.yAxis, points }];
  }
  const search = parseSearch(spec.expression);
  if (search === undefined) return [{ label: spec.label, yAxis: spec.yAxis, points: [], note: 'expression not evaluated (only SEARCH is)' }];
  const listed = await cw.send(
    new ListMetricsCommand({
      Namespace: search.namespace,
      ...(search.metricName !== undefined ? { MetricName: search.metricName } : {}),
      Dimensions: Object.entries(search.filters).map(([Name, Value]) => ({ Name, Value })),
    }),
  );
  // One series per metric: moto's ListMetrics repeats a metric once per PutMetricData.
  const seen = new Set<string>();
  const matches = (listed.Metrics ?? []).filter((m) => {
    const names = (m.Dimensions ?? []).map((d) => d.Name ?? '').sort();
    if (names.join(',') !== [...search.schema].sort().join(',')) return false;
    const key = JSON.stringify([m.MetricName, [...(m.Dimensions ?? [])].map((d) => [d.Name, d.Value]).sort()]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (matches.length === 0) return [{ label: spec.label, yAxis: spec.yAxis, points: [] }];
  const out: SeriesData[] = [];
  for (const m of matches.slice(0, 20)) {
    const dimensions = Object.fromEntries((m.Dimensions ?? []).map((d) => [d.Name ?? '', d.Value ?? '']));
    const points = await statistics(cw, { namespace: search.namespace, metricName: m.MetricName ?? '', dimensions, stat: search.stat, period: search.period }, window);
    out.push({ label: matches.length === 1 ? spec.label : `${spec.label} ${Object.values(dimensions).join(' ')}`, yAxis: spec.yAxis, points });
  }
  return out;
}

/** Reads every metric widget's series from CloudWatch (the emulator) over `window`. */
export async function fetchDashboardData(cw: CloudWatchClient, dashboard: Dashboard, window: Window): Promise<DashboardData> {
  if (!(window.end.getTime() > window.start.getTime())) throw new DashboardError(`the time window must end after it starts (${window.start.toISOString()} .. ${window.end.toISOString()})`);
  if (window.periodOverride !== undefined && !(Number.isInteger(window.periodOverride) && window.periodOverride >= 1)) {
    throw new DashboardError(`periodOverride must be a positive integer of seconds, got ${window.periodOverride}`);
  }
  const data: SeriesData[][] = [];
  for (const widget of dashboard.widgets) {
    if (widget.type !== 'metric') {
      data.push([]);
      continue;
    }
    const series: SeriesData[] = [];
    for (const spec of widget.series) series.push(...(await seriesOf(cw, spec, window)));
    data.push(series);
  }
  return data;
}
