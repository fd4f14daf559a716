/**
 * Drive the sandbox from a shell:
 *
 *   npx tsx test/sandbox/cli.ts up                 boot a daemon; returns once it is ready (or failed: log tail)
 *   npx tsx test/sandbox/cli.ts status [--json]    groups, instances + lifecycle states, targets + health, hosts
 *   npx tsx test/sandbox/cli.ts scale <n> [--wait] set the compute group's desired capacity (--wait: until steady)
 *   npx tsx test/sandbox/cli.ts invoke <function> '<json>'
 *   npx tsx test/sandbox/cli.ts alarm <name> <OK|ALARM> [--value <n>]   set it in moto and deliver its state-change event
 *   npx tsx test/sandbox/cli.ts timeline           events, actions, commands, SNS messages so far
 *   npx tsx test/sandbox/cli.ts lb                 the load balancer URL (open it in a browser)
 *   npx tsx test/sandbox/cli.ts down               tear everything down
 *
 * Every command takes `--name <n>` (default pas), `--octet <n>` (10.<n>.0.0/16,
 * default 71), `--lb-port <n>` (default 18080, 0 = any free port) and
 * `--state-dir <dir>` (default <repo>/.sandbox for pas, $TMPDIR/pas-cli-<name>
 * otherwise); `up` also takes `--timeout <s>` (default 600), `--storage-max <n>`
 * (the storage group's MaxSize, default 2: room for storage expansions) and
 * `--timings <sandbox|realistic>` (default sandbox; realistic: the production waits and an
 * SSM agent registering 30 s after boot, startSandbox's `timings`).
 *
 * `up` starts a daemon (this file, command `serve`) that owns the sandbox and
 * answers the other commands on a loopback-only control port.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CloudWatchClient, DescribeAlarmsCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { clientConfig } from './control-plane/aws-setup';
import { alarmStateChangeEvent } from './control-plane/alarm-events';
import { EventBus } from './control-plane/event-bus';
import { REPO_DIR, teardownSandbox } from './hosts';
import { describeStatus, isSteady, SandboxError, startSandbox, type Sandbox, type SandboxStatus } from './sandbox';

export const STATE_DIR = path.join(REPO_DIR, '.sandbox');
const STATE_FILE_NAME = 'cli-state.json';

export interface CliState {
  readonly pid: number;
  readonly control: string;
  readonly lbUrl: string;
  readonly endpoint: string;
  readonly motoUrl: string;
  readonly computeGroup: string;
  readonly storageGroup: string;
  readonly targetGroupArn: string;
  readonly logFile: string;
  readonly startedAt: string;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
      if (body.length > 1_000_000) req.destroy(new Error('request body above 1 MB'));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

/** Serve the running sandbox on 127.0.0.1 (status, scale, invoke, timeline) and record it in .sandbox/cli-state.json. */
export async function serveControl(sb: Sandbox, stateFile = path.join(STATE_DIR, STATE_FILE_NAME)): Promise<string> {
  const reply = (res: ServerResponse, status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(`${JSON.stringify(value, null, 2)}\n`);
  };
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://control');
      const body = req.method === 'POST' ? (JSON.parse((await readBody(req)) || '{}') as Record<string, unknown>) : {};
      if (req.method === 'GET' && url.pathname === '/status') return reply(res, 200, await sb.status());
      if (req.method === 'GET' && url.pathname === '/timeline') return reply(res, 200, await sb.timeline());
      if (req.method === 'POST' && url.pathname === '/scale') {
        const desired = Number(body.desired);
        await sb.setDesiredCapacity(desired);
        return reply(res, 200, { desired });
      }
      if (req.method === 'POST' && url.pathname === '/invoke') {
        if (typeof body.function !== 'string') return reply(res, 400, { error: 'function (string) is required' });
        return reply(res, 200, await sb.invoke(body.function, body.payload));
      }
      return reply(res, 404, { error: `no route ${req.method ?? ''} ${url.pathname}` });
    })().catch((error: unknown) => reply(res, 500, { error: error instanceof Error ? error.message : String(error) }));
  });
  server.unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const control = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const state: CliState = {
    pid: process.pid,
    control,
    lbUrl: sb.lbUrl,
    endpoint: sb.endpoint,
    motoUrl: sb.motoUrl,
    computeGroup: sb.computeGroup,
    storageGroup: sb.storageGroup,
    targetGroupArn: sb.targetGroupArn,
    logFile: sb.logFile,
    startedAt: new Date().toISOString(),
  };
  fs.mkdirSync(path.dirname(stateFile), { recursive: true });
  fs.writeFileSync(`${stateFile}.tmp`, JSON.stringify(state, null, 2));
  fs.renameSync(`${stateFile}.tmp`, stateFile);
  return control;
}

