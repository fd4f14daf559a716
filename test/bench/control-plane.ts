/**
 * Control-plane bench (issue 11): N simultaneous launches, then the matching scale-in, for each size
 * N, through the real bundled handler in the emulator (moto + the front, with throttling on) with
 * light hosts whose documents only sleep as long as the real ones take. Prints per size: wall time
 * to all InService and to all gone, per-flow completion p50/p95/max, busy time vs control-plane
 * overhead (definitions in control-plane-figures.ts, printed too), AWS API calls and throttled calls
 * per flow, dead letters and ABANDON results. No timed assertion: exits non-zero only when setup fails.
 *
 *   npx tsx test/bench/control-plane.ts [--sizes 1,10,50] [--batches 5]
 *   npm run bench:control-plane -- --sizes 1,10
 */
import os from 'node:os';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { GROUP, STAGE_PARAMS, startFlowsEnvironment, type FlowsEnvironment } from '../integration/flows/harness';
import { TARGET_GROUP_HEALTH_CHECK } from '../sandbox/control-plane/aws-setup';
import { SimulatedDataPlane, SimulatedExecutor } from '../sandbox/control-plane/simulated';
import type { ThrottleSettings } from '../sandbox/control-plane/throttle';
import type { CommandResult, Target } from '../sandbox/control-plane/types';
import { parseSizes, perFlow, splitFlow, summarize, type FlowSplit, type Interval } from './control-plane-figures';

const MAX_SIZE = 50;

/**
 * Production retry settings (lib/config/compute.ts defaults, serverless.yml's params): RETRY_BASE_SECONDS 10,
 * RETRY_MAX_SECONDS 120, HEALTHY_TIMEOUT_SECONDS 600, DRAIN_MAX_SECONDS 900. The rest as the harness's stage.
 */
const PRODUCTION_PARAMS: Readonly<Record<string, string>> = { retryBaseSeconds: '10', retryMaxSeconds: '120', healthyTimeoutSeconds: '600', drainMaxSeconds: '900' };

/**
 * Auto Scaling and Systems Manager publish no request rate this project has found (catalogue
 * throttling.autoscaling.one-shared-limit: "all Amazon EC2 Auto Scaling API calls have a single, shared
 * API limit", value unpublished; throttling.ssm.request-rates: Run Command's rates not found). These are
 * ASSUMED rates, one shared bucket per service, chosen well under the EC2 non-mutating bucket (100/20):
 * 20 calls at once, 5 a second. EC2's and ELBv2's documented buckets are always on in the front.
 */
const THROTTLE: ThrottleSettings = { rates: { autoscaling: { burst: 20, refillPerSecond: 5 }, ssm: { burst: 20, refillPerSecond: 5 } } };

/**
 * How long the light hosts take (ms). Not measured on EC2 (this machine reaches only loopback): estimates,
 * stated with their reasoning, each a single constant to change.
 * - agent: the SSM agent registers this long after the instance is launched (boot, then agent start).
 * - mountVolumes: apt-get update + install glusterfs-client on a fresh node, then the mounts; the sandbox's
 *   hosts have the client already and ran the whole scale-out's documents in 0.7-0.8 s (issue 11's figures).
 * - configure-app: installHealthCheck and checkHealth are file writes and one local HTTP check (1 s each);
 *   configure rewrites the app's config and reloads Apache (5 s).
 * - healthy: the target group's health check, interval 5 s x healthy threshold 2 (aws-setup.ts
 *   TARGET_GROUP_HEALTH_CHECK, as the sandbox configures it).
 * - drain: the deregistration delay of the sandbox's e2e runs (6 s) and drainNode's 4.2 s measured in the
 *   sandbox (issue 11's figures).
 */
const DURATIONS = {
  agentMs: 15_000,
  mountVolumesMs: 25_000,
  installHealthCheckMs: 1_000,
  configureMs: 5_000,
  checkHealthMs: 1_000,
  healthyAfterMs: TARGET_GROUP_HEALTH_CHECK.intervalSeconds * TARGET_GROUP_HEALTH_CHECK.healthyThreshold * 1000,
  deregistrationDelaySeconds: 6,
  drainNodeMs: 4_200,
};

/**
 * Concurrent batches per queue: Lambda "starts processing five batches at a time with five concurrent
 * invocations of your function" (Lambda Developer Guide, "Configuring scaling behavior for SQS event source
 * mappings"), then adds more while messages wait; the runner keeps five (--batches 1: one at a time).
 */
const DEFAULT_BATCHES = 5;

