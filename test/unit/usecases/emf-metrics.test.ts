import { createEmfMetrics } from '../../../lib/usecases/context';

/** The EMF documents Powertools writes on stdout, parsed. */
function captureEmf(work: () => void): Array<Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> } }> {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    work();
  } finally {
    spy.mockRestore();
  }
  return lines.join('').split('\n').filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l));
}

describe('createEmfMetrics (Powertools EMF)', () => {
  it('writes each group of gauges as its own EMF document: the Volume dimension on the per-volume ones, only service on the pool-wide ones', () => {
    const docs = captureEmf(() => {
      const sink = createEmfMetrics();
      sink.gauge('GlusterBricksOffline', 1, { Volume: 'pydio-data' });
      sink.gauge('GlusterSplitBrainEntries', 0, { Volume: 'pydio-data' });
      sink.gauge('GlusterBricksOffline', 0, { Volume: 'pydio-config' });
      sink.gauge('GlusterBricksOffline', 1);
      sink.gauge('GlusterPeersDisconnected', 0);
      sink.flush();
    });
    const byDims = docs.map((d) => ({
      dimensions: d._aws.CloudWatchMetrics[0]!.Dimensions,
      namespace: d._aws.CloudWatchMetrics[0]!.Namespace,
      metrics: d._aws.CloudWatchMetrics[0]!.Metrics.map((m) => `${m.Name}=${String(d[m.Name])} ${m.Unit}`),
      volume: d.Volume,
    }));
    expect(byDims).toEqual([
      { dimensions: [['service', 'Volume']], namespace: 'PydioAutoscaler', metrics: ['GlusterBricksOffline=1 Count', 'GlusterSplitBrainEntries=0 Count'], volume: 'pydio-data' },
      { dimensions: [['service', 'Volume']], namespace: 'PydioAutoscaler', metrics: ['GlusterBricksOffline=0 Count'], volume: 'pydio-config' },
      { dimensions: [['service']], namespace: 'PydioAutoscaler', metrics: ['GlusterBricksOffline=1 Count', 'GlusterPeersDisconnected=0 Count'], volume: undefined },
    ]);
  });

  it('writes nothing when nothing was counted, and forgets what it flushed', () => {
    const sink = createEmfMetrics();
    expect(captureEmf(() => sink.flush())).toEqual([]);
    sink.gauge('GlusterBricksOffline', 2);
    expect(captureEmf(() => sink.flush())).toHaveLength(1);
    expect(captureEmf(() => sink.flush())).toEqual([]);
  });
});