// ---------------------------------------------------------------- options

export interface CliOptions {
  readonly name: string;
  readonly octet: number;
  readonly lbPort: number;
  readonly stateDir: string;
  readonly timeoutSeconds: number;
  readonly json: boolean;
  readonly wait: boolean;
  /** `alarm --value`: the datapoint written into the state reason. */
  readonly value?: number;
  /** `up --storage-max`: the storage group's MaxSize (default 2), room for storage expansions. */
  readonly storageMax?: number;
  /** `up --timings`: startSandbox's timings (default sandbox). */
  readonly timings?: 'sandbox' | 'realistic';
}

const VALUE_FLAGS = new Set(['--name', '--octet', '--lb-port', '--state-dir', '--timeout', '--value', '--storage-max', '--timings']);
const BOOLEAN_FLAGS = new Set(['--json', '--wait']);

function intOption(flag: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isInteger(n) || n < min || n > max) throw new SandboxError(`${flag} must be an integer ${min}-${max}, got '${raw}'`);
  return n;
}

/** Splits argv into the command, its positional arguments and the options (flags may appear anywhere). */
export function parseCli(argv: readonly string[]): { cmd: string | undefined; args: string[]; options: CliOptions } {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i] ?? '';
    if (VALUE_FLAGS.has(a)) {
      const v = argv[i + 1];
      if (v === undefined) throw new SandboxError(`${a} needs a value`);
      values.set(a, v);
      i += 1;
    } else if (BOOLEAN_FLAGS.has(a)) flags.add(a);
    else if (a.startsWith('--')) throw new SandboxError(`unknown option '${a}'; ${USAGE}`);
    else positional.push(a);
  }
  const name = values.get('--name') ?? 'pas';
  if (!/^[a-z0-9]{1,8}$/.test(name)) throw new SandboxError(`--name must be 1-8 lower-case letters or digits, got '${name}'`);
  const stateDir = path.resolve(values.get('--state-dir') ?? (name === 'pas' ? STATE_DIR : path.join(os.tmpdir(), `pas-cli-${name}`)));
  const [cmd, ...args] = positional;
  const rawValue = values.get('--value');
  const value = rawValue === undefined ? undefined : Number(rawValue);
  if (value !== undefined && (rawValue?.trim() === '' || !Number.isFinite(value))) throw new SandboxError(`--value must be a number, got '${rawValue ?? ''}'`);
  const timings = values.get('--timings');
  if (timings !== undefined && timings !== 'sandbox' && timings !== 'realistic') throw new SandboxError(`--timings must be sandbox or realistic, got '${timings}'`);
  return {
    cmd,
    args,
    options: {
      name,
      octet: intOption('--octet', values.get('--octet') ?? '71', 1, 254),
      lbPort: intOption('--lb-port', values.get('--lb-port') ?? '18080', 0, 65535),
      stateDir,
      timeoutSeconds: intOption('--timeout', values.get('--timeout') ?? '600', 10, 3600),
      json: flags.has('--json'),
      wait: flags.has('--wait'),
      ...(value !== undefined ? { value } : {}),
      ...(values.has('--storage-max') ? { storageMax: intOption('--storage-max', values.get('--storage-max') ?? '', 2, 12) } : {}),
      ...(timings !== undefined ? { timings } : {}),
    },
  };
}

