/**
 * Run Command, managed instances and Parameter Store records (claims and the
 * storage lock live in the coordination table: lib/ports/coordination.ts).
 * Implemented by lib/aws/ssm.ts.
 */
export type InvocationStatus =
  | 'Pending' | 'InProgress' | 'Delayed' | 'Success' | 'Cancelled' | 'TimedOut' | 'Failed' | 'Cancelling';

export interface CommandInvocation {
  readonly status: InvocationStatus;
  /** -1 while unknown */
  readonly exitCode: number;
  /** The reported step's output: SSM keeps the first 24,000 characters of stdout, 8,000 of stderr. */
  readonly stdout: string;
  readonly stderr: string;
  /** The document step reported: the first that failed, timed out or was cancelled, else the last one. */
  readonly step?: string;
}

export interface ManagedInstance {
  readonly instanceId: string;
  readonly online: boolean;
  readonly ipAddress?: string;
  /** The SSM agent's version, as the agent reports it. */
  readonly agentVersion?: string;
}

export interface SendCommandInput {
  readonly documentName: string;
  readonly instanceId: string;
  readonly parameters: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  readonly comment: string;
}

export interface SsmPort {
  /** Agent state of the given instances (absent ones are simply not returned). */
  describeManagedInstances(instanceIds: readonly string[]): Promise<ManagedInstance[]>;
  /** Returns the command id. */
  sendCommand(input: SendCommandInput): Promise<string>;
  /**
   * The command's status on the instance (all its steps), with the output of
   * the step that decided it: the first that failed, timed out or was
   * cancelled, else `report` when named, else the last one. Unknown
   * invocation (not yet visible) reads as Pending. `outputOnSuccess` false:
   * a successful invocation is read without its output (one call instead of
   * two), for a step that acts only on a failure's output.
   */
  getInvocation(commandId: string, instanceId: string, report?: string, outputOnSuccess?: boolean): Promise<CommandInvocation>;
  /** The stdout of one step of a finished command ('' when the step printed nothing or is not listed). */
  getStepOutput(commandId: string, instanceId: string, step: string): Promise<string>;
}

/**
 * Plain Parameter Store records (storage member states, recorded volume
 * health). Kept apart from SsmPort so existing fakes need not grow.
 */
export interface ParameterPort {
  /** GetParameter: the value, or undefined when there is no such parameter. */
  getParameter(name: string): Promise<string | undefined>;
  /** PutParameter with Overwrite (a String parameter). */
  putParameter(name: string, value: string): Promise<void>;
  /** DeleteParameter; an absent parameter is no error. */
  deleteParameter(name: string): Promise<void>;
  /** Every parameter under `path` (recursive), name and value. */
  listParameters(path: string): Promise<Array<{ name: string; value: string }>>;
}
