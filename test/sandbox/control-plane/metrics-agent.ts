/**
 * What EC2 and the CloudWatch agent would publish, measured for real on the
 * sandbox hosts and put into the emulator with PutMetricData:
 *
 * - `AWS/EC2 CPUUtilization`, dimension AutoScalingGroupName=<the host's
 *   group>: CPU seconds used by the host's own processes (every process whose
 *   network namespace is the host's: Apache and its PHP workers, glusterfs,
 *   document steps) over the wall time since the previous sample, per vCPU of
 *   the host (default 1), capped at 100. One datapoint per instance per
 *   sample, so the group's Average is the group average, as EC2 aggregates it.
 * - What the CloudWatch agent publishes for disks, on every host whose agent
 *   was configured (the AWS documents of aws-documents.ts left its state in
 *   the host's /etc): the agent's configuration is read back from the SSM
 *   parameter the host's agent fetched, and namespace, metric names,
 *   mounts, dimensions (own and aggregated) and resolution all come from it
 *   (cloudwatch-agent-config.ts). Values are `df` inside the host's mount
 *   namespace, used / (used + available) as telegraf computes it. The timer
 *   keeps the sandbox's compressed clock (intervalMs), as alarm periods do;
 *   the configured interval decides the storage resolution.
 * - `AWS/ApplicationELB HealthyHostCount` and `UnHealthyHostCount`, dimensions
 *   LoadBalancer, TargetGroup (`targetgroup/<name>/<id>`, as ELB names it):
 *   the target group's health as the front's health checks see it (when a
 *   target group is given). Draining and unused targets count in neither.
 *
 * Bounded (every command has a timeout, one sample at a time), errors are
 * logged and never thrown from the timer, hosts that are gone are skipped.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CloudWatchClient, PutMetricDataCommand, type MetricDatum, type StandardUnit } from '@aws-sdk/client-cloudwatch';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AGENT_STATE_UPPER, parseAgentState } from './aws-documents';
import { diskDimensionSets, isReported, parseDiskCollection, type DiskCollection, type Mount } from './cloudwatch-agent-config';

export interface MetricSample {
  readonly at: number;
  readonly instanceId: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly value: number;
  readonly unit: string;
  /** 1 for a high-resolution metric (the agent's interval below 60 s). */
  readonly storageResolution?: number;
}

export interface MetricsAgentOptions {
  /** The emulator (moto or the control-plane front). */
  readonly clientConfig: object;
  /** The hosts' state dir: `<stateDir>/hosts/<instance id>/{role,netns,ready}` (test/sandbox/bin/host-create.sh). */
  readonly stateDir: string;
  /** Group name per host role. */
  readonly groups: { readonly compute: string; readonly storage: string };
  /** Runs argv inside a host (NamespaceHosts.exec); used for `df` in the storage hosts. */
  readonly exec: (instanceId: string, argv: readonly string[], timeoutSeconds: number) => Promise<string>;
  /** Sampling interval of the timer (default 5000 ms). */
  readonly intervalMs?: number;
  /** vCPUs per host (default 1). */
  readonly vcpus?: number;
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
  readonly now?: () => number;
  /** Where /proc is (tests). */
  readonly procRoot?: string;
  /** Where named network namespaces are (default /run/netns). */
  readonly netnsRoot?: string;
  /** Reads an SSM parameter's value (default: GetParameter on the emulator), where a host's agent fetched its configuration. */
  readonly readParameter?: (name: string) => Promise<string>;
  /** The target group whose health is published as ELB metrics; `clientConfig` must reach the emulator that runs the health checks (the front). */
  readonly targetGroup?: { readonly arn: string; readonly loadBalancer: string; readonly clientConfig: object };
}

/** ELB's TargetGroup dimension of a target group ARN: `targetgroup/<name>/<id>`. */
export function targetGroupDimension(arn: string): string {
  const m = /^arn:aws[a-z-]*:elasticloadbalancing:[^:]*:\d*:(targetgroup\/[^/]+\/[^/]+)$/.exec(arn);
  if (m?.[1] === undefined) throw new MetricsAgentError(`not a target group ARN: '${arn}'`);
  return m[1];
}

/** HealthyHostCount and UnHealthyHostCount from target health states, as ELB counts them. */
export function targetHealthSamples(states: readonly string[], dimensions: Readonly<Record<string, string>>, at: number, id: string): MetricSample[] {
  const healthy = states.filter((st) => st === 'healthy').length;
  const unhealthy = states.filter((st) => st === 'unhealthy').length;
  return [
    { at, instanceId: id, namespace: 'AWS/ApplicationELB', metricName: 'HealthyHostCount', dimensions, value: healthy, unit: 'Count' },
    { at, instanceId: id, namespace: 'AWS/ApplicationELB', metricName: 'UnHealthyHostCount', dimensions, value: unhealthy, unit: 'Count' },
  ];
}