function stateFileOf(o: CliOptions): string {
  return path.join(o.stateDir, STATE_FILE_NAME);
}

/** Outside the state dir: teardown removes that dir, the log must survive a failed boot. */
function daemonLogOf(o: CliOptions): string {
  return path.join(os.tmpdir(), o.name === 'pas' ? 'pas-sandbox-daemon.log' : `pas-${o.name}-sandbox-daemon.log`);
}

/** The daemon's pid from `up` until the state file names it (a daemon killed while booting writes none). */
function daemonPidFileOf(o: CliOptions): string {
  return `${daemonLogOf(o).slice(0, -'.log'.length)}.pid`;
}

function optionArgs(o: CliOptions): string[] {
  return ['--name', o.name, '--octet', String(o.octet), '--lb-port', String(o.lbPort), '--state-dir', o.stateDir, ...(o.storageMax !== undefined ? ['--storage-max', String(o.storageMax)] : []), ...(o.timings !== undefined ? ['--timings', o.timings] : [])];
}

// ---------------------------------------------------------------- daemon access

function readStateFile(file: string): CliState | undefined {
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as CliState;
  } catch (error) {
    throw new SandboxError(`${file} is not valid JSON (${error instanceof Error ? error.message : String(error)}); run 'down' to clean up`);
  }
}

