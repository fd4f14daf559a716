/**
 * An in-memory storage tier behind the ports, in the style of fake-cloud.ts:
 * an Auto Scaling group of storage nodes, SSM Run Command that executes the
 * four storage documents against a Gluster MODEL (pool, volumes, bricks,
 * rebalance, heal, remove-brick), Parameter Store, a delayed queue and the
 * ops topic. The status document answers with Gluster XML generated from the
 * model in the shape of the captured fixtures, and goes through the real
 * parsers. Lifecycle events are queued the way the EventBridge rule would.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { GroupDescription, LifecycleActionRef, LifecycleResult } from '../../../../lib/ports/autoscaling';
import type { CommandInvocation, SendCommandInput } from '../../../../lib/ports/ssm';
import { parseConfig } from '../../../../lib/config/compute';
import type { Notification } from '../../../../lib/core/notification';
import { BUNDLE_END, SSM_STDOUT_LIMIT, STATUS_PART_CHARS, STATUS_STEPS } from '../../../../lib/core/storage/status-frame';
import type { Log } from '../../../../lib/logger';
import type { StorageDeps } from '../../../../lib/usecases/storage/cluster';
import { parseStorageConfig } from '../../../../lib/config/storage';
import type { MessageOutcome as StorageMessageOutcome } from '../../../../lib/usecases/flow-runner';
import { handleStorageMessage } from '../../../../lib/usecases/storage/flows';
import { ENV } from '../fake-cloud';
import { FakeCoordination } from '../fake-coordination';

export const GiB = 1024 ** 3;
export const A = 'eu-west-1a';
export const B = 'eu-west-1b';
export const C = 'eu-west-1c';

export const STORAGE_ENV: Record<string, string> = {
  ...ENV,
  STORAGE_ASG_NAME: 'pydio-storage',
  STORAGE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/storage',
  DOC_STORAGE_PREPARE_BRICK: 'doc-prepare-brick',
  DOC_STORAGE_PEER_PROBE: 'doc-peer-probe',
  DOC_STORAGE_GLUSTER_STATUS: 'doc-gluster-status',
  DOC_STORAGE_GLUSTER_COMMAND: 'doc-gluster-command',
  STORAGE_AGENT_CONFIG_PARAMETER: 'AmazonCloudWatch-pydio-autoscaler-test-storage',
  STORAGE_PROGRESS_SECONDS: '60',
};

export interface FakeNode {
  instanceId: string;
  ip: string;
  zone: string;
  lifecycleState: string;
  protected: boolean;
  online: boolean;
  /** Its glusterd answers (false: the node died). */
  alive: boolean;
  /** SSM keeps reporting its last IP address while the agent is silent (as DescribeInstanceInformation does for ConnectionLost). */
  keepsIpOffline?: boolean;
  token?: string;
  /** What its SSM agent reports as its version (absent: not reported). */
  agentVersion?: string;
}

export interface FakeVolume {
  name: string;
  replica: number;
  /** 1: replica 3 arbiter 1, the last brick of each set is the arbiter. */
  arbiter?: number;
  /** Options set with volume-set (volume info lists them, the pool-wide ratio too). */
  options?: Record<string, string>;
  bricks: Array<{ host: string; path: string }>;
  started: boolean;
  usedBytes: number;
  /** Status reads until a running rebalance completes. */
  rebalance?: { reads: number; until: number; failures: number };
  heal: number;
  removing?: { bricks: string[]; reads: number; until: number };
  /** Bricks (host:/path) whose process is dead while their node lives: `volume start <v> force` starts them. */
  down?: Set<string>;
  /** Files in split-brain (listed by each brick, the first by gfid only, as the captured fixture shows). */
  splitBrain?: string[];
}

export interface Call { readonly op: string; readonly args: unknown }

const xml = (inner: string) => `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cliOutput>\n  <opRet>0</opRet>\n  <opErrno>0</opErrno>\n  <opErrstr/>\n${inner}\n</cliOutput>`;
const refused = (message: string) => `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cliOutput>\n  <opRet>-1</opRet>\n  <opErrno>0</opErrno>\n  <opErrstr>${message}</opErrstr>\n</cliOutput>`;
const uuid = (ip: string) => `00000000-0000-4000-8000-${ip.split('.').map((o) => o.padStart(3, '0')).join('')}`;


/** What glusterd answers (exit 1) while another member holds its transaction lock. */
const BUSY_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cliOutput>\n  <opRet>-1</opRet>\n  <opErrno>30800</opErrno>\n  <opErrstr>Another transaction is in progress for pydio-data. Please try again after some time.</opErrstr>\n</cliOutput>\n';

