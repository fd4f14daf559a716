import { busyMs, FiguresError, parseSizes, percentile, perFlow, splitFlow, summarize } from '../../bench/control-plane-figures';

describe('percentile (nearest rank)', () => {
  test.each([
    [[5], 50, 5],
    [[5], 95, 5],
    [[1, 2, 3, 4], 50, 2],
    [[4, 1, 3, 2], 95, 4],
    [[10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 95, 100],
    [[10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 90, 90],
    [[3, 1, 2], 0, 1],
  ])('%j p%d is %d', (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });

  it('is undefined for no values and refuses a p outside 0..100', () => {
    expect(percentile([], 50)).toBeUndefined();
    expect(() => percentile([1], 101)).toThrow(FiguresError);
    expect(() => percentile([1], Number.NaN)).toThrow('percentile must be between 0 and 100');
  });
});

describe('busyMs: the union of intervals inside a window', () => {
  const window = { start: 0, end: 100 };
  test.each([
    ['nothing', [], 0],
    ['one interval', [{ start: 10, end: 20 }], 10],
    ['overlaps count once', [{ start: 10, end: 30 }, { start: 20, end: 40 }], 30],
    ['nested', [{ start: 10, end: 50 }, { start: 20, end: 30 }], 40],
    ['disjoint, unsorted', [{ start: 60, end: 70 }, { start: 10, end: 20 }], 20],
    ['touching intervals join', [{ start: 10, end: 20 }, { start: 20, end: 30 }], 20],
    ['clipped to the window', [{ start: -50, end: 10 }, { start: 90, end: 500 }], 20],
    ['outside the window', [{ start: 200, end: 300 }], 0],
  ])('%s', (_name, intervals, expected) => {
    expect(busyMs(intervals, window)).toBe(expected);
  });

  it('refuses intervals that end before they start', () => {
    expect(() => busyMs([{ start: 5, end: 1 }], window)).toThrow('interval ends (1) before it starts (5)');
    expect(() => busyMs([], { start: 5, end: 1 })).toThrow(FiguresError);
  });
});

describe('splitFlow and summarize', () => {
  it('splits a completion into busy time and overhead', () => {
    expect(splitFlow({ start: 1000, end: 11_000 }, [{ start: 1000, end: 4000 }, { start: 3000, end: 8000 }])).toEqual({ completionMs: 10_000, busyMs: 7000, overheadMs: 3000 });
  });

  it('sums busy time and overhead over the flows and gives the overhead share of the summed completions', () => {
    const s = summarize([
      { completionMs: 10_000, busyMs: 9000, overheadMs: 1000 },
      { completionMs: 30_000, busyMs: 21_000, overheadMs: 9000 },
    ]);
    expect(s).toEqual({ flows: 2, p50Ms: 10_000, p95Ms: 30_000, maxMs: 30_000, busyMs: 30_000, overheadMs: 10_000, overheadShare: 0.25 });
  });

  it('is all zeros for no flows', () => {
    expect(summarize([])).toEqual({ flows: 0, p50Ms: 0, p95Ms: 0, maxMs: 0, busyMs: 0, overheadMs: 0, overheadShare: 0 });
  });
});

describe('perFlow', () => {
  it('divides each count by the flows, largest first, then by name', () => {
    expect(perFlow({ 'ssm:SendCommand': 20, 'autoscaling:CompleteLifecycleAction': 10, 'sqs:SendMessage': 20 }, 10)).toEqual([
      ['sqs:SendMessage', 2],
      ['ssm:SendCommand', 2],
      ['autoscaling:CompleteLifecycleAction', 1],
    ]);
  });

  it('refuses a flow count that is not a positive integer', () => {
    expect(() => perFlow({}, 0)).toThrow('flows must be a positive integer, got 0');
  });
});

describe('parseSizes', () => {
  it('reads distinct sizes in the order given', () => {
    expect(parseSizes('1,10,50', 50)).toEqual([1, 10, 50]);
    expect(parseSizes(' 10 , 1,10', 50)).toEqual([10, 1]);
  });

  test.each(['', '0', '51', '1,x', '2.5', '-1'])('refuses %j', (text) => {
    expect(() => parseSizes(text, 50)).toThrow(FiguresError);
  });
});
