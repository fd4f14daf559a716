/**
 * What the Amazon CloudWatch agent publishes for disk metrics, derived from
 * its JSON configuration, as the agent does it. Used by the sandbox's metrics
 * agent (it publishes what a real agent with the stack's configuration would)
 * and by the unit test that holds the brick disk alarm to that configuration.
 *
 * Sources (looked up, not remembered):
 * - CloudWatch agent configuration file, metrics section
 *   (awsdocs/amazon-cloudwatch-user-guide doc_source/CloudWatch-Agent-Configuration-File-Details.md):
 *   `namespace` default `CWAgent`; `append_dimensions` only ImageId, InstanceId,
 *   InstanceType, AutoScalingGroupName from `${aws:...}` ("Any other key-value
 *   pairs are ignored"); `aggregation_dimensions` rolls metrics up; disk
 *   `resources` (mount points, `*` = all), `measurement`, `drop_device`,
 *   `ignore_file_system_types`, `metrics_collection_interval` (default 60,
 *   below 60 = high resolution); agent `omit_hostname` ("By default, the
 *   hostname is published as a dimension").
 * - Telegraf's disk input, which the agent runs: tags path, device (without
 *   /dev/), fstype, mode; used_percent = used / (used + free) * 100; mounts of
 *   total 0 are skipped (influxdata/telegraf plugins/inputs/disk/disk.go).
 * - aws/amazon-cloudwatch-agent translator/translate/metrics/metrics_collect/disk/ruleDropTags.go:
 *   tagexclude ["mode"], plus "device" when drop_device is true.
 * - aws/amazon-cloudwatch-agent plugins/outputs/cloudwatch (BuildDimensions,
 *   ProcessRollup): empty-valued tags are left out; each aggregation set is
 *   published too when every one of its dimensions exists on the metric and it
 *   has fewer dimensions than the metric.
 */

export class AgentConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgentConfigError';
  }
}

/** The `${aws:...}` placeholders append_dimensions accepts; any other pair is ignored. */
const EC2_PLACEHOLDERS = new Set(['${aws:ImageId}', '${aws:InstanceId}', '${aws:InstanceType}', '${aws:AutoScalingGroupName}']);

/** Default units of the disk measurements (Metrics collected by the CloudWatch agent on Linux). */
const DISK_UNITS: Readonly<Record<string, string>> = {
  disk_free: 'Bytes',
  disk_total: 'Bytes',
  disk_used: 'Bytes',
  disk_used_percent: 'Percent',
  disk_inodes_free: 'Count',
  disk_inodes_used: 'Count',
  disk_inodes_total: 'Count',
};

export interface DiskMetric {
  /** The field telegraf reports (used_percent). */
  readonly field: string;
  /** The CloudWatch metric name (disk_used_percent, or its rename). */
  readonly name: string;
  readonly unit: string;
}

export interface DiskCollection {
  readonly namespace: string;
  readonly metrics: readonly DiskMetric[];
  /** Mount points to report; undefined: every mount point. */
  readonly mountPoints: readonly string[] | undefined;
  readonly ignoreFileSystemTypes: readonly string[];
  readonly dropDevice: boolean;
  readonly omitHostname: boolean;
  /** Dimension name -> the EC2 fact it takes (ImageId, InstanceId, InstanceType, AutoScalingGroupName). */
  readonly appendDimensions: Readonly<Record<string, Ec2Fact>>;
  readonly aggregationDimensions: readonly (readonly string[])[];
  readonly intervalSeconds: number;
  /** Below 60 s the agent publishes high-resolution metrics (StorageResolution 1). */
  readonly highResolution: boolean;
}

export type Ec2Fact = 'ImageId' | 'InstanceId' | 'InstanceType' | 'AutoScalingGroupName';

/** What the instance's metadata says (only what append_dimensions can ask for). */
export type InstanceFacts = Partial<Record<Ec2Fact, string>> & { readonly hostname: string };