export class FakeStorage {
  public now = new Date('2026-11-21T10:00:00Z');
  public readonly calls: Call[] = [];
  public readonly notifications: Notification[] = [];
  /** Gauges the storage function published: name, value, dimensions. */
  public readonly gauges: Array<{ name: string; value: number; dimensions: Readonly<Record<string, string>> }> = [];
  /** The next N status reads find glusterd busy inside the script (a section's XML is the busy refusal, the document still succeeds). */
  public busyStatusSections = 0;
  /** After `volume start force`, bricks that die again at once (a brick with a cause a restart does not fix). */
  public bricksDieAgain = false;
  public readonly queue: Array<{ body: string; due: number; id: string }> = [];
  public readonly params = new Map<string, string>();
  public readonly nodes: FakeNode[] = [];
  public readonly pool = new Set<string>();
  public volumes: FakeVolume[] = [];
  /** Pool-wide options (`volume set all ...`): cluster.server-quorum-ratio. */
  public readonly poolOptions: Record<string, string> = {};
  public group = { name: 'pydio-storage', min: 2, max: 6, desired: 0, zones: [A, B] };
  public diskBytes = 100 * GiB;
  /** Polls before a command ends. */
  public commandPolls = 1;
  /** Per document name: a forced failure. */
  public failDocument: Record<string, CommandInvocation> = {};
  /** The next N runs of a document find glusterd busy with another member's transaction. */
  public busyRuns: Record<string, number> = {};
  public rebalanceReads = 3;
  public removeReads = 3;
  /** The next N remove-brick status reads find a peer's rebalance process not answering glusterd (as glusterd words it). */
  public removeStatusGatherFailures = 0;
  /** The next N status documents find the member's own rebalance process not answering (glusterd's words, no "Brick ops failed on" for its own). */
  public statusRebalanceGatherFailures = 0;
  public healEntries = 30;
  /** Per document name: the error SendCommand throws (AWS refusing the call). */
  public refuseSend: Record<string, Error> = {};
  /** How the status document prints its bundle: framed (its default) or plain. */
  public statusEncoding: 'gzip-base64' | 'plain' = 'gzip-base64';
  public readonly commands = new Map<string, { input: SendCommandInput; polls: number; result?: CommandInvocation; steps?: Record<string, string> }>();
  private nextId = 0;
  private nextIp = 10;

  // --- cluster building ---------------------------------------------------------------

  public addNode(zone: string, over: Partial<FakeNode> = {}): FakeNode {
    this.nextId += 1;
    const subnet = zone === A ? 1 : zone === B ? 2 : 3;
    const node: FakeNode = {
      instanceId: `i-${this.nextId.toString(16).padStart(17, '0')}`,
      ip: `10.0.${subnet}.${this.nextIp++}`,
      zone, lifecycleState: 'InService', protected: true, online: true, alive: true, ...over,
    };
    this.nodes.push(node);
    if (!node.lifecycleState.startsWith('Pending')) this.group.desired += 1;
    return node;
  }

  /**
   * A running cluster: members in the pool and both volumes over their bricks (replica sets in order).
   * `layout`: `bare` replica 2 without quorum options (a cluster older than issue 10, as the sandbox
   * boots one), `quorum` replica 2 with client and server quorum set, `arbiter` replica 3 arbiter 1
   * (sets of three, the last the arbiter).
   */
  public cluster(members: FakeNode[], setsOf: FakeNode[][] = [members.slice(0, 2)], usedBytes = 40 * GiB, layout: 'bare' | 'quorum' | 'arbiter' = 'bare'): void {
    for (const m of members) {
      this.pool.add(m.ip);
      this.params.set(`/pydio-autoscaler/test/storage/members/${m.instanceId}`, JSON.stringify({ instanceId: m.instanceId, host: m.ip, zone: m.zone, state: 'joined', lastSeen: '2026-11-21T09:00:00.000Z' }));
    }
    if (layout === 'quorum') this.poolOptions['cluster.server-quorum-ratio'] = '51%';
    this.volumes = ['pydio-config', 'pydio-data'].map((name) => ({
      name, replica: layout === 'arbiter' ? 3 : 2, ...(layout === 'arbiter' ? { arbiter: 1 } : {}), started: true, heal: 0, usedBytes: name === 'pydio-data' ? usedBytes : GiB,
      ...(layout === 'quorum' ? { options: { 'cluster.quorum-type': 'auto', 'cluster.server-quorum-type': 'server' } } : {}),
      bricks: setsOf.flat().map((m) => ({ host: m.ip, path: `/bricks/${name}/brick` })),
    }));
  }

  public node(id: string): FakeNode {
    const found = this.nodes.find((n) => n.instanceId === id);
    if (!found) throw new Error(`no node ${id}`);
    return found;
  }

  /** Launch a node the way the group does: Pending:Wait and its lifecycle event on the queue. */
  public launch(zone: string): FakeNode {
    const node = this.addNode(zone, { lifecycleState: 'Pending:Wait', protected: false });
    node.token = `tok-${node.instanceId}`;
    this.enqueue(this.event('launch', node), 0);
    return node;
  }

  public event(transition: 'launch' | 'terminate', node: FakeNode): string {
    return JSON.stringify({
      version: '0', id: `evt-${node.instanceId}`, source: 'aws.autoscaling', account: '123456789012', time: this.now.toISOString(), region: 'eu-west-1', resources: [],
      'detail-type': transition === 'launch' ? 'EC2 Instance-launch Lifecycle Action' : 'EC2 Instance-terminate Lifecycle Action',
      detail: {
        LifecycleActionToken: node.token ?? `tok-${node.instanceId}`,
        AutoScalingGroupName: this.group.name,
        LifecycleHookName: `pydio-autoscaler-test-storage-${transition}`,
        EC2InstanceId: node.instanceId,
        LifecycleTransition: transition === 'launch' ? 'autoscaling:EC2_INSTANCE_LAUNCHING' : 'autoscaling:EC2_INSTANCE_TERMINATING',
      },
    });
  }

