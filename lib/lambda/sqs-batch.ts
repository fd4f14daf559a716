import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Log } from '../logger';
import type { QueueMessage } from '../ports/sqs';

export interface SqsBatchOptions {
  readonly log: Log;
  /** What the log lines call a record ("message", "storage message"). */
  readonly noun?: string;
}

/**
 * The one partial-batch loop of our SQS consumers (ReportBatchItemFailures).
 * Records are handled one after the other, in order. A record whose use case
 * throws becomes a batch item failure, so the queue re-delivers it and, after
 * maxReceiveCount, dead-letters it; the others are consumed. Never throws, not
 * even when every record failed (each event source has batchSize 1).
 */
export async function consumeSqsBatch(
  event: SQSEvent,
  handleMessage: (message: QueueMessage) => Promise<string>,
  options: SqsBatchOptions,
): Promise<SQSBatchResponse> {
  const { log, noun = 'message' } = options;
  const batchItemFailures: SQSBatchItemFailure[] = [];
  for (const record of event.Records ?? []) {
    const { messageId } = record;
    try {
      const outcome = await handleMessage({ messageId, body: record.body });
      log.info(`${noun} handled`, { messageId, outcome });
    } catch (error) {
      log.error(`${noun} failed: the queue will re-deliver it`, { messageId, error });
      batchItemFailures.push({ itemIdentifier: messageId });
    }
  }
  return { batchItemFailures };
}