/** One mount as telegraf's disk input sees it. */
export interface Mount {
  readonly path: string;
  /** /dev/xvdf or a source like pas-brick; telegraf strips /dev/. */
  readonly device: string;
  readonly fstype: string;
  readonly totalBytes: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function interval(value: unknown, where: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new AgentConfigError(`${where} must be a whole number of seconds, got ${JSON.stringify(value)}`);
  return value;
}

/** The disk collection of an agent configuration, or undefined when it collects no disk metrics. */
export function parseDiskCollection(configJson: string): DiskCollection | undefined {
  let config: unknown;
  try {
    config = JSON.parse(configJson);
  } catch (error) {
    throw new AgentConfigError(`the agent configuration is not JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (!isRecord(config)) throw new AgentConfigError('the agent configuration is not a JSON object');
  const agent = isRecord(config.agent) ? config.agent : {};
  const metrics = config.metrics;
  if (!isRecord(metrics) || !isRecord(metrics.metrics_collected)) return undefined;
  const disk = metrics.metrics_collected.disk;
  if (!isRecord(disk)) return undefined;

  if (!Array.isArray(disk.measurement) || disk.measurement.length === 0) throw new AgentConfigError('metrics_collected.disk.measurement is required');
  const measured: DiskMetric[] = disk.measurement.map((m, i) => {
    const entry = typeof m === 'string' ? { name: m } : isRecord(m) && typeof m.name === 'string' ? m : undefined;
    if (entry === undefined) throw new AgentConfigError(`metrics_collected.disk.measurement[${i}] must be a name or {name, rename?, unit?}`);
    const full = String(entry.name).startsWith('disk_') ? String(entry.name) : `disk_${String(entry.name)}`;
    const unit = typeof entry.unit === 'string' ? entry.unit : DISK_UNITS[full];
    if (unit === undefined) throw new AgentConfigError(`metrics_collected.disk.measurement[${i}]: ${full} is not a disk metric of the agent`);
    return { field: full.slice('disk_'.length), name: typeof entry.rename === 'string' ? entry.rename : full, unit };
  });

  let mountPoints: string[] | undefined;
  if (disk.resources !== undefined) {
    if (!Array.isArray(disk.resources) || disk.resources.some((r) => typeof r !== 'string')) throw new AgentConfigError('metrics_collected.disk.resources must be a list of mount points');
    mountPoints = (disk.resources as string[]).includes('*') ? undefined : (disk.resources as string[]);
  }

  const appendDimensions: Record<string, Ec2Fact> = {};
  if (isRecord(metrics.append_dimensions)) {
    for (const [name, value] of Object.entries(metrics.append_dimensions)) {
      if (typeof value === 'string' && EC2_PLACEHOLDERS.has(value)) appendDimensions[name] = value.slice('${aws:'.length, -1) as Ec2Fact;
    }
  }

  const aggregationDimensions: string[][] = [];
  if (metrics.aggregation_dimensions !== undefined) {
    const list = metrics.aggregation_dimensions;
    if (!Array.isArray(list) || list.some((set) => !Array.isArray(set) || set.some((d: unknown) => typeof d !== 'string'))) {
      throw new AgentConfigError('metrics.aggregation_dimensions must be a list of lists of dimension names');
    }
    aggregationDimensions.push(...(list as string[][]));
  }

  const seconds = interval(disk.metrics_collection_interval, 'metrics_collected.disk.metrics_collection_interval') ?? interval(agent.metrics_collection_interval, 'agent.metrics_collection_interval') ?? 60;
  const namespace = metrics.namespace === undefined ? 'CWAgent' : metrics.namespace;
  if (typeof namespace !== 'string' || namespace === '' || namespace.length > 255) throw new AgentConfigError('metrics.namespace must be 1-255 characters');
  const ignore = disk.ignore_file_system_types;
  if (ignore !== undefined && (!Array.isArray(ignore) || ignore.some((t) => typeof t !== 'string'))) throw new AgentConfigError('metrics_collected.disk.ignore_file_system_types must be a list of names');

  return {
    namespace,
    metrics: measured,
    mountPoints,
    ignoreFileSystemTypes: (ignore as string[] | undefined) ?? [],
    dropDevice: disk.drop_device === true,
    omitHostname: agent.omit_hostname === true,
    appendDimensions,
    aggregationDimensions,
    intervalSeconds: seconds,
    highResolution: seconds < 60,
  };
}

/** Whether the agent reports this mount (resources, ignore_file_system_types, total 0 skipped). */
export function isReported(c: DiskCollection, mount: Mount): boolean {
  if (mount.totalBytes <= 0) return false;
  if (c.ignoreFileSystemTypes.includes(mount.fstype)) return false;
  return c.mountPoints === undefined || c.mountPoints.includes(mount.path);
}

/**
 * The dimension sets one disk datapoint is published with: the metric's own
 * (telegraf's tags less mode and, with drop_device, device; host unless
 * omitted; the appended EC2 dimensions), then each aggregation set it can roll
 * up to. Empty values are left out, as the agent does.
 */
export function diskDimensionSets(c: DiskCollection, mount: Mount, facts: InstanceFacts): Array<Record<string, string>> {
  const tags: Record<string, string> = { path: mount.path, fstype: mount.fstype };
  if (!c.dropDevice) tags.device = mount.device.replace(/^\/dev\//, '');
  if (!c.omitHostname) tags.host = facts.hostname;
  for (const [name, fact] of Object.entries(c.appendDimensions)) tags[name] = facts[fact] ?? '';
  const raw = Object.fromEntries(Object.entries(tags).filter(([, v]) => v !== ''));
  const sets: Array<Record<string, string>> = [raw];
  const rawCount = Object.keys(raw).length;
  for (const target of c.aggregationDimensions) {
    if (target.length >= rawCount || !target.every((d) => d in raw)) continue;
    sets.push(Object.fromEntries(target.map((d) => [d, raw[d] as string])));
  }
  return sets;
}