/** Bounds of each wait: a launch's flows are given 900 s plus 6 s per launch, the runner 120 s to be idle. */
const SCALE_WAIT_MS = (n: number) => 900_000 + 6_000 * n;
const POLL_MS = 500;

/** Executor that remembers when each host appeared and when each step ran. */
class TimedExecutor extends SimulatedExecutor {
  readonly appeared = new Map<string, number>();
  readonly stepIntervals = new Map<string, Interval[]>();

  override addHost(instanceId: string, ip: string): void {
    this.appeared.set(instanceId, Date.now());
    super.addHost(instanceId, ip);
  }

  override async run(instanceId: string, script: string, env: Readonly<Record<string, string>>, timeoutSeconds: number): Promise<CommandResult> {
    const start = Date.now();
    try {
      return await super.run(instanceId, script, env, timeoutSeconds);
    } finally {
      const list = this.stepIntervals.get(instanceId) ?? [];
      list.push({ start, end: Date.now() });
      this.stepIntervals.set(instanceId, list);
    }
  }
}

/** Data plane that remembers when each target was registered and when its drain began. */
class TimedDataPlane extends SimulatedDataPlane {
  readonly registered = new Map<string, number>();
  readonly drains = new Map<string, Interval>();

  override async register(targetGroupArn: string, target: Target): Promise<void> {
    this.registered.set(target.instanceId, Date.now());
    await super.register(targetGroupArn, target);
  }

  override async deregister(targetGroupArn: string, target: Target, delaySeconds: number): Promise<void> {
    const start = Date.now();
    if (!this.drains.has(target.instanceId)) this.drains.set(target.instanceId, { start, end: start + delaySeconds * 1000 });
    await super.deregister(targetGroupArn, target, delaySeconds);
  }
}

interface Completion {
  readonly instanceId: string;
  readonly hookName: string;
  readonly result: string;
  readonly at: number;
}

interface PhaseFigures {
  readonly name: string;
  readonly size: number;
  readonly wallMs: number | undefined;
  readonly settled: number;
  readonly failed: number;
  readonly flows: FlowSplit[];
  readonly calls: Record<string, number>;
  readonly throttled: Record<string, number>;
  readonly invocations: number;
  readonly unsuccessfulInvocations: number;
  readonly abandons: number;
  readonly loadBefore: number;
  readonly loadAfter: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function countBy<T>(items: readonly T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}

async function waitBounded(what: string, timeoutMs: number, done: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() <= deadline) {
    if (done()) return true;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  console.log(`  (gave up waiting for ${what} after ${seconds(timeoutMs)})`);
  return done();
}

/** The stack's dead-letter queues (serverless.yml); those a condition leaves out are skipped. */
const DEAD_LETTER_QUEUES = ['LifecycleDeadLetterQueue', 'StorageDeadLetterQueue', 'DecisionDeadLetterQueue'] as const;

async function deadLetters(env: FlowsEnvironment): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const logicalId of DEAD_LETTER_QUEUES) {
    let queueUrl: string;
    try {
      queueUrl = env.stack.physicalId(logicalId);
    } catch {
      continue; // not in this stage (a condition left it out, e.g. no storage group)
    }
    const a = await env.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    out[logicalId] = Number(a.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  }
  return out;
}

