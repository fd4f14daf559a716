/** What the Lambda runtime tells a function about itself: where its own log goes (the notifications link to it). */
import { optional, type Env } from './env';

export interface LambdaRuntime {
  /** The function's log group and this execution environment's log stream; '' outside Lambda. */
  readonly logGroupName: string;
  readonly logStreamName: string;
}

/**
 * The variables lambdaRuntime reads (test/unit/config/variables.test.ts proves it):
 * set by the Lambda runtime itself ("Defined runtime environment variables"), never by serverless.yml.
 */
export const LAMBDA_RUNTIME_VARIABLES = ['AWS_LAMBDA_LOG_GROUP_NAME', 'AWS_LAMBDA_LOG_STREAM_NAME'] as const;

/** Never throws: a missing value only leaves the log link out of the notifications. */
export function lambdaRuntime(env: Env = process.env): LambdaRuntime {
  return Object.freeze({
    logGroupName: optional(env, 'AWS_LAMBDA_LOG_GROUP_NAME', ''),
    logStreamName: optional(env, 'AWS_LAMBDA_LOG_STREAM_NAME', ''),
  });
}