  public enqueue(body: string, delaySeconds: number): void {
    this.queue.push({ body, due: this.now.getTime() + delaySeconds * 1000, id: `msg-${++this.nextId}` });
  }

  // --- ports -------------------------------------------------------------------------------

  private record(op: string, args: unknown): void {
    this.calls.push({ op, args });
  }

  private describe(): GroupDescription {
    return {
      name: this.group.name, minSize: this.group.min, maxSize: this.group.max, desiredCapacity: this.group.desired,
      availabilityZones: this.group.zones, targetGroupArns: [],
      instances: this.nodes.filter((n) => n.lifecycleState !== 'Gone').map((n) => ({
        instanceId: n.instanceId, availabilityZone: n.zone, lifecycleState: n.lifecycleState, healthStatus: 'Healthy', protectedFromScaleIn: n.protected,
      })),
    };
  }

  public readonly autoScaling: StorageDeps['autoScaling'] = {
    describeGroup: async (name) => (name === this.group.name ? this.describe() : undefined),
    describeInstance: async (id) => {
      const n = this.nodes.find((x) => x.instanceId === id && x.lifecycleState !== 'Gone');
      return n ? { instanceId: id, groupName: this.group.name, availabilityZone: n.zone, lifecycleState: n.lifecycleState, healthStatus: 'Healthy', protectedFromScaleIn: n.protected } : undefined;
    },
    describeLifecycleHook: async () => ({ heartbeatTimeoutSeconds: 900, defaultResult: 'ABANDON' }),
    completeLifecycleAction: async (ref: LifecycleActionRef, result: LifecycleResult) => {
      this.record('completeLifecycleAction', { ...ref, result });
      const n = this.node(ref.instanceId);
      if (!n.lifecycleState.endsWith(':Wait')) return 'already-completed';
      if (n.lifecycleState === 'Pending:Wait') n.lifecycleState = result === 'CONTINUE' ? 'InService' : 'Terminated';
      else n.lifecycleState = 'Terminated';
      return 'completed';
    },
    recordHeartbeat: async (ref) => {
      this.record('recordHeartbeat', ref);
      return 'recorded';
    },
    setDesiredCapacity: async (name, desired) => {
      this.record('setDesiredCapacity', { name, desired });
      const launches = desired - this.group.desired;
      for (let i = 0; i < launches; i += 1) {
        const perZone = this.group.zones.map((z) => [z, this.nodes.filter((n) => n.zone === z && !/Terminat|Gone/.test(n.lifecycleState)).length] as const);
        const zone = [...perZone].sort((a, b) => a[1] - b[1])[0]![0];
        this.launch(zone);
      }
      this.group.desired = desired;
      return 'set';
    },
    setInstanceProtection: async (name, ids, protect) => {
      this.record('setInstanceProtection', { name, ids, protect });
      for (const id of ids) this.node(id).protected = protect;
    },
    describeScalingActivities: async () => [],
    terminateInstance: async (id, decrement) => {
      this.record('terminateInstance', { id, decrement });
      const n = this.node(id);
      n.lifecycleState = 'Terminating:Wait';
      if (decrement) this.group.desired -= 1;
      this.enqueue(this.event('terminate', n), 0);
      return 'terminating';
    },
  };

  public readonly ssm: StorageDeps['ssm'] = {
    describeManagedInstances: async (ids) =>
      this.nodes.filter((n) => ids.includes(n.instanceId) && n.lifecycleState !== 'Gone').map((n) => ({ instanceId: n.instanceId, online: n.online, ...(n.online || n.keepsIpOffline ? { ipAddress: n.ip } : {}), ...(n.agentVersion ? { agentVersion: n.agentVersion } : {}) })),
    sendCommand: async (input) => {
      const refusal = this.refuseSend[input.documentName];
      if (refusal) throw refusal;
      const id = `cmd-${++this.nextId}`;
      this.record('sendCommand', input);
      this.commands.set(id, { input, polls: 0 });
      return id;
    },
    getInvocation: async (commandId, _instanceId, report) => {
      const command = this.commands.get(commandId);
      if (!command) return { status: 'Pending', exitCode: -1, stdout: '', stderr: '' };
      command.polls += 1;
      if (command.polls < this.commandPolls) return { status: 'InProgress', exitCode: -1, stdout: '', stderr: '' };
      // A document runs once, when it ends; later reads see the same result.
      if (!command.result) {
        command.result = this.execute(command.input);
        command.steps = this.stepOutputs(command.input, command.result);
      }
      // As ListCommandInvocations + GetCommandInvocation: the failed step, else the one asked for, else the last.
      const steps = command.steps;
      if (!steps || command.result.status !== 'Success') return command.result;
      const names = Object.keys(steps);
      const step = report !== undefined && report in steps ? report : names[names.length - 1]!;
      return { ...command.result, stdout: steps[step] ?? '', step };
    },
    getStepOutput: async (commandId, _instanceId, step) => {
      this.record('getStepOutput', { commandId, step });
      const steps = this.commands.get(commandId)?.steps;
      if (steps && !(step in steps)) throw new Error(`InvalidPluginName: ${step}`);
      return steps?.[step] ?? '';
    },
    getParameter: async (name) => this.params.get(name),
    deleteParameter: async (name) => {
      this.record('deleteParameter', { name });
      this.params.delete(name);
    },
    putParameter: async (name, value) => {
      this.params.set(name, value);
    },
    listParameters: async (path) => [...this.params.entries()].filter(([name]) => name.startsWith(`${path}/`)).map(([name, value]) => ({ name, value })),
  };