async function phase(
  env: FlowsEnvironment,
  executor: TimedExecutor,
  dataPlane: TimedDataPlane,
  completions: readonly Completion[],
  name: string,
  size: number,
  desired: number,
  kind: 'launch' | 'terminate',
): Promise<PhaseFigures> {
  const loadBefore = os.loadavg()[0];
  const callsFrom = env.recorder.calls.length;
  const throttledFrom = env.cp.throttled.length;
  const journalFrom = env.runner.journal.length;
  const completionsFrom = completions.length;
  const started = Date.now();
  await env.setDesired(GROUP, desired);
  const mine = () => env.cp.scalingActivities.all().filter((a) => a.groupName === GROUP && a.kind === kind && a.start >= started);
  await waitBounded(`${name}: ${size} ${kind} activities to end`, SCALE_WAIT_MS(size), () => {
    const acts = mine();
    return acts.length >= size && acts.every((a) => a.status !== 'InProgress');
  });
  await waitBounded('the runner to be idle', 120_000, () => env.runner.isIdle());
  const acts = mine();
  const ended = acts.filter((a) => a.end !== undefined);
  const flows = ended.map((a) => {
    const window = { start: a.start, end: a.end! };
    const busy: Interval[] = [...(executor.stepIntervals.get(a.instanceId) ?? [])];
    if (kind === 'launch') {
      const appeared = executor.appeared.get(a.instanceId);
      if (appeared !== undefined) busy.push({ start: appeared, end: appeared + DURATIONS.agentMs });
      const registered = dataPlane.registered.get(a.instanceId);
      if (registered !== undefined) busy.push({ start: registered, end: registered + DURATIONS.healthyAfterMs });
    } else {
      const drain = dataPlane.drains.get(a.instanceId);
      if (drain !== undefined) busy.push(drain);
    }
    return splitFlow(window, busy);
  });
  const invocations = env.runner.journal.slice(journalFrom);
  const settledAll = acts.length >= size && acts.every((a) => a.status !== 'InProgress');
  return {
    name,
    size,
    wallMs: settledAll && ended.length > 0 ? Math.max(...ended.map((a) => a.end!)) - started : undefined,
    settled: acts.filter((a) => a.status === 'Successful').length,
    failed: acts.filter((a) => a.status === 'Failed').length,
    flows,
    calls: countBy(env.recorder.calls.slice(callsFrom), (c) => `${c.service}:${c.operation}`),
    throttled: countBy(env.cp.throttled.slice(throttledFrom), (t) => `${t.service}:${t.operation}`),
    invocations: invocations.length,
    unsuccessfulInvocations: invocations.filter((i) => i.outcome !== 'success').length,
    abandons: completions.slice(completionsFrom).filter((c) => c.result === 'ABANDON').length,
    loadBefore,
    loadAfter: os.loadavg()[0],
  };
}

function print(f: PhaseFigures): void {
  const s = summarize(f.flows);
  const n = Math.max(1, f.size);
  const totalCalls = Object.values(f.calls).reduce((a, b) => a + b, 0);
  const totalThrottled = Object.values(f.throttled).reduce((a, b) => a + b, 0);
  console.log(`== ${f.name} (N=${f.size}; load average ${f.loadBefore.toFixed(2)} -> ${f.loadAfter.toFixed(2)})`);
  console.log(`  wall time to all ${f.name.startsWith('scale-out') ? 'InService' : 'gone'}   ${f.wallMs === undefined ? 'NOT REACHED' : seconds(f.wallMs)} (${f.settled} successful, ${f.failed} failed of ${f.size})`);
  console.log(`  per flow completion  p50 ${seconds(s.p50Ms)}, p95 ${seconds(s.p95Ms)}, max ${seconds(s.maxMs)} (${s.flows} flows ended)`);
  console.log(`  busy vs overhead     busy ${seconds(s.busyMs / Math.max(1, s.flows))}, overhead ${seconds(s.overheadMs / Math.max(1, s.flows))} per flow: overhead ${(s.overheadShare * 100).toFixed(1)} % of completion time`);
  console.log(`  invocations          ${f.invocations} (${f.unsuccessfulInvocations} not successful), ${(f.invocations / n).toFixed(1)} per flow`);
  console.log(`  AWS API calls        ${totalCalls} (${(totalCalls / n).toFixed(1)} per flow; throttled attempts included)`);
  for (const [op, per] of perFlow(f.calls, n)) console.log(`    ${op.padEnd(50)} ${per.toFixed(2)}`);
  console.log(`  throttled calls      ${totalThrottled} (${(totalThrottled / n).toFixed(2)} per flow)`);
  for (const [op, per] of perFlow(f.throttled, n)) console.log(`    ${op.padEnd(50)} ${per.toFixed(2)}`);
  console.log(`  ABANDON results      ${f.abandons}`);
}

/**
 * env.stop(), holding the event loop open meanwhile: moto's process and its stop timers are unref'd
 * (moto.ts), so while stop() waits for moto to exit nothing else may keep node running, and node would
 * exit with stop() pending (moto signalled but not seen gone, the last lines never printed).
 */
async function stopHeld(env: FlowsEnvironment): Promise<void> {
  const hold = setInterval(() => undefined, 1000);
  try {
    await env.stop();
  } finally {
    clearInterval(hold);
  }
}