export class MetricsAgentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MetricsAgentError';
  }
}

interface HostInfo {
  readonly instanceId: string;
  readonly role: 'compute' | 'storage';
  readonly netns: string;
}

const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

function clockTicks(): number {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 });
  const n = Number(r.stdout?.trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
}

/** `/proc/<pid>/stat` -> own CPU ticks (utime+stime), reaped children's (cutime+cstime), and the start time. */
export function parseProcStat(text: string): { own: number; children: number; start: string } | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const f = text.slice(close + 2).trim().split(/\s+/);
  // After "pid (comm) ": state=0 ... utime=11 stime=12 cutime=13 cstime=14 ... starttime=19
  const [utime, stime, cutime, cstime] = [f[11], f[12], f[13], f[14]].map(Number);
  const start = f[19];
  if ([utime, stime, cutime, cstime].some((v) => v === undefined || !Number.isFinite(v)) || start === undefined) return undefined;
  return { own: utime! + stime!, children: cutime! + cstime!, start };
}

/**
 * CPU percent of a host between two readings of its processes' ticks.
 * `before`/`after`: key -> own and own+children ticks. A process gone since
 * `before` and reaped by a parent of the same host shows up whole in that
 * parent's children ticks: what was already counted of it is taken off (at
 * most what the children ticks grew).
 */
export function cpuPercent(
  before: ReadonlyMap<string, { own: number; total: number }>,
  after: ReadonlyMap<string, { own: number; total: number }>,
  wallSeconds: number,
  ticksPerSecond: number,
  vcpus: number,
): number {
  if (!(wallSeconds > 0)) return 0;
  let used = 0;
  let childrenGrew = 0;
  for (const [key, now] of after) {
    const was = before.get(key);
    used += now.total - (was?.total ?? 0);
    if (was !== undefined) childrenGrew += now.total - now.own - (was.total - was.own);
  }
  let goneOwn = 0;
  for (const [key, gone] of before) if (!after.has(key)) goneOwn += gone.own;
  used -= Math.min(goneOwn, Math.max(0, childrenGrew));
  const percent = (Math.max(0, used) / ticksPerSecond / wallSeconds / vcpus) * 100;
  return Math.min(100, Math.round(percent * 100) / 100);
}

/** The df columns the agent's view of mounts is read from. */
export const DF_COLUMNS = 'target,source,fstype,size,used,avail';

/** `df -B1 --output=target,source,fstype,size,used,avail` -> each mount with its used percent (used / (used + avail), as telegraf). */
export function parseDfMounts(output: string): Array<Mount & { percent: number }> {
  const out: Array<Mount & { percent: number }> = [];
  for (const line of output.trim().split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 6) continue;
    const [target, source, fstype, size, used, avail] = f as [string, string, string, string, string, string];
    const [total, u, a] = [Number(size), Number(used), Number(avail)];
    if (![total, u, a].every(Number.isFinite)) continue;
    out.push({ path: target, device: source, fstype, totalBytes: total, percent: u + a > 0 ? Math.round((u / (u + a)) * 10000) / 100 : 0 });
  }
  return out;
}

/** The df argv for what a disk collection reports: ignored types excluded, the listed mount points only. */
export function dfArgv(c: DiskCollection): string[] {
  const args = ['-B1', `--output=${DF_COLUMNS}`, ...c.ignoreFileSystemTypes.map((t) => `--exclude-type=${t}`), ...(c.mountPoints !== undefined ? ['--', ...c.mountPoints] : [])];
  // df exits 1 when one mount cannot be read (or a listed path is missing) but still prints the others.
  return ['sh', '-c', 'df "$@" 2>/dev/null; exit 0', 'df', ...args];
}

/** The samples the agent publishes for one host's mounts, from its configuration. */
export function diskSamples(c: DiskCollection, mounts: ReadonlyArray<Mount & { percent: number }>, facts: { instanceId: string; groupName: string; hostname: string }, at: number): MetricSample[] {
  const out: MetricSample[] = [];
  for (const mount of mounts) {
    // df names the mount point a path resolves to: only mount points the configuration lists count.
    if (!isReported(c, mount)) continue;
    for (const metric of c.metrics) {
      if (metric.field !== 'used_percent') continue; // the sandbox measures used_percent only
      for (const dimensions of diskDimensionSets(c, mount, { hostname: facts.hostname, InstanceId: facts.instanceId, AutoScalingGroupName: facts.groupName })) {
        out.push({ at, instanceId: facts.instanceId, namespace: c.namespace, metricName: metric.name, dimensions, value: mount.percent, unit: metric.unit, ...(c.highResolution ? { storageResolution: 1 } : {}) });
      }
    }
  }
  return out;
}

