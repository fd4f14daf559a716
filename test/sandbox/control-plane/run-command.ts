/**
 * SSM Run Command, emulated: documents come from moto (GetDocument), parameters
 * are validated as SSM does, and the `aws:runShellScript` steps really run on
 * the instance's host through the HostExecutor seam. DescribeInstanceInformation
 * is answered from moto's EC2 instances and the executor's agent state.
 */
import { randomUUID } from 'node:crypto';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetDocumentCommand, SSMClient } from '@aws-sdk/client-ssm';
import { load as loadYaml } from 'js-yaml';
import { commandStatusEvent, EVENT_STATUSES, invocationStatusEvent, type CommandFacts, type EventOrigin } from './command-events';
import type { AwsEvent } from './event-bus';
import type { HostExecutor } from './types';
import { ApiError } from './wire';

export const STDOUT_LIMIT = 24000;
/** The agent's reserved exit codes (aws/amazon-ssm-agent agent/contracts/model.go: ExitWithSuccess, ExitWithFailure). */
export const EXIT_WITH_SUCCESS = 168;
export const EXIT_WITH_FAILURE = 169;
export const STDERR_LIMIT = 8000;

type Status = 'Pending' | 'InProgress' | 'Success' | 'Failed' | 'TimedOut' | 'Cancelled';

interface DocParameter {
  readonly type?: string;
  readonly default?: unknown;
  readonly allowedValues?: readonly string[];
  readonly allowedPattern?: string;
  readonly interpolationType?: string;
  readonly minItems?: number;
  readonly maxItems?: number;
}

interface DocStep {
  readonly action: string;
  readonly name: string;
  readonly inputs?: { runCommand?: unknown; timeoutSeconds?: unknown; workingDirectory?: unknown; onFailure?: unknown };
}

interface PluginRun {
  readonly name: string;
  status: Status;
  statusDetails: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  start?: number;
  end?: number;
}

interface Invocation {
  readonly commandId: string;
  readonly instanceId: string;
  status: Status;
  statusDetails: string;
  readonly plugins: PluginRun[];
  start?: number;
  end?: number;
}

interface Command {
  readonly commandId: string;
  readonly documentName: string;
  readonly documentVersion: string;
  readonly comment: string;
  readonly parameters: Record<string, string[]>;
  readonly instanceIds: string[];
  readonly requested: number;
  readonly timeoutSeconds: number;
  readonly invocations: Map<string, Invocation>;
  /** The overall status last announced (an event goes out when it changes). */
  announced: Status;
}

/**
 * Where Run Command's status-change events go (the front: its EventBus, journal and 'event'
 * emitter). They leave one at a time, in the order of the changes; a failed delivery is
 * reported to `onError` and does not hold up the next.
 */
export interface CommandEventSink {
  readonly publish: (event: AwsEvent) => Promise<void>;
  readonly origin: EventOrigin;
  readonly onError?: (event: AwsEvent, error: unknown) => void;
}

