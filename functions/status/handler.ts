import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '../../lib/logger';
import { buildStatusDeps } from '../../lib/usecases/context';
import { checkStatusRequest, describeCluster, type ClusterStatus } from '../../lib/usecases/status';

// Cold start: configuration validated, clients built once.
const deps = buildStatusDeps();

/** Direct invoke (`aws lambda invoke --function-name ...-status`, payload {}): the cluster as our functions see it. */
async function answerStatus(event: unknown): Promise<ClusterStatus> {
  checkStatusRequest(event);
  return describeCluster(deps);
}

export const handler = middy(answerStatus).use(injectLambdaContext(logger, { clearState: true }));
