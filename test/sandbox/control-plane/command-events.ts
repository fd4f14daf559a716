/**
 * Run Command's status-change events, as Systems Manager sends them to EventBridge
 * (source `aws.ssm`; the catalogue's eventbridge.run-command.* entries cite the pages):
 *
 * - "EC2 Command Status-change Notification": the overall status of a command changed.
 *   detail: command-id, document-name, expire-after, parameters, requested-date-time, status;
 *   resources: the ARNs of the instances it targets.
 * - "EC2 Command Invocation Status-change Notification": the status of the command on one
 *   instance changed. detail: command-id, document-name, instance-id, requested-date-time,
 *   status; resources: that instance's ARN.
 *
 * Only the statuses a rule can match are sent: InProgress, Success, Failed, TimedOut, Cancelled
 * (Systems Manager user guide, "Reference: Amazon EventBridge event patterns and types"); a
 * Pending command or invocation sends nothing. The events carry no comment, no step and no
 * output: whoever needs the outcome reads the invocation (ListCommandInvocations).
 */
import { randomUUID } from 'node:crypto';
import type { AwsEvent } from './event-bus';
import { awsTime } from './wire';

export const COMMAND_STATUS_CHANGE = 'EC2 Command Status-change Notification';
export const INVOCATION_STATUS_CHANGE = 'EC2 Command Invocation Status-change Notification';
export const SSM_SOURCE = 'aws.ssm';

/** The statuses that send an event (the reference lists Canceled; the API's status is Cancelled). */
export const EVENT_STATUSES: ReadonlySet<string> = new Set(['InProgress', 'Success', 'Failed', 'TimedOut', 'Cancelled']);

/** What an event says about its command. */
export interface CommandFacts {
  readonly commandId: string;
  readonly documentName: string;
  /** Every parameter's values as the command runs them (given, or the document's default). */
  readonly parameters: Readonly<Record<string, readonly string[]>>;
  readonly instanceIds: readonly string[];
  /** Epoch milliseconds. */
  readonly requestedMs: number;
  /** Epoch milliseconds: the command's ExpiresAfter. */
  readonly expiresMs: number;
}

export interface EventOrigin {
  readonly account: string;
  readonly region: string;
}

/** `requested-date-time` and `expire-after`: ISO 8601 with milliseconds, UTC (2024-07-10T21:51:30.049Z). */
export function ssmDateTime(ms: number): string {
  if (!Number.isFinite(ms)) throw new Error(`a Run Command event time must be epoch milliseconds, got ${String(ms)}`);
  return new Date(ms).toISOString();
}

function instanceArn(origin: EventOrigin, instanceId: string): string {
  return `arn:aws:ec2:${origin.region}:${origin.account}:instance/${instanceId}`;
}

function checkStatus(status: string): void {
  if (!EVENT_STATUSES.has(status)) throw new Error(`Run Command sends no event for status ${status} (only ${[...EVENT_STATUSES].join(', ')})`);
}

function envelope(detailType: string, origin: EventOrigin, atMs: number, resources: string[], detail: Record<string, unknown>): AwsEvent {
  return { version: '0', id: randomUUID(), 'detail-type': detailType, source: SSM_SOURCE, account: origin.account, time: awsTime(atMs), region: origin.region, resources, detail };
}

/** The overall status of `command` changed to `status` at `atMs`. */
export function commandStatusEvent(command: CommandFacts, status: string, atMs: number, origin: EventOrigin): AwsEvent {
  checkStatus(status);
  const parameters = Object.fromEntries(Object.entries(command.parameters).map(([name, values]) => [name, [...values]]));
  return envelope(COMMAND_STATUS_CHANGE, origin, atMs, command.instanceIds.map((id) => instanceArn(origin, id)), {
    'command-id': command.commandId,
    'document-name': command.documentName,
    'expire-after': ssmDateTime(command.expiresMs),
    parameters,
    'requested-date-time': ssmDateTime(command.requestedMs),
    status,
  });
}

/** The status of `command` on `instanceId` changed to `status` at `atMs`. */
export function invocationStatusEvent(command: CommandFacts, instanceId: string, status: string, atMs: number, origin: EventOrigin): AwsEvent {
  checkStatus(status);
  if (!command.instanceIds.includes(instanceId)) throw new Error(`command ${command.commandId} has no invocation on ${instanceId}`);
  return envelope(INVOCATION_STATUS_CHANGE, origin, atMs, [instanceArn(origin, instanceId)], {
    'command-id': command.commandId,
    'document-name': command.documentName,
    'instance-id': instanceId,
    'requested-date-time': ssmDateTime(command.requestedMs),
    status,
  });
}
