import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { parseWatchTrigger } from '../../lib/core/watch/messages';
import { flushMetrics } from '../../lib/lambda/flush-metrics';
import { logger } from '../../lib/logger';
import { buildWatchDeps } from '../../lib/usecases/context';
import { runWatch, type WatchReport } from '../../lib/usecases/watch';

// Cold start: configuration validated (a bad value stops here, naming it), clients built once.
const deps = buildWatchDeps();

/**
 * The EventBridge schedule's Scheduled Event (every watchPeriodMinutes), or a
 * manual invoke with {}: one run of the watch, answered with what it did.
 * A run that cannot read the cluster throws; it is not retried
 * (maximumRetryAttempts 0): the next period runs anyway.
 */
async function runScheduledWatch(event: unknown, context: Context): Promise<WatchReport> {
  return runWatch(deps, parseWatchTrigger(event), context.awsRequestId);
}

export const handler = middy(runScheduledWatch)
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(flushMetrics(deps.metrics));
