/** The status function's configuration: what it needs to describe the cluster, read-only. */
import { deepFreeze, matching, required, TARGET_GROUP_ARN, type Env } from './env';
import { parseShared, SHARED_VARIABLES, type SharedConfig } from './shared';

/** Parsed once per cold start, validated and frozen; serverless.yml sets it (functions.status.environment). */
export interface StatusConfig extends SharedConfig {
  readonly targetGroupArn: string;
}

/** The variables parseStatusConfig reads (test/unit/config/variables.test.ts proves it). */
export const STATUS_VARIABLES = [...SHARED_VARIABLES, 'TARGET_GROUP_ARN'] as const;

export function parseStatusConfig(env: Env = process.env): StatusConfig {
  return deepFreeze({
    ...parseShared(env),
    targetGroupArn: matching('TARGET_GROUP_ARN', required(env, 'TARGET_GROUP_ARN'), TARGET_GROUP_ARN, 'a target group ARN (arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>)'),
  });
}
