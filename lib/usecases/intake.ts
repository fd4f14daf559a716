import type { NotifierPort } from '../ports/sns';
import { malformedEvent } from '../core/messages';
import { MalformedEventError } from '../errors';
import type { Log } from '../logger';

/** What every queue consumer needs to turn away a message it cannot act on. */
export interface IntakeDeps {
  readonly config: { readonly stage: string };
  readonly notifier: NotifierPort;
  readonly log: Log;
}

/** The JSON of a queue message body; MalformedEventError when it is not JSON. */
export function parseJsonBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new MalformedEventError('message body is not JSON', { cause: error });
  }
}

/**
 * A malformed message is logged, ops are told, and it is consumed: it would
 * never succeed, so it must not be re-delivered. Any other error propagates
 * (the queue re-delivers the message).
 */
export async function rejectMalformed(deps: IntakeDeps, error: unknown, body: string, what: string): Promise<'rejected'> {
  if (!(error instanceof MalformedEventError)) throw error;
  deps.log.error(`rejected malformed ${what}: no action`, { error });
  await deps.notifier.publish(malformedEvent(deps.config.stage, error.message, body));
  return 'rejected';
}
