import { createAutoScalingClient, createAutoScalingPort } from '../aws/autoscaling';
import { createElbv2Client, createTargetGroupPort } from '../aws/elbv2';
import { createNotifierPort, createSnsClient } from '../aws/sns';
import { createQueuePort, createSqsClient } from '../aws/sqs';
import { createSsmClient, createSsmPort } from '../aws/ssm';
import { parseConfig, type Config } from '../config';
import { logger } from '../logger';
import type { LifecycleDeps } from './lifecycle';

/**
 * Composition root, run once per cold start: the only place that reads the
 * environment (through parseConfig) and builds AWS clients.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  return parseConfig(env);
}

export function buildLifecycleDeps(config: Config = loadConfig()): LifecycleDeps {
  const opts = { dryRun: config.dryRun, log: logger };
  logger.appendKeys({ stage: config.stage, ...(config.dryRun ? { dryRun: true } : {}) });
  return {
    config,
    autoScaling: createAutoScalingPort(createAutoScalingClient(), opts),
    ssm: createSsmPort(createSsmClient(), opts),
    targets: createTargetGroupPort(createElbv2Client(), opts),
    notifier: createNotifierPort(createSnsClient(), config.topicArn, opts),
    queue: createQueuePort(createSqsClient(), opts),
    log: logger,
    now: () => new Date(),
  };
}
