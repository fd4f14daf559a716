import { formatFlowSplit, splitFlow, unionLengthMs, type FlowCall, type RunningInterval } from '../../bench/flow-split';

const call = (operation: string, at: number, status = 200): FlowCall => ({ service: 'autoscaling', operation, status, at });
const run = (kind: string, start: number, end: number): RunningInterval => ({ kind, start, end });

describe('unionLengthMs', () => {
  it.each([
    ['nothing', [], 0],
    ['one', [[0, 10]], 10],
    ['disjoint', [[0, 10], [20, 25]], 15],
    ['overlapping', [[0, 10], [5, 15]], 15],
    ['nested', [[0, 30], [5, 10]], 30],
    ['touching', [[0, 10], [10, 20]], 20],
    ['unsorted', [[20, 30], [0, 10], [5, 12]], 22],
    ['empty and reversed add nothing', [[5, 5], [9, 3]], 0],
  ] as [string, [number, number][], number][])('%s', (_name, intervals, expected) => {
    expect(unionLengthMs(intervals)).toBe(expected);
  });
});

describe('splitFlow', () => {
  it('overhead is the wall time no interval of any kind covers, kinds overlapping each other counted once', () => {
    // Wall 0-10 s: boot 0-4 s, documents 3-5 s and 4-6 s (overlapping), health 8-9 s -> running 0-6 + 8-9 = 7 s.
    const split = splitFlow('scale-out', { start: 0, end: 10_000 }, [run('boot', 0, 4_000), run('documents', 3_000, 5_000), run('documents', 4_000, 6_000), run('health checks', 8_000, 9_000)], []);
    expect(split.wallSeconds).toBe(10);
    expect(split.runningSeconds).toBe(7);
    expect(split.overheadSeconds).toBe(3);
    expect(split.overheadPercent).toBeCloseTo(30, 10);
    expect(split.kinds).toEqual([
      { kind: 'boot', seconds: 4, sumSeconds: 4, count: 1 },
      { kind: 'documents', seconds: 3, sumSeconds: 4, count: 2 },
      { kind: 'health checks', seconds: 1, sumSeconds: 1, count: 1 },
    ]);
  });

  it('clips intervals to the window and leaves out those outside it', () => {
    const split = splitFlow('scale-in', { start: 10_000, end: 20_000 }, [run('drain', 5_000, 12_000), run('documents', 18_000, 25_000), run('documents', 30_000, 31_000), run('drain', 1_000, 2_000)], []);
    expect(split.kinds).toEqual([
      { kind: 'drain', seconds: 2, sumSeconds: 2, count: 1 },
      { kind: 'documents', seconds: 2, sumSeconds: 2, count: 1 },
    ]);
    expect(split.runningSeconds).toBe(4);
    expect(split.overheadSeconds).toBe(6);
  });

  it('lists every idle stretch with its neighbours, summing to the overhead', () => {
    // Wall 0-10 s: a 0-2, b 1-3 (overlap), gap 3-5, c 5-6, gap 6-10 (to the end); d outside the window.
    const intervals: RunningInterval[] = [{ ...run('documents', 0, 2_000), label: 'a' }, { ...run('documents', 1_000, 3_000), label: 'b' }, run('health', 5_000, 6_000), run('drain', 12_000, 13_000)];
    const split = splitFlow('flow', { start: 0, end: 10_000 }, intervals, []);
    expect(split.gaps).toEqual([
      { fromSeconds: 3, seconds: 2, after: 'b', before: 'health' },
      { fromSeconds: 6, seconds: 4, after: 'health' },
    ]);
    expect(split.gaps.reduce((sum, g) => sum + g.seconds, 0)).toBe(split.overheadSeconds);
    expect(splitFlow('late start', { start: 0, end: 4_000 }, [run('x', 1_000, 4_000)], []).gaps).toEqual([{ fromSeconds: 0, seconds: 1, before: 'x' }]);
    const lines = formatFlowSplit(split, { window: 'w', gapSeconds: 3 });
    expect(lines.filter((l) => l.includes('after'))).toEqual(['  at    6.0 s    4.0 s  after health -> before the end']);
  });

  it('an interval covering the whole window leaves no overhead', () => {
    const split = splitFlow('expansion', { start: 0, end: 5_000 }, [run('Gluster', -1_000, 9_000)], []);
    expect(split.overheadSeconds).toBe(0);
    expect(split.overheadPercent).toBe(0);
  });

  it('with nothing running the whole wall time is overhead; an empty window is 0 %', () => {
    expect(splitFlow('idle', { start: 0, end: 4_000 }, [], []).overheadPercent).toBe(100);
    expect(splitFlow('empty', { start: 7, end: 7 }, [], []).overheadPercent).toBe(0);
  });

  it('counts the API calls started within the window, per operation, and those not answered 200', () => {
    const calls = [call('DescribeAutoScalingInstances', -1), call('DescribeAutoScalingInstances', 0), call('CompleteLifecycleAction', 500), call('DescribeAutoScalingInstances', 900, 400), call('SendCommand', 1_001)];
    const split = splitFlow('scale-out', { start: 0, end: 1_000 }, [], calls);
    expect(split.apiCalls).toBe(3);
    expect(split.apiCallsNotOk).toBe(1);
    expect(split.apiCallsByOperation).toEqual({ 'autoscaling:CompleteLifecycleAction': 1, 'autoscaling:DescribeAutoScalingInstances': 2 });
    expect(split.apiCallsNotOkByAnswer).toEqual({ 'autoscaling:DescribeAutoScalingInstances 400': 1 });
    expect(formatFlowSplit(split, { window: 'w' }).find((l) => l.includes('not 200:'))).toMatch(/^ {2}not 200: autoscaling:DescribeAutoScalingInstances 400 +1$/);
  });

  it.each([
    ['a window that ends before it starts', { start: 10, end: 5 }, [], /scale-out: the window ends \(5\) before it starts \(10\)/],
    ['an interval that ends before it starts', { start: 0, end: 10 }, [run('documents', 8, 2)], /scale-out: a documents interval ends \(2\) before it starts \(8\)/],
    ['a time that is not a number', { start: 0, end: Number.NaN }, [], /scale-out: window end must be a finite time in ms, got NaN/],
  ] as [string, { start: number; end: number }, RunningInterval[], RegExp][])('refuses %s', (_name, window, intervals, message) => {
    expect(() => splitFlow('scale-out', window, intervals, [])).toThrow(message);
  });
});

