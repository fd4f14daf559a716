/**
 * The sandbox's real hosts: the seams of test/sandbox/control-plane/types.ts
 * implemented on this machine.
 *
 * - `NamespaceHosts` (HostProvider + HostExecutor): each emulated instance is
 *   a Linux network namespace on the sandbox bridge carrying the instance's
 *   private IP, plus a private mount/UTS namespace with its own /run, /etc
 *   (an overlay), /var/www, /mnt, /srv, /var/lib/glusterd, ...
 *   Storage hosts run glusterd; compute hosts run Apache+PHP serving the
 *   stand-in app (test/sandbox/app). Run Command steps run inside with bash.
 * - `HaproxyDataPlane` (DataPlane): one HAProxy in the root namespace, a
 *   listener on 127.0.0.1 and a backend per target group, servers added and
 *   drained at runtime through its admin socket.
 *
 * The work is done by the scripts in test/sandbox/bin/ (each usable by hand);
 * this module runs them and keeps the records.
 */
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { CommandResult, DataPlane, DataPlaneState, HostExecutor, HostProvider, LaunchedInstance, Target, TargetGroupHealthCheck } from '../control-plane/types';

export const BIN_DIR = path.resolve(__dirname, '../bin');
export const REPO_DIR = path.resolve(__dirname, '../../..');
const MAX_OUTPUT_CHARS = 1024 * 1024;
/** The environment SSM Agent gives a runShellScript step, before SSM_ parameters. */
const SSM_BASE_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/root',
  LANG: 'C.UTF-8',
};

// ---------------------------------------------------------------- errors

/** Any failure of the sandbox hosts. */
export class SandboxHostError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SandboxHostError';
  }
}

/** This machine cannot run the sandbox hosts (not root, no namespaces, no FUSE, missing package). */
export class SandboxUnavailableError extends SandboxHostError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SandboxUnavailableError';
  }
}

/** A sandbox script exited non-zero. */
export class SandboxScriptError extends SandboxHostError {
  constructor(
    readonly script: string,
    readonly result: CommandResult,
  ) {
    super(`${script} failed (exit ${result.exitCode}${result.timedOut ? ', timed out' : ''}): ${lastLines(result.stderr || result.stdout, 5)}`);
    this.name = 'SandboxScriptError';
  }
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ');
}

// ---------------------------------------------------------------- options

export interface SandboxOptions {
  /** Per-run state dir recording everything created (default `<repo>/.sandbox`). */
  readonly stateDir?: string;
  /** Bridge in the root namespace (default `pasbr0`). */
  readonly bridge?: string;
  /** The bridge's address; its prefix is the hosts' prefix (default `10.71.0.1/16`). */
  readonly bridgeCidr?: string;
}

interface ResolvedOptions {
  readonly stateDir: string;
  readonly bridge: string;
  readonly bridgeCidr: string;
}

function resolveOptions(options: SandboxOptions = {}): ResolvedOptions {
  const bridge = options.bridge ?? 'pasbr0';
  if (!/^pasbr[A-Za-z0-9-]{0,10}$/.test(bridge)) throw new SandboxHostError(`bridge name '${bridge}' must start with 'pasbr' and fit in 15 characters`);
  const bridgeCidr = options.bridgeCidr ?? '10.71.0.1/16';
  if (!/^\d{1,3}(\.\d{1,3}){3}\/16$/.test(bridgeCidr)) throw new SandboxHostError(`bridge address '${bridgeCidr}' must be an IPv4 address with prefix /16`);
  return { stateDir: path.resolve(options.stateDir ?? path.join(REPO_DIR, '.sandbox')), bridge, bridgeCidr };
}

function scriptEnv(o: ResolvedOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return { ...env, PAS_STATE_DIR: o.stateDir, PAS_BRIDGE: o.bridge, PAS_BRIDGE_CIDR: o.bridgeCidr };
}

// ---------------------------------------------------------------- processes

/**
 * Runs a command in its own process group, collecting output; on timeout the
 * whole group is killed (daemons that detached into their own session live on).
 */
