/**
 * The sandbox's `alarms` option: what CloudWatch would supply around the
 * stack's scaling alarms. A metrics agent samples the hosts and publishes
 * CPUUtilization / disk_used_percent into the emulator, an evaluator turns
 * the datapoints into alarm states and "CloudWatch Alarm State Change" events
 * (delivered to the AlarmStateRule's DecisionQueue, where the real alarm
 * function takes them), and a bounded CPU load through the load balancer.
 */
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { AlarmEvaluator, type AlarmTransition } from './control-plane/alarm-evaluator';
import { clientConfig } from './control-plane/aws-setup';
import { EventBus } from './control-plane/event-bus';
import { MetricsAgent, targetGroupDimension, type MetricSample } from './control-plane/metrics-agent';

export type { AlarmTransition } from './control-plane/alarm-evaluator';
export type { MetricSample } from './control-plane/metrics-agent';

export interface SandboxAlarmOptions {
  /** Alarm Period of the three scaling alarms (default 10; CloudWatch allows 10, 30, 60n). */
  readonly periodSeconds?: number;
  /** Default 70. */
  readonly cpuHighThreshold?: number;
  /** Default 25. */
  readonly cpuLowThreshold?: number;
  /** Default 80. */
  readonly diskHighThreshold?: number;
  /** scaleCooldownSeconds stage param (default 30). */
  readonly cooldownSeconds?: number;
  /** How often the agent samples and publishes (default 5000). */
  readonly agentIntervalMs?: number;
  /** Compute group MinSize once booted (default 1). */
  readonly computeMin?: number;
  /** largeStepFactor stage param: value >= threshold x factor scales out by the large step (default: the stack's 1.5). */
  readonly largeStepFactor?: number;
}

export interface ResolvedAlarmOptions {
  readonly periodSeconds: number;
  readonly cpuHighThreshold: number;
  readonly cpuLowThreshold: number;
  readonly diskHighThreshold: number;
  readonly cooldownSeconds: number;
  readonly agentIntervalMs: number;
  readonly computeMin: number;
  readonly largeStepFactor?: number;
}

export interface LoadReport {
  readonly requests: number;
  readonly failures: number;
  readonly seconds: number;
}

export interface LoadHandle {
  stop(): Promise<LoadReport>;
  readonly done: Promise<LoadReport>;
}

export interface SandboxAlarms {
  /** Samples every running host now and publishes the datapoints (the agent also does this every agentIntervalMs). */
  sampleNow(): Promise<readonly MetricSample[]>;
  /** Evaluates every scaling alarm of the stack now; returns the transitions made (each also delivered as an EventBridge event through the event bus). The evaluator also runs by itself every periodSeconds. */
  evaluateNow(): Promise<readonly AlarmTransition[]>;
  /** Every transition so far, oldest first. */
  transitions(): readonly AlarmTransition[];
  /** Bounded real CPU load: `sessions` cookie sessions requesting the app's CPU-work page through the load balancer; stops by itself after `seconds` (or on stop()). */
  cpuLoad(opts: { sessions: number; seconds: number }): LoadHandle;
}

export class SandboxAlarmsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SandboxAlarmsError';
  }
}

