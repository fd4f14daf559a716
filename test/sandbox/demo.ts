/**
 * The sandbox demo: boot (compute 0 -> 1 through the real flow), scale out
 * 1 -> 3, a sticky browser session, scale in 3 -> 2 with a drain that breaks
 * no session, files written through one node and read through another, then
 * the timeline, the SNS messages and a summary table. Tears down at the end
 * (also on Ctrl-C or failure); `--keep` leaves it running until Ctrl-C.
 *
 * Then the alarm scene, in a second sandbox of its own (its alarms evaluate
 * by themselves: in the first one an idle CPU-low alarm would scale in under
 * the scenes above): real CPU load through the load balancer -> the metrics
 * agent's datapoints -> CPU-high ALARM -> the alarm function scales out ->
 * the load stops -> CPU-low ALARM -> scale in; the SNS decisions and the
 * dashboard, rendered as an SVG from the emulator's metrics.
 *
 *   npx tsx test/sandbox/demo.ts [--keep]
 */
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { CookieSession, describeStatus, isSteady, requestLoop, startSandbox, type Sandbox, type TimelineEntry } from './sandbox';
import { serveControl } from './cli';
import { renderSandboxDashboard } from './dashboard/render';

const keep = process.argv.includes('--keep');
const unknown = process.argv.slice(2).filter((a) => a !== '--keep');
if (unknown.length > 0) {
  process.stderr.write(`demo: unknown argument(s) ${unknown.join(' ')}; usage: npx tsx test/sandbox/demo.ts [--keep]\n`);
  process.exit(2);
}

const t0 = Date.now();
const out = (line = '') => process.stdout.write(`${line}\n`);
const title = (text: string) => out(`\n=== ${text} ${'='.repeat(Math.max(0, 70 - text.length))}`);
const clock = (at: number) => `+${((at - t0) / 1000).toFixed(1).padStart(6)}s`;

class DemoFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoFailure';
  }
}

function check(ok: boolean, what: string): void {
  out(`  ${ok ? 'OK  ' : 'FAIL'} ${what}`);
  if (!ok) throw new DemoFailure(what);
}

