import { cpuPercent, parseDf, parseProcStat, targetGroupDimension, targetHealthSamples } from '../../sandbox/control-plane/metrics-agent';

describe('parseProcStat', () => {
  it('reads utime+stime, cutime+cstime and the start time, also with spaces and parentheses in comm', () => {
    const line = '4242 (php (worker) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 150 30 20 5 20 0 1 0 987654 1000 10 18446744073709551615';
    expect(parseProcStat(line)).toEqual({ own: 180, children: 25, start: '987654' });
  });
  it('refuses what it cannot read', () => {
    expect(parseProcStat('garbage')).toBeUndefined();
    expect(parseProcStat('1 (x) S 1 2')).toBeUndefined();
  });
});

describe('cpuPercent: CPU seconds of the host over wall time, per vCPU, capped at 100', () => {
  const m = (entries: Array<[string, number, number]>) => new Map(entries.map(([k, own, total]) => [k, { own, total }]));
  const cases: Array<[string, ReturnType<typeof m>, ReturnType<typeof m>, number, number, number]> = [
    ['one busy process for half of 10 s', m([['1:1', 100, 100]]), m([['1:1', 600, 600]]), 10, 1, 50],
    ['two vCPUs halve it', m([['1:1', 100, 100]]), m([['1:1', 600, 600]]), 10, 2, 25],
    ['a new process counts whole', m([['1:1', 0, 0]]), m([['1:1', 0, 0], ['2:5', 200, 200]]), 10, 1, 20],
    ['a reaped child is not counted twice', m([['1:1', 10, 10], ['2:5', 300, 300]]), m([['1:1', 10, 410]]), 10, 1, 10],
    ['capped at 100', m([['1:1', 0, 0]]), m([['1:1', 5000, 5000]]), 10, 1, 100],
    ['a reused pid with another start time is another process', m([['7:1', 900, 900]]), m([['7:2', 100, 100]]), 10, 1, 10],
    ['no wall time -> 0', m([]), m([['1:1', 5, 5]]), 0, 1, 0],
  ];
  it.each(cases)('%s', (_name, before, after, wall, vcpus, expected) => {
    expect(cpuPercent(before, after, wall, 100, vcpus)).toBeCloseTo(expected, 5);
  });
});

describe('parseDf: disk_used_percent of the brick mount', () => {
  it('used / (used + available) when the path is the mount point', () => {
    expect(parseDf('Mounted on      Used     Avail\n/bricks     250000000 750000000\n', '/bricks')).toEqual({ percent: 25 });
  });
  it('skips a path that is not a mount point, naming where its filesystem is', () => {
    expect(parseDf('Mounted on Used Avail\n/ 10 90\n', '/bricks')).toEqual({ skip: '/bricks is not a mount point (its filesystem is mounted at /)' });
  });
  it('skips unreadable output', () => {
    expect('skip' in parseDf('df: /bricks: No such file or directory', '/bricks')).toBe(true);
  });
});

describe('target group health as ELB metrics', () => {
  it('names the TargetGroup dimension as ELB does, and refuses anything but a target group ARN', () => {
    expect(targetGroupDimension('arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pas-tg/50dc6c495c0c9188')).toBe('targetgroup/pas-tg/50dc6c495c0c9188');
    expect(() => targetGroupDimension('arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/x/1')).toThrow(/not a target group ARN/);
  });
  it('counts healthy and unhealthy targets; draining, initial and unused count in neither', () => {
    const dims = { LoadBalancer: 'app/pas-haproxy/0', TargetGroup: 'targetgroup/pas-tg/1' };
    const samples = targetHealthSamples(['healthy', 'healthy', 'unhealthy', 'draining', 'initial', 'unused'], dims, 1000, 'tg');
    expect(samples.map((s) => [s.metricName, s.value, s.unit])).toEqual([
      ['HealthyHostCount', 2, 'Count'],
      ['UnHealthyHostCount', 1, 'Count'],
    ]);
    expect(samples.every((s) => s.namespace === 'AWS/ApplicationELB' && s.dimensions === dims)).toBe(true);
  });
});