export class MetricsAgent {
  private readonly cw: CloudWatchClient;
  private readonly now: () => number;
  private readonly log: (message: string, fields?: Record<string, unknown>) => void;
  private readonly ticksPerSecond = clockTicks();
  private readonly baselines = new Map<string, { at: number; ticks: Map<string, { own: number; total: number }> }>();
  private readonly skipped = new Set<string>();
  private readonly procRoot: string;
  private readonly netnsRoot: string;
  private readonly vcpus: number;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<readonly MetricSample[]> | undefined;
  private stopped = false;
  private readonly published: MetricSample[] = [];

  constructor(private readonly options: MetricsAgentOptions) {
    this.intervalMs = options.intervalMs ?? 5000;
    if (!(this.intervalMs >= 500 && this.intervalMs <= 600_000)) throw new MetricsAgentError(`agent interval must be 500-600000 ms, got ${this.intervalMs}`);
    this.vcpus = options.vcpus ?? 1;
    if (!Number.isInteger(this.vcpus) || this.vcpus < 1 || this.vcpus > 64) throw new MetricsAgentError(`vcpus must be a whole number 1-64, got ${this.vcpus}`);
    this.cw = new CloudWatchClient(options.clientConfig);
    this.now = options.now ?? (() => Date.now());
    this.log = options.log ?? (() => undefined);
    this.procRoot = options.procRoot ?? '/proc';
    this.netnsRoot = options.netnsRoot ?? '/run/netns';
  }