function readState(o: CliOptions): CliState {
  const file = stateFileOf(o);
  const state = readStateFile(file);
  if (state === undefined) throw new SandboxError(`no sandbox '${o.name}' is up (${file} is missing): run 'npx tsx test/sandbox/cli.ts up' first`);
  if (!isOurDaemon(state.pid, o.name)) throw new SandboxError(`the sandbox daemon (pid ${state.pid}) is gone; run 'npx tsx test/sandbox/cli.ts down' to clean up, then 'up'`);
  return state;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A log's lines (undefined: no log yet). */
function logLines(file: string): string[] | undefined {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trimEnd().split('\n') : undefined;
}

function logTail(file: string, lines = 30): string {
  const all = logLines(file);
  if (all === undefined) return `(no log at ${file})`;
  return all.slice(-lines).map((l) => `  | ${l}`).join('\n');
}

async function call(o: CliOptions, method: 'GET' | 'POST', route: string, body?: unknown, timeoutMs = 120_000): Promise<unknown> {
  const state = readState(o);
  const res = await fetch(`${state.control}${route}`, {
    method,
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const value = (await res.json()) as unknown;
  if (!res.ok) throw new SandboxError(`${route}: ${(value as { error?: string }).error ?? `HTTP ${res.status}`}`);
  return value;
}

function cmdlineOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Whether `pid` is this CLI's daemon for sandbox `name`, or `demo.ts --keep` serving it (a recorded pid may have been reused since). */
function isOurDaemon(pid: number, name: string): boolean {
  const cmdline = cmdlineOf(pid);
  return new RegExp(`cli\\.ts serve --name ${name} `).test(cmdline) || (name === 'pas' && /sandbox\/demo\.ts/.test(cmdline));
}

/** What a daemon starts that can outlive it: packaging (npm exec, sls, esbuild), moto, Lambda runner children. */
const DAEMON_CHILD = /\bsls\b|esbuild|npm exec|moto\.server|h6-sls|\/lambda\//;

/** Processes still in process group `pgid` that a daemon starts (the detached daemon leads its own group; children inherit it). */
function groupMembers(pgid: number): number[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,pgid='], { encoding: 'utf8' }).stdout;
  const pids: number[] = [];
  for (const line of ps.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(line);
    const pid = Number(m?.[1]);
    if (m !== null && Number(m[2]) === pgid && pid !== process.pid && DAEMON_CHILD.test(cmdlineOf(pid))) pids.push(pid);
  }
  return pids;
}

/**
 * SIGTERM our daemon (its handler tears the sandbox down) and wait for it to
 * exit; then end what it left in its process group (e.g. an `sls package` it
 * was waiting for, which its teardown does not know about). A live pid that
 * is not our daemon is left alone. False if the daemon outlived the bound.
 */
async function stopDaemon(pid: number, name: string, seconds: number): Promise<boolean> {
  if (isAlive(pid)) {
    if (!isOurDaemon(pid, name)) return true;
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < seconds * 2 && isAlive(pid); i += 1) await sleep(500);
    if (isAlive(pid)) return false;
  }
  const orphans = groupMembers(pid);
  if (orphans.length > 0) {
    for (const p of orphans) process.kill(p, 'SIGTERM');
    for (let i = 0; i < 20 && orphans.some(isAlive); i += 1) await sleep(250);
    for (const p of orphans.filter(isAlive)) process.kill(p, 'SIGKILL');
    process.stdout.write(`ended ${orphans.length} leftover process(es) of the daemon's group: ${orphans.join(', ')}\n`);
  }
  return true;
}

/** The pid of the moto server listening on `motoUrl`'s port, if one still runs (a SIGKILLed daemon leaves it). */
function motoPidOf(motoUrl: string): number | undefined {
  const port = new URL(motoUrl).port;
  if (!/^\d+$/.test(port)) return undefined;
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout;
  for (const line of ps.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined && m[2].includes('moto.server') && m[2].includes('-H 127.0.0.1') && new RegExp(`-p ${port}(\\s|$)`).test(m[2])) return Number(m[1]);
  }
  return undefined;
}

function printStatus(s: SandboxStatus): void {
  for (const g of s.groups) process.stdout.write(`group ${g.name} (${g.role}): desired ${g.desired} [min ${g.min}, max ${g.max}]\n`);
  for (const i of s.instances) process.stdout.write(`  ${i.instanceId} ${i.role.padEnd(7)} ${i.lifecycleState.padEnd(18)} ${i.availabilityZone} ${i.privateIp}\n`);
  process.stdout.write('targets:\n');
  for (const t of s.targets) process.stdout.write(`  ${t.instanceId}:${t.port} ${t.state}${t.reason ? ` (${t.reason})` : ''}\n`);
  process.stdout.write('hosts:\n');
  for (const h of s.hosts) process.stdout.write(`  ${h.instanceId} ${h.role.padEnd(7)} ${h.ip.padEnd(12)} ${h.running ? 'running' : 'stopped'}\n`);
  process.stdout.write(`${describeStatus(s)}\n`);
}

const USAGE =
  "usage: npx tsx test/sandbox/cli.ts up [--timeout <s>] [--storage-max <n>] [--timings sandbox|realistic] | status [--json] | scale <n> [--wait] | invoke <function> '<json>' | alarm <name> <OK|ALARM|INSUFFICIENT_DATA> [--value <n>] | timeline | lb | down" +
  ' [--name <n>] [--octet <n>] [--lb-port <n>] [--state-dir <dir>]';

// ---------------------------------------------------------------- progress

/** How long `scale --wait` waits for the compute group to be steady. */
const SCALE_WAIT_SECONDS = 240;
/** A phase that lasts is restated this often, so a long wait never looks like a hang. */
const PROGRESS_REPEAT_MS = 15_000;

/**
 * Progress of a long operation on stderr (stdout keeps the result alone):
 * `  [12 s] packaging the stack...`, printed when the phase changes and
 * restated every PROGRESS_REPEAT_MS while it lasts.
 */
export class Progress {
  private last = '';
  private lastAt = 0;

  constructor(
    private readonly startedAt: number,
    private readonly write: (line: string) => void = (line) => process.stderr.write(line),
    private readonly now: () => number = Date.now,
  ) {}

  show(phase: string | undefined): void {
    if (phase === undefined || phase === '') return;
    const at = this.now();
    if (phase === this.last && at - this.lastAt < PROGRESS_REPEAT_MS) return;
    this.last = phase;
    this.lastAt = at;
    this.write(`  [${Math.round((at - this.startedAt) / 1000)} s] ${phase}\n`);
  }
}

/** The daemon log's last line, without its ISO stamp: the boot phase the daemon is in. */
export function bootPhase(line: string | undefined): string | undefined {
  if (line === undefined) return undefined;
  const text = line.replace(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z /, '').trim();
  return text === '' ? undefined : text.slice(0, 160);
}


/** Where the compute group is on its way to `n` steady instances, in one line. */
export function scaleProgress(s: SandboxStatus, computeGroup: string, n: number): string {
  const compute = s.instances.filter((i) => i.groupName === computeGroup);
  const states = new Map<string, number>();
  for (const i of compute) states.set(i.lifecycleState, (states.get(i.lifecycleState) ?? 0) + 1);
  const healthy = s.targets.filter((t) => t.state === 'healthy').length;
  const byState = [...states].map(([state, count]) => `${count} ${state}`).join(', ') || 'no instances';
  return `waiting for ${n} InService with healthy targets: ${byState}; ${healthy} healthy target(s) of ${s.targets.length}`;
}

/** Polls the daemon's status until the compute group is steady at `n`, showing progress; bounded by `seconds`. */
async function waitSteady(o: CliOptions, n: number, seconds: number): Promise<SandboxStatus> {
  const started = Date.now();
  const progress = new Progress(started);
  const computeGroup = readState(o).computeGroup;
  let s = (await call(o, 'GET', '/status')) as SandboxStatus;
  while (!isSteady(s, computeGroup, n)) {
    if (Date.now() - started > seconds * 1000) {
      throw new SandboxError(`the compute group was not steady at ${n} within ${seconds} s: ${describeStatus(s)}`);
    }
    progress.show(scaleProgress(s, computeGroup, n));
    await sleep(1000);
    s = (await call(o, 'GET', '/status')) as SandboxStatus;
  }
  return s;
}

// ---------------------------------------------------------------- commands

async function up(o: CliOptions): Promise<void> {
  const stateFile = stateFileOf(o);
  const previous = readStateFile(stateFile);
  if (previous !== undefined && isOurDaemon(previous.pid, o.name)) {
    process.stdout.write(`already up: load balancer ${previous.lbUrl}, emulator ${previous.endpoint} (daemon pid ${previous.pid})\n`);
    return;
  }
  const logPath = daemonLogOf(o);
  const log = fs.openSync(logPath, 'w');
  const child = spawn(process.execPath, [...process.execArgv, __filename, 'serve', ...optionArgs(o)], { detached: true, stdio: ['ignore', log, log], cwd: REPO_DIR });
  fs.closeSync(log);
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new SandboxError(`the sandbox daemon could not be started:\n${logTail(logPath)}`);
  fs.writeFileSync(daemonPidFileOf(o), `${pid}\n`);
  process.stdout.write(`booting '${o.name}' (daemon pid ${pid}, log ${logPath}); waiting up to ${o.timeoutSeconds} s...\n`);
  const started = Date.now();
  const deadline = started + o.timeoutSeconds * 1000;
  const progress = new Progress(started);
  while (Date.now() < deadline) {
    progress.show(bootPhase(logLines(logPath)?.at(-1)));
    const state = readStateFile(stateFile);
    if (state?.pid === pid) {
      process.stdout.write(`up: load balancer ${state.lbUrl}, emulator ${state.endpoint}, function logs ${state.logFile}\n`);
      return;
    }
    if (!isAlive(pid)) {
      await stopDaemon(pid, o.name, 0);
      throw new SandboxError(`the sandbox daemon exited during boot; log tail (${logPath}):\n${logTail(logPath)}`);
    }
    await sleep(500);
  }
  const stopped = await stopDaemon(pid, o.name, 120);
  throw new SandboxError(
    `the sandbox did not come up within ${o.timeoutSeconds} s; ${stopped ? 'the daemon was stopped (it tore down what it started)' : `the daemon (pid ${pid}) did not stop within 120 s: run 'down'`}; log tail (${logPath}):\n${logTail(logPath)}`,
  );
}

async function serve(o: CliOptions): Promise<void> {
  const stamp = (l: string) => process.stdout.write(`${new Date().toISOString()} ${l}\n`);
  const sb = await startSandbox({ name: o.name, networkOctet: o.octet, lbPort: o.lbPort, stateDir: o.stateDir, log: stamp, ...(o.storageMax !== undefined ? { storageMax: o.storageMax } : {}), ...(o.timings !== undefined ? { timings: o.timings } : {}) });
  await serveControl(sb, stateFileOf(o));
  stamp(`ready: ${sb.lbUrl}`);
  await new Promise<void>(() => undefined); // until SIGTERM/SIGINT: the sandbox's handler tears down and exits
}

/** The "CloudWatch Alarm State Change" event CloudWatch sends to EventBridge, for one alarm's transition. */
async function alarm(o: CliOptions, args: readonly string[]): Promise<void> {
  const [name, value] = args;
  if (args.length !== 2 || name === undefined || (value !== 'OK' && value !== 'ALARM' && value !== 'INSUFFICIENT_DATA')) {
    throw new SandboxError(`alarm needs <name> <OK|ALARM|INSUFFICIENT_DATA> [--value <datapoint>], got '${args.join(' ')}'`);
  }
  const state = readState(o);
  const cw = new CloudWatchClient(clientConfig(state.endpoint));
  const found = await cw.send(new DescribeAlarmsCommand({ AlarmNames: [name] }));
  const before = found.MetricAlarms?.[0];
  if (before === undefined) {
    const known = await cw.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'pydio-autoscaler-' }));
    const names = (known.MetricAlarms ?? []).map((a) => a.AlarmName ?? '').filter((n) => n !== '');
    throw new SandboxError(`no metric alarm named '${name}' in the emulator${names.length > 0 ? `; the stack's alarms include: ${names.join(', ')}` : ''}`);
  }
  const now = new Date();
  // With --value, the reason CloudWatch would write (the alarm function reads the datapoint from it).
  const reason =
    o.value === undefined
      ? 'set by the sandbox CLI'
      : `Threshold Crossed: 1 datapoint [${o.value} (${now.toISOString()})] was ${value === 'ALARM' ? 'beyond' : 'within'} the threshold (${before.Threshold ?? '?'}).`;
  const reasonData = o.value === undefined ? undefined : JSON.stringify({ version: '1.0', queryDate: now.toISOString(), recentDatapoints: [o.value], threshold: before.Threshold });
  await cw.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: value, StateReason: reason, ...(reasonData !== undefined ? { StateReasonData: reasonData } : {}) }));
  // moto changes the state but emits no event: deliver the one CloudWatch would send, to every matching rule's queue.
  const event = alarmStateChangeEvent({
    alarmArn: before.AlarmArn ?? `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${name}`,
    alarmName: name,
    ...(before.AlarmDescription !== undefined ? { description: before.AlarmDescription } : {}),
    state: { value, reason, ...(reasonData !== undefined ? { reasonData } : {}), timestamp: now.toISOString() },
    previousState: { value: before.StateValue ?? 'INSUFFICIENT_DATA', reason: before.StateReason ?? '', timestamp: (before.StateUpdatedTimestamp ?? now).toISOString() },
  });
  const deliveries = await new EventBus(clientConfig(state.motoUrl)).publish(event);
  const failed = deliveries.filter((d) => !d.ok);
  if (failed.length > 0) throw new SandboxError(`alarm ${name} -> ${value}, but delivering its state-change event failed: ${failed.map((d) => `${d.ruleName} -> ${d.targetArn}: ${d.error ?? ''}`).join('; ')}`);
  const to = deliveries.map((d) => `${d.ruleName} -> ${d.targetArn.split(':').pop() ?? d.targetArn}`).join(', ');
  process.stdout.write(`alarm ${name}: ${before.StateValue ?? '?'} -> ${value}; state-change event delivered to ${deliveries.length === 0 ? 'no rule (no rule matches this alarm)' : to}\n`);
}