  /** The coordination table (claims, the lock, the bootstrap record) on this cloud's clock; its calls are in its own log, not in ops(). */
  public readonly coordination = new FakeCoordination(() => this.now);

  public readonly notifier: StorageDeps['notifier'] = {
    publish: async (n) => {
      this.notifications.push(n);
    },
  };

  public readonly queuePort: StorageDeps['queue'] = {
    send: async (_url, body, delaySeconds) => {
      this.enqueue(body, delaySeconds);
    },
  };

  /** Instance tags as CreateTags left them; `tagError` makes CreateTags fail. */
  public readonly tags = new Map<string, Record<string, string>>();
  public tagError: Error | undefined;
  public readonly tagsPort = {
    tagInstance: async (instanceId: string, tags: Readonly<Record<string, string>>): Promise<void> => {
      this.record('tagInstance', { instanceId, tags });
      if (this.tagError !== undefined) throw this.tagError;
      this.tags.set(instanceId, { ...this.tags.get(instanceId), ...tags });
    },
  };

  public readonly log: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Log;

  public deps(env: Record<string, string> = {}): StorageDeps {
    const config = parseConfig({ ...STORAGE_ENV, ...env });
    return {
      config,
      storage: parseStorageConfig({ ...STORAGE_ENV, ...env }, config),
      autoScaling: this.autoScaling,
      ssm: this.ssm,
      coordination: this.coordination,
      notifier: this.notifier,
      queue: this.queuePort,
      tags: this.tagsPort,
      metrics: {
        count: () => undefined,
        seconds: () => undefined,
        gauge: (name, value, dimensions = {}) => void this.gauges.push({ name, value, dimensions }),
        flush: () => undefined,
      },
      log: this.log,
      now: () => this.now,
      sleep: async (ms) => {
        this.now = new Date(this.now.getTime() + ms);
      },
    };
  }

  /**
   * Delivers queued messages in due order (the clock jumps to each), at most `max`. `seen` looks at
   * each message first; when it answers false the message was the test's own and is not delivered.
   */
  public async drain(deps: StorageDeps = this.deps(), max = 400, seen?: (message: { id: string; body: string }) => boolean | void): Promise<StorageMessageOutcome[]> {
    const outcomes = await this.deliver(deps, max, seen);
    if (this.queue.length > 0) throw new Error(`queue not drained after ${max} deliveries`);
    return outcomes;
  }

  /** Delivers at most `max` queued messages in due order (`seen` as for drain). */
  public async deliver(deps: StorageDeps, max: number, seen?: (message: { id: string; body: string }) => boolean | void): Promise<StorageMessageOutcome[]> {
    const outcomes: StorageMessageOutcome[] = [];
    for (let i = 0; i < max && this.queue.length > 0; i += 1) {
      this.queue.sort((a, b) => a.due - b.due);
      const next = this.queue.shift()!;
      if (next.due > this.now.getTime()) this.now = new Date(next.due);
      if (seen?.(next) === false) continue;
      outcomes.push(await handleStorageMessage({ messageId: next.id, body: next.body }, deps));
    }
    return outcomes;
  }

  public ops(): string[] {
    return this.calls.map((c) => c.op);
  }

  public sent(document: string): SendCommandInput[] {
    return this.calls.filter((c) => c.op === 'sendCommand').map((c) => c.args as SendCommandInput).filter((i) => i.documentName === document);
  }

  public glusterActions(): string[] {
    return this.sent('doc-gluster-command').map((i) => i.parameters.Action === 'peer-detach'
      ? `peer-detach ${i.parameters.Peer ?? ''}`
      : i.parameters.Action === 'volume-set'
        ? `volume-set ${i.parameters.Volume} ${i.parameters.Option}=${i.parameters.Value}`
        : `${i.parameters.Action} ${i.parameters.Volume}${i.parameters.Arbiter && i.parameters.Arbiter !== '0' ? ` arbiter ${i.parameters.Arbiter}` : ''}${i.parameters.Bricks ? ` ${i.parameters.Bricks}` : ''}`);
  }

  public events(): string[] {
    return this.notifications.map((n) => n.eventType);
  }

  // --- the documents against the model -----------------------------------------------------

