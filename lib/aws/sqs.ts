import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { MAX_ATTEMPTS, callAws, type AdapterOptions } from './call';
import type { QueuePort } from '../ports/sqs';

/** Builds the client once per cold start: region and AWS_ENDPOINT_URL come from the standard environment. */
export function createSqsClient(): SQSClient {
  return new SQSClient({ maxAttempts: MAX_ATTEMPTS });
}

/** SQS accepts DelaySeconds 0..900 (15 minutes). */
export const MAX_DELAY_SECONDS = 900;

/** Whole seconds within SQS's range; a fraction rounds up so a wait is never cut short. */
export function clampDelaySeconds(delaySeconds: number): number {
  if (Number.isNaN(delaySeconds)) throw new RangeError('SendMessage: delaySeconds is NaN');
  return Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(delaySeconds)));
}

/**
 * The lifecycle queue carries the autoscaler's own continuations. Sending is
 * NOT suppressed in dry run: it changes nothing in the cluster, and without
 * it a dry-run flow would stop after its first step instead of walking
 * through every step it would take (logged, reported, nothing changed).
 */
export function createQueuePort(client: SQSClient, opts: AdapterOptions): QueuePort {
  const { dryRun, log } = opts;

  async function send(queueUrl: string, body: string, delaySeconds: number): Promise<void> {
    const operation = 'SendMessage';
    const input = { QueueUrl: queueUrl, MessageBody: body, DelaySeconds: clampDelaySeconds(delaySeconds) };
    if (dryRun) log.debug('dry run: continuation sent (queue traffic is not suppressed)', { operation, queueUrl, delaySeconds: input.DelaySeconds });
    await callAws(operation, () => client.send(new SendMessageCommand(input)));
  }

  return { send };
}
