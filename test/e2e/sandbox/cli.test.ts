/**
 * The sandbox CLI as an operator uses it: each command a child process,
 * asserted on the cluster state it reports (`status --json`) and on what the
 * load balancer answers; `alarm` drives the real alarm function. Its own
 * name, network (10.78.0.0/16) and state dir, so it runs beside the other
 * sandbox tests; `down` always runs in afterAll.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { REPO_DIR } from '../../sandbox/hosts';
import { isSteady, type SandboxStatus } from '../../sandbox/sandbox';
import { describeWithSandbox, leftovers } from './prerequisites';

jest.setTimeout(300_000);

const NAME = 'cli';
const stateDir = path.join(tmpdir(), `pas-${NAME}-e2e-${process.pid}`);
const TSX = path.join(REPO_DIR, 'node_modules', '.bin', 'tsx');
const CLI = path.join(REPO_DIR, 'test', 'sandbox', 'cli.ts');
const OPTIONS = ['--name', NAME, '--octet', '78', '--lb-port', '0', '--state-dir', stateDir];

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(args: readonly string[], timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(TSX, [CLI, ...args, ...OPTIONS], { cwd: REPO_DIR, timeout: timeoutMs, maxBuffer: 10 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

async function status(): Promise<SandboxStatus> {
  const run = await cli(['status', '--json']);
  if (run.code !== 0) throw new Error(`status failed (${run.code}): ${run.stderr}`);
  return JSON.parse(run.stdout) as SandboxStatus;
}

describeWithSandbox('cli.test.ts')('sandbox CLI (up, status, lb, scale, invoke, alarm, down as child processes)', () => {
  let upRun: Run | undefined;

  beforeAll(async () => {
    upRun = await cli(['up', '--timeout', '400'], 420_000);
  }, 440_000);

  afterAll(async () => {
    const down = await cli(['down'], 200_000);
    expect({ code: down.code, stderr: down.stderr.split('\n').filter((l) => l.startsWith('sandbox:')) }).toEqual({ code: 0, stderr: [] });
    expect(down.stdout).toContain(`down: sandbox '${NAME}' torn down`);
    expect(leftovers(`pasbr${NAME}`, stateDir)).toEqual([]);
    expect(existsSync(stateDir)).toBe(false);
  }, 220_000);

  test('up returns only once the daemon is ready: one compute instance InService with a healthy target, answering through the LB', async () => {
    expect(upRun?.stderr.split('\n').filter((l) => l.startsWith('sandbox:'))).toEqual([]);
    expect(upRun?.code).toBe(0);
    expect(upRun?.stdout).toMatch(/^up: load balancer http:\/\/127\.0\.0\.1:\d+/m);
    // Progress on stderr while it boots: the daemon's phases, with the seconds so far.
    expect(upRun?.stderr).toMatch(/^ {2}\[\d+ s\] (packaging the stack|starting moto|creating the AWS environment|deploying the stack)/m);

    const s = await status();
    expect(isSteady(s, `${NAME}-compute`, 1)).toBe(true);
    expect(s.hosts.filter((h) => h.role === 'storage' && h.running)).toHaveLength(2);

    const lb = await cli(['lb']);
    expect(lb.code).toBe(0);
    const url = lb.stdout.trim();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/index\.php$/);
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { node?: string };
    expect(body.node).toBe(s.instances.find((i) => i.groupName === `${NAME}-compute`)?.instanceId);
  });

  test('a second up finds the running daemon instead of starting another', async () => {
    const again = await cli(['up']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^already up: /);
  });

  test('scale 2 --wait returns with two compute instances InService and both targets healthy', async () => {
    const run = await cli(['scale', '2', '--wait'], 320_000);
    expect(run.stderr.split('\n').filter((l) => l.startsWith('sandbox:'))).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^ {2}\[\d+ s\] waiting for 2 InService with healthy targets: /m);
    const s = await status();
    expect(isSteady(s, `${NAME}-compute`, 2)).toBe(true);
    expect(new Set(s.targets.map((t) => t.instanceId)).size).toBe(2);
  });

  test('invoke runs the deployed status function against the emulator; an unknown function is refused by name', async () => {
    const run = await cli(['invoke', 'status', '{}']);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { outcome: string; result: { groups: { compute: { name: string; desired: number } } } };
    expect(out.outcome).toBe('success');
    expect(out.result.groups.compute).toMatchObject({ name: `${NAME}-compute`, desired: 2 });

    const unknown = await cli(['invoke', 'nosuch', '{}']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no function "nosuch"');
  });

  test('bad input is refused naming the problem, and changes nothing', async () => {
    const scale = await cli(['scale', 'two']);
    expect(scale.code).toBe(1);
    expect(scale.stderr).toContain("scale needs one non-negative integer, got 'two'");
    const tooMany = await cli(['scale', '9']);
    expect(tooMany.code).toBe(1);
    expect(tooMany.stderr).toContain('desired capacity must be an integer 0-4, got 9');
    const alarm = await cli(['alarm', 'no-such-alarm', 'ALARM']);
    expect(alarm.code).toBe(1);
    expect(alarm.stderr).toContain("no metric alarm named 'no-such-alarm'");
    const s = await status();
    expect(s.groups.find((g) => g.name === `${NAME}-compute`)?.desired).toBe(2);
  });

  test('alarm cpu-high ALARM with a datapoint above the threshold makes the alarm function scale compute out by one through the real flow', async () => {
    const run = await cli(['alarm', 'pydio-autoscaler-pasbox-compute-cpu-high', 'ALARM', '--value', '91']);
    expect(run.stderr.split('\n').filter((l) => l.startsWith('sandbox:'))).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('state-change event delivered to pydio-autoscaler-pasbox-alarm-state');
    const deadline = Date.now() + 180_000;
    let last: SandboxStatus | undefined;
    for (let i = 0; i < 200 && Date.now() < deadline; i += 1) {
      last = await status();
      if (isSteady(last, `${NAME}-compute`, 3)) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    expect(last !== undefined && isSteady(last, `${NAME}-compute`, 3)).toBe(true);
    const timeline = await cli(['timeline']);
    expect(timeline.stdout).toMatch(/scaling\.decided .*scale-out cli-compute 2->3/);
  });
});