  private execute(input: SendCommandInput): CommandInvocation {
    const forced = this.failDocument[input.documentName];
    if (forced) return forced;
    if ((this.busyRuns[input.documentName] ?? 0) > 0) {
      this.busyRuns[input.documentName]! -= 1;
      return { status: 'Failed', exitCode: 1, stdout: BUSY_XML, stderr: '' };
    }
    const on = this.node(input.instanceId);
    // Run Command keeps the first 24,000 characters of stdout.
    const ok = (stdout = '') => ({ status: 'Success' as const, exitCode: 0, stdout: stdout.slice(0, SSM_STDOUT_LIMIT), stderr: '' });
    const p = input.parameters;
    switch (input.documentName) {
      case 'doc-prepare-brick':
      case 'AWS-ConfigureAWSPackage':
      case 'AmazonCloudWatch-ManageAgent':
        return ok();
      case 'doc-peer-probe': {
        const missing = (p.Peers ?? '').split(',').filter((ip) => !this.pool.has(ip) && ip !== on.ip);
        // glusterd-handler.c: no new peer while a volume in server quorum lacks it (GF_PROBE_QUORUM_NOT_MET).
        if (missing.length && this.anyInServerQuorumLost()) {
          return { status: 'Failed', exitCode: 1, stdout: '', stderr: `storage-peer-probe[probe]: ERROR: gluster peer probe ${missing[0]} failed 5 times; last answer: peer probe: failed: Cluster quorum is not met. Changing peers is not allowed in this state` };
        }
        for (const ip of (p.Peers ?? '').split(',')) this.pool.add(ip);
        this.pool.add(on.ip);
        return ok();
      }
      case 'doc-gluster-status': {
        const plain = this.statusBundle(on, (p.Volumes ?? '').split(','));
        // Whole: getInvocation hands it out in the document's steps (stepOutputs), each cut as SSM cuts it.
        return { status: 'Success', exitCode: 0, stdout: (p.Encoding ?? this.statusEncoding) === 'plain' ? plain : frameStatus(plain), stderr: '' };
      }
      case 'doc-gluster-command': {
        const out = this.glusterCommand(p);
        return out.startsWith('<?xml') && out.includes('<opRet>-1') ? { status: 'Failed', exitCode: 1, stdout: out, stderr: '' } : ok(out);
      }
      default:
        return { status: 'Failed', exitCode: 1, stdout: '', stderr: `unknown document ${input.documentName}` };
    }
  }

  /**
   * storage-gluster-status's steps: the framed text in parts of
   * STATUS_PART_CHARS (the script's PART_CHARS), each step's stdout kept to
   * 24,000 characters; the plain bundle all in the first step (cut there).
   */
  private stepOutputs(input: SendCommandInput, result: CommandInvocation): Record<string, string> | undefined {
    if (input.documentName !== 'doc-gluster-status' || result.status !== 'Success') return undefined;
    const full = result.stdout;
    const framed = (input.parameters.Encoding ?? this.statusEncoding) !== 'plain';
    return Object.fromEntries(
      STATUS_STEPS.map((step, i) => [step, (framed ? full.slice(i * STATUS_PART_CHARS, (i + 1) * STATUS_PART_CHARS) : i === 0 ? full : '').slice(0, SSM_STDOUT_LIMIT)]),
    );
  }

  private alive(ip: string): boolean {
    return this.nodes.some((n) => n.ip === ip && n.alive && n.lifecycleState !== 'Gone');
  }

  /**
   * glusterd's server quorum (glusterd-server-quorum.c): the live peers of the
   * pool against ceil(pool x ratio), or more than half without a ratio. One
   * view for every live node: the model has deaths, not partitions.
   */
  public serverQuorumMet(): boolean {
    const members = this.pool.size;
    const active = [...this.pool].filter((ip) => this.alive(ip)).length;
    const ratio = /^([0-9.]+)%?$/.exec(this.poolOptions['cluster.server-quorum-ratio'] ?? '');
    const needed = ratio ? Math.ceil((members * Number(ratio[1])) / 100) : Math.floor(members / 2) + 1;
    return active >= needed;
  }

  private inServerQuorum(volume: FakeVolume): boolean {
    return volume.options?.['cluster.server-quorum-type'] === 'server';
  }

  /** Volumes whose bricks glusterd stopped: in server quorum while it is lost. */
  public quorumStopped(volume: FakeVolume): boolean {
    return this.inServerQuorum(volume) && !this.serverQuorumMet();
  }

  private anyInServerQuorumLost(): boolean {
    return this.volumes.some((v) => this.quorumStopped(v));
  }

  /** The options volume info lists for a volume: its own, then the pool-wide ones once set. */
  private optionsOf(volume: FakeVolume): Record<string, string> {
    return { ...(volume.options ?? {}), ...this.poolOptions };
  }

