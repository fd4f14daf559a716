// PORT (interface) — implementation below is filled in by the adapter work.
export type InvocationStatus =
  | 'Pending' | 'InProgress' | 'Delayed' | 'Success' | 'Cancelled' | 'TimedOut' | 'Failed' | 'Cancelling';

export interface CommandInvocation {
  readonly status: InvocationStatus;
  /** -1 while unknown */
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ManagedInstance {
  readonly instanceId: string;
  readonly online: boolean;
  readonly ipAddress?: string;
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
  /** Unknown invocation (not yet visible) reads as Pending. */
  getInvocation(commandId: string, instanceId: string): Promise<CommandInvocation>;
  /**
   * A claim in Parameter Store: true when this caller created `name`,
   * false when it already existed (someone else owns the work).
   */
  claim(name: string, owner: string): Promise<boolean>;
  /** The owner recorded by claim (GetParameter), or undefined when unclaimed. */
  claimOwner(name: string): Promise<string | undefined>;
  release(name: string): Promise<void>;
}