async function down(o: CliOptions): Promise<void> {
  const state = readStateFile(stateFileOf(o));
  const pidFile = daemonPidFileOf(o);
  const bootingPid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').trim()) : undefined;
  const daemonPid = state?.pid ?? (bootingPid !== undefined && Number.isInteger(bootingPid) && bootingPid > 1 ? bootingPid : undefined);
  if (daemonPid !== undefined && !(await stopDaemon(daemonPid, o.name, 120))) throw new SandboxError(`the sandbox daemon (pid ${daemonPid}) did not stop within 120 s`);
  if (state !== undefined) {
    // A daemon killed without its teardown leaves its moto server (own process group).
    const moto = motoPidOf(state.motoUrl);
    if (moto !== undefined) {
      process.kill(moto, 'SIGTERM');
      for (let i = 0; i < 20 && isAlive(moto); i += 1) await sleep(250);
      process.stdout.write(`stopped the leftover moto server (pid ${moto})\n`);
    }
  }
  // Whatever an interrupted daemon left (hosts, HAProxy, bridge), as recorded in the state dir.
  await teardownSandbox({ stateDir: o.stateDir, bridge: o.name === 'pas' ? 'pasbr0' : `pasbr${o.name}`, bridgeCidr: `10.${o.octet}.0.1/16` });
  fs.rmSync(pidFile, { force: true });
  process.stdout.write(`down: sandbox '${o.name}' torn down\n`);
}

