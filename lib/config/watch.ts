/** The watch's configuration: what it looks at, where it re-drives and tells, and its guard rails. */
import type { WatchSettings } from '../core/watch/snapshot';
import { ConfigurationError } from '../errors';
import { ARN, decimal, deepFreeze, integer, matching, required, URL_RE, type Env } from './env';
import { TABLE_NAME } from './compute';
import { storageQueueUrl } from './scaling';
import { parseShared, SHARED_VARIABLES, type SharedConfig } from './shared';

/** Parsed once per cold start, validated and frozen; serverless.yml sets it (functions.watch.environment). */
export interface WatchConfig extends SharedConfig {
  readonly topicArn: string;
  /** The compute target group, whose health the watch reads. */
  readonly targetGroupArn: string;
  /** The coordination table: the flows' holds, the watch's state and run hold. */
  readonly coordinationTable: string;
  /** Where a lost compute lifecycle event is re-driven (the queue ComputeLifecycleRule feeds). */
  readonly lifecycleQueueUrl: string;
  /** The storage function's queue (health-check requests, lost storage lifecycle events); empty without a storage tier. */
  readonly storageQueueUrl: string;
  /** Handed as it is to decideWatch. */
  readonly watch: WatchSettings;
}

/** The variables parseWatchConfig reads (test/unit/config/variables.test.ts proves it). */
export const WATCH_VARIABLES = [
  ...SHARED_VARIABLES, 'TOPIC_ARN', 'TARGET_GROUP_ARN', 'COORDINATION_TABLE', 'LIFECYCLE_QUEUE_URL', 'STORAGE_QUEUE_URL',
  'WATCH_PERIOD_MINUTES', 'WATCH_UNHEALTHY_CHECKS', 'WATCH_MAX_REPLACE_SHARE', 'CLAIM_TTL_SECONDS',
] as const;

export function parseWatchConfig(env: Env = process.env): WatchConfig {
  const shared = parseShared(env);
  const storageQueue = storageQueueUrl(env, shared.storageGroupName) ?? '';
  if (shared.storageGroupName !== '' && storageQueue === '') {
    throw new ConfigurationError('STORAGE_QUEUE_URL is required when STORAGE_ASG_NAME is set: the watch sends the storage function its health-check requests and lost storage lifecycle events there');
  }
  return deepFreeze({
    ...shared,
    topicArn: matching('TOPIC_ARN', required(env, 'TOPIC_ARN'), ARN, 'an SNS topic ARN'),
    targetGroupArn: matching('TARGET_GROUP_ARN', required(env, 'TARGET_GROUP_ARN'), ARN, 'a target group ARN'),
    coordinationTable: matching('COORDINATION_TABLE', required(env, 'COORDINATION_TABLE'), TABLE_NAME, 'a DynamoDB table name (3-255 of [A-Za-z0-9_.-])'),
    lifecycleQueueUrl: matching('LIFECYCLE_QUEUE_URL', required(env, 'LIFECYCLE_QUEUE_URL'), URL_RE, 'an SQS queue URL'),
    storageQueueUrl: storageQueue,
    watch: {
      periodSeconds: 60 * integer(env, 'WATCH_PERIOD_MINUTES', 1, 1, 1440),
      unhealthyChecks: integer(env, 'WATCH_UNHEALTHY_CHECKS', 3, 1, 100),
      maxReplaceShare: decimal(env, 'WATCH_MAX_REPLACE_SHARE', '0.34', 0, 1),
      claimTtlSeconds: integer(env, 'CLAIM_TTL_SECONDS', 900, 10, 30 * 86400),
    },
  });
}
