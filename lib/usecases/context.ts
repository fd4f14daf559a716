import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { createAutoScalingClient, createAutoScalingPort } from '../aws/autoscaling';
import { createEc2Transport, createInstanceTagPort, createVolumePort, ec2Endpoint } from '../aws/ec2-volumes';
import { createElbv2Client, createTargetGroupPort } from '../aws/elbv2';
import { createNotifierPort, createSnsClient } from '../aws/sns';
import { createQueuePort, createSqsClient } from '../aws/sqs';
import { createSsmClient, createSsmPort } from '../aws/ssm';
import { matching, parseConfig, URL_RE, type Config, type Env } from '../config';
import { ConfigurationError } from '../errors';
import { logger } from '../logger';
import type { LifecycleDeps } from './compute/common';
import type { StorageDeps } from './storage/cluster';
import { parseStorageConfig, readOnlyDocuments } from './storage/config';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { createCloudWatchClient, createMetricsPort } from '../aws/cloudwatch';
import { parseScalingConfig, parseStatusConfig, type ScalingConfig, type StatusConfig } from '../config-scaling';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../core/scaling/metric-names';
import type { AlarmDeps } from './alarm';
import { storageNotDeployed, type MetricsSink, type StorageExpansionPort } from './ports';
import { createStorageExpansion } from './storage/invoke';
import { createStorageStatus } from './storage/status';
import type { StatusDeps } from './status';

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
    metrics: createEmfMetrics(),
    log: logger,
    now: () => new Date(),
  };
}

// --- alarm (scaling decision) and status functions ----------------------------

/**
 * Our own metrics as embedded metric format log lines (Powertools), in the
 * PydioAutoscaler namespace with the default `service` dimension. Counts add
 * up within an invocation; `flush` writes them (nothing when none were counted).
 */
export function createEmfMetrics(): MetricsSink {
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });
  let pending = 0;
  return {
    count(name, value) {
      metrics.addMetric(name, MetricUnit.Count, value);
      pending += 1;
    },
    seconds(name, value) {
      metrics.addMetric(name, MetricUnit.Seconds, value);
      pending += 1;
    },
    flush() {
      if (pending === 0) return;
      metrics.publishStoredMetrics();
      pending = 0;
    },
  };
}

/**
 * STORAGE_QUEUE_URL of the alarm function: empty when the stage deploys no
 * storage tier; otherwise it must be a queue URL, and needs STORAGE_ASG_NAME.
 */
export function storageQueueUrl(env: Env, storageGroupName: string | undefined): string | undefined {
  const raw = (env.STORAGE_QUEUE_URL ?? '').trim();
  if (raw === '') return undefined;
  const url = matching('STORAGE_QUEUE_URL', raw, URL_RE, 'an SQS queue URL');
  if (!storageGroupName) throw new ConfigurationError('STORAGE_QUEUE_URL is set but STORAGE_ASG_NAME is not: storage expansion needs the storage group');
  return url;
}

export function buildAlarmDeps(config: ScalingConfig = parseScalingConfig(process.env), env: Env = process.env): AlarmDeps {
  const opts = { dryRun: config.dryRun, log: logger };
  logger.appendKeys({ stage: config.stage, ...(config.dryRun ? { dryRun: true } : {}) });
  const queue = createQueuePort(createSqsClient(), opts);
  const queueUrl = storageQueueUrl(env, config.storageGroupName);
  // Without a storage tier: refuses expansions, health unknown (storageNotDeployed in ports.ts).
  const storage: StorageExpansionPort = queueUrl
    ? createStorageExpansion({ stage: config.stage, queueUrl, ssm: createSsmPort(createSsmClient(), opts), queue, log: logger, now: () => new Date() })
    : storageNotDeployed;
  return {
    config,
    autoScaling: createAutoScalingPort(createAutoScalingClient(), opts),
    alarms: createMetricsPort(createCloudWatchClient(), opts),
    storage,
    notifier: createNotifierPort(createSnsClient(), config.topicArn, opts),
    queue,
    metrics: createEmfMetrics(),
    log: logger,
    now: () => new Date(),
  };
}

export function buildStatusDeps(config: StatusConfig = parseStatusConfig(process.env)): StatusDeps {
  const opts = { dryRun: config.dryRun, log: logger };
  logger.appendKeys({ stage: config.stage });
  return {
    config,
    autoScaling: createAutoScalingPort(createAutoScalingClient(), opts),
    targets: createTargetGroupPort(createElbv2Client(), opts),
    // Read-only, from the storage tier's Parameter Store records; without a storage group: { available: false, reason }.
    storage: config.storageGroupName
      ? createStorageStatus({ stage: config.stage, ssm: createSsmPort(createSsmClient(), opts), log: logger, now: () => new Date() })
      : storageNotDeployed,
    log: logger,
    now: () => new Date(),
  };
}

/** Composition root of the storage function: the lifecycle ports plus capacity, termination and Parameter Store records. */
export function buildStorageDeps(config: Config = loadConfig(), env: Record<string, string | undefined> = process.env): StorageDeps {
  const opts = { dryRun: config.dryRun, log: logger };
  logger.appendKeys({ stage: config.stage, tier: 'storage', ...(config.dryRun ? { dryRun: true } : {}) });
  const storage = parseStorageConfig(env, config);
  // EC2 through a signed Query call of our own (client-ec2 is too large for the zip).
  const ec2 = createEc2Transport(ec2Endpoint(env), { credentials: defaultProvider() });
  return {
    config,
    storage,
    ...(storage.growInPlace.mode === 'off' ? {} : { volumes: createVolumePort(ec2, opts) }),
    tags: createInstanceTagPort(ec2, opts),
    autoScaling: createAutoScalingPort(createAutoScalingClient(), opts),
    ssm: createSsmPort(createSsmClient(), opts, readOnlyDocuments(storage)),
    notifier: createNotifierPort(createSnsClient(), config.topicArn, opts),
    queue: createQueuePort(createSqsClient(), opts),
    log: logger,
    now: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}