/** Validates the option and fills the defaults; bad input names the field. */
export function resolveAlarmOptions(o: SandboxAlarmOptions, computeMax: number): ResolvedAlarmOptions {
  const r: ResolvedAlarmOptions = {
    periodSeconds: o.periodSeconds ?? 10,
    cpuHighThreshold: o.cpuHighThreshold ?? 70,
    cpuLowThreshold: o.cpuLowThreshold ?? 25,
    diskHighThreshold: o.diskHighThreshold ?? 80,
    cooldownSeconds: o.cooldownSeconds ?? 30,
    agentIntervalMs: o.agentIntervalMs ?? 5000,
    computeMin: o.computeMin ?? 1,
    ...(o.largeStepFactor !== undefined ? { largeStepFactor: o.largeStepFactor } : {}),
  };
  const p = r.periodSeconds;
  if (!(p === 10 || p === 30 || (Number.isInteger(p) && p >= 60 && p % 60 === 0 && p <= 3600))) {
    throw new SandboxAlarmsError(`alarms.periodSeconds must be 10, 30 or a multiple of 60 up to 3600 (CloudWatch's alarm periods), got ${p}`);
  }
  for (const key of ['cpuHighThreshold', 'cpuLowThreshold', 'diskHighThreshold'] as const) {
    const v = r[key];
    if (!(Number.isFinite(v) && v > 0 && v < 100)) throw new SandboxAlarmsError(`alarms.${key} must be a percent above 0 and below 100, got ${v}`);
  }
  if (r.cpuLowThreshold >= r.cpuHighThreshold) throw new SandboxAlarmsError(`alarms.cpuLowThreshold (${r.cpuLowThreshold}) must be below cpuHighThreshold (${r.cpuHighThreshold})`);
  if (!Number.isInteger(r.cooldownSeconds) || r.cooldownSeconds < 0 || r.cooldownSeconds > 3600) throw new SandboxAlarmsError(`alarms.cooldownSeconds must be a whole number 0-3600, got ${r.cooldownSeconds}`);
  if (!Number.isInteger(r.agentIntervalMs) || r.agentIntervalMs < 500 || r.agentIntervalMs > 60_000) throw new SandboxAlarmsError(`alarms.agentIntervalMs must be a whole number 500-60000, got ${r.agentIntervalMs}`);
  if (!Number.isInteger(r.computeMin) || r.computeMin < 0 || r.computeMin > computeMax) throw new SandboxAlarmsError(`alarms.computeMin must be a whole number 0-${computeMax} (computeMax), got ${r.computeMin}`);
  if (r.largeStepFactor !== undefined && !(Number.isFinite(r.largeStepFactor) && r.largeStepFactor > 1 && r.largeStepFactor <= 100 && /^\d+(\.\d+)?$/.test(String(r.largeStepFactor)))) {
    throw new SandboxAlarmsError(`alarms.largeStepFactor must be a decimal above 1 and at most 100, got ${r.largeStepFactor}`);
  }
  return r;
}

/** The stage params that give the stack's three scaling alarms these settings (serverless.yml params). */
export function alarmStageParams(r: ResolvedAlarmOptions): Record<string, string> {
  const period = String(r.periodSeconds);
  return {
    cpuHighThreshold: String(r.cpuHighThreshold),
    cpuHighPeriod: period,
    cpuHighEvaluationPeriods: '2',
    cpuLowThreshold: String(r.cpuLowThreshold),
    cpuLowPeriod: period,
    cpuLowEvaluationPeriods: '3',
    diskHighThreshold: String(r.diskHighThreshold),
    diskHighPeriod: period,
    diskHighEvaluationPeriods: '1',
    scaleCooldownSeconds: String(r.cooldownSeconds),
    ...(r.largeStepFactor !== undefined ? { largeStepFactor: String(r.largeStepFactor) } : {}),
  };
}

