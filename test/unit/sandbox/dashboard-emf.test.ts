import { DashboardError } from '../../sandbox/dashboard/body';
import { emfSeries, parseEmf } from '../../sandbox/dashboard/emf';
import { niceCeil } from '../../sandbox/dashboard/svg';

const T0 = Date.parse('2026-11-21T10:00:00Z');
const line = (t: number, fields: Record<string, unknown>, metrics: string[]) =>
  JSON.stringify({ _aws: { Timestamp: t, CloudWatchMetrics: [{ Namespace: 'PydioAutoscaler', Dimensions: [['service']], Metrics: metrics.map((Name) => ({ Name })) }] }, service: 'pydio-autoscaler', ...fields });

describe('EMF log lines as datapoints', () => {
  const log = [
    '{"function":"alarm","stream":"stderr","message":"not EMF"}',
    line(T0 + 1_000, { ScaleOut: 1 }, ['ScaleOut']),
    'plain text mentioning "_aws" in passing',
    line(T0 + 4_000, { ScaleOut: 2, ScaleSuppressed: 1 }, ['ScaleOut', 'ScaleSuppressed']),
    line(T0 + 12_000, { ScaleOut: [1, 1] }, ['ScaleOut']),
  ].join('\n');

  it('reads every metric value with its dimensions and time', () => {
    const points = parseEmf(log);
    expect(points.map((p) => [p.metricName, p.value, p.t - T0, p.dimensions.service])).toEqual([
      ['ScaleOut', 1, 1000, 'pydio-autoscaler'],
      ['ScaleOut', 2, 4000, 'pydio-autoscaler'],
      ['ScaleSuppressed', 1, 4000, 'pydio-autoscaler'],
      ['ScaleOut', 1, 12000, 'pydio-autoscaler'],
      ['ScaleOut', 1, 12000, 'pydio-autoscaler'],
    ]);
  });

  it('aggregates per period with the statistic, only for the same metric and dimensions', () => {
    const points = parseEmf(log);
    const m = { namespace: 'PydioAutoscaler', metricName: 'ScaleOut', dimensions: { service: 'pydio-autoscaler' } };
    expect(emfSeries(points, { ...m, stat: 'Sum' }, T0, T0 + 20_000, 10)).toEqual([{ t: T0, v: 3 }, { t: T0 + 10_000, v: 2 }]);
    expect(emfSeries(points, { ...m, stat: 'Maximum' }, T0, T0 + 20_000, 10)).toEqual([{ t: T0, v: 2 }, { t: T0 + 10_000, v: 1 }]);
    expect(emfSeries(points, { ...m, stat: 'Sum', dimensions: { service: 'other' } }, T0, T0 + 20_000, 10)).toEqual([]);
    expect(emfSeries(points, { ...m, stat: 'Sum' }, T0 + 5_000, T0 + 11_000, 10)).toEqual([]);
  });

  it('refuses a malformed EMF directive naming the line', () => {
    expect(() => parseEmf(`x\n${JSON.stringify({ _aws: { Timestamp: 'soon', CloudWatchMetrics: [] } })}`)).toThrow(DashboardError);
    expect(() => parseEmf(`x\n${JSON.stringify({ _aws: { Timestamp: 1, CloudWatchMetrics: [] } })}`.replace('1,', '"1",'))).toThrow(/EMF line 2/);
    expect(() => parseEmf(line(T0, { ScaleOut: 'one' }, ['ScaleOut']))).toThrow(/ScaleOut is not a number/);
    expect(() => parseEmf(JSON.stringify({ _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [['service']], Metrics: [{ Name: 'M' }] }] }, M: 1 }))).toThrow(/dimension service has no string value/);
  });
});

describe('niceCeil', () => {
  it.each([[0.3, 0.4], [1, 1], [3, 4], [4.2, 6], [97, 100], [130, 200]])('%p -> %p', (v, nice) => {
    expect(niceCeil(v)).toBeCloseTo(nice);
  });
});
