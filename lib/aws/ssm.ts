import { randomUUID } from 'node:crypto';
import {
  DeleteParameterCommand,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  ListCommandInvocationsCommand,
  PutParameterCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { AwsCallError } from '../errors';
import { MAX_ATTEMPTS, MAX_PAGES, callAws, chunk, isAwsError, logDryRun, type AdapterOptions } from './call';
import type { CommandInvocation, InvocationStatus, ManagedInstance, ParameterPort, SendCommandInput, SsmPort } from '../ports/ssm';


/** Builds the client once per cold start: region and AWS_ENDPOINT_URL come from the standard environment. */
export function createSsmClient(): SSMClient {
  return new SSMClient({ maxAttempts: MAX_ATTEMPTS });
}

/** Instance ids per DescribeInstanceInformation filter: AWS takes 1..100 values. */
export const FILTER_BATCH = 50;

/** Command ids handed out in dry run; getInvocation answers them without AWS. */
export const DRY_RUN_COMMAND_PREFIX = 'dry-run-';

/** SendCommand's Comment is limited to 100 characters. */
export const COMMENT_MAX = 100;

/** SendCommand's TimeoutSeconds (time allowed to start) must lie in 30..2592000. */
export const TIMEOUT_MIN = 30;
export const TIMEOUT_MAX = 2_592_000;

export const STATUSES: ReadonlySet<string> = new Set<InvocationStatus>([
  'Pending', 'InProgress', 'Delayed', 'Success', 'Cancelled', 'TimedOut', 'Failed', 'Cancelling',
]);

function isInvocationStatus(value: string): value is InvocationStatus {
  return STATUSES.has(value);
}

const PENDING: CommandInvocation = { status: 'Pending', exitCode: -1, stdout: '', stderr: '' };

/** Step statuses that end a document badly: such a step is the one reported. */
const DECISIVE: ReadonlySet<string> = new Set(['Failed', 'TimedOut', 'Cancelled']);

/** Statuses after which nothing changes on the instance. */
const UNFINISHED: ReadonlySet<InvocationStatus> = new Set<InvocationStatus>(['Pending', 'InProgress', 'Delayed', 'Cancelling']);

function isFinished(status: InvocationStatus): boolean {
  return !UNFINISHED.has(status);
}

function statusOf(operation: string, value: string | undefined, commandId: string, instanceId: string): InvocationStatus {
  const status = value ?? 'Pending';
  if (!isInvocationStatus(status)) {
    throw new AwsCallError(operation, `unknown invocation status ${JSON.stringify(status)} for command ${commandId} on ${instanceId}`);
  }
  return status;
}

/**
 * `readOnlyDocuments`: documents that only read (the Gluster status). They are
 * sent in dry run too, like every other read: a dry run plans from the real
 * cluster. Every other document is mutating, logged and not sent in dry run.
 */
export function createSsmPort(client: SSMClient, opts: AdapterOptions, readOnlyDocuments: readonly string[] = []): SsmPort & ParameterPort {
  const { dryRun, log } = opts;
  const readOnly = new Set(readOnlyDocuments.filter((name) => name !== ''));

  async function describeManagedInstances(instanceIds: readonly string[]): Promise<ManagedInstance[]> {
    const operation = 'DescribeInstanceInformation';
    const found: ManagedInstance[] = [];
    // A filter takes at most 100 values (batches of 50 keep a page small); each batch is read page by page.
    for (const batch of chunk([...new Set(instanceIds)], FILTER_BATCH)) {
      let nextToken: string | undefined;
      for (let page = 0; page < MAX_PAGES; page += 1) {
        const output = await callAws(operation, () =>
          client.send(new DescribeInstanceInformationCommand({
            InstanceInformationFilterList: [{ key: 'InstanceIds', valueSet: batch }],
            MaxResults: 50,
            ...(nextToken ? { NextToken: nextToken } : {}),
          })),
        );
        for (const info of output.InstanceInformationList ?? []) {
          if (!info.InstanceId) continue;
          found.push({
            instanceId: info.InstanceId,
            online: info.PingStatus === 'Online',
            ...(info.IPAddress ? { ipAddress: info.IPAddress } : {}),
            ...(info.AgentVersion ? { agentVersion: info.AgentVersion } : {}),
          });
        }
        nextToken = output.NextToken;
        if (!nextToken) break;
      }
    }
    return found;
  }

  async function sendCommand(input: SendCommandInput): Promise<string> {
    const operation = 'SendCommand';
    if (!Number.isFinite(input.timeoutSeconds) || input.timeoutSeconds <= 0) {
      throw new RangeError(`${operation}: timeoutSeconds must be a positive number, got ${input.timeoutSeconds}`);
    }
    const request = {
      DocumentName: input.documentName,
      InstanceIds: [input.instanceId],
      Parameters: Object.fromEntries(Object.entries(input.parameters).map(([key, value]) => [key, [value]])),
      TimeoutSeconds: Math.min(TIMEOUT_MAX, Math.max(TIMEOUT_MIN, Math.ceil(input.timeoutSeconds))),
      Comment: input.comment.slice(0, COMMENT_MAX),
    };
    if (dryRun && !readOnly.has(input.documentName)) {
      const commandId = `${DRY_RUN_COMMAND_PREFIX}${randomUUID()}`;
      logDryRun(log, operation, { ...request, commandId, instanceId: input.instanceId });
      return commandId;
    }
    const output = await callAws(operation, () => client.send(new SendCommandCommand(request)));
    const commandId = output.Command?.CommandId;
    if (!commandId) throw new AwsCallError(operation, `no CommandId returned for ${input.documentName} on ${input.instanceId}`);
    return commandId;
  }

  /**
   * Two reads, as the API reference prescribes: ListCommandInvocations gives
   * "the command execution status on a specific managed node" with each step
   * (CommandPlugins); GetCommandInvocation "only gives the execution status of
   * a plugin" and, for a document with more than one step, must name it
   * (PluginName) or fails with InvalidPluginName. While the command runs only
   * the first read is made.
   */
  async function getInvocation(commandId: string, instanceId: string, report?: string, outputOnSuccess = true): Promise<CommandInvocation> {
    if (commandId.startsWith(DRY_RUN_COMMAND_PREFIX)) {
      return { status: 'Success', exitCode: 0, stdout: '', stderr: '' };
    }
    const listed = await callAws('ListCommandInvocations', () =>
      client.send(new ListCommandInvocationsCommand({ CommandId: commandId, InstanceId: instanceId, Details: true })),
    );
    // Right after SendCommand the invocation may not be listed yet.
    const invocation = (listed.CommandInvocations ?? []).find((i) => i.InstanceId === instanceId);
    if (!invocation) return PENDING;
    const status = statusOf('ListCommandInvocations', invocation.Status, commandId, instanceId);
    if (!isFinished(status)) return { ...PENDING, status };
    // The deciding step: the first that failed, timed out or was cancelled, else the one asked
    // for, else the last one. A step skipped by its precondition may be reported in any other
    // way, so it never decides.
    const plugins = invocation.CommandPlugins ?? [];
    const reported =
      plugins.find((p) => DECISIVE.has(p.Status ?? '')) ?? (report !== undefined ? plugins.find((p) => p.Name === report) : undefined) ?? plugins[plugins.length - 1];
    // A command that never reached the agent (delivery timed out, undeliverable, cancelled first)
    // may list no step at all: its status says what happened.
    const noStep: CommandInvocation = { status, exitCode: -1, stdout: '', stderr: `no step ran (${invocation.StatusDetails ?? status})` };
    if (!reported?.Name) return noStep;
    const step = reported.Name;
    if (status === 'Success' && !outputOnSuccess) return { status, exitCode: reported.ResponseCode ?? 0, stdout: '', stderr: '', step };
    const output = await callAws(
      'GetCommandInvocation',
      () => client.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId, PluginName: step })),
      (error) => (isAwsError(error, 'InvocationDoesNotExist') ? { value: undefined } : undefined),
    );
    if (!output) return { ...noStep, step };
    return {
      status,
      exitCode: typeof output.ResponseCode === 'number' ? output.ResponseCode : (reported.ResponseCode ?? -1),
      stdout: output.StandardOutputContent ?? '',
      stderr: output.StandardErrorContent ?? '',
      step,
    };
  }

  async function getStepOutput(commandId: string, instanceId: string, step: string): Promise<string> {
    if (commandId.startsWith(DRY_RUN_COMMAND_PREFIX)) return '';
    const output = await callAws(
      'GetCommandInvocation',
      () => client.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId, PluginName: step })),
      (error) => (isAwsError(error, 'InvocationDoesNotExist') ? { value: undefined } : undefined),
    );
    return output?.StandardOutputContent ?? '';
  }

  async function getParameter(name: string): Promise<string | undefined> {
    const operation = 'GetParameter';
    return callAws(
      operation,
      async () => (await client.send(new GetParameterCommand({ Name: name }))).Parameter?.Value,
      (error) => (isAwsError(error, 'ParameterNotFound') ? { value: undefined } : undefined),
    );
  }

  async function deleteParameter(name: string): Promise<void> {
    const operation = 'DeleteParameter';
    const request = { Name: name };
    if (dryRun) {
      logDryRun(log, operation, request);
      return;
    }
    await callAws(
      operation,
      async () => {
        await client.send(new DeleteParameterCommand(request));
      },
      (error) => (isAwsError(error, 'ParameterNotFound') ? { value: undefined } : undefined),
    );
  }

  async function putParameter(name: string, value: string): Promise<void> {
    const operation = 'PutParameter';
    const request = { Name: name, Value: value, Type: 'String' as const, Overwrite: true };
    if (dryRun) {
      logDryRun(log, operation, request);
      return;
    }
    await callAws(operation, async () => {
      await client.send(new PutParameterCommand(request));
    });
  }

  async function listParameters(path: string): Promise<Array<{ name: string; value: string }>> {
    const operation = 'GetParametersByPath';
    const found: Array<{ name: string; value: string }> = [];
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const output = await callAws(operation, () =>
        client.send(new GetParametersByPathCommand({ Path: path, Recursive: true, MaxResults: 10, ...(nextToken ? { NextToken: nextToken } : {}) })),
      );
      for (const parameter of output.Parameters ?? []) {
        if (parameter.Name && parameter.Value !== undefined) found.push({ name: parameter.Name, value: parameter.Value });
      }
      nextToken = output.NextToken;
      if (!nextToken) break;
    }
    return found;
  }

  return { describeManagedInstances, sendCommand, getInvocation, getStepOutput, getParameter, putParameter, deleteParameter, listParameters };
}
