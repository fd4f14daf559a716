/**
 * Run Command's "EC2 Command Status-change Notification", as EventBridge
 * delivers it to a flow's queue (serverless.yml, the command rules): the
 * command that ended, for the engine to resume the flow parked on it
 * (lib/usecases/flow-runner.ts resumeOnCommand). The event carries no output:
 * the resumed step reads the invocation itself.
 */
import { MalformedEventError } from '../errors';

export const COMMAND_EVENT_SOURCE = 'aws.ssm';
export const COMMAND_STATUS_CHANGE = 'EC2 Command Status-change Notification';

/**
 * The statuses after which a command changes no more. The events reference spells the cancelled
 * one Canceled, the API Cancelled: both are taken (test/contracts/catalogue/eventbridge.yml,
 * eventbridge.run-command.statuses). InProgress is not an end: the rules do not send it.
 */
export const COMMAND_END_STATUSES = ['Success', 'Failed', 'TimedOut', 'Cancelled', 'Canceled'] as const;

export interface CommandEnded {
  readonly commandId: string;
  readonly documentName: string;
  readonly status: string;
}

/** A command id as it goes into a coordination key: a UUID in AWS; nothing that could reach another key. */
const COMMAND_ID = /^[\w-]{1,64}$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True for a Run Command status-change event of a command (whatever its status). */
export function isCommandEvent(body: unknown): body is Record<string, unknown> {
  return isObject(body) && body.source === COMMAND_EVENT_SOURCE && body['detail-type'] === COMMAND_STATUS_CHANGE;
}

/**
 * The command a status-change event says ended; undefined when its status is not an end
 * (nothing to resume); MalformedEventError when the event lacks what names the command.
 */
export function parseCommandEvent(body: Record<string, unknown>): CommandEnded | undefined {
  const where = `${COMMAND_STATUS_CHANGE} event`;
  const detail = body.detail;
  if (!isObject(detail)) throw new MalformedEventError(`${where}: detail is missing`);
  const commandId = detail['command-id'];
  if (typeof commandId !== 'string' || !COMMAND_ID.test(commandId)) {
    throw new MalformedEventError(`${where}: command-id ${JSON.stringify(commandId)} is not a command id`);
  }
  const status = detail.status;
  if (typeof status !== 'string' || status === '') throw new MalformedEventError(`${where}: status is missing`);
  const documentName = typeof detail['document-name'] === 'string' ? detail['document-name'] : '';
  if (!(COMMAND_END_STATUSES as readonly string[]).includes(status)) return undefined;
  return { commandId, documentName, status };
}