function parseArgs(argv: readonly string[]): { sizes: number[]; batches: number } {
  let sizes = [1, 10, 50];
  let batches = DEFAULT_BATCHES;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--sizes') {
      const value = argv[i + 1];
      if (value === undefined) throw new Error('--sizes needs a value, e.g. --sizes 1,10,50');
      sizes = parseSizes(value, MAX_SIZE);
      i += 1;
    } else if (arg.startsWith('--sizes=')) {
      sizes = parseSizes(arg.slice('--sizes='.length), MAX_SIZE);
    } else if (arg === '--batches') {
      const value = argv[i + 1] ?? '';
      if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 10) throw new Error(`--batches takes an integer from 1 to 10, got '${value}'`);
      batches = Number(value);
      i += 1;
    } else {
      throw new Error(`unknown argument '${arg}' (usage: control-plane.ts [--sizes 1,10,50] [--batches 5])`);
    }
  }
  return { sizes, batches };
}

async function main(): Promise<number> {
  const { sizes, batches } = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const completions: Completion[] = [];
  const executor = new TimedExecutor({ agentDelayMs: DURATIONS.agentMs });
  executor.setStepResult('mount-volumes', 'mountVolumes', { delayMs: DURATIONS.mountVolumesMs });
  executor.setStepResult('configure-app', 'installHealthCheck', { delayMs: DURATIONS.installHealthCheckMs });
  executor.setStepResult('configure-app', 'configure', { delayMs: DURATIONS.configureMs });
  executor.setStepResult('configure-app', 'checkHealth', { delayMs: DURATIONS.checkHealthMs });
  executor.setStepResult('drain-node', 'drainNode', { delayMs: DURATIONS.drainNodeMs });
  const dataPlane = new TimedDataPlane({ healthyAfterMs: DURATIONS.healthyAfterMs });
  const env = await startFlowsEnvironment({
    stageParams: PRODUCTION_PARAMS,
    groupMax: MAX_SIZE,
    throttle: THROTTLE,
    executor,
    dataPlane,
    deregistrationDelaySeconds: DURATIONS.deregistrationDelaySeconds,
    concurrentBatches: batches,
    frontLog: (message, fields) => {
      if (message === 'lifecycle action completed' && fields !== undefined) {
        completions.push({ instanceId: String(fields.instanceId), hookName: String(fields.hookName), result: String(fields.result), at: Date.now() });
      }
    },
  });
  // A timeout's SIGTERM (bench.cjs) or a ^C tears the emulator down (moto is a child process) before exiting.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`${signal}: stopping the emulator`);
      void stopHeld(env).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
  const params = { ...STAGE_PARAMS, ...PRODUCTION_PARAMS };
  console.log(`setup: ${seconds(Date.now() - t0)}${env.packaged.packagedNow ? ' (packaged now)' : ' (package from cache)'}; functions' logs: ${env.logFile}`);
  console.log(`machine: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`stage: retryBaseSeconds ${params.retryBaseSeconds}, retryMaxSeconds ${params.retryMaxSeconds}, healthyTimeoutSeconds ${params.healthyTimeoutSeconds}, drainMaxSeconds ${params.drainMaxSeconds}`);
  console.log(`throttling: ${JSON.stringify(THROTTLE.rates)} (assumed) + EC2's and ELBv2's documented buckets`);
  console.log(`hosts: ${JSON.stringify(DURATIONS)}`);
  console.log(`Lambda: ${batches} concurrent batch(es) per queue, batch size as packaged`);
  console.log('completion: lifecycle action start (launched / termination began) to its end (InService / terminated)');
  console.log('busy: union of agent registration wait, document steps, health checks until healthy, deregistration delay; overhead = completion - busy');
  let failedSetup = false;
  try {
    let letters = await deadLetters(env);
    console.log(`dead-letter queues read: ${Object.keys(letters).join(', ')}`);
    for (const size of sizes) {
      const out = await phase(env, executor, dataPlane, completions, `scale-out 0 -> ${size}`, size, size, 'launch');
      print(out);
      const inn = await phase(env, executor, dataPlane, completions, `scale-in ${size} -> 0`, size, 0, 'terminate');
      print(inn);
      const now = await deadLetters(env);
      const added = Object.entries(now).map(([q, n]) => `${q} +${n - (letters[q] ?? 0)}`);
      console.log(`  dead letters (N=${size}): ${added.join(', ')}`);
      letters = now;
    }
  } catch (error) {
    failedSetup = true;
    console.error(error instanceof Error ? error.stack : String(error));
  } finally {
    await stopHeld(env);
  }
  console.log(`total: ${seconds(Date.now() - t0)}`);
  return failedSetup ? 2 : 0;
}

// Exit once stdout has drained (tsx relays it through a pipe, and process.exit can cut a pipe's last lines);
// the unref'd timer ends the process anyway should a handle outlive env.stop().
main().then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), 5000).unref();
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.stack : String(error));
    process.exit(2);
  },
);
