import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AGENT_STATE_UPPER } from '../../sandbox/control-plane/aws-documents';
import { AgentConfigError, parseDiskCollection } from '../../sandbox/control-plane/cloudwatch-agent-config';
import { cpuPercent, DF_COLUMNS, dfArgv, diskSamples, MetricsAgent, parseDfMounts, parseProcStat, targetGroupDimension, targetHealthSamples } from '../../sandbox/control-plane/metrics-agent';

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

const STORAGE_CONFIG = JSON.stringify({
  agent: { metrics_collection_interval: 60, omit_hostname: true },
  metrics: {
    append_dimensions: { AutoScalingGroupName: '${aws:AutoScalingGroupName}', InstanceId: '${aws:InstanceId}' },
    aggregation_dimensions: [['AutoScalingGroupName', 'path']],
    metrics_collected: { disk: { measurement: ['used_percent'], resources: ['*'], drop_device: true, ignore_file_system_types: ['tmpfs', 'overlay'] } },
  },
});

const DF = [
  'Mounted on  Filesystem  Type  1B-blocks  Used  Avail',
  '/  /dev/root  ext4  1000  600  400',
  '/bricks  /dev/loop7  xfs  1000000000  250000000  750000000',
  '/proc  proc  proc  0  0  0',
].join('\n');

describe('parseDfMounts: what telegraf\'s disk input sees', () => {
  it('each mount with used / (used + available)', () => {
    expect(parseDfMounts(DF)).toEqual([
      { path: '/', device: '/dev/root', fstype: 'ext4', totalBytes: 1000, percent: 60 },
      { path: '/bricks', device: '/dev/loop7', fstype: 'xfs', totalBytes: 1e9, percent: 25 },
      { path: '/proc', device: 'proc', fstype: 'proc', totalBytes: 0, percent: 0 },
    ]);
  });
  it('skips lines that are not six columns of numbers', () => {
    expect(parseDfMounts('df: /x: Permission denied\nMounted on Filesystem Type 1B-blocks Used Avail\n/a b c d e f\n')).toEqual([]);
  });
});

describe('diskSamples: what the agent publishes, from its configuration', () => {
  const facts = { instanceId: 'i-0abc', groupName: 'pydio-storage', hostname: 'i-0abc' };

  it('the stack\'s configuration: per instance (group, instance, fstype, path) and rolled up to (group, path), every mount of size above 0', () => {
    const c = parseDiskCollection(STORAGE_CONFIG)!;
    const samples = diskSamples(c, parseDfMounts(DF), facts, 1000);
    expect(samples.map((s) => [s.namespace, s.metricName, s.dimensions, s.value, s.unit, s.storageResolution])).toEqual([
      ['CWAgent', 'disk_used_percent', { path: '/', fstype: 'ext4', AutoScalingGroupName: 'pydio-storage', InstanceId: 'i-0abc' }, 60, 'Percent', undefined],
      ['CWAgent', 'disk_used_percent', { AutoScalingGroupName: 'pydio-storage', path: '/' }, 60, 'Percent', undefined],
      ['CWAgent', 'disk_used_percent', { path: '/bricks', fstype: 'xfs', AutoScalingGroupName: 'pydio-storage', InstanceId: 'i-0abc' }, 25, 'Percent', undefined],
      ['CWAgent', 'disk_used_percent', { AutoScalingGroupName: 'pydio-storage', path: '/bricks' }, 25, 'Percent', undefined],
    ]);
  });

  it('without drop_device, omit_hostname and appended dimensions: device (without /dev/), fstype, host, path; nothing to roll up to', () => {
    const c = parseDiskCollection(JSON.stringify({ metrics: { aggregation_dimensions: [['AutoScalingGroupName', 'path']], metrics_collected: { disk: { measurement: ['used_percent'], resources: ['/bricks'] } } } }))!;
    expect(diskSamples(c, parseDfMounts(DF), facts, 1000).map((s) => s.dimensions)).toEqual([{ path: '/bricks', fstype: 'xfs', device: 'loop7', host: 'i-0abc' }]);
  });

  it('namespace, rename, unit and a high-resolution interval come from the configuration', () => {
    const c = parseDiskCollection(JSON.stringify({
      agent: { metrics_collection_interval: 30, omit_hostname: true },
      metrics: { namespace: 'Pydio/Bricks', metrics_collected: { disk: { measurement: [{ name: 'disk_used_percent', rename: 'brick_full', unit: 'Percent' }], resources: ['/bricks'], metrics_collection_interval: 10 } } },
    }))!;
    expect(c).toMatchObject({ namespace: 'Pydio/Bricks', intervalSeconds: 10, highResolution: true });
    expect(diskSamples(c, parseDfMounts(DF), facts, 1000)).toEqual([
      { at: 1000, instanceId: 'i-0abc', namespace: 'Pydio/Bricks', metricName: 'brick_full', dimensions: { path: '/bricks', fstype: 'xfs', device: 'loop7' }, value: 25, unit: 'Percent', storageResolution: 1 },
    ]);
  });

  it('a listed path that is not a mount point is not reported (df names the mount it lives on)', () => {
    const c = parseDiskCollection(JSON.stringify({ metrics: { metrics_collected: { disk: { measurement: ['used_percent'], resources: ['/bricks'] } } } }))!;
    expect(diskSamples(c, parseDfMounts('h\n/  /dev/root  ext4  1000  600  400'), facts, 1000)).toEqual([]);
  });

  it('append_dimensions keeps only the EC2 placeholders the agent knows; ignored file system types are left out of df', () => {
    const c = parseDiskCollection(JSON.stringify({ metrics: { append_dimensions: { InstanceId: '${aws:InstanceId}', Team: 'storage', Zone: '${aws:AvailabilityZone}' }, metrics_collected: { disk: { measurement: ['used_percent'], ignore_file_system_types: ['tmpfs'] } } } }))!;
    expect(c.appendDimensions).toEqual({ InstanceId: 'InstanceId' });
    expect(dfArgv(c)).toEqual(['sh', '-c', 'df "$@" 2>/dev/null; exit 0', 'df', '-B1', `--output=${DF_COLUMNS}`, '--exclude-type=tmpfs']);
  });

  it('no disk section: no disk metrics; a measurement the agent does not have is refused', () => {
    expect(parseDiskCollection(JSON.stringify({ metrics: { metrics_collected: { mem: { measurement: ['used_percent'] } } } }))).toBeUndefined();
    expect(() => parseDiskCollection(JSON.stringify({ metrics: { metrics_collected: { disk: { measurement: ['fullness'] } } } }))).toThrow(AgentConfigError);
  });
});

