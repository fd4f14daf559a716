import { createEmfMetrics } from '../../../lib/usecases/context';
import { EMF_MAX_DIMENSION_KEYS, EMF_MAX_METRICS, EMF_MAX_VALUES, extractEmf } from '../../sandbox/control-plane/emf-extraction';

/** What the product's EMF sink writes for these gauges (Powertools, as in the functions). */
function productLines(work: (sink: ReturnType<typeof createEmfMetrics>) => void): string[] {
  const out: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  try {
    const sink = createEmfMetrics();
    work(sink);
    sink.flush();
  } finally {
    spy.mockRestore();
  }
  return out.join('').split('\n').filter((l) => l.includes('"_aws"'));
}

const doc = (over: Record<string, unknown> = {}, aws: Record<string, unknown> = {}, directive: Record<string, unknown> = {}) =>
  JSON.stringify({
    _aws: { Timestamp: 1_764_000_000_000, CloudWatchMetrics: [{ Namespace: 'PydioAutoscaler', Dimensions: [['service']], Metrics: [{ Name: 'M', Unit: 'Count' }], ...directive }], ...aws },
    service: 'pydio-autoscaler',
    M: 1,
    ...over,
  });

describe('EMF extraction (what CloudWatch Logs does with the functions\' log lines)', () => {
  it("extracts the storage function's Gluster gauges as the alarms and widgets name them", () => {
    const lines = productLines((sink) => {
      sink.gauge('GlusterBricksOffline', 1, { Volume: 'pydio-data' });
      sink.gauge('GlusterBricksOffline', 1);
    });
    const data = lines.flatMap((l) => {
      const r = extractEmf(l);
      if (r.kind !== 'metrics') throw new Error(`not extracted: ${JSON.stringify(r)}`);
      return r.data.map((d) => `${d.namespace} ${d.datum.MetricName} ${JSON.stringify(d.datum.Dimensions)} ${d.datum.Value} ${d.datum.Unit}`);
    });
    expect(data).toEqual([
      'PydioAutoscaler GlusterBricksOffline [{"Name":"service","Value":"pydio-autoscaler"},{"Name":"Volume","Value":"pydio-data"}] 1 Count',
      'PydioAutoscaler GlusterBricksOffline [{"Name":"service","Value":"pydio-autoscaler"}] 1 Count',
    ]);
  });

  it('every DimensionSet makes its own metric; an array target gives Values; no Unit is None', () => {
    const r = extractEmf(doc({ M: [1, 2, 3], Volume: 'v' }, {}, { Dimensions: [['service'], ['service', 'Volume']], Metrics: [{ Name: 'M' }] }));
    expect(r.kind === 'metrics' && r.data.map((d) => [d.datum.Dimensions?.length, d.datum.Values, d.datum.Unit])).toEqual([[1, [1, 2, 3], 'None'], [2, [1, 2, 3], 'None']]);
  });

  it.each([
    ['an ordinary log line', '{"level":"INFO","message":"gluster health read"}'],
    ['a line that mentions _aws but is not JSON', 'not json "_aws"'],
  ])('%s is not an EMF document', (_name, line) => {
    expect(extractEmf(line)).toEqual({ kind: 'not-emf' });
  });

  it.each([
    ['no Timestamp', doc({}, { Timestamp: undefined }), /Timestamp must be an integer/],
    ['no Dimensions', doc({}, {}, { Dimensions: undefined }), /Dimensions must be a non-empty array/],
    ['empty Dimensions', doc({}, {}, { Dimensions: [] }), /Dimensions must be a non-empty array/],
    ['a dimension with no string target', doc({ service: 3 }), /dimension service has no string target member/],
    ['too many dimension keys', doc(Object.fromEntries(Array.from({ length: EMF_MAX_DIMENSION_KEYS + 1 }, (_, i) => [`d${i}`, 'x'])), {}, { Dimensions: [Array.from({ length: EMF_MAX_DIMENSION_KEYS + 1 }, (_, i) => `d${i}`)] }), /DimensionSet of 10 keys, at most 9/],
    ['too many metrics', doc({}, {}, { Metrics: Array.from({ length: EMF_MAX_METRICS + 1 }, () => ({ Name: 'M' })) }), /101 MetricDefinitions, at most 100/],
    ['too many values', doc({ M: Array.from({ length: EMF_MAX_VALUES + 1 }, () => 1) }), /101 values, at most 100/],
    ['a metric with no numeric target', doc({ M: 'one' }), /M has no numeric target member/],
    ['an invalid unit', doc({}, {}, { Metrics: [{ Name: 'M', Unit: 'Bricks' }] }), /invalid Unit "Bricks"/],
    ['a namespace too long', doc({}, {}, { Namespace: 'n'.repeat(256) }), /Namespace must be a string of 1-255/],
  ])('a document with %s is not extracted (it stays a log line)', (_name, line, reason) => {
    const r = extractEmf(line);
    expect(r.kind).toBe('refused');
    expect(r.kind === 'refused' && r.reason).toMatch(reason);
  });
});