describe('formatFlowSplit', () => {
  it('prints wall, running by kind, overhead with its definition and percentage, and the calls', () => {
    const split = splitFlow('scale-out 0 -> 1', { start: 0, end: 20_000 }, [run('documents', 0, 2_000), run('documents', 1_000, 3_000), run('health checks', 10_000, 15_000)], [call('CompleteLifecycleAction', 19_000)]);
    const lines = formatFlowSplit(split, { window: 'SetDesiredCapacity -> CompleteLifecycleAction', kinds: { 'health checks': '(RegisterTargets -> healthy)' } });
    expect(lines[0]).toBe('== scale-out 0 -> 1');
    expect(lines[1]).toBe('wall time            20.0 s (SetDesiredCapacity -> CompleteLifecycleAction)');
    expect(lines[2]).toMatch(/^running {14}8\.0 s/);
    expect(lines[3]).toMatch(/^ {2}documents +3\.0 s \(2 intervals, 4\.0 s summed\)$/);
    expect(lines[4]).toMatch(/^ {2}health checks +5\.0 s \(1 interval\) \(RegisterTargets -> healthy\)$/);
    expect(lines[5]).toMatch(/^overhead {13}12\.0 s = wall - running: 60\.0 % of the wall time/);
    expect(lines[6]).toMatch(/^AWS API calls {8}1 /);
    expect(lines[7]).toMatch(/^ {2}autoscaling:CompleteLifecycleAction +1$/);
  });
});
