/**
 * Drive the sandbox from a shell:
 *
 *   npx tsx test/sandbox/cli.ts up                 boot in the background (state in .sandbox/cli-state.json)
 *   npx tsx test/sandbox/cli.ts status             groups, instances + lifecycle states, targets + health, hosts
 *   npx tsx test/sandbox/cli.ts scale <n>          set the compute group's desired capacity
 *   npx tsx test/sandbox/cli.ts invoke <function> '<json>'
 *   npx tsx test/sandbox/cli.ts alarm <name> <OK|ALARM>
 *   npx tsx test/sandbox/cli.ts timeline           events, actions, commands, SNS messages so far
 *   npx tsx test/sandbox/cli.ts lb                 the load balancer URL (open it in a browser)
 *   npx tsx test/sandbox/cli.ts down               tear everything down
 *
 * `up` starts a daemon (this file, command `serve`) that owns the sandbox and
 * answers the other commands on a loopback-only control port.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CloudWatchClient, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { clientConfig } from './control-plane/aws-setup';
import { REPO_DIR, teardownSandbox } from './hosts';
import { describeStatus, SandboxError, startSandbox, type Sandbox, type SandboxStatus } from './sandbox';

export const STATE_DIR = path.join(REPO_DIR, '.sandbox');
const STATE_FILE = path.join(STATE_DIR, 'cli-state.json');
const DAEMON_LOG = path.join(os.tmpdir(), 'pas-sandbox-daemon.log');

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
export async function serveControl(sb: Sandbox): Promise<string> {
  const reply = (res: ServerResponse, status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(`${JSON.stringify(value, null, 2)}\n`);
  };
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://control');
      const body = req.method === 'POST' ? JSON.parse((await readBody(req)) || '{}') as Record<string, unknown> : {};
      if (req.method === 'GET' && url.pathname === '/status') return reply(res, 200, await sb.status());
      if (req.method === 'GET' && url.pathname === '/timeline') return reply(res, 200, await sb.timeline());
      if (req.method === 'POST' && url.pathname === '/scale') {
        await sb.setDesiredCapacity(Number(body.desired));
        return reply(res, 200, { desired: Number(body.desired) });
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
  fs.mkdirSync(path.dirname(STATE_FILE), { recursive: true });
  fs.writeFileSync(`${STATE_FILE}.tmp`, JSON.stringify(state, null, 2));
  fs.renameSync(`${STATE_FILE}.tmp`, STATE_FILE);
  return control;
}

function readState(): CliState {
  if (!fs.existsSync(STATE_FILE)) throw new SandboxError(`no sandbox is up (${STATE_FILE} is missing): run 'npx tsx test/sandbox/cli.ts up' first`);
  const state = JSON.parse(fs.readFileSync(STATE_FILE, 'utf8')) as CliState;
  if (!isAlive(state.pid)) throw new SandboxError(`the sandbox daemon (pid ${state.pid}) is gone; run 'npx tsx test/sandbox/cli.ts down' to clean up, then 'up'`);
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

async function call(method: 'GET' | 'POST', route: string, body?: unknown): Promise<unknown> {
  const state = readState();
  const res = await fetch(`${state.control}${route}`, {
    method,
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    signal: AbortSignal.timeout(120_000),
  });
  const value = (await res.json()) as unknown;
  if (!res.ok) throw new SandboxError(`${route}: ${(value as { error?: string }).error ?? `HTTP ${res.status}`}`);
  return value;
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

const USAGE = "usage: npx tsx test/sandbox/cli.ts up | status | scale <n> | invoke <function> '<json>' | alarm <name> <OK|ALARM> | timeline | lb | down";

async function main(argv: readonly string[]): Promise<void> {
  const [cmd, ...args] = argv;
  switch (cmd) {
    case 'up': {
      if (fs.existsSync(STATE_FILE) && isAlive((JSON.parse(fs.readFileSync(STATE_FILE, 'utf8')) as CliState).pid)) {
        process.stdout.write(`already up: ${readState().lbUrl}\n`);
        return;
      }
      const log = fs.openSync(DAEMON_LOG, 'w');
      const child = spawn(process.execPath, [...process.execArgv, __filename, 'serve'], { detached: true, stdio: ['ignore', log, log], cwd: REPO_DIR });
      child.unref();
      process.stdout.write(`booting (daemon pid ${child.pid ?? '?'}, log ${DAEMON_LOG})...\n`);
      const deadline = Date.now() + 600_000;
      while (Date.now() < deadline) {
        if (fs.existsSync(STATE_FILE)) {
          const state = JSON.parse(fs.readFileSync(STATE_FILE, 'utf8')) as CliState;
          if (state.pid === child.pid) {
            process.stdout.write(`up: load balancer ${state.lbUrl}, emulator ${state.endpoint}, function logs ${state.logFile}\n`);
            return;
          }
        }
        if (child.exitCode !== null || (child.pid !== undefined && !isAlive(child.pid))) {
          throw new SandboxError(`the sandbox daemon exited during boot: ${fs.readFileSync(DAEMON_LOG, 'utf8').trim().split('\n').slice(-5).join(' | ')}`);
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
      throw new SandboxError(`the sandbox did not come up within 10 minutes (see ${DAEMON_LOG}); run 'down'`);
    }
    case 'serve': {
      const sb = await startSandbox({ stateDir: STATE_DIR, log: (l) => process.stdout.write(`${new Date().toISOString()} ${l}\n`) });
      await serveControl(sb);
      process.stdout.write(`${new Date().toISOString()} ready: ${sb.lbUrl}\n`);
      await new Promise<void>(() => undefined); // until SIGTERM/SIGINT: the sandbox's handler tears down and exits
      return;
    }
    case 'status':
      printStatus((await call('GET', '/status')) as SandboxStatus);
      return;
    case 'scale': {
      const n = Number(args[0]);
      if (args.length !== 1 || !Number.isInteger(n) || n < 0) throw new SandboxError(`scale needs one non-negative integer, got '${args.join(' ')}'`);
      await call('POST', '/scale', { desired: n });
      process.stdout.write(`compute desired capacity -> ${n}; watch it with 'status'\n`);
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
      process.stdout.write(`${JSON.stringify(await call('POST', '/invoke', { function: args[0], payload }), null, 2)}\n`);
      return;
    }
    case 'alarm': {
      const [name, value] = args;
      if (name === undefined || (value !== 'OK' && value !== 'ALARM' && value !== 'INSUFFICIENT_DATA')) throw new SandboxError('alarm needs <name> <OK|ALARM|INSUFFICIENT_DATA>');
      const state = readState();
      await new CloudWatchClient(clientConfig(state.endpoint)).send(new SetAlarmStateCommand({ AlarmName: name, StateValue: value, StateReason: 'set by the sandbox CLI' }));
      process.stdout.write(`alarm ${name} -> ${value} (in moto). Alarm-driven scaling is a later issue: nothing reacts to it yet.\n`);
      return;
    }
    case 'timeline':
      for (const e of (await call('GET', '/timeline')) as { at: number; kind: string; text: string; durationMs?: number }[]) {
        process.stdout.write(`${new Date(e.at).toISOString().slice(11, 23)} ${e.kind.padEnd(7)} ${e.text}${e.durationMs !== undefined ? ` [${(e.durationMs / 1000).toFixed(1)}s]` : ''}\n`);
      }
      return;
    case 'lb':
      process.stdout.write(`${readState().lbUrl}/index.php\n`);
      return;
    case 'down': {
      const state = fs.existsSync(STATE_FILE) ? (JSON.parse(fs.readFileSync(STATE_FILE, 'utf8')) as CliState) : undefined;
      if (state !== undefined && isAlive(state.pid)) {
        process.kill(state.pid, 'SIGTERM');
        for (let i = 0; i < 240 && isAlive(state.pid); i += 1) await new Promise((r) => setTimeout(r, 500));
        if (isAlive(state.pid)) throw new SandboxError(`the sandbox daemon (pid ${state.pid}) did not stop within 120 s`);
      }
      // Whatever an interrupted daemon left (hosts, HAProxy, bridge).
      await teardownSandbox({ stateDir: STATE_DIR });
      process.stdout.write('down: everything torn down\n');
      return;
    }
    default:
      throw new SandboxError(cmd === undefined ? USAGE : `unknown command '${cmd}'; ${USAGE}`);
  }
}

if (require.main === module) {
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