  private glusterCommand(p: Readonly<Record<string, string>>): string {
    const volume = this.volumes.find((v) => v.name === p.Volume);
    const bricks = (p.Bricks ?? '').split(',').filter(Boolean).map((b) => ({ host: b.slice(0, b.indexOf(':')), path: b.slice(b.indexOf(':') + 1) }));
    const done = (tag: string) => xml(`  <${tag}/>`);
    const quorumOption = p.Action === 'volume-set' && /^cluster\.(server-quorum-type|server-quorum-ratio)$/.test(p.Option ?? '');
    // glusterd-server-quorum.c: every volume operation but setting the quorum options themselves.
    if (volume && this.quorumStopped(volume) && !quorumOption && p.Action !== 'heal-full') return refused('Quorum not met. Volume operation not allowed.');
    if (p.Action === 'peer-detach' && this.anyInServerQuorumLost()) return refused('Cluster quorum is not met. Changing peers is not allowed in this state');
    switch (p.Action) {
      case 'volume-create': {
        if (volume) return '';
        const replica = Number(p.Replica);
        const arbiter = Number(p.Arbiter ?? '0');
        if (bricks.length % replica !== 0) return refused(`number of bricks is not a multiple of replica count`);
        if (arbiter && replica !== 3) return refused('For arbiter configuration, replica count must be 3 and arbiter count must be 1.');
        this.volumes.push({ name: p.Volume!, replica, ...(arbiter ? { arbiter } : {}), bricks, started: false, usedBytes: 0, heal: 0 });
        return done('volCreate');
      }
      case 'volume-set': {
        const option = p.Option ?? '';
        if (p.Volume === 'all') {
          if (option !== 'cluster.server-quorum-ratio') return refused('Not a valid option for all volumes');
          this.poolOptions[option] = p.Value ?? '';
        } else {
          if (!volume) return refused(`Volume ${p.Volume} does not exist`);
          volume.options = { ...(volume.options ?? {}), [option]: p.Value ?? '' };
        }
        return xml('  <cliOp>volSet</cliOp>\n  <output>Set volume successful</output>');
      }
      case 'volume-start':
        if (!volume) return refused(`Volume ${p.Volume} does not exist`);
        volume.started = true;
        return done('volStart');
      case 'volume-start-force':
        // As glusterd: the bricks it finds not running are started (on live nodes), the others left alone.
        if (!volume) return refused(`Volume ${p.Volume} does not exist`);
        volume.started = true;
        if (!this.bricksDieAgain) volume.down?.clear();
        return xml(`  <volStart>\n    <volume>\n      <name>${volume.name}</name>\n      <id>8913606e-a106-4a51-b7a9-d0d7188b6b1f</id>\n    </volume>\n  </volStart>`);
      case 'add-brick':
        if (!volume) return refused(`Volume ${p.Volume} does not exist`);
        for (const b of bricks) if (!this.pool.has(b.host)) return refused(`Host ${b.host} is not in 'Peer in Cluster' state`);
        // Whole sets in the volume's own layout (fixtures/arbiter-add-brick-two.xml: "Operation failed").
        if (bricks.length % volume.replica !== 0) return refused('Operation failed');
        if (p.Replica && p.Replica !== '0' && Number(p.Replica) !== volume.replica) return refused('changing the replica count is not modelled');
        if (Number(p.Arbiter ?? '0') !== (volume.arbiter ?? 0) && p.Replica !== '0') return refused('Operation failed');
        volume.bricks.push(...bricks);
        return done('volAddBrick');
      case 'rebalance-start':
        if (!volume) return refused(`Volume ${p.Volume} does not exist`);
        volume.rebalance = { reads: 0, until: this.rebalanceReads, failures: 0 };
        return xml('  <volRebalance>\n    <task-id>15397bf7-08b1-4cd4-837d-0878f1b48c00</task-id>\n    <op>1</op>\n  </volRebalance>');
      case 'rebalance-status': {
        if (!volume?.rebalance) return refused('Rebalance not started for volume');
        volume.rebalance.reads += 1;
        const complete = volume.rebalance.reads >= volume.rebalance.until;
        return this.taskXml('volRebalance', volume, complete ? 3 : 1, complete ? 'completed' : 'in progress', volume.rebalance.reads * 10, volume.rebalance.failures);
      }
      case 'replace-brick': {
        if (!volume || bricks.length !== 2) return refused('replace-brick needs old,new');
        const at = volume.bricks.findIndex((b) => b.host === bricks[0]!.host && b.path === bricks[0]!.path);
        if (at < 0) return refused(`brick ${p.Bricks} is not part of volume`);
        volume.bricks[at] = bricks[1]!;
        volume.heal = this.healEntries;
        return done('volReplaceBrick');
      }
      case 'heal-full':
        // The script prints nothing on stdout: gluster answers heal full in plain text, logged to stderr.
        return '';
      case 'remove-brick-start':
        if (!volume) return refused(`Volume ${p.Volume} does not exist`);
        volume.removing = { bricks: p.Bricks!.split(','), reads: 0, until: this.removeReads };
        return done('volRemoveBrick');
      case 'remove-brick-status': {
        if (!volume?.removing) return refused('remove-brick not started');
        if (this.removeStatusGatherFailures > 0) {
          this.removeStatusGatherFailures -= 1;
          return refused(`Brick ops failed on ${volume.removing.bricks[0]!.split(':')[0]}. Glusterd Syncop Mgmt brick op 'Rebalance' failed. Please check brick log file for details.`);
        }
        volume.removing.reads += 1;
        const complete = volume.removing.reads >= volume.removing.until;
        return this.taskXml('volRemoveBrick', volume, complete ? 3 : 1, complete ? 'completed' : 'in progress', volume.removing.reads * 7, 0);
      }
      case 'remove-brick-commit': {
        if (!volume?.removing) return refused('remove-brick not started');
        if (volume.removing.reads < volume.removing.until) return refused('remove-brick migration not complete: committing now loses data');
        const gone = new Set(volume.removing.bricks);
        volume.bricks = volume.bricks.filter((b) => !gone.has(`${b.host}:${b.path}`));
        delete volume.removing;
        return done('volRemoveBrick');
      }
      case 'peer-detach': {
        const peer = p.Peer ?? '';
        if (!this.pool.has(peer)) return '';
        if (this.volumes.some((v) => v.bricks.some((b) => b.host === peer))) return refused(`peer detach: failed: Peer ${peer} hosts one or more bricks.`);
        this.pool.delete(peer);
        return done('peerDetach');
      }
      default:
        return refused(`unknown action ${p.Action}`);
    }
  }