/** What the journal sees for each step actually executed. */
export interface StepRun {
  readonly commandId: string;
  readonly instanceId: string;
  readonly documentName: string;
  readonly stepName: string;
  readonly script: string;
  readonly env: Readonly<Record<string, string>>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(message: string): ApiError {
  return new ApiError('InvalidParameters', message);
}

/** Parse a document's content (JSON or YAML) into its parameters and steps. */
export function parseDocument(name: string, content: string, format: string | undefined): { parameters: Record<string, DocParameter>; steps: DocStep[] } {
  let doc: unknown;
  try {
    doc = format === 'YAML' ? loadYaml(content) : JSON.parse(content);
  } catch (error) {
    throw new ApiError('InvalidDocumentContent', `Document ${name} is not valid ${format ?? 'JSON'}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!isRecord(doc) || !Array.isArray(doc.mainSteps)) {
    throw new ApiError('InvalidDocument', `Document ${name} has no mainSteps (only schemaVersion 2.2 command documents are emulated)`);
  }
  const parameters = isRecord(doc.parameters) ? (doc.parameters as Record<string, DocParameter>) : {};
  const steps: DocStep[] = [];
  for (const step of doc.mainSteps) {
    if (!isRecord(step) || typeof step.action !== 'string' || typeof step.name !== 'string') {
      throw new ApiError('InvalidDocument', `Document ${name}: every main step needs an action and a name`);
    }
    if (step.action !== 'aws:runShellScript') {
      throw new ApiError('InvalidDocument', `Document ${name}: step ${step.name} uses ${step.action}; the emulator runs only aws:runShellScript`);
    }
    steps.push(step as unknown as DocStep);
  }
  return { parameters, steps };
}

/** SSM's parameter validation: unknown names, missing required ones, types, allowedValues, allowedPattern. */
export function resolveParameters(declared: Record<string, DocParameter>, given: Record<string, unknown>): Record<string, string[]> {
  for (const name of Object.keys(given)) {
    if (!(name in declared)) throw invalid(`Parameter "${name}" is not defined in the document. Valid parameters are: ${Object.keys(declared).join(', ') || '(none)'}.`);
  }
  const out: Record<string, string[]> = {};
  for (const [name, spec] of Object.entries(declared)) {
    let values: string[];
    const raw = given[name];
    if (raw !== undefined) {
      if (!Array.isArray(raw) || raw.some((v) => typeof v !== 'string')) throw invalid(`Parameter "${name}" must be a list of strings.`);
      values = raw as string[];
    } else if (spec.default !== undefined) {
      values = Array.isArray(spec.default) ? spec.default.map(String) : [String(spec.default)];
    } else {
      throw invalid(`Parameter "${name}" is required but no value was provided and it has no default.`);
    }
    const type = spec.type ?? 'String';
    if ((type === 'String' || type === 'Integer' || type === 'Boolean') && values.length !== 1) {
      throw invalid(`Parameter "${name}" of type ${type} takes exactly one value, got ${values.length}.`);
    }
    if (type === 'Integer' && !/^-?\d+$/.test(values[0] ?? '')) throw invalid(`Parameter "${name}" "${values[0]}" is not an Integer.`);
    if (type === 'Boolean' && !/^(true|false)$/.test(values[0] ?? '')) throw invalid(`Parameter "${name}" "${values[0]}" is not a Boolean.`);
    if (spec.minItems !== undefined && values.length < spec.minItems) throw invalid(`Parameter "${name}" needs at least ${spec.minItems} values.`);
    if (spec.maxItems !== undefined && values.length > spec.maxItems) throw invalid(`Parameter "${name}" takes at most ${spec.maxItems} values.`);
    for (const value of values) {
      if (spec.allowedValues !== undefined && !spec.allowedValues.includes(value)) {
        throw invalid(`Parameter "${name}" "${value}" is not one of the allowed values: ${spec.allowedValues.join(', ')}.`);
      }
      if (spec.allowedPattern !== undefined && !new RegExp(spec.allowedPattern).test(value)) {
        throw invalid(`Parameter "${name}" "${value}" failed to satisfy constraint: Member must satisfy regular expression pattern: ${spec.allowedPattern}`);
      }
    }
    out[name] = values;
  }
  return out;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

/** The script and env of one step, as the agent would build them. */
export function renderStep(step: DocStep, declared: Record<string, DocParameter>, values: Record<string, string[]>, envVarInterpolation = true): { script: string; env: Record<string, string>; timeoutSeconds: number } {
  const env: Record<string, string> = {};
  for (const [name, spec] of Object.entries(declared)) {
    if (spec.interpolationType === 'ENV_VAR' && envVarInterpolation) env[`SSM_${name}`] = (values[name] ?? []).join(',');
  }
  const substitute = (text: string): string =>
    text.replace(PLACEHOLDER, (whole, name: string) => (name in values ? (values[name] ?? []).join(',') : whole));
  let lines: string[];
  const rc = step.inputs?.runCommand;
  if (typeof rc === 'string') {
    const only = /^\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}$/.exec(rc.trim());
    lines = only !== null && only[1] !== undefined && only[1] in values ? [...(values[only[1]] ?? [])] : [substitute(rc)];
  } else if (Array.isArray(rc)) {
    lines = rc.map((l) => substitute(String(l)));
  } else {
    throw new ApiError('InvalidDocument', `step ${step.name}: inputs.runCommand is missing`);
  }
  const rawTimeout = step.inputs?.timeoutSeconds;
  const timeout = rawTimeout === undefined ? 3600 : Number(substitute(String(rawTimeout)));
  return { script: lines.join('\n'), env, timeoutSeconds: Number.isFinite(timeout) && timeout > 0 ? timeout : 3600 };
}

/**
 * "Verify SSM Agent version is 3.3.2746.0 or later" (Systems Manager user guide,
 * Troubleshooting parameter handling issues): older agents set no SSM_<name>
 * variables for interpolationType ENV_VAR.
 */
export const ENV_VAR_MIN_AGENT = '3.3.2746.0';
/** What a current agent reports (amazon-ssm-agent release 3.3.3572.0). */
export const CURRENT_AGENT = '3.3.3572.0';

/** Dotted agent versions compared field by field. */
export function agentAtLeast(version: string, minimum: string): boolean {
  const a = version.split('.').map(Number);
  const b = minimum.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

/** SendCommand limits (API reference): Comment at most 100 characters, TimeoutSeconds 30..2592000. */
export const COMMENT_MAX = 100;
export const TIMEOUT_MIN = 30;
export const TIMEOUT_MAX = 2_592_000;
/** DescribeInstanceInformation: a filter holds 1..100 values. */
export const FILTER_VALUES_MAX = 100;
/** ListCommandInvocations' CommandPlugins[].Output: at most 2,500 characters. */
export const PLUGIN_OUTPUT_LIMIT = 2500;

const seconds = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : ms / 1000);
const iso = (ms: number | undefined): string => (ms === undefined ? '' : new Date(ms).toISOString());

export class RunCommandService {
  private readonly ssm: SSMClient;
  private readonly ec2: EC2Client;
  private readonly commands = new Map<string, Command>();
  private readonly seenOnline = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private readonly agentVersions = new Map<string, string>();
  private stopped = false;
  private outbox: Promise<void> = Promise.resolve();
  /**
   * A new command's invocations are not readable at once (Run Command is
   * eventually consistent): GetCommandInvocation answers InvocationDoesNotExist
   * and ListCommandInvocations lists nothing for this long after SendCommand.
   */
  public invocationVisibleAfterMs = 500;

  constructor(
    clientConfig: object,
    private readonly executor: HostExecutor,
    private readonly now: () => number,
    private readonly onStep: (run: StepRun) => void,
    private readonly deliveryPollMs = 250,
    private readonly events?: CommandEventSink,
  ) {
    this.ssm = new SSMClient(clientConfig);
    this.ec2 = new EC2Client(clientConfig);
  }

  async handle(op: string, input: Record<string, unknown>): Promise<unknown> {
    switch (op) {
      case 'SendCommand':
        return this.sendCommand(input);
      case 'GetCommandInvocation':
        return this.getCommandInvocation(input);
      case 'ListCommandInvocations':
        return this.listCommandInvocations(input);
      case 'ListCommands':
        return this.listCommands(input);
      case 'DescribeInstanceInformation':
        return this.describeInstanceInformation(input);
      default:
        throw new Error(`RunCommandService does not answer ${op}`);
    }
  }

  /** The agent version an instance reports (default: a current agent). */
  setAgentVersion(instanceId: string, version: string): void {
    this.agentVersions.set(instanceId, version);
  }

  private agentVersionOf(instanceId: string): string {
    return this.agentVersions.get(instanceId) ?? CURRENT_AGENT;
  }

  private isVisible(command: Command): boolean {
    return this.now() - command.requested >= this.invocationVisibleAfterMs;
  }

  static readonly OPERATIONS = new Set(['SendCommand', 'GetCommandInvocation', 'ListCommandInvocations', 'ListCommands', 'DescribeInstanceInformation']);

  private async sendCommand(input: Record<string, unknown>): Promise<unknown> {
    const documentName = input.DocumentName;
    if (typeof documentName !== 'string' || documentName === '') throw new ApiError('ValidationException', 'DocumentName is required');
    const instanceIds = input.InstanceIds;
    if (!Array.isArray(instanceIds) || instanceIds.length === 0 || instanceIds.some((i) => typeof i !== 'string')) {
      throw new ApiError('InvalidInstanceId', 'The emulator needs InstanceIds (Targets are not emulated)');
    }
    let doc;
    try {
      doc = await this.ssm.send(new GetDocumentCommand({ Name: documentName, ...(typeof input.DocumentVersion === 'string' ? { DocumentVersion: input.DocumentVersion } : {}) }));
    } catch (error) {
      throw new ApiError('InvalidDocument', `Document ${documentName} does not exist or cannot be read: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (typeof input.Comment === 'string' && input.Comment.length > COMMENT_MAX) {
      throw new ApiError('ValidationException', `1 validation error detected: Value at 'comment' failed to satisfy constraint: Member must have length less than or equal to ${COMMENT_MAX}`);
    }
    if (input.TimeoutSeconds !== undefined && (typeof input.TimeoutSeconds !== 'number' || input.TimeoutSeconds < TIMEOUT_MIN || input.TimeoutSeconds > TIMEOUT_MAX)) {
      throw new ApiError('ValidationException', `1 validation error detected: Value '${String(input.TimeoutSeconds)}' at 'timeoutSeconds' failed to satisfy constraint: Member must have value between ${TIMEOUT_MIN} and ${TIMEOUT_MAX}`);
    }
    const { parameters: declared, steps } = parseDocument(documentName, doc.Content ?? '', doc.DocumentFormat);
    const given = isRecord(input.Parameters) ? input.Parameters : {};
    const values = resolveParameters(declared, given);

    const commandId = randomUUID();
    const timeoutSeconds = typeof input.TimeoutSeconds === 'number' ? input.TimeoutSeconds : 3600;
    const command: Command = {
      commandId,
      documentName,
      documentVersion: doc.DocumentVersion ?? '1',
      comment: typeof input.Comment === 'string' ? input.Comment : '',
      parameters: values,
      instanceIds: instanceIds as string[],
      requested: this.now(),
      timeoutSeconds,
      invocations: new Map(),
      announced: 'Pending',
    };
    for (const instanceId of command.instanceIds) {
      const invocation: Invocation = {
        commandId,
        instanceId,
        status: 'Pending',
        statusDetails: 'Pending',
        plugins: steps.map((s) => ({ name: s.name, status: 'Pending', statusDetails: 'Pending', exitCode: -1, stdout: '', stderr: '' })),
      };
      command.invocations.set(instanceId, invocation);
      const envVars = agentAtLeast(this.agentVersionOf(instanceId), ENV_VAR_MIN_AGENT);
      const rendered = steps.map((s) => ({ step: s, ...renderStep(s, declared, values, envVars) }));
      const job = this.execute(command, invocation, rendered).catch(() => undefined);
      this.running.add(job);
      void job.finally(() => this.running.delete(job));
    }
    this.commands.set(commandId, command);
    return { Command: this.commandShape(command) };
  }

  private async execute(command: Command, inv: Invocation, steps: { step: DocStep; script: string; env: Record<string, string>; timeoutSeconds: number }[]): Promise<void> {
    await new Promise((r) => setImmediate(r));
    const deliveryDeadline = command.requested + command.timeoutSeconds * 1000;
    for (let i = 0; !(await this.executor.isAgentOnline(inv.instanceId)); i += 1) {
      if (this.stopped || this.now() >= deliveryDeadline || i > 1_000_000) {
        for (const p of inv.plugins) {
          p.status = 'TimedOut';
          p.statusDetails = 'DeliveryTimedOut';
        }
        this.changeStatus(command, inv, 'TimedOut', 'DeliveryTimedOut');
        return;
      }
      await new Promise((r) => setTimeout(r, this.deliveryPollMs));
    }
    this.seenOnline.add(inv.instanceId);
    inv.start = this.now();
    this.changeStatus(command, inv, 'InProgress', 'InProgress');
    // A failed step stops the document only when it says `onFailure: exit`;
    // otherwise the agent goes on with the next step (the invocation still fails).
    let failedAt: number | undefined;
    let exited = false;
    for (const [index, { step, script, env, timeoutSeconds }] of steps.entries()) {
      const plugin = inv.plugins[index];
      if (plugin === undefined) continue;
      if (exited || this.stopped) {
        plugin.status = 'Cancelled';
        plugin.statusDetails = 'Skipped';
        continue;
      }
      plugin.status = 'InProgress';
      plugin.statusDetails = 'InProgress';
      plugin.start = this.now();
      this.onStep({ commandId: command.commandId, instanceId: inv.instanceId, documentName: command.documentName, stepName: step.name, script, env });
      let result;
      try {
        result = await this.executor.run(inv.instanceId, script, env, timeoutSeconds);
      } catch (error) {
        result = { exitCode: 1, stdout: '', stderr: `failed to run step: ${error instanceof Error ? error.message : String(error)}`, timedOut: false };
      }
      plugin.end = this.now();
      plugin.exitCode = result.exitCode;
      // The agent's words when a step ends the document (runpluginutil.go), added to its output.
      let stdout = result.stdout;
      let stderr = result.stderr;
      if (result.timedOut) {
        plugin.status = 'TimedOut';
        plugin.statusDetails = 'ExecutionTimedOut';
        failedAt ??= index;
        exited = step.inputs?.onFailure === 'exit';
      } else if (result.exitCode === EXIT_WITH_SUCCESS) {
        // 168: the step succeeded and the rest of the document is skipped; its stderr is dropped.
        plugin.status = 'Success';
        plugin.statusDetails = 'Success';
        stdout += '\nStep exited with code 168. Therefore, marking step as succeeded. Further document steps will be skipped.';
        stderr = '';
        exited = true;
      } else if (result.exitCode === EXIT_WITH_FAILURE) {
        plugin.status = 'Failed';
        plugin.statusDetails = 'Failed';
        const addition = '\nStep exited with code 169. Therefore, marking step as Failed. Further document steps will be skipped.';
        stdout += addition;
        stderr += addition;
        failedAt ??= index;
        exited = true;
      } else if (result.exitCode !== 0) {
        plugin.status = 'Failed';
        plugin.statusDetails = 'Failed';
        failedAt ??= index;
        exited = step.inputs?.onFailure === 'exit';
        if (exited) {
          const addition = '\nStep was found to have onFailure property. Further document steps will be skipped.';
          stdout += addition;
          stderr += addition;
        }
      } else {
        plugin.status = 'Success';
        plugin.statusDetails = 'Success';
      }
      plugin.stdout = stdout.slice(0, STDOUT_LIMIT);
      plugin.stderr = stderr.slice(0, STDERR_LIMIT);
    }
    inv.end = this.now();
    const failed = failedAt === undefined ? undefined : inv.plugins[failedAt];
    this.changeStatus(command, inv, failed?.status ?? 'Success', failed?.statusDetails ?? 'Success');
  }

  /**
   * An invocation's status changes: its event, then the command's if its overall status changed
   * with it (so a command's terminal event follows its last invocation's). Pending sends nothing.
   */
  private changeStatus(command: Command, inv: Invocation, status: Status, statusDetails: string): void {
    inv.status = status;
    inv.statusDetails = statusDetails;
    // The emulator stopping is no change AWS would make: what it ends on the way out sends nothing.
    if (this.stopped) return;
    const at = this.now();
    if (EVENT_STATUSES.has(status)) this.announce((origin) => invocationStatusEvent(this.factsOf(command), inv.instanceId, status, at, origin));
    const overall = this.commandStatus(command).status;
    if (overall === command.announced) return;
    command.announced = overall;
    if (EVENT_STATUSES.has(overall)) this.announce((origin) => commandStatusEvent(this.factsOf(command), overall, at, origin));
  }

  private factsOf(c: Command): CommandFacts {
    return { commandId: c.commandId, documentName: c.documentName, parameters: c.parameters, instanceIds: c.instanceIds, requestedMs: c.requested, expiresMs: c.requested + c.timeoutSeconds * 1000 };
  }

  /** Queue an event behind the ones already announced. */
  private announce(build: (origin: EventOrigin) => AwsEvent): void {
    const sink = this.events;
    if (sink === undefined) return;
    const event = build(sink.origin);
    this.outbox = this.outbox.then(() => sink.publish(event)).catch((error: unknown) => sink.onError?.(event, error));
  }

  private commandStatus(c: Command): { status: Status; completed: number; errors: number } {
    const invs = [...c.invocations.values()];
    const done = invs.filter((i) => i.status !== 'Pending' && i.status !== 'InProgress');
    const errors = done.filter((i) => i.status !== 'Success').length;
    let status: Status = 'Pending';
    if (invs.some((i) => i.status === 'InProgress') || (done.length > 0 && done.length < invs.length)) status = 'InProgress';
    if (done.length === invs.length) status = errors === 0 ? 'Success' : (invs.find((i) => i.status !== 'Success')?.status ?? 'Failed');
    return { status, completed: done.length, errors };
  }

  private commandShape(c: Command): Record<string, unknown> {
    const { status, completed, errors } = this.commandStatus(c);
    return {
      CommandId: c.commandId,
      DocumentName: c.documentName,
      DocumentVersion: c.documentVersion,
      Comment: c.comment,
      ExpiresAfter: this.factsOf(c).expiresMs / 1000,
      Parameters: c.parameters,
      InstanceIds: c.instanceIds,
      Targets: [],
      RequestedDateTime: c.requested / 1000,
      Status: status,
      StatusDetails: status,
      MaxConcurrency: '50',
      MaxErrors: '0',
      TargetCount: c.instanceIds.length,
      CompletedCount: completed,
      ErrorCount: errors,
      DeliveryTimedOutCount: [...c.invocations.values()].filter((i) => i.statusDetails === 'DeliveryTimedOut').length,
      TimeoutSeconds: c.timeoutSeconds,
    };
  }

  private invocationOf(input: Record<string, unknown>): { command: Command; inv: Invocation } {
    const command = typeof input.CommandId === 'string' ? this.commands.get(input.CommandId) : undefined;
    const inv = command !== undefined && typeof input.InstanceId === 'string' ? command.invocations.get(input.InstanceId) : undefined;
    if (command === undefined || inv === undefined || !this.isVisible(command)) throw new ApiError('InvocationDoesNotExist', '');
    return { command, inv };
  }

  private getCommandInvocation(input: Record<string, unknown>): unknown {
    const { command, inv } = this.invocationOf(input);
    let view: { status: Status; statusDetails: string; exitCode: number; stdout: string; stderr: string; start?: number; end?: number; name?: string };
    if (typeof input.PluginName === 'string') {
      const plugin = inv.plugins.find((p) => p.name === input.PluginName);
      if (plugin === undefined) throw new ApiError('InvalidPluginName', `The plugin name ${input.PluginName} is not valid for this document`);
      view = plugin;
    } else if (inv.plugins.length > 1) {
      // GetCommandInvocation API reference, PluginName: "If the document contains more than
      // one step, you must specify the name of the step for which you want to view details."
      throw new ApiError('InvalidPluginName', `Document ${command.documentName} has ${inv.plugins.length} steps (${inv.plugins.map((p) => p.name).join(', ')}): PluginName must name one of them`);
    } else {
      const ran = inv.plugins.filter((p) => p.start !== undefined);
      const last = ran[ran.length - 1];
      view = {
        status: inv.status,
        statusDetails: inv.statusDetails,
        exitCode: inv.status === 'Pending' || inv.status === 'InProgress' ? -1 : (last?.exitCode ?? -1),
        stdout: ran.map((p) => p.stdout).join('').slice(0, STDOUT_LIMIT),
        stderr: ran.map((p) => p.stderr).join('').slice(0, STDERR_LIMIT),
        ...(inv.start !== undefined ? { start: inv.start } : {}),
        ...(inv.end !== undefined ? { end: inv.end } : {}),
      };
    }
    return {
      CommandId: command.commandId,
      InstanceId: inv.instanceId,
      Comment: command.comment,
      DocumentName: command.documentName,
      DocumentVersion: command.documentVersion,
      PluginName: typeof input.PluginName === 'string' ? input.PluginName : (inv.plugins[inv.plugins.length - 1]?.name ?? ''),
      ResponseCode: view.exitCode,
      ExecutionStartDateTime: iso(view.start),
      ExecutionElapsedTime: view.start !== undefined && view.end !== undefined ? `PT${((view.end - view.start) / 1000).toFixed(3)}S` : '',
      ExecutionEndDateTime: iso(view.end),
      Status: view.status,
      StatusDetails: view.statusDetails,
      StandardOutputContent: view.stdout,
      StandardOutputUrl: '',
      StandardErrorContent: view.stderr,
      StandardErrorUrl: '',
      CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
    };
  }

  private listCommandInvocations(input: Record<string, unknown>): unknown {
    const details = input.Details === true;
    const out: unknown[] = [];
    for (const command of this.commands.values()) {
      if (typeof input.CommandId === 'string' && command.commandId !== input.CommandId) continue;
      if (!this.isVisible(command)) continue;
      for (const inv of command.invocations.values()) {
        if (typeof input.InstanceId === 'string' && inv.instanceId !== input.InstanceId) continue;
        out.push({
          CommandId: command.commandId,
          InstanceId: inv.instanceId,
          InstanceName: '',
          Comment: command.comment,
          DocumentName: command.documentName,
          DocumentVersion: command.documentVersion,
          RequestedDateTime: command.requested / 1000,
          Status: inv.status,
          StatusDetails: inv.statusDetails,
          StandardOutputUrl: '',
          StandardErrorUrl: '',
          // A command the agent never received ran no step: AWS need not list any, and the
          // emulator lists none, so the product must read such an invocation by its status.
          CommandPlugins: details && inv.statusDetails !== 'DeliveryTimedOut'
            ? inv.plugins.map((p) => ({
                Name: p.name,
                Status: p.status,
                StatusDetails: p.statusDetails,
                ResponseCode: p.exitCode,
                ...(p.start !== undefined ? { ResponseStartDateTime: seconds(p.start) } : {}),
                ...(p.end !== undefined ? { ResponseFinishDateTime: seconds(p.end) } : {}),
                Output: (p.stdout + (p.stderr === '' ? '' : `\n----------ERROR-------\n${p.stderr}`)).slice(0, PLUGIN_OUTPUT_LIMIT),
                StandardOutputUrl: '',
                StandardErrorUrl: '',
              }))
            : [],
        });
      }
    }
    return { CommandInvocations: out };
  }

  private listCommands(input: Record<string, unknown>): unknown {
    const out = [...this.commands.values()]
      .filter((c) => typeof input.CommandId !== 'string' || c.commandId === input.CommandId)
      .filter((c) => typeof input.InstanceId !== 'string' || c.instanceIds.includes(input.InstanceId))
      .map((c) => this.commandShape(c));
    return { Commands: out };
  }

  private async describeInstanceInformation(input: Record<string, unknown>): Promise<unknown> {
    let wanted: string[] | undefined;
    const filters = [
      ...(Array.isArray(input.InstanceInformationFilterList) ? input.InstanceInformationFilterList : []),
      ...(Array.isArray(input.Filters) ? input.Filters : []),
    ] as Record<string, unknown>[];
    for (const f of filters) {
      const key = f.key ?? f.Key;
      const values = (f.valueSet ?? f.Values) as unknown;
      // InstanceInformationFilterValueSet: 1..100 values (AWS's model).
      if (Array.isArray(values) && (values.length < 1 || values.length > FILTER_VALUES_MAX)) {
        throw new ApiError('ValidationException', `1 validation error detected: Value at 'instanceInformationFilterList.1.member.valueSet' failed to satisfy constraint: Member must have length less than or equal to ${FILTER_VALUES_MAX}`);
      }
      if (key === 'InstanceIds' && Array.isArray(values)) wanted = values.map(String);
      else throw new ApiError('InvalidFilterKey', `The emulator filters DescribeInstanceInformation only by InstanceIds, not ${String(key)}`);
    }
    const reservations = (await this.ec2.send(new DescribeInstancesCommand({}))).Reservations ?? [];
    const list: unknown[] = [];
    for (const instance of reservations.flatMap((r) => r.Instances ?? [])) {
      const id = instance.InstanceId;
      if (id === undefined || (wanted !== undefined && !wanted.includes(id))) continue;
      if (instance.State?.Name !== 'running' && !this.seenOnline.has(id)) continue;
      const online = instance.State?.Name === 'running' && (await this.executor.isAgentOnline(id));
      if (online) this.seenOnline.add(id);
      if (!online && !this.seenOnline.has(id)) continue;
      const ip = (await this.executor.ipAddressOf(id)) ?? instance.PrivateIpAddress;
      list.push({
        InstanceId: id,
        PingStatus: online ? 'Online' : 'ConnectionLost',
        LastPingDateTime: this.now() / 1000,
        AgentVersion: this.agentVersionOf(id),
        IsLatestVersion: true,
        PlatformType: 'Linux',
        PlatformName: 'Debian GNU/Linux',
        PlatformVersion: '12',
        ResourceType: 'EC2Instance',
        ...(ip !== undefined ? { IPAddress: ip } : {}),
        ComputerName: `ip-${(ip ?? '0.0.0.0').replace(/\./g, '-')}`,
      });
    }
    return { InstanceInformationList: list };
  }

  /** Stop waiting for agents; lets in-flight steps finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.race([Promise.allSettled([...this.running]), new Promise((r) => setTimeout(r, 5000).unref())]);
    // The events of what finished go out before the front closes (bounded as above).
    await Promise.race([this.outbox, new Promise((r) => setTimeout(r, 5000).unref())]);
  }
}