  /** Every sample published so far (bounded to the last 10 000). */
  samples(): readonly MetricSample[] {
    return [...this.published];
  }

  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    const tick = (): void => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        void this.sampleNow()
          .catch((error: unknown) => this.log('metrics agent sample failed', { error: error instanceof Error ? error.message : String(error) }))
          .finally(tick);
      }, this.intervalMs);
      this.timer.unref();
    };
    // A first baseline right away: the first CPU value needs a previous reading.
    void this.sampleNow().catch((error: unknown) => this.log('metrics agent sample failed', { error: error instanceof Error ? error.message : String(error) }));
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** Samples every running host now and publishes the datapoints (one sample at a time). */
  sampleNow(): Promise<readonly MetricSample[]> {
    const previous = this.running ?? Promise.resolve([]);
    const run = previous.catch(() => []).then(() => this.sampleAll());
    this.running = run;
    return run;
  }

  private hosts(): HostInfo[] {
    const dir = path.join(this.options.stateDir, 'hosts');
    if (!fs.existsSync(dir)) return [];
    const hosts: HostInfo[] = [];
    for (const id of fs.readdirSync(dir).sort()) {
      if (!INSTANCE_ID.test(id)) continue;
      const read = (f: string): string => {
        try {
          return fs.readFileSync(path.join(dir, id, f), 'utf8').trim();
        } catch {
          return '';
        }
      };
      const role = read('role');
      const netns = read('netns');
      if (!fs.existsSync(path.join(dir, id, 'ready')) || netns === '' || (role !== 'compute' && role !== 'storage')) continue;
      hosts.push({ instanceId: id, role, netns });
    }
    return hosts;
  }

  /** Own and total (own + reaped children) ticks per process, grouped by network namespace inode. */
  private readProcesses(): Map<string, Map<string, { own: number; total: number }>> {
    const byNs = new Map<string, Map<string, { own: number; total: number }>>();
    let entries: string[] = [];
    try {
      entries = fs.readdirSync(this.procRoot);
    } catch (error) {
      this.log('metrics agent cannot read /proc', { error: error instanceof Error ? error.message : String(error) });
      return byNs;
    }
    for (const pid of entries) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const ns = fs.readlinkSync(path.join(this.procRoot, pid, 'ns', 'net'));
        const stat = parseProcStat(fs.readFileSync(path.join(this.procRoot, pid, 'stat'), 'utf8'));
        if (stat === undefined) continue;
        let m = byNs.get(ns);
        if (m === undefined) byNs.set(ns, (m = new Map()));
        m.set(`${pid}:${stat.start}`, { own: stat.own, total: stat.own + stat.children });
      } catch {
        // the process ended while we read it
      }
    }
    return byNs;
  }

  private async sampleAll(): Promise<readonly MetricSample[]> {
    const hosts = this.hosts();
    const samples: MetricSample[] = [];
    const processes = this.readProcesses();
    const at = this.now();
    const live = new Set(hosts.map((h) => h.instanceId));
    for (const id of [...this.baselines.keys()]) if (!live.has(id)) this.baselines.delete(id);

    for (const host of hosts) {
      const group = this.options.groups[host.role];
      let inode: string;
      try {
        inode = `net:[${fs.statSync(path.join(this.netnsRoot, host.netns)).ino}]`;
      } catch {
        continue; // the host is going away
      }
      const ticks = processes.get(inode) ?? new Map<string, { own: number; total: number }>();
      const before = this.baselines.get(host.instanceId);
      this.baselines.set(host.instanceId, { at, ticks });
      if (before === undefined || ticks.size === 0) continue;
      const value = cpuPercent(before.ticks, ticks, (at - before.at) / 1000, this.ticksPerSecond, this.vcpus);
      samples.push({ at, instanceId: host.instanceId, namespace: 'AWS/EC2', metricName: 'CPUUtilization', dimensions: { AutoScalingGroupName: group }, value, unit: 'Percent' });
    }

    for (const host of hosts) {
      if (this.stopped) break;
      samples.push(...(await this.agentSamples(host)));
    }

    const tg = this.options.targetGroup;
    if (tg !== undefined && !this.stopped) {
      try {
        const out = await this.elb(tg.clientConfig).send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.arn }));
        const states = (out.TargetHealthDescriptions ?? []).map((d) => d.TargetHealth?.State ?? 'unknown');
        const name = targetGroupDimension(tg.arn);
        samples.push(...targetHealthSamples(states, { LoadBalancer: tg.loadBalancer, TargetGroup: name }, this.now(), name));
      } catch (error) {
        this.logOnce('target-health', 'target health not sampled', { why: error instanceof Error ? error.message.slice(0, 300) : String(error) });
      }
    }

    await this.publish(samples);
    return samples;
  }

  private ssmClient: SSMClient | undefined;

  private async readParameter(name: string): Promise<string> {
    if (this.options.readParameter !== undefined) return this.options.readParameter(name);
    this.ssmClient ??= new SSMClient(this.options.clientConfig);
    return (await this.ssmClient.send(new GetParameterCommand({ Name: name }))).Parameter?.Value ?? '';
  }

  /** What the host's CloudWatch agent publishes, if one was configured there (none: nothing, as on a host without the agent). */
  private async agentSamples(host: HostInfo): Promise<MetricSample[]> {
    let stateText: string;
    try {
      stateText = fs.readFileSync(path.join(this.options.stateDir, 'hosts', host.instanceId, AGENT_STATE_UPPER), 'utf8');
    } catch {
      return [];
    }
    const state = parseAgentState(stateText);
    if (state?.status !== 'running') return [];
    const why = (error: unknown) => (error instanceof Error ? error.message.slice(0, 300) : String(error));
    try {
      if (!state.config.startsWith('ssm:')) throw new MetricsAgentError(`config source ${state.config} is not emulated (only ssm:<parameter>)`);
      const collection = parseDiskCollection(await this.readParameter(state.config.slice('ssm:'.length)));
      if (collection === undefined) return [];
      const out = await this.options.exec(host.instanceId, dfArgv(collection), 10);
      const hostname = host.instanceId; // the host's UTS name (test/sandbox/bin/host-create.sh writes the id)
      return diskSamples(collection, parseDfMounts(out), { instanceId: host.instanceId, groupName: this.options.groups[host.role], hostname }, this.now());
    } catch (error) {
      this.logOnce(`${host.instanceId}:agent`, 'CloudWatch agent metrics not sampled', { instanceId: host.instanceId, why: why(error) });
      return [];
    }
  }

  private elbClient: ElasticLoadBalancingV2Client | undefined;

  private elb(config: object): ElasticLoadBalancingV2Client {
    this.elbClient ??= new ElasticLoadBalancingV2Client(config);
    return this.elbClient;
  }

  private logOnce(key: string, message: string, fields: Record<string, unknown>): void {
    if (this.skipped.has(key)) return;
    this.skipped.add(key);
    this.log(message, fields);
  }

  private async publish(samples: readonly MetricSample[]): Promise<void> {
    const byNamespace = new Map<string, MetricDatum[]>();
    for (const s of samples) {
      const list = byNamespace.get(s.namespace) ?? [];
      list.push({
        MetricName: s.metricName,
        Dimensions: Object.entries(s.dimensions).map(([Name, Value]) => ({ Name, Value })),
        Timestamp: new Date(s.at),
        Value: s.value,
        Unit: s.unit as StandardUnit,
        ...(s.storageResolution !== undefined ? { StorageResolution: s.storageResolution } : {}),
      });
      byNamespace.set(s.namespace, list);
    }
    for (const [namespace, data] of byNamespace) {
      for (let i = 0; i < data.length; i += 500) {
        try {
          await this.cw.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data.slice(i, i + 500) }));
        } catch (error) {
          this.log('PutMetricData failed', { namespace, error: error instanceof Error ? error.message : String(error) });
          return;
        }
      }
    }
    this.published.push(...samples);
    if (this.published.length > 10_000) this.published.splice(0, this.published.length - 10_000);
  }
}
