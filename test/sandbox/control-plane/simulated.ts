/**
 * In-memory implementations of the control plane's seams, for the moto
 * integration tests: nothing runs for real, but every call is recorded and
 * outcomes (failing steps, unhealthy targets, late agents) are configurable.
 */
import type { CommandResult, DataPlane, DataPlaneState, HostExecutor, HostProvider, LaunchedInstance, Target } from './types';

export interface RecordedRun {
  readonly instanceId: string;
  readonly script: string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  readonly at: number;
}

/** How a step ends; `instanceId`: on that instance only (default: on every instance). */
export type StepOutcome = Partial<CommandResult> & { readonly delayMs?: number; readonly instanceId?: string };

interface StepRule {
  readonly documentSubstring: string;
  readonly stepName: string;
  readonly result: StepOutcome;
}

export interface SimulatedExecutorOptions {
  /** Agent comes online this long after the instance is known (default 0). */
  readonly agentDelayMs?: number;
  /** Resolves which step a script belongs to; defaults to the journal the control plane keeps. */
  readonly stepOf?: (instanceId: string, script: string) => { documentName: string; stepName: string } | undefined;
}

/**
 * Runs nothing. Which document/step a run belongs to is told by the control
 * plane (`noteStep`, wired from its 'step' event) so results can be set per step.
 */
export class SimulatedExecutor implements HostExecutor {
  readonly runs: RecordedRun[] = [];
  private readonly known = new Map<string, { since: number; ip: string }>();
  private readonly offline = new Set<string>();
  private readonly rules: StepRule[] = [];
  private readonly pendingSteps: { instanceId: string; script: string; documentName: string; stepName: string }[] = [];

  constructor(private readonly options: SimulatedExecutorOptions = {}) {}

  /** Called when a host appears (SimulatedHosts does it). */
  addHost(instanceId: string, ip: string): void {
    this.known.set(instanceId, { since: Date.now(), ip });
  }

  removeHost(instanceId: string): void {
    this.known.delete(instanceId);
  }

  setOffline(instanceId: string, offline = true): void {
    if (offline) this.offline.add(instanceId);
    else this.offline.delete(instanceId);
  }

  /** Make step `stepName` of documents whose name contains `documentSubstring` end this way. */
  failStep(documentSubstring: string, stepName: string, result: StepOutcome): void {
    this.rules.push({ documentSubstring, stepName, result: { exitCode: 1, ...result } });
  }

  /** Same as failStep, for any outcome (e.g. `{ timedOut: true }`, or a slow success). */
  setStepResult(documentSubstring: string, stepName: string, result: StepOutcome): void {
    this.rules.push({ documentSubstring, stepName, result });
  }

  /** The control plane says which document step the next run of this script is. */
  noteStep(step: { instanceId: string; script: string; documentName: string; stepName: string }): void {
    this.pendingSteps.push(step);
  }

  async isAgentOnline(instanceId: string): Promise<boolean> {
    const host = this.known.get(instanceId);
    if (host === undefined || this.offline.has(instanceId)) return false;
    return Date.now() - host.since >= (this.options.agentDelayMs ?? 0);
  }

  async ipAddressOf(instanceId: string): Promise<string | undefined> {
    return this.known.get(instanceId)?.ip;
  }

  async run(instanceId: string, script: string, env: Readonly<Record<string, string>>, timeoutSeconds: number): Promise<CommandResult> {
    this.runs.push({ instanceId, script, env: { ...env }, timeoutSeconds, at: Date.now() });
    if (!this.known.has(instanceId)) return { exitCode: 255, stdout: '', stderr: `no host for ${instanceId}`, timedOut: false };
    const index = this.pendingSteps.findIndex((s) => s.instanceId === instanceId && s.script === script);
    const step = index >= 0 ? this.pendingSteps.splice(index, 1)[0] : this.options.stepOf?.(instanceId, script);
    const rule = step === undefined ? undefined : [...this.rules].reverse().find((r) => step.documentName.includes(r.documentSubstring) && r.stepName === step.stepName && (r.result.instanceId === undefined || r.result.instanceId === instanceId));
    const delay = rule?.result.delayMs ?? 0;
    if (delay > 0) await new Promise((r) => setTimeout(r, Math.min(delay, timeoutSeconds * 1000)));
    if (rule?.result.timedOut === true || delay > timeoutSeconds * 1000) {
      return { exitCode: rule?.result.exitCode ?? 124, stdout: rule?.result.stdout ?? '', stderr: rule?.result.stderr ?? '', timedOut: true };
    }
    return { exitCode: rule?.result.exitCode ?? 0, stdout: rule?.result.stdout ?? '', stderr: rule?.result.stderr ?? '', timedOut: false };
  }
}

