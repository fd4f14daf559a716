/**
 * Compute bench: one scale-out (0 -> 1) and one scale-in (1 -> 0) in a real sandbox (namespaced
 * hosts, HAProxy, the deployed stack, the real lifecycle function), each flow's wall time split
 * into what was running and the control plane's overhead (test/bench/flow-split.ts defines them),
 * with the AWS API calls the lifecycle function made.
 *
 * Timings (PAS_BENCH_TIMINGS, default `realistic`):
 * - `realistic`: the stage keeps serverless.yml's production waits (RETRY_BASE_SECONDS 10,
 *   RETRY_MAX_SECONDS 120, the long timeouts) and the SSM agent registers 30 s after its host is
 *   up (startSandbox's `timings: 'realistic'`; boot/settings.ts says why 30);
 * - `sandbox`: the sandbox's own 1-2 s waits, the agent online as soon as the host is.
 * In both, documents run for real inside the hosts, the target group checks every 5 s and turns
 * a target healthy after 2 passing checks, and the deregistration delay is 6 s.
 *
 * Skips with the reason printed (exit 0) when the machine cannot run the sandbox. Sandbox
 * 'cbench' on 10.85.0.0/16.
 *
 *   npx tsx test/bench/compute.ts
 *   PAS_BENCH_TIMINGS=sandbox npx tsx test/bench/compute.ts
 */
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { JournalEntry } from '../sandbox/control-plane/front';
import { sandboxSkipReason } from '../e2e/sandbox/prerequisites';
import { accessKeyIdOf } from '../sandbox/iam/identity';
import { isSteady, startSandbox, type Sandbox } from '../sandbox/sandbox';
import { formatFlowSplit, splitFlow, type RunningInterval } from './flow-split';

const NAME = 'cbench';
const OCTET = 85;
const TARGET_PORT = 80;
const FLOW_TIMEOUT_S = 900;
const POLL_MS = 200;

type Timings = 'sandbox' | 'realistic';

function timingsFromEnv(): Timings {
  const value = process.env.PAS_BENCH_TIMINGS ?? 'realistic';
  if (value !== 'sandbox' && value !== 'realistic') throw new Error(`PAS_BENCH_TIMINGS must be 'sandbox' or 'realistic', got '${value}'`);
  return value;
}

/**
 * The target group's deregistration delay (PAS_BENCH_DEREGISTRATION_DELAY, seconds): 6 by default to keep
 * the bench short; the reference cluster's target group (serverless.yml ClusterTargetGroup) and ALB's
 * default are 300.
 */
function deregistrationDelayFromEnv(): number {
  const text = process.env.PAS_BENCH_DEREGISTRATION_DELAY ?? '6';
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > 3600) throw new Error(`PAS_BENCH_DEREGISTRATION_DELAY must be a whole number of seconds 0-3600, got '${text}'`);
  return value;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the bench watches while a flow runs: the compute instance the flow is about, and its target's health as HAProxy sees it (no AWS API call). */
class TargetWatch {
  instanceId: string | undefined;
  firstHealthy: number | undefined;
  drainingFrom: number | undefined;
  drainingUntil: number | undefined;
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(
    private readonly sb: Sandbox,
    knownInstance: string | undefined,
  ) {
    this.instanceId = knownInstance;
    this.loop = this.run();
  }

  onEvent = (entry: JournalEntry): void => {
    const d = entry.event.detail;
    if (this.instanceId === undefined && entry.event['detail-type'] === 'EC2 Instance-launch Lifecycle Action' && d.AutoScalingGroupName === this.sb.computeGroup) {
      this.instanceId = String(d.EC2InstanceId);
    }
  };