export interface StartAlarmsOptions {
  readonly settings: ResolvedAlarmOptions;
  /** moto's URL: alarms, metrics, rules and queues live there. */
  readonly motoUrl: string;
  readonly stage: string;
  readonly stateDir: string;
  readonly groups: { readonly compute: string; readonly storage: string };
  readonly exec: (instanceId: string, argv: readonly string[], timeoutSeconds: number) => Promise<string>;
  readonly lbUrl: string;
  /** The target group whose health the agent publishes (HealthyHostCount), and the front that runs its health checks. */
  readonly targetGroup?: { readonly arn: string; readonly frontUrl: string };
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface StartedAlarms extends SandboxAlarms {
  stop(): Promise<void>;
}

const MAX_SESSIONS = 32;
const MAX_LOAD_SECONDS = 1800;

export async function startAlarms(o: StartAlarmsOptions): Promise<StartedAlarms> {
  const config = clientConfig(o.motoUrl);
  const prefix = `pydio-autoscaler-${o.stage}-`;
  const found = await new CloudWatchClient(config).send(new DescribeAlarmsCommand({ AlarmNamePrefix: prefix }));
  if ((found.MetricAlarms ?? []).length === 0) throw new SandboxAlarmsError(`no alarm named ${prefix}* in the emulator: deploy the stack before starting the alarms`);
  const log = o.log ?? (() => undefined);
  const agent = new MetricsAgent({
    clientConfig: config,
    stateDir: o.stateDir,
    groups: o.groups,
    exec: o.exec,
    intervalMs: o.settings.agentIntervalMs,
    // HAProxy plays the load balancer: its ELB dimension is named after the target group.
    ...(o.targetGroup !== undefined
      ? { targetGroup: { arn: o.targetGroup.arn, loadBalancer: `app/${targetGroupDimension(o.targetGroup.arn).split('/')[1] ?? 'sandbox'}-haproxy/0000000000000000`, clientConfig: clientConfig(o.targetGroup.frontUrl) } }
      : {}),
    log,
  });
  const evaluator = new AlarmEvaluator({ clientConfig: config, bus: new EventBus(config), alarmNamePrefix: prefix, intervalSeconds: o.settings.periodSeconds, log });
  agent.start();
  evaluator.start();
  const loads = new Set<LoadHandle>();

  const cpuLoad = (opts: { sessions: number; seconds: number }): LoadHandle => {
    if (!Number.isInteger(opts.sessions) || opts.sessions < 1 || opts.sessions > MAX_SESSIONS) throw new SandboxAlarmsError(`cpuLoad sessions must be a whole number 1-${MAX_SESSIONS}, got ${opts.sessions}`);
    if (!(opts.seconds > 0 && opts.seconds <= MAX_LOAD_SECONDS)) throw new SandboxAlarmsError(`cpuLoad seconds must be above 0 and at most ${MAX_LOAD_SECONDS}, got ${opts.seconds}`);
    const handle = runLoad(o.lbUrl, opts.sessions, opts.seconds);
    loads.add(handle);
    void handle.done.finally(() => loads.delete(handle));
    return handle;
  };

  return {
    sampleNow: () => agent.sampleNow(),
    evaluateNow: () => evaluator.evaluateNow(),
    transitions: () => evaluator.transitions(),
    cpuLoad,
    async stop() {
      await Promise.all([...loads].map((l) => l.stop()));
      await evaluator.stop();
      await agent.stop();
    },
  };
}

/** `sessions` loops of GET /work.php?ms=80 through the LB, each with its own cookie jar; bounded by `seconds`. */
function runLoad(lbUrl: string, sessions: number, seconds: number): LoadHandle {
  const start = Date.now();
  const deadline = start + seconds * 1000;
  let stopped = false;
  let requests = 0;
  let failures = 0;
  const controller = new AbortController();
  const session = async (): Promise<void> => {
    const jar = new Map<string, string>();
    for (let i = 0; i < 1_000_000 && !stopped && Date.now() < deadline; i += 1) {
      requests += 1;
      try {
        const res = await fetch(`${lbUrl}/work.php?ms=80`, {
          headers: jar.size > 0 ? { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } : {},
          signal: AbortSignal.any([controller.signal, AbortSignal.timeout(10_000)]),
        });
        for (const line of res.headers.getSetCookie()) {
          const m = /^([^=;\s]+)=([^;]*)/.exec(line);
          if (m?.[1] !== undefined && m[2] !== undefined) jar.set(m[1], m[2]);
        }
        await res.arrayBuffer();
        if (res.status !== 200) failures += 1;
      } catch {
        if (!stopped) failures += 1;
        // a refused connection must not spin
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const done: Promise<LoadReport> = Promise.all(Array.from({ length: sessions }, () => session())).then(() => ({
    requests,
    failures,
    seconds: Math.round((Date.now() - start) / 100) / 10,
  }));
  return {
    done,
    stop: () => {
      stopped = true;
      controller.abort();
      return done;
    },
  };
}