describe('MetricsAgent: disk metrics only from a host whose CloudWatch agent was configured', () => {
  const PARAMETER = 'AmazonCloudWatch-pydio-autoscaler-test-storage';
  let stateDir: string;
  const host = (id: string) => path.join(stateDir, 'hosts', id);
  beforeEach(() => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pas-agent-'));
    fs.mkdirSync(host('i-0abc'), { recursive: true });
    fs.writeFileSync(path.join(host('i-0abc'), 'role'), 'storage\n');
    fs.writeFileSync(path.join(host('i-0abc'), 'netns'), 'pas-none\n');
    fs.writeFileSync(path.join(host('i-0abc'), 'ready'), '');
  });
  afterEach(() => fs.rmSync(stateDir, { recursive: true, force: true }));

  const agent = (read: string[]) =>
    new MetricsAgent({
      clientConfig: { endpoint: 'http://127.0.0.1:9', region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 },
      stateDir,
      groups: { compute: 'pydio-compute', storage: 'pydio-storage' },
      exec: async () => DF,
      netnsRoot: path.join(stateDir, 'no-netns'),
      readParameter: async (name) => {
        read.push(name);
        return STORAGE_CONFIG;
      },
    });

  it('a storage host without a configured agent publishes no disk metric (a real host without the agent publishes none)', async () => {
    const read: string[] = [];
    const samples = await agent(read).sampleNow();
    expect(samples.filter((s) => s.namespace === 'CWAgent')).toEqual([]);
    expect(read).toEqual([]);
  });

  it('once configured, it publishes what the configuration it fetched says, read from that parameter', async () => {
    fs.mkdirSync(path.join(host('i-0abc'), 'etc-upper', 'pas-amazon-cloudwatch-agent'), { recursive: true });
    fs.writeFileSync(path.join(host('i-0abc'), AGENT_STATE_UPPER), JSON.stringify({ status: 'running', configstatus: 'configured', config: `ssm:${PARAMETER}`, mode: 'ec2' }));
    const read: string[] = [];
    const samples = (await agent(read).sampleNow()).filter((s) => s.namespace === 'CWAgent');
    expect(read).toEqual([PARAMETER]);
    expect(samples.map((s) => s.dimensions)).toContainEqual({ AutoScalingGroupName: 'pydio-storage', path: '/bricks' });
    expect(samples.map((s) => s.dimensions)).toContainEqual({ AutoScalingGroupName: 'pydio-storage', InstanceId: 'i-0abc', fstype: 'xfs', path: '/bricks' });
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