interface SimTarget {
  readonly target: Target;
  state: DataPlaneState;
  since: number;
  drainUntil?: number;
}

export interface SimulatedDataPlaneOptions {
  /** A registered target turns healthy this long after registration (default 100 ms). */
  readonly healthyAfterMs?: number;
  /** Scales the deregistration delay, e.g. 0.01 turns 300 s into 3 s (default 1). */
  readonly delayScale?: number;
}

export class SimulatedDataPlane implements DataPlane {
  private readonly targets = new Map<string, SimTarget>();
  private readonly unhealthy = new Set<string>();
  readonly calls: { op: 'register' | 'deregister'; targetGroupArn: string; target: Target; delaySeconds?: number }[] = [];

  constructor(private readonly options: SimulatedDataPlaneOptions = {}) {}

  private key(arn: string, instanceId: string, port: number): string {
    return `${arn}|${instanceId}|${port}`;
  }

  /** Health checks of this instance fail (in every target group) until cleared. */
  setUnhealthy(instanceId: string, unhealthy = true): void {
    if (unhealthy) this.unhealthy.add(instanceId);
    else this.unhealthy.delete(instanceId);
  }

  async register(targetGroupArn: string, target: Target): Promise<void> {
    this.calls.push({ op: 'register', targetGroupArn, target });
    const existing = this.targets.get(this.key(targetGroupArn, target.instanceId, target.port));
    if (existing !== undefined && existing.state !== 'draining') return;
    this.targets.set(this.key(targetGroupArn, target.instanceId, target.port), { target, state: 'initial', since: Date.now() });
  }

  async deregister(targetGroupArn: string, target: Target, delaySeconds: number): Promise<void> {
    this.calls.push({ op: 'deregister', targetGroupArn, target, delaySeconds });
    const t = this.targets.get(this.key(targetGroupArn, target.instanceId, target.port));
    if (t === undefined || t.state === 'draining') return;
    t.state = 'draining';
    t.drainUntil = Date.now() + delaySeconds * 1000 * (this.options.delayScale ?? 1);
  }

  async health(targetGroupArn: string, instanceId: string, port: number): Promise<{ state: DataPlaneState; reason?: string; description?: string } | undefined> {
    const key = this.key(targetGroupArn, instanceId, port);
    const t = this.targets.get(key);
    if (t === undefined) return undefined;
    if (t.state === 'draining') {
      if (Date.now() >= (t.drainUntil ?? 0)) {
        this.targets.delete(key);
        return undefined;
      }
      return { state: 'draining' };
    }
    if (Date.now() - t.since < (this.options.healthyAfterMs ?? 100)) return { state: 'initial' };
    return this.unhealthy.has(instanceId) ? { state: 'unhealthy', reason: 'Target.ResponseCodeMismatch', description: 'Health checks failed with these codes: [503]' } : { state: 'healthy' };
  }
}

export class SimulatedHosts implements HostProvider {
  readonly launched: LaunchedInstance[] = [];
  readonly terminated: string[] = [];

  constructor(private readonly executor?: SimulatedExecutor) {}

  async onInstanceLaunched(instance: LaunchedInstance): Promise<void> {
    this.launched.push(instance);
    this.executor?.addHost(instance.instanceId, instance.privateIp);
  }

  async onInstanceTerminated(instanceId: string): Promise<void> {
    this.terminated.push(instanceId);
    this.executor?.removeHost(instanceId);
  }
}
