import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger } from '../../lib/logger';
import { buildLifecycleDeps } from '../../lib/usecases/context';
import { handleLifecycleMessage } from '../../lib/usecases/lifecycle';

// Cold start: configuration validated (a bad value stops here, naming it), clients built once.
const deps = buildLifecycleDeps();

/**
 * Lifecycle queue consumer: each record is a lifecycle event (from the
 * EventBridge rule) or a delayed continuation of a flow. A record that
 * throws is reported as a batch item failure, so the queue re-delivers it
 * and, after maxReceiveCount, dead-letters it (which raises an alarm).
 */
async function consumeLifecycleQueue(event: SQSEvent): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchItemFailure[] = [];
  for (const record of event.Records ?? []) {
    try {
      const outcome = await handleLifecycleMessage({ messageId: record.messageId, body: record.body }, deps);
      logger.info('message handled', { messageId: record.messageId, outcome });
    } catch (error) {
      logger.error('message failed: the queue will re-deliver it', { messageId: record.messageId, error });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  deps.metrics.flush();
  return { batchItemFailures };
}

export const handler = middy(consumeLifecycleQueue).use(injectLambdaContext(logger, { clearState: true }));