  private async run(): Promise<void> {
    for (let i = 0; !this.stopped && i < (FLOW_TIMEOUT_S * 1000) / POLL_MS; i += 1) {
      if (this.instanceId !== undefined) {
        const health = await this.sb.dataPlane.health(this.sb.targetGroupArn, this.instanceId, TARGET_PORT).catch(() => undefined);
        const now = Date.now();
        if (health?.state === 'healthy' && this.firstHealthy === undefined) this.firstHealthy = now;
        if (health?.state === 'draining' && this.drainingFrom === undefined) this.drainingFrom = now;
        if (this.drainingFrom !== undefined && this.drainingUntil === undefined && health?.state !== 'draining') this.drainingUntil = now;
      }
      await sleep(POLL_MS);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

interface FlowRun {
  readonly start: number;
  readonly end: number;
  readonly instanceId: string;
  readonly watch: TargetWatch;
}

/** Sets the compute group's desired capacity and waits (on the call log, no API call) for the lifecycle function's CompleteLifecycleAction. */
async function runFlow(sb: Sandbox, desired: number, lifecycleKey: string, knownInstance: string | undefined): Promise<FlowRun> {
  const watch = new TargetWatch(sb, knownInstance);
  sb.controlPlane.events.on('event', watch.onEvent);
  try {
    const start = Date.now();
    await sb.setDesiredCapacity(desired);
    for (let i = 0; i < (FLOW_TIMEOUT_S * 1000) / POLL_MS; i += 1) {
      const done = sb.apiCalls().find((c) => c.at >= start && c.accessKeyId === lifecycleKey && c.operation === 'CompleteLifecycleAction' && c.status === 200);
      if (done !== undefined) {
        // One more second for the watch (0.2 s polls) to see the target's state as the flow left it.
        await sleep(1000);
        const end = done.at + done.durationMs;
        if (watch.instanceId === undefined) throw new Error('the flow completed a lifecycle action for an instance the bench never saw launch');
        return { start, end, instanceId: watch.instanceId, watch };
      }
      await sleep(POLL_MS);
    }
    throw new Error(`the flow to ${desired} did not complete its lifecycle action within ${FLOW_TIMEOUT_S} s`);
  } finally {
    sb.controlPlane.events.off('event', watch.onEvent);
    await watch.stop();
  }
}

async function intervalsOf(sb: Sandbox, flow: FlowRun, lifecycleKey: string, kind: 'scale-out' | 'scale-in'): Promise<RunningInterval[]> {
  const intervals: RunningInterval[] = [];
  const steps = (await sb.stepTimings()).filter((t) => t.instanceId === flow.instanceId && t.end !== undefined && t.start >= flow.start && t.start <= flow.end);
  for (const t of steps) intervals.push({ kind: 'documents', start: t.start, end: t.end ?? t.start });
  const calls = sb.apiCalls().filter((c) => c.at >= flow.start && c.at <= flow.end && c.accessKeyId === lifecycleKey && c.status === 200);
  if (kind === 'scale-out') {
    const online = sb.hosts.agentOnlineAt(flow.instanceId);
    if (online === undefined) throw new Error(`no record of when ${flow.instanceId}'s host came up`);
    intervals.push({ kind: 'launch + agent registration', start: flow.start, end: online });
    const registered = calls.find((c) => c.operation === 'RegisterTargets');
    if (registered !== undefined && flow.watch.firstHealthy !== undefined) intervals.push({ kind: 'health checks', start: registered.at + registered.durationMs, end: flow.watch.firstHealthy });
  } else {
    const deregistered = calls.find((c) => c.operation === 'DeregisterTargets');
    if (deregistered !== undefined && flow.watch.drainingUntil !== undefined) intervals.push({ kind: 'drain', start: deregistered.at + deregistered.durationMs, end: flow.watch.drainingUntil });
  }
  return intervals;
}

const KIND_NOTES: Readonly<Record<string, string>> = {
  'launch + agent registration': '(SetDesiredCapacity sent -> the new host up and its SSM agent registered)',
  documents: "(Run Command steps on the flow's instance, start -> end as the agent reported them)",
  'health checks': '(RegisterTargets answered -> the target first seen healthy, polled every 0.2 s)',
  drain: '(DeregisterTargets answered -> the target no longer draining: deregistration delay, in-flight requests)',
};

async function main(): Promise<number> {
  const skip = sandboxSkipReason();
  if (skip !== undefined) {
    console.log(`skipped: ${skip}`);
    return 0;
  }
  const timings = timingsFromEnv();
  const delay = deregistrationDelayFromEnv();
  const t0 = Date.now();
  let sb: Sandbox | undefined;
  try {
    sb = await startSandbox({ name: NAME, networkOctet: OCTET, stateDir: path.join(tmpdir(), `pas-${NAME}-${process.pid}`), lbPort: 0, handleSignals: true, skipInitialScaleOut: true, timings, deregistrationDelaySeconds: delay });
    const lifecycle = sb.stack.functions.lifecycle;
    if (lifecycle === undefined) throw new Error(`the stack has no lifecycle function (functions: ${Object.keys(sb.stack.functions).join(', ')})`);
    const lifecycleKey = accessKeyIdOf(lifecycle);
    console.log(`timings ${timings}: ${timings === 'realistic' ? "serverless.yml's production waits (retries 10-120 s), SSM agent registered 30 s after its host is up" : "the sandbox's 1-2 s waits, SSM agent online once its host is up"}; documents run for real; target group checks every 5 s, healthy after 2; deregistration delay ${delay} s`);
    console.log(`sandbox boot ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const out = await runFlow(sb, 1, lifecycleKey, undefined);
    const box = sb;
    await sb.waitForState((s) => isSteady(s, box.computeGroup, 1), 120_000, 'one InService instance with a healthy target');
    const outSplit = splitFlow('scale-out 0 -> 1', { start: out.start, end: out.end }, await intervalsOf(sb, out, lifecycleKey, 'scale-out'), sb.apiCalls().filter((c) => c.accessKeyId === lifecycleKey));
    for (const line of formatFlowSplit(outSplit, { window: "SetDesiredCapacity sent -> the lifecycle function's CompleteLifecycleAction answered", kinds: KIND_NOTES })) console.log(line);

    const inRun = await runFlow(sb, 0, lifecycleKey, out.instanceId);
    await sb.waitForState((s) => isSteady(s, box.computeGroup, 0), 120_000, 'no compute instance left');
    const inSplit = splitFlow('scale-in 1 -> 0', { start: inRun.start, end: inRun.end }, await intervalsOf(sb, inRun, lifecycleKey, 'scale-in'), sb.apiCalls().filter((c) => c.accessKeyId === lifecycleKey));
    for (const line of formatFlowSplit(inSplit, { window: "SetDesiredCapacity sent -> the lifecycle function's CompleteLifecycleAction answered", kinds: KIND_NOTES })) console.log(line);
    return 0;
  } finally {
    await sb?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.stack : String(error));
    process.exit(2);
  },
);