export async function main(argv: readonly string[]): Promise<void> {
  const { cmd, args, options: o } = parseCli(argv);
  switch (cmd) {
    case 'up':
      return up(o);
    case 'serve':
      return serve(o);
    case 'status': {
      const s = (await call(o, 'GET', '/status')) as SandboxStatus;
      if (o.json) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      else printStatus(s);
      return;
    }
    case 'scale': {
      const raw = args[0] ?? '';
      if (args.length !== 1 || !/^\d+$/.test(raw)) throw new SandboxError(`scale needs one non-negative integer, got '${args.join(' ')}'`);
      const n = Number(raw);
      await call(o, 'POST', '/scale', { desired: n });
      if (!o.wait) {
        process.stdout.write(`compute desired capacity -> ${n}; watch it with 'status'\n`);
        return;
      }
      const steady = await waitSteady(o, n, SCALE_WAIT_SECONDS);
      process.stdout.write(`compute desired capacity -> ${n}; steady: ${describeStatus(steady)}\n`);
      return;
    }
    case 'invoke': {
      if (args.length < 1 || args.length > 2) throw new SandboxError(`invoke needs <function> ['<json>'], got ${args.length} arguments`);
      let payload: unknown = {};
      try {
        payload = args[1] !== undefined ? JSON.parse(args[1]) : {};
      } catch (error) {
        throw new SandboxError(`invoke payload is not JSON: ${error instanceof Error ? error.message : String(error)}`);
      }
      process.stdout.write(`${JSON.stringify(await call(o, 'POST', '/invoke', { function: args[0], payload }), null, 2)}\n`);
      return;
    }
    case 'alarm':
      return alarm(o, args);
    case 'timeline':
      for (const e of (await call(o, 'GET', '/timeline')) as { at: number; kind: string; text: string; durationMs?: number }[]) {
        process.stdout.write(`${new Date(e.at).toISOString().slice(11, 23)} ${e.kind.padEnd(7)} ${e.text}${e.durationMs !== undefined ? ` [${(e.durationMs / 1000).toFixed(1)}s]` : ''}\n`);
      }
      return;
    case 'lb':
      process.stdout.write(`${readState(o).lbUrl}/index.php\n`);
      return;
    case 'down':
      return down(o);
    default:
      throw new SandboxError(cmd === undefined ? USAGE : `unknown command '${cmd}'; ${USAGE}`);
  }
}

/** The SDK's Node-version notice is noise on every command and in the daemon log (the SDK's own switch; the daemon inherits it). */
function quietNodeVersionNotice(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

if (require.main === module) {
  quietNodeVersionNotice();
  main(process.argv.slice(2)).then(
    () => {
      if (process.argv[2] !== 'serve') process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`sandbox: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