export function runProcess(
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  timeoutSeconds: number,
  input?: string,
): Promise<CommandResult> {
  if (!(timeoutSeconds > 0)) throw new SandboxHostError(`timeout must be a positive number of seconds, got ${timeoutSeconds}`);
  return new Promise((resolve, reject) => {
    // Without input, stdin is /dev/null as under the SSM agent. A pipe here is a socketpair, and Debian's
    // bash takes a socket on stdin for a remote shell and sources ~/.bashrc (pyenv init and its rehash
    // lock, seen to cost every step 60 s), which no real Run Command step does.
    const child = spawn(command, args, { env, detached: true, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < MAX_OUTPUT_CHARS) stdout += d;
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_OUTPUT_CHARS) stderr += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutSeconds * 1000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new SandboxHostError(`cannot start ${command}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ exitCode: timedOut ? 124 : (code ?? (signal ? 128 + 9 : 1)), stdout, stderr, timedOut });
    });
    if (child.stdin !== null) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(input ?? '');
    }
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

class Scripts {
  constructor(private readonly options: ResolvedOptions) {}

  async run(script: string, args: readonly string[], timeoutSeconds = 120): Promise<CommandResult> {
    const result = await runProcess('bash', [path.join(BIN_DIR, script), ...args], scriptEnv(this.options), timeoutSeconds);
    if (result.exitCode !== 0) throw new SandboxScriptError(`${script} ${args.join(' ')}`.trim(), result);
    return result;
  }

  /** Like run, but hands back a failed result instead of throwing. */
  attempt(script: string, args: readonly string[], timeoutSeconds: number, extraEnv: Readonly<Record<string, string>> = {}): Promise<CommandResult> {
    return runProcess('bash', [path.join(BIN_DIR, script), ...args], { ...scriptEnv(this.options), ...extraEnv }, timeoutSeconds);
  }
}

/** Throws SandboxUnavailableError with one sentence when this machine cannot run the hosts. */
export async function checkSandboxPrerequisites(): Promise<void> {
  const result = await runProcess('bash', [path.join(BIN_DIR, 'preflight.sh')], scriptEnv(resolveOptions()), 30);
  if (result.exitCode !== 0) {
    const line = result.stderr.trim().split('\n').pop() ?? '';
    throw new SandboxUnavailableError(line.replace(/^.*error: /, '') || 'the sandbox hosts cannot run on this machine');
  }
}

/** Removes everything recorded in the state dir (hosts, HAProxy, bridge). Idempotent. */
export async function teardownSandbox(options: SandboxOptions = {}): Promise<void> {
  await new Scripts(resolveOptions(options)).run('teardown.sh', [], 180);
}

// ---------------------------------------------------------------- hosts

export type HostRole = 'compute' | 'storage';

interface HostRecord {
  readonly instanceId: string;
  readonly ip: string;
  readonly role: HostRole;
  readonly availabilityZone: string;
}

const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export interface NamespaceHostsOptions extends SandboxOptions {
  /**
   * Seconds from a host being up to its SSM agent being registered (default 0): until then the
   * agent is not online (no command is delivered, DescribeInstanceInformation does not list it).
   */
  readonly agentRegistrationSeconds?: number;
}

/** Instances' real hosts, and the executor of Run Command steps on them. */
export class NamespaceHosts implements HostProvider, HostExecutor {
  private readonly options: ResolvedOptions;
  private readonly scripts: Scripts;
  private readonly records = new Map<string, HostRecord>();
  /** When each host created here was up (ms since the epoch): its agent registers agentRegistrationSeconds later. */
  private readonly upAt = new Map<string, number>();
  private readonly agentRegistrationMs: number;
  /** Host creation and removal are serialized (bridge creation, ids). */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  /**
   * @param roles Auto Scaling group name -> the kind of host its instances get.
   * @param dataPlane When given, a terminated instance is also removed from it.
   */
  constructor(
    private readonly roles: Readonly<Record<string, HostRole>>,
    options: NamespaceHostsOptions = {},
    private readonly dataPlane?: HaproxyDataPlane,
  ) {
    for (const [group, role] of Object.entries(roles)) {
      if (role !== 'compute' && role !== 'storage') throw new SandboxHostError(`group '${group}': role must be 'compute' or 'storage', got '${String(role)}'`);
    }
    const delay = options.agentRegistrationSeconds ?? 0;
    if (!(Number.isFinite(delay) && delay >= 0 && delay <= 600)) throw new SandboxHostError(`agentRegistrationSeconds must be 0-600, got ${delay}`);
    this.agentRegistrationMs = delay * 1000;
    this.options = resolveOptions(options);
    this.scripts = new Scripts(this.options);
  }

  get stateDir(): string {
    return this.options.stateDir;
  }

  async onInstanceLaunched(instance: LaunchedInstance): Promise<void> {
    const role = this.roles[instance.groupName];
    if (role === undefined) throw new SandboxHostError(`instance ${instance.instanceId}: group '${instance.groupName}' has no host role (known: ${Object.keys(this.roles).join(', ') || 'none'})`);
    await this.createHost(instance.instanceId, instance.privateIp, role, instance.availabilityZone);
  }

  /** Creates a host directly (tests, demo); onInstanceLaunched does this per group. */
  async createHost(instanceId: string, privateIp: string, role: HostRole, availabilityZone = ''): Promise<void> {
    if (!INSTANCE_ID.test(instanceId)) throw new SandboxHostError(`invalid instance id '${instanceId}'`);
    const m = IPV4.exec(privateIp);
    if (m === null || m.slice(1).some((o) => Number(o) > 255)) throw new SandboxHostError(`instance ${instanceId}: invalid private IP '${privateIp}'`);
    const prefix = this.options.bridgeCidr.split('.').slice(0, 2).join('.');
    if (!privateIp.startsWith(`${prefix}.`)) throw new SandboxHostError(`instance ${instanceId}: private IP ${privateIp} is outside the sandbox network ${prefix}.0.0/16`);
    return this.serialized(async () => {
      if (this.closed) throw new SandboxHostError(`instance ${instanceId}: the sandbox is stopping, no new host is created`);
      await this.scripts.run('host-create.sh', [instanceId, privateIp, role], 120);
      this.upAt.set(instanceId, Date.now());
      this.records.set(instanceId, { instanceId, ip: privateIp, role, availabilityZone });
    });
  }

  async onInstanceTerminated(instanceId: string): Promise<void> {
    if (!INSTANCE_ID.test(instanceId)) throw new SandboxHostError(`invalid instance id '${instanceId}'`);
    if (this.dataPlane !== undefined) await this.dataPlane.removeInstance(instanceId);
    await this.serialized(async () => {
      await this.scripts.run('host-destroy.sh', [instanceId], 120);
      this.records.delete(instanceId);
    });
  }

  /**
   * Boots the initial Gluster cluster on these storage hosts (desired state):
   * peers probed, pydio-config and pydio-data replica N started, bricks online.
   */
  async bootStorage(instanceIds: readonly string[]): Promise<void> {
    if (instanceIds.length < 2) throw new SandboxHostError(`storage boot needs at least 2 storage hosts, got ${instanceIds.length}`);
    await this.scripts.run('storage-boot.sh', [...instanceIds], 180);
  }

  /** When this host's SSM agent registers (ms since the epoch), for a host created here; undefined otherwise. */
  agentOnlineAt(instanceId: string): number | undefined {
    const up = this.upAt.get(instanceId);
    return up === undefined ? undefined : up + this.agentRegistrationMs;
  }

  async isAgentOnline(instanceId: string): Promise<boolean> {
    if (!INSTANCE_ID.test(instanceId)) return false;
    const registers = this.agentOnlineAt(instanceId);
    if (registers !== undefined && Date.now() < registers) return false;
    const result = await this.scripts.attempt('hostexec.sh', [instanceId, 'true'], 10);
    return result.exitCode === 0;
  }

  async ipAddressOf(instanceId: string): Promise<string | undefined> {
    const known = this.records.get(instanceId);
    if (known !== undefined) return known.ip;
    if (!INSTANCE_ID.test(instanceId)) return undefined;
    try {
      return (await readFile(path.join(this.options.stateDir, 'hosts', instanceId, 'ip'), 'utf8')).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /** One aws:runShellScript step, as root, with SSM Agent's environment plus `env`. */
  async run(instanceId: string, script: string, env: Readonly<Record<string, string>>, timeoutSeconds: number): Promise<CommandResult> {
    if (!INSTANCE_ID.test(instanceId)) throw new SandboxHostError(`invalid instance id '${instanceId}'`);
    const assignments: string[] = [];
    for (const [name, value] of Object.entries({ ...SSM_BASE_ENV, ...env })) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new SandboxHostError(`invalid environment variable name '${name}'`);
      assignments.push(`${name}=${value}`);
    }
    // env -i: the step sees exactly SSM's environment, not ours.
    return this.scripts.attempt('hostexec.sh', [instanceId, 'env', '-i', ...assignments, 'bash', '-c', script, 'ssm-step'], timeoutSeconds);
  }

  /** Runs argv inside the host (tests); throws when it fails. */
  async exec(instanceId: string, argv: readonly string[], timeoutSeconds = 60): Promise<string> {
    const result = await this.scripts.attempt('hostexec.sh', [instanceId, ...argv], timeoutSeconds);
    if (result.exitCode !== 0) throw new SandboxScriptError(`hostexec.sh ${instanceId} ${argv.join(' ')}`, result);
    return result.stdout;
  }

  /**
   * Refuses further host creation and waits for the host operations already
   * under way: a launch still in flight when the sandbox stops would otherwise
   * create its host (and the bridge) again after the teardown removed them.
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

// ---------------------------------------------------------------- data plane

export interface Listener {
  /** Port on 127.0.0.1 (default 18080 for the first listener). */
  readonly port: number;
  /** Target group name (the `name` in `targetgroup/name/id`) served here; unnamed listeners take the first unknown group. */
  readonly targetGroupName?: string;
  /**
   * The target group's app_cookie stickiness (stickiness.app_cookie.cookie_name and
   * .duration_seconds); absent = stickiness off, as a target group's default.
   */
  readonly stickiness?: { readonly cookieName: string; readonly durationSeconds: number };
}

export interface HaproxyOptions extends SandboxOptions {
  readonly listeners?: readonly Listener[];
  /**
   * The target groups' health check (path, interval, timeout, thresholds, matcher): HAProxy checks
   * exactly so, and a registration into a target group whose own settings differ is refused.
   */
  readonly healthCheck: TargetGroupHealthCheck;
  /** How long a deregistered server may finish in-flight requests after draining (default 10s). */
  readonly closeGraceSeconds?: number;
}

interface StatRow {
  readonly status: string;
  readonly checkStatus: string;
  readonly checkCode: string;
  readonly currentSessions: number;
}

/**
 * A target group's data plane: HAProxy behaving as an ALB does (haproxyConfig): app_cookie
 * stickiness on the target group's cookie name, no retry or redispatch to another target, and
 * a deregistered (draining) target gets no new request, sticky or not.
 */
export class HaproxyDataPlane implements DataPlane {
  private readonly options: ResolvedOptions;
  private readonly scripts: Scripts;
  private readonly listeners: readonly Listener[];
  private readonly bound = new Map<string, string>(); // target group ARN -> backend
  private readonly draining = new Map<string, NodeJS.Timeout>(); // backend/server -> removal timer
  private readonly everHealthy = new Set<string>();
  private readonly healthCheck: TargetGroupHealthCheck;
  private readonly closeGraceSeconds: number;

  constructor(options: HaproxyOptions) {
    this.options = resolveOptions(options);
    this.scripts = new Scripts(this.options);
    this.listeners = options.listeners ?? [{ port: 18080 }];
    if (this.listeners.length === 0) throw new SandboxHostError('the data plane needs at least one listener');
    for (const l of this.listeners) {
      if (!Number.isInteger(l.port) || l.port < 1 || l.port > 65535) throw new SandboxHostError(`listener port ${l.port} is not a TCP port`);
    }
    this.healthCheck = checkedHealthCheck(options.healthCheck);
    this.closeGraceSeconds = options.closeGraceSeconds ?? 10;
  }

  get socketPath(): string {
    return path.join(this.options.stateDir, 'haproxy', 'admin.sock');
  }

  /** Writes the config and starts HAProxy (idempotent). */
  async start(): Promise<void> {
    const dir = path.join(this.options.stateDir, 'haproxy');
    await mkdir(dir, { recursive: true });
    const cfg = path.join(dir, 'haproxy.cfg');
    await writeFile(cfg, this.config());
    await this.scripts.run('haproxy.sh', ['start', cfg], 30);
  }

  async stop(): Promise<void> {
    for (const timer of this.draining.values()) clearTimeout(timer);
    this.draining.clear();
    await this.scripts.run('haproxy.sh', ['stop'], 30);
  }

  /** The loopback URL of the listener serving this target group (or the first one). */
  urlOf(targetGroupArn?: string): string {
    const backend = targetGroupArn === undefined ? undefined : this.bound.get(targetGroupArn);
    const index = backend === undefined ? 0 : Number(backend.slice('be_'.length));
    return `http://127.0.0.1:${this.listeners[index]!.port}`;
  }

  async register(targetGroupArn: string, target: Target, healthCheck?: TargetGroupHealthCheck): Promise<void> {
    if (healthCheck !== undefined && !sameHealthCheck(healthCheck, this.healthCheck)) {
      // An emulator that checked differently from the target group would pass or fail targets the ALB would not.
      throw new SandboxHostError(
        `target group ${targetGroupArn} checks ${describeHealthCheck(healthCheck)}, but HAProxy was started to check ${describeHealthCheck(this.healthCheck)}: start the data plane with the target group's health check`,
      );
    }
    const backend = this.backendOf(targetGroupArn);
    const server = serverName(target);
    if (!IPV4.test(target.ip)) throw new SandboxHostError(`target ${target.instanceId}: invalid IP '${target.ip}'`);
    const pending = this.draining.get(`${backend}/${server}`);
    if (pending !== undefined) {
      // Re-registered while draining: back to service, like ELB.
      clearTimeout(pending);
      this.draining.delete(`${backend}/${server}`);
      await this.command(`set server ${backend}/${server} state ready`);
      return;
    }
    if ((await this.stat(backend, server)) !== undefined) return;
    // Dynamic servers take no default-server settings: the check's rhythm is given per server.
    const { intervalSeconds, unhealthyThreshold, healthyThreshold } = this.healthCheck;
    const added = await this.command(`add server ${backend}/${server} ${target.ip}:${target.port} check inter ${intervalSeconds}s fall ${unhealthyThreshold} rise ${healthyThreshold}`);
    if (!/New server registered/.test(added)) throw new SandboxHostError(`haproxy refused server ${server}: ${added.trim()}`);
    this.everHealthy.delete(`${backend}/${server}`);
    await this.command(`enable health ${backend}/${server}`);
    // Ready and forced down in one go: no traffic before `rise` checks pass.
    await this.command(`set server ${backend}/${server} state ready;set server ${backend}/${server} health down`);
  }

  async deregister(targetGroupArn: string, target: Target, delaySeconds: number): Promise<void> {
    if (!(delaySeconds >= 0)) throw new SandboxHostError(`deregistration delay must be >= 0 seconds, got ${delaySeconds}`);
    const backend = this.backendOf(targetGroupArn);
    const server = serverName(target);
    const key = `${backend}/${server}`;
    if (this.draining.has(key) || (await this.stat(backend, server)) === undefined) return;
    // ELB "stops sending requests to targets that are deregistering" (DeregisterTargets), sticky
    // sessions included. HAProxy's `drain` state would still take persistent (sticky) requests;
    // `maint` takes none and lets in-flight ones finish, which is what ELB's connection draining does.
    await this.command(`set server ${key} state maint`);
    const timer = setTimeout(() => {
      void this.removeServer(backend, server).catch(() => undefined);
    }, delaySeconds * 1000);
    timer.unref();
    this.draining.set(key, timer);
  }

  async health(targetGroupArn: string, instanceId: string, port: number): Promise<{ state: DataPlaneState; reason?: string; description?: string } | undefined> {
    const backend = this.bound.get(targetGroupArn);
    if (backend === undefined) return undefined;
    const server = serverName({ instanceId, port });
    const row = await this.stat(backend, server);
    if (row === undefined) return undefined;
    const key = `${backend}/${server}`;
    if (this.draining.has(key)) return { state: 'draining', reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress' };
    const mapped = mapHealth(row, this.everHealthy.has(key));
    if (mapped.state === 'healthy') this.everHealthy.add(key);
    return mapped;
  }

  /** Drops every server of this instance at once (instance terminated). */
  async removeInstance(instanceId: string): Promise<void> {
    if (!existsSync(this.socketPath)) return;
    const rows = await this.statRows();
    for (const key of rows.keys()) {
      const [backend, server] = key.split('/') as [string, string];
      if (server.startsWith(`${instanceId}-`)) {
        const timer = this.draining.get(key);
        if (timer !== undefined) clearTimeout(timer);
        await this.removeServer(backend, server, 0);
      }
    }
  }

  /** Maintenance (no new requests), let in-flight ones finish, then delete. */
  private async removeServer(backend: string, server: string, graceSeconds = this.closeGraceSeconds): Promise<void> {
    const key = `${backend}/${server}`;
    try {
      await this.command(`set server ${key} state maint`);
      const deadline = Date.now() + graceSeconds * 1000;
      for (let i = 0; i < 10_000; i += 1) {
        const row = await this.stat(backend, server);
        if (row === undefined || row.currentSessions === 0 || Date.now() >= deadline) break;
        await sleep(100);
      }
      await this.command(`shutdown sessions server ${key}`);
      for (let i = 0; i < 50; i += 1) {
        const answer = await this.command(`del server ${key}`);
        if (/Server deleted|No such server/i.test(answer)) return;
        await sleep(100);
      }
      throw new SandboxHostError(`haproxy would not delete server ${key}`);
    } finally {
      this.draining.delete(key);
      this.everHealthy.delete(key);
    }
  }

  private backendOf(targetGroupArn: string): string {
    const known = this.bound.get(targetGroupArn);
    if (known !== undefined) return known;
    const name = /:targetgroup\/([^/]+)\//.exec(targetGroupArn)?.[1];
    const taken = new Set(this.bound.values());
    let index = this.listeners.findIndex((l, i) => l.targetGroupName !== undefined && l.targetGroupName === name && !taken.has(`be_${i}`));
    if (index < 0) index = this.listeners.findIndex((l, i) => l.targetGroupName === undefined && !taken.has(`be_${i}`));
    if (index < 0) throw new SandboxHostError(`no free HAProxy listener for target group ${targetGroupArn} (listeners: ${this.listeners.map((l) => `${l.port}${l.targetGroupName ? `=${l.targetGroupName}` : ''}`).join(', ')})`);
    const backend = `be_${index}`;
    this.bound.set(targetGroupArn, backend);
    return backend;
  }

  private config(): string {
    return haproxyConfig(this.socketPath, this.listeners, this.healthCheck);
  }

  private async stat(backend: string, server: string): Promise<StatRow | undefined> {
    return (await this.statRows()).get(`${backend}/${server}`);
  }

  private async statRows(): Promise<Map<string, StatRow>> {
    return parseStat(await this.command('show stat'));
  }

  /** One runtime API command (or several, `;`-separated) over the admin socket. */
  command(line: string): Promise<string> {
    if (/[\n\r]/.test(line)) throw new SandboxHostError('haproxy command must be one line');
    return new Promise((resolve, reject) => {
      const socket = createConnection(this.socketPath);
      let answer = '';
      socket.setEncoding('utf8');
      socket.setTimeout(5000, () => socket.destroy(new SandboxHostError(`haproxy did not answer '${line}'`)));
      socket.on('connect', () => socket.end(`${line}\n`));
      socket.on('data', (d: string) => (answer += d));
      socket.on('error', (err) => reject(new SandboxHostError(`haproxy admin socket ${this.socketPath}: ${err.message}`, { cause: err })));
      socket.on('close', () => resolve(answer));
    });
  }
}

/** A cookie name HAProxy can take literally and an ALB accepts (RFC 6265 token, no AWSALB prefix). */
const COOKIE_TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/;

/**
 * HAProxy configuration of the emulated ALB, one frontend/backend per listener.
 * - No `option redispatch`, `retries 0`: an ALB sends a request to one target and answers
 *   with an error when that target fails (HTTP 502/504); it does not retry on another one.
 * - app_cookie stickiness ("Sticky sessions for your Application Load Balancer", application-based
 *   stickiness): it engages only when a target's response sets the cookie named in the target
 *   group ("The target is expected to set a custom application cookie that matches the cookie
 *   configured on the load balancer"); requests carrying that session go to the same target for
 *   the stickiness duration, reset on each request; an unhealthy or deregistering target is left
 *   for a healthy one (HAProxy ignores a stick entry that points at a down or maint server), and
 *   the session then stays on that new target even when the old one comes back.
 */
export function haproxyConfig(socketPath: string, listeners: readonly Listener[], healthCheck: TargetGroupHealthCheck): string {
  const check = checkedHealthCheck(healthCheck);
  const lines = [
    'global',
    `  stats socket ${socketPath} mode 600 level admin`,
    '  stats timeout 30s',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    // An ALB closes a connection idle for its idle timeout, 60 s by default, on both sides
    // (idle_timeout.timeout_seconds); 2 s here closed pooled client connections under their users.
    '  timeout http-keep-alive 60s',
    '  # as an ALB: one target per request, no retry elsewhere',
    '  retries 0',
    '  no option redispatch',
  ];
  listeners.forEach((l, i) => {
    lines.push(
      `frontend fe_${i}`,
      `  bind 127.0.0.1:${l.port}`,
      `  default_backend be_${i}`,
      `backend be_${i}`,
      '  balance roundrobin',
      // The target group's health check: its path, its matcher, and a response within its timeout
      // (HAProxy adds the connect time, at most `timeout connect`; on the bridge a connection is
      // accepted or refused at once). Interval and thresholds are per server (register).
      `  option httpchk GET ${check.path}`,
      `  http-check expect ${httpCheckExpect(check.matcher)}`,
      `  timeout check ${check.timeoutSeconds}s`,
    );
    const sticky = l.stickiness;
    if (sticky !== undefined) {
      const { cookieName, durationSeconds } = sticky;
      if (!COOKIE_TOKEN.test(cookieName) || cookieName.startsWith('AWSALB')) throw new SandboxHostError(`listener ${l.port}: '${cookieName}' is not a cookie name an ALB accepts`);
      if (!Number.isInteger(durationSeconds) || durationSeconds < 1 || durationSeconds > 604_800) throw new SandboxHostError(`listener ${l.port}: stickiness duration ${durationSeconds} is outside 1..604800 s`);
      lines.push(
        `  # ALB app_cookie stickiness on ${cookieName} for ${durationSeconds} s`,
        `  stick-table type string len 128 size 100k expire ${durationSeconds}s`,
        `  stick store-response res.cook(${cookieName})`,
        `  stick match req.cook(${cookieName})`,
        // Re-stored with the target that served the request: a session moved off an unhealthy
        // target stays on its new one "even if the failed target comes back", as on an ALB.
        `  stick store-request req.cook(${cookieName})`,
      );
    }
  });
  return `${lines.join('\n')}\n`;
}

/**
 * The health check as ELB accepts it (CreateTargetGroup / ModifyTargetGroup: interval 5-300 s,
 * timeout 2-120 s and shorter than the interval, thresholds 2-10, matcher codes 200-499 as
 * "200", "200,202" or "200-299"); anything else is refused, naming the setting.
 */
export function checkedHealthCheck(hc: TargetGroupHealthCheck): TargetGroupHealthCheck {
  const whole = (name: string, value: number, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max) throw new SandboxHostError(`health check ${name} ${value} is outside ${min}..${max}`);
  };
  whole('HealthCheckIntervalSeconds', hc.intervalSeconds, 5, 300);
  whole('HealthCheckTimeoutSeconds', hc.timeoutSeconds, 2, 120);
  whole('HealthyThresholdCount', hc.healthyThreshold, 2, 10);
  whole('UnhealthyThresholdCount', hc.unhealthyThreshold, 2, 10);
  if (hc.timeoutSeconds >= hc.intervalSeconds) throw new SandboxHostError(`health check timeout ${hc.timeoutSeconds} s must be smaller than the interval ${hc.intervalSeconds} s`);
  if (!/^\/[\x21-\x7e]{0,1023}$/.test(hc.path)) throw new SandboxHostError(`health check path '${hc.path}' must start with / and hold no blank`);
  matcherCodes(hc.matcher);
  return hc;
}

/** ELB's Matcher.HttpCode ("200", "200,202", "200-299") as the list of codes it accepts. */
export function matcherCodes(matcher: string): number[] {
  const codes = new Set<number>();
  for (const part of matcher.split(',')) {
    const m = /^([0-9]{3})(?:-([0-9]{3}))?$/.exec(part);
    const low = Number(m?.[1]);
    const high = m?.[2] === undefined ? low : Number(m[2]);
    if (m === null || low < 200 || high > 499 || high < low) throw new SandboxHostError(`health check matcher '${matcher}' must be codes 200-499 like 200, 200,202 or 200-299`);
    for (let code = low; code <= high; code += 1) codes.add(code);
  }
  return [...codes].sort((a, b) => a - b);
}

/** HAProxy's `http-check expect` for a matcher: `status 200`, or an anchored list of codes. */
export function httpCheckExpect(matcher: string): string {
  const codes = matcherCodes(matcher);
  return codes.length === 1 ? `status ${codes[0]}` : `rstatus ^(${codes.join('|')})$`;
}

function sameHealthCheck(a: TargetGroupHealthCheck, b: TargetGroupHealthCheck): boolean {
  return (
    a.path === b.path &&
    a.intervalSeconds === b.intervalSeconds &&
    a.timeoutSeconds === b.timeoutSeconds &&
    a.healthyThreshold === b.healthyThreshold &&
    a.unhealthyThreshold === b.unhealthyThreshold &&
    matcherCodes(a.matcher).join(',') === matcherCodes(b.matcher).join(',')
  );
}

function describeHealthCheck(hc: TargetGroupHealthCheck): string {
  return `${hc.path} every ${hc.intervalSeconds} s (timeout ${hc.timeoutSeconds} s, healthy after ${hc.healthyThreshold}, unhealthy after ${hc.unhealthyThreshold}, codes ${hc.matcher})`;
}

function serverName(target: { instanceId: string; port: number }): string {
  if (!INSTANCE_ID.test(target.instanceId)) throw new SandboxHostError(`invalid instance id '${target.instanceId}'`);
  if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) throw new SandboxHostError(`target ${target.instanceId}: invalid port ${target.port}`);
  return `${target.instanceId}-${target.port}`;
}

/** `show stat` CSV -> rows by `backend/server` (servers only). */
export function parseStat(csv: string): Map<string, StatRow> {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0];
  if (header === undefined || !header.startsWith('# ')) throw new SandboxHostError(`unexpected haproxy 'show stat' answer: ${csv.slice(0, 200)}`);
  const cols = header.slice(2).split(',');
  const at = (name: string): number => {
    const i = cols.indexOf(name);
    if (i < 0) throw new SandboxHostError(`haproxy 'show stat' has no column ${name}`);
    return i;
  };
  const [px, sv, status, checkStatus, checkCode, scur] = ['pxname', 'svname', 'status', 'check_status', 'check_code', 'scur'].map(at) as [number, number, number, number, number, number];
  const rows = new Map<string, StatRow>();
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    if (f[sv] === 'FRONTEND' || f[sv] === 'BACKEND') continue;
    rows.set(`${f[px]}/${f[sv]}`, { status: f[status] ?? '', checkStatus: (f[checkStatus] ?? '').replace(/^\* /, ''), checkCode: f[checkCode] ?? '', currentSessions: Number(f[scur] ?? 0) || 0 });
  }
  return rows;
}

