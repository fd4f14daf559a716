import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { flushMetrics } from '../../lib/lambda/flush-metrics';
import { consumeSqsBatch } from '../../lib/lambda/sqs-batch';
import { logger } from '../../lib/logger';
import { buildStorageDeps } from '../../lib/usecases/context';
import { handleStorageMessage } from '../../lib/usecases/storage/flows';
import { handleStorageInvoke, type InvokeAnswer } from '../../lib/usecases/storage/invoke';

// Cold start: configuration validated (a bad value stops here, naming it), clients built once.
const deps = buildStorageDeps();

function isSqsEvent(event: unknown): event is SQSEvent {
  return typeof event === 'object' && event !== null && Array.isArray((event as { Records?: unknown }).Records);
}

/**
 * Two entries: (a) the StorageQueue (storage-group lifecycle events from the
 * EventBridge rule, continuations, expansion requests of the alarm function),
 * a record that throws becoming a batch item failure; (b) a direct invoke for
 * manual operations ({"volume":"pydio-data","sets":1,"dryRun":true},
 * {"action":"shrink","volume":"pydio-data"}), answered synchronously.
 */
async function storageEntry(event: unknown, context: Context): Promise<SQSBatchResponse | InvokeAnswer> {
  if (!isSqsEvent(event)) {
    const answer = await handleStorageInvoke(event, deps, context.awsRequestId);
    logger.info('storage invoke answered', { outcome: answer.outcome });
    return answer;
  }
  return consumeSqsBatch(event, (message) => handleStorageMessage(message, deps), { log: logger, noun: 'storage message' });
}

export const handler = middy(storageEntry).use(injectLambdaContext(logger, { clearState: true })).use(flushMetrics(deps.metrics));