  private taskXml(tag: string, volume: FakeVolume, code: number, text: string, files: number, failures: number): string {
    const hosts = [...new Set(volume.bricks.map((b) => b.host))];
    const node = (name: string) => `    <node>\n      <nodeName>${name}</nodeName>\n      <id>${uuid(name)}</id>\n      <files>${files}</files>\n      <size>${files * 1024}</size>\n      <lookups>${files * 3}</lookups>\n      <failures>${failures}</failures>\n      <skipped>0</skipped>\n      <status>${code}</status>\n      <statusStr>${text}</statusStr>\n      <runtime>${files}.00</runtime>\n    </node>`;
    const aggregate = `    <aggregate>\n      <files>${files * hosts.length}</files>\n      <size>${files * 1024 * hosts.length}</size>\n      <lookups>0</lookups>\n      <failures>${failures}</failures>\n      <skipped>0</skipped>\n      <status>${code}</status>\n      <statusStr>${text}</statusStr>\n      <runtime>${files}.00</runtime>\n    </aggregate>`;
    return xml(`  <${tag}>\n    <task-id>7f30491e-1d0a-499a-b5a7-00e5fec383cb</task-id>\n    <nodeCount>${hosts.length}</nodeCount>\n${hosts.map(node).join('\n')}\n${aggregate}\n  </${tag}>`);
  }

