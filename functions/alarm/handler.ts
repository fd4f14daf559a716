import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { flushMetrics } from '../../lib/lambda/flush-metrics';
import { consumeSqsBatch } from '../../lib/lambda/sqs-batch';
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
  return consumeSqsBatch(event, (message) => handleAlarmMessage(message, deps), { log: logger });
}

export const handler = middy(consumeDecisionQueue)
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(flushMetrics(deps.metrics));
