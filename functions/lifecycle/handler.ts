import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { flushMetrics } from '../../lib/lambda/flush-metrics';
import { consumeSqsBatch } from '../../lib/lambda/sqs-batch';
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
  return consumeSqsBatch(event, (message) => handleLifecycleMessage(message, deps), { log: logger });
}

export const handler = middy(consumeLifecycleQueue)
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(flushMetrics(deps.metrics));