async function stickySession(sb: Sandbox): Promise<void> {
  title('sticky browser session (cookie jar, 25 requests through the LB)');
  const session = new CookieSession(sb.lbUrl);
  const answers = [];
  for (let i = 0; i < 25; i += 1) answers.push(await session.get());
  const nodes = [...new Set(answers.map((a) => a.node))];
  out(`  cookie: ${session.cookie}`);
  out(`  answers: ${answers.map((a) => `${a.status}/${a.node.slice(-6)}#${a.count}`).join(' ')}`);
  check(answers.every((a) => a.status === 200), 'every request answered 200');
  check(nodes.length === 1, `all 25 requests answered by one node (${nodes.join(', ')})`);
  check(answers.every((a, i) => a.count === i + 1), 'the PHP session counter went 1..25 on that node');
  // Without the cookie the LB spreads requests: show that the nodes really differ.
  const fresh = [];
  for (let i = 0; i < 6; i += 1) fresh.push((await new CookieSession(sb.lbUrl).get()).node);
  out(`  six cookie-less requests landed on: ${[...new Set(fresh)].join(', ')}`);
}

async function scaleInWithDrain(sb: Sandbox): Promise<void> {
  title('scale in 3 -> 2 while 4 sticky sessions keep requesting');
  const before = await sb.status();
  let release: () => void = () => undefined;
  const finished = new Promise<void>((r) => (release = r));
  const loop = requestLoop(sb.lbUrl, 4, finished, 300);
  await new Promise((r) => setTimeout(r, 1500));
  let victim = '';
  try {
    await sb.phase('scale-in 3->2 (drain)', async () => {
      await sb.setDesiredCapacity(2);
      const after = await sb.waitForState((s) => isSteady(s, sb.computeGroup, 2), 300_000, 'two compute instances InService and healthy');
      victim = before.instances.find((i) => i.role === 'compute' && !after.instances.some((a) => a.instanceId === i.instanceId))?.instanceId ?? '';
    });
  } finally {
    release();
  }
  const report = await loop;
  out(`  drained and terminated: ${victim}`);
  out(`  requests during the drain: ${report.requests}, failures: ${report.failures}${report.failureSamples.length ? ` (${report.failureSamples.join('; ')})` : ''}`);
  report.nodesPerSession.forEach((n, i) => out(`  session ${i}: answered by ${n.join(' -> ')}`));
  const status = await sb.status();
  check(victim !== '' && !status.targets.some((t) => t.instanceId === victim), 'the drained node is gone from the load balancer');
  check(report.failures === 0, 'no request failed during the drain');
  check(report.countersMonotonic, 'every session kept its PHP session (counters only went up, sessions are shared on the config volume)');
}

async function filesAcrossNodes(sb: Sandbox): Promise<void> {
  title('write through one node, read through another (GlusterFS replica 2)');
  const status = await sb.status();
  const nodes = status.instances.filter((i) => i.role === 'compute' && i.lifecycleState === 'InService');
  const [a, b] = nodes;
  if (a === undefined || b === undefined) throw new DemoFailure(`need two compute nodes, have ${nodes.length}`);
  for (let i = 0; i < 3; i += 1) {
    const body = randomBytes(256 * 1024 * (i + 1));
    const name = `demo/file-${Date.now()}-${i}.bin`;
    const put = await fetch(`http://${a.privateIp}/files.php?repo=default&path=${name}`, { method: 'PUT', body, signal: AbortSignal.timeout(30_000) });
    const written = (await put.json()) as { sha256?: string; node?: string };
    const got = await fetch(`http://${b.privateIp}/files.php?repo=default&path=${name}&raw=1`, { signal: AbortSignal.timeout(30_000) });
    const bytes = Buffer.from(await got.arrayBuffer());
    const local = createHash('sha256').update(body).digest('hex');
    const read = createHash('sha256').update(bytes).digest('hex');
    out(`  ${name}: ${body.length} bytes written by ${written.node ?? '?'} sha256 ${local.slice(0, 16)}..., read by ${got.headers.get('x-pydio-node') ?? '?'} sha256 ${read.slice(0, 16)}...`);
    check(put.status === 200 && got.status === 200 && written.sha256 === local && read === local, `${name}: byte-identical on the other node`);
  }
}

/** The facts lines of a scaling message worth showing (the body lists one fact per line). */
function decisionLines(message: string): string[] {
  return message.split('\n').filter((l) => /^(Why|Value vs threshold|Desired before|Desired after|Outcome|Cooldown left):/.test(l));
}

async function alarmScene(): Promise<void> {
  title('alarm scene: CPU load -> CPU-high alarm -> scale out -> load stops -> CPU-low alarm -> scale in');
  out('  a second sandbox (pasalm, 10.76.0.0/16) with the metrics agent and the alarm evaluator: alarm period 10 s,');
  out('  CPU high > 70 % for 2 periods (a large step needs 1.5 x 70: never, so one node at a time), CPU low < 20 % for 3 periods,');
  out('  cooldown 20 s, compute minimum 1');
  const sb = await startSandbox({
    name: 'pasalm',
    networkOctet: 76,
    lbPort: 0,
    stateDir: path.join(os.tmpdir(), `pas-demo-alarms-${process.pid}`),
    deregistrationDelaySeconds: 3,
    // Bricks on the storage hosts' own small disks (XFS at /bricks): the agent reports their df, the dashboard shows it.
    storageDataDiskMiB: 320,
    storageBootDisks: true,
    alarms: { periodSeconds: 10, cpuHighThreshold: 70, cpuLowThreshold: 20, cooldownSeconds: 20, agentIntervalMs: 2000, computeMin: 1 },
    log: (l) => out(`  ${clock(Date.now())} ${l}`),
  });
  const alarms = sb.alarms;
  try {
    if (alarms === undefined) throw new DemoFailure('the sandbox started without its alarms');
    const start = new Date();
    out(`  ${describeStatus(await sb.status())}`);
    const load = alarms.cpuLoad({ sessions: 8, seconds: 240 });
    out(`  ${clock(Date.now())} CPU load: 8 cookie sessions requesting the CPU-work page through the load balancer`);
    let size = 0;
    try {
      await sb.phase('alarm: load -> scale out', async () => {
        // The alarm function decides the size: read it from its decision, then wait for that many healthy nodes.
        const deadline = Date.now() + 180_000;
        while (size === 0 && Date.now() < deadline) {
          const decided = (await sb.notifications()).map((n) => /scale-out \S+ 1->(\d+) /.exec(n.subject)).find((m) => m !== null);
          if (decided?.[1] !== undefined) size = Number(decided[1]);
          else await new Promise((r) => setTimeout(r, 1000));
        }
        if (size === 0) throw new DemoFailure('no alarm-driven scale-out within 180 s of load');
        await sb.waitForState((s) => isSteady(s, sb.computeGroup, size), 180_000, `the alarm-driven scale-out to ${size} (InService, healthy)`);
      });
    } finally {
      const report = await load.stop();
      out(`  ${clock(Date.now())} load stopped: ${report.requests} requests in ${report.seconds.toFixed(0)} s, ${report.failures} failed`);
    }
    await sb.phase('alarm: idle -> scale in', async () => {
      // Room for 3 -> 2 -> 1: a last cpu-high re-check may scale out once more while the alarm goes OK.
      await sb.waitForState((s) => isSteady(s, sb.computeGroup, 1), 420_000, 'the alarm-driven scale-in back to 1');
    });
    const transitions = alarms.transitions();
    out('  alarm transitions (evaluated from the agent\'s datapoints):');
    for (const t of transitions) out(`    ${clock(t.at)} ${t.alarmName.replace(`pydio-autoscaler-${sb.stage}-`, '')} ${t.from} -> ${t.to} [${t.datapoints.map((v) => v.toFixed(1)).join(', ')}]`);
    out('  the alarm function\'s decisions (SNS):');
    const decisions = (await sb.notifications()).filter((n) => (n.attributes.eventType ?? '').startsWith('scaling.'));
    for (const n of decisions) {
      out(`    ${clock(n.at)} ${n.subject}`);
      for (const line of decisionLines(n.message)) out(`               ${line}`);
    }
    check(transitions.some((t) => t.alarmName.endsWith('-compute-cpu-high') && t.to === 'ALARM'), 'CPU-high went to ALARM from real load');
    check(size > 1, `the alarm function scaled out 1 -> ${size}`);
    check(transitions.some((t) => t.alarmName.endsWith('-compute-cpu-low') && t.to === 'ALARM'), 'CPU-low went to ALARM once the load stopped');
    check(decisions.some((n) => /scale-in \S+ 2->1 /.test(n.subject)), `the alarm function scaled in ${size} -> 1, one node at a time after each cooldown`);
    check(decisions.some((n) => /no scaling: \S+-compute-cpu-high is OK/.test(n.subject)), 'ops were told when CPU-high recovered (its first evaluation was logged, not told)');
    const svg = path.join(os.tmpdir(), `pydio-autoscaler-dashboard-${new Date().toISOString().replace(/[:.]/g, '-')}.svg`);
    const rendered = await renderSandboxDashboard(sb, { out: svg, start, periodOverride: 10 });
    out(`  dashboard written to ${rendered.out}`);
    out(`    datapoints per widget: ${Object.entries(rendered.pointsPerWidget).map(([t, n]) => `${t}: ${n}`).join('; ')}`);
    for (const p of await sb.phases()) out(`  ${p.name.padEnd(26)} ${p.seconds.toFixed(1).padStart(6)} s`);
  } finally {
    await sb.stop();
    out('  alarm sandbox stopped');
  }
}

function printTimeline(entries: readonly TimelineEntry[]): void {
  title('timeline');
  for (const e of entries) {
    const d = e.durationMs !== undefined && e.kind !== 'action' ? ` [${(e.durationMs / 1000).toFixed(1)}s]` : '';
    out(`  ${clock(e.at)} ${e.kind.padEnd(7)} ${e.text}${d}`);
  }
}

async function main(): Promise<void> {
  title('boot: moto + control plane + namespace hosts + HAProxy + GlusterFS + stack + real handlers');
  const sb = await startSandbox({ log: (l) => out(`  ${clock(Date.now())} ${l}`) });
  let kept = false;
  try {
    out(`  load balancer: ${sb.lbUrl}   emulator: ${sb.endpoint}   function logs: ${sb.logFile}`);
    out(`  ${describeStatus(await sb.status())}`);

    title('scale out 1 -> 3 (two launches through the real flow)');
    await sb.phase('scale-out 1->3', async () => {
      await sb.setDesiredCapacity(3);
      await sb.waitForState((s) => isSteady(s, sb.computeGroup, 3), 300_000, 'three compute instances InService and healthy');
    });
    out(`  ${describeStatus(await sb.status())}`);

    await stickySession(sb);
    await scaleInWithDrain(sb);
    await filesAcrossNodes(sb);

    printTimeline(await sb.timeline());

    title('what ops received (SNS)');
    for (const n of await sb.notifications()) {
      out(`  ${clock(n.at)} ${n.subject}`);
      for (const line of n.message.split('\n').filter((l) => l.trim() !== '').slice(0, 3)) out(`             ${line}`);
    }

    title('summary');
    out(`  ${'phase'.padEnd(26)} ${'seconds'.padStart(8)} ${'docs (sum)'.padStart(11)} ${'docs (wall)'.padStart(12)} ${'control plane'.padStart(14)}`);
    for (const p of await sb.phases()) {
      out(`  ${p.name.padEnd(26)} ${p.seconds.toFixed(1).padStart(8)} ${p.documentsSeconds.toFixed(1).padStart(11)} ${p.documentsWallSeconds.toFixed(1).padStart(12)} ${p.overheadSeconds.toFixed(1).padStart(14)}`);
    }
    out('  docs (sum): every Run Command step added up; docs (wall): time any step was running;');
    out('  control plane: wall time minus docs (wall) - events, queue, Lambda, polling delays, registration, health checks.');

    if (keep) {
      const control = await serveControl(sb);
      title('kept running (Ctrl-C tears everything down)');
      out(`  open ${sb.lbUrl}/index.php in a browser (its session cookie AjaXplorer keeps you on one node)`);
      out('  npx tsx test/sandbox/cli.ts status | scale <n> | invoke lifecycle \'<json>\' | alarm <name> <OK|ALARM> | lb');
      out(`  AWS CLI/SDK endpoint: ${sb.endpoint} (region eu-west-1, any credentials); control: ${control}`);
      kept = true;
      await new Promise<void>(() => undefined); // until a signal; the sandbox's handler tears down and exits
    }
  } finally {
    if (!kept) {
      title('teardown');
      await sb.stop();
      out('  everything stopped: runner, front, moto, hosts, HAProxy, bridge');
    }
  }
  await alarmScene();
}

main().then(
  () => {
    out(`\ndemo finished in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`\ndemo FAILED: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