  /** What storage-gluster-status.sh prints on `on`: marker lines, then gluster's XML. */
  public statusBundle(on: FakeNode, wanted: readonly string[]): string {
    const parts: string[] = [];
    const peers = [...this.pool].filter((ip) => ip !== on.ip).map((ip) =>
      `    <peer>\n      <uuid>${uuid(ip)}</uuid>\n      <hostname>${ip}</hostname>\n      <hostnames>\n        <hostname>${ip}</hostname>\n      </hostnames>\n      <connected>${this.alive(ip) ? 1 : 0}</connected>\n      <state>3</state>\n      <stateStr>Peer in Cluster</stateStr>\n    </peer>`);
    peers.push(`    <peer>\n      <uuid>${uuid(on.ip)}</uuid>\n      <hostname>localhost</hostname>\n      <connected>1</connected>\n    </peer>`);
    parts.push('### gluster-status pool-list rc=0 ###', xml(`  <peerStatus>\n${peers.join('\n')}\n  </peerStatus>`));
    const vols = this.volumes.map((v) => {
      const sets = v.bricks.length / v.replica;
      // As fixtures/volume-info-arbiter-2x3.xml: the last brick of each set of an arbiter volume is the arbiter.
      const isArbiter = (i: number) => (v.arbiter && i % v.replica === v.replica - 1 ? 1 : 0);
      const bricks = v.bricks.map((b, i) => `          <brick uuid="${uuid(b.host)}">${b.host}:${b.path}<name>${b.host}:${b.path}</name><hostUuid>${uuid(b.host)}</hostUuid><isArbiter>${isArbiter(i)}</isArbiter></brick>`).join('\n');
      const options = Object.entries(this.optionsOf(v)).map(([name, value]) => `          <option>\n            <name>${name}</name>\n            <value>${value}</value>\n          </option>`);
      const optionsXml = options.length ? `<options>\n${options.join('\n')}\n        </options>` : '<options/>';
      return `      <volume>\n        <name>${v.name}</name>\n        <id>8913606e-a106-4a51-b7a9-d0d7188b6b1f</id>\n        <status>${v.started ? 1 : 0}</status>\n        <statusStr>${v.started ? 'Started' : 'Created'}</statusStr>\n        <brickCount>${v.bricks.length}</brickCount>\n        <distCount>${sets}</distCount>\n        <replicaCount>${v.replica}</replicaCount>\n        <arbiterCount>${v.arbiter ?? 0}</arbiterCount>\n        <disperseCount>0</disperseCount>\n        <type>${sets > 1 ? 7 : 2}</type>\n        <typeStr>${sets > 1 ? 'Distributed-Replicate' : 'Replicate'}</typeStr>\n        <bricks>\n${bricks}\n        </bricks>\n        <optCount>${options.length}</optCount>\n        ${optionsXml}\n      </volume>`;
    });
    parts.push('### gluster-status volume-info rc=0 ###', xml(`  <volInfo>\n    <volumes>\n${vols.join('\n')}\n      <count>${vols.length}</count>\n    </volumes>\n  </volInfo>`));
    for (const v of this.volumes.filter((x) => x.started && wanted.includes(x.name))) {
      const sets = v.bricks.length / v.replica;
      const used = Math.round(v.usedBytes / sets);
      // A brick killed on a live member (down), or stopped by glusterd for server quorum: status 0, pid -1
      // (fixtures/volume-status-detail-config-brick-killed.xml, volume-status-detail-server-quorum-lost.xml).
      const stopped = this.quorumStopped(v);
      const dead = (b: { host: string; path: string }) => stopped || (v.down?.has(`${b.host}:${b.path}`) ?? false);
      const nodes = v.bricks.map((b, i) => ({ b, i })).filter(({ b }) => this.alive(b.host)).map(({ b, i }) =>
        `        <node>\n          <hostname>${b.host}</hostname>\n          <path>${b.path}</path>\n          <peerid>${uuid(b.host)}</peerid>\n          <status>${dead(b) ? 0 : 1}</status>\n          <port>${dead(b) ? 'N/A' : 49152}</port>\n          <pid>${dead(b) ? -1 : 1400}</pid>\n          <sizeTotal>${this.diskBytes}</sizeTotal>\n          <sizeFree>${this.diskBytes - (v.arbiter && i % v.replica === v.replica - 1 ? Math.min(used, 64 * 1024 ** 2) : used)}</sizeFree>\n          <device>/dev/nvme1n1</device>\n          <fsName>xfs</fsName>\n        </node>`);
      if (this.busyStatusSections > 0) {
        this.busyStatusSections -= 1;
        parts.push(`### gluster-status volume-status-detail ${v.name} rc=1 ###`, refused('Another transaction is in progress for pydio-data. Please try again after some time.'));
        continue;
      }
      parts.push(`### gluster-status volume-status-detail ${v.name} rc=0 ###`, xml(`  <volStatus>\n    <volumes>\n      <volume>\n        <volName>${v.name}</volName>\n        <nodeCount>${nodes.length}</nodeCount>\n${nodes.join('\n')}\n      </volume>\n    </volumes>\n  </volStatus>`));
      if (v.rebalance && this.statusRebalanceGatherFailures > 0) {
        this.statusRebalanceGatherFailures -= 1;
        parts.push(`### gluster-status rebalance-status ${v.name} rc=1 ###`, refused("Glusterd Syncop Mgmt brick op 'Rebalance' failed. Please check brick log file for details."));
      } else if (v.rebalance) {
        // As `gluster volume rebalance <v> status` (the rebalance-status action): each read moves it on.
        v.rebalance.reads += 1;
        const complete = v.rebalance.reads >= v.rebalance.until;
        parts.push(`### gluster-status rebalance-status ${v.name} rc=0 ###`, this.taskXml('volRebalance', v, complete ? 3 : 1, complete ? 'completed' : 'in progress', v.rebalance.reads * 10, v.rebalance.failures));
      } else {
        parts.push(`### gluster-status rebalance-status ${v.name} rc=1 ###`, refused(`Volume ${v.name} is not a distribute volume or contains only 1 brick.`));
      }
      const pendingPerBrick = v.heal;
      const split = v.splitBrain ?? [];
      const heal = v.bricks.map((b) => this.alive(b.host) && !dead(b)
        ? `      <brick hostUuid="${uuid(b.host)}">\n        <name>${b.host}:${b.path}</name>\n        <status>Connected</status>\n        <totalNumberOfEntries>${pendingPerBrick + split.length}</totalNumberOfEntries>\n        <numberOfEntriesInHealPending>${pendingPerBrick}</numberOfEntriesInHealPending>\n        <numberOfEntriesInSplitBrain>${split.length}</numberOfEntriesInSplitBrain>\n        <numberOfEntriesPossiblyHealing>0</numberOfEntriesPossiblyHealing>\n      </brick>`
        : `      <brick hostUuid="-">\n        <name>${b.host}:${b.path}</name>\n        <status>Transport endpoint is not connected</status>\n      </brick>`);
      parts.push(`### gluster-status heal-info-summary ${v.name} rc=${stopped ? 1 : 0} ###`, stopped
        // Bricks stopped for server quorum: heal info cannot load the volume (fixtures/heal-info-summary-server-quorum-lost.xml).
        ? `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cliOutput>\n  <healInfo>\n    <bricks/>\n  </healInfo>\n  <opRet>-1</opRet>\n  <opErrno>5</opErrno>\n  <opErrstr>${v.name}: Not able to fetch volfile from glusterd</opErrstr>\n</cliOutput>`
        : `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cliOutput>\n  <healInfo>\n    <bricks>\n${heal.join('\n')}\n    </bricks>\n  </healInfo>\n  <opRet>0</opRet>\n  <opErrno>0</opErrno>\n  <opErrstr/>\n</cliOutput>`);
      if (split.length > 0 && !stopped) {
        // As storage-gluster-status.sh: the listing only when the summary counts split-brain entries.
        const gfid = (i: number) => `00000000-0000-4000-9000-${String(i).padStart(12, '0')}`;
        const listed = v.bricks.filter((b) => this.alive(b.host) && !dead(b)).map((b, n) =>
          `      <brick hostUuid="${uuid(b.host)}">\n        <name>${b.host}:${b.path}</name>\n${split.slice(0, 50).map((f, i) => `        <file gfid="${gfid(i)}">${n === 0 ? `&lt;gfid:${gfid(i)}&gt;` : f.replace(/&/g, '&amp;')}</file>`).join('\n')}\n        <status>Connected</status>\n        <numberOfEntries>${split.length}</numberOfEntries>\n      </brick>`);
        parts.push(`### gluster-status heal-info-split-brain ${v.name} rc=0 ###`, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cliOutput>\n  <healInfo>\n    <bricks>\n${listed.join('\n')}\n    </bricks>\n  </healInfo>\n  <opRet>0</opRet>\n  <opErrno>0</opErrno>\n  <opErrstr/>\n</cliOutput>`);
      }
      // Self-heal moves on between two reads.
      v.heal = Math.max(0, v.heal - 15);
    }
    parts.push(BUNDLE_END);
    return `${parts.join('\n')}\n`;
  }
}

/** What storage-gluster-status.sh prints by default (Encoding gzip-base64): the bundle framed, compressed, encoded. */
export function frameStatus(plain: string): string {
  const raw = Buffer.from(plain, 'utf8');
  const sha = createHash('sha256').update(raw).digest('hex');
  return `### gluster-status-bundle encoding=gzip+base64 bytes=${raw.length} sha256=${sha} ###\n${gzipSync(raw, { level: 9 }).toString('base64')}\n### gluster-status-bundle end ###\n`;
}
