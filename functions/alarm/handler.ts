import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger } from '../../lib/logger';
import { handleAlarmMessage } from '../../lib/usecases/alarm';
import { buildAlarmDeps } from '../../lib/usecases/context';

// Cold start: configuration validated (a bad value stops here, naming it), clients built once.
const deps = buildAlarmDeps();

/**
 * DecisionQueue consumer: each record is a CloudWatch alarm state change
 * (from the EventBridge rule) or our own delayed re-check. A record that
 * throws is reported as a batch item failure, so the queue re-delivers it
 * and, after maxReceiveCount, dead-letters it.
 */
async function consumeDecisionQueue(event: SQSEvent): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchItemFailure[] = [];
  try {
    for (const record of event.Records ?? []) {
      try {
        const outcome = await handleAlarmMessage({ messageId: record.messageId, body: record.body }, deps);
        logger.info('message handled', { messageId: record.messageId, outcome });
      } catch (error) {
        logger.error('message failed: the queue will re-deliver it', { messageId: record.messageId, error });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
  } finally {
    deps.metrics.flush();
  }
  return { batchItemFailures };
}

export const handler = middy(consumeDecisionQueue).use(injectLambdaContext(logger, { clearState: true }));