/** HAProxy's view of one server -> the target health ELB would report. */
export function mapHealth(row: StatRow, wasHealthy: boolean): { state: DataPlaneState; reason?: string; description?: string } {
  const status = row.status;
  if (status === 'DRAIN' || status.startsWith('NOLB')) return { state: 'draining', reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress' };
  if (status === 'UP' || status.startsWith('UP ')) return { state: 'healthy' };
  if (status.startsWith('MAINT')) return { state: 'unhealthy', reason: 'Target.NotInUse', description: 'Target is in maintenance' };
  const initial = { state: 'initial' as const, reason: 'Elb.InitialHealthChecking', description: 'Initial health checks in progress' };
  if (row.checkStatus === '' || row.checkStatus.startsWith('INI')) return initial;
  if (status.startsWith('DOWN ') && !wasHealthy) return initial; // going up, first time
  if (/^L7STS/.test(row.checkStatus)) return { state: 'unhealthy', reason: 'Target.ResponseCodeMismatch', description: `Health checks failed with these codes: [${row.checkCode}]` };
  if (/TOUT$/.test(row.checkStatus)) return { state: 'unhealthy', reason: 'Target.Timeout', description: 'Request timed out' };
  return { state: 'unhealthy', reason: 'Target.FailedHealthChecks', description: `Health checks failed (${row.checkStatus})` };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
