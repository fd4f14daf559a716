/** Composition root: each function's AWS clients and ports, built once per cold start from its parsed configuration (lib/config/). */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { createAutoScalingClient, createAutoScalingPort } from '../aws/autoscaling';
import { createCoordinationPort, createDynamoDbClient } from '../aws/coordination';
import { createEc2Transport, createInstanceTagPort, createVolumePort } from '../aws/ec2-volumes';
import { createElbv2Client, createTargetGroupPort } from '../aws/elbv2';
import { createNotifierPort, createSnsClient } from '../aws/sns';
import { createQueuePort, createSqsClient } from '../aws/sqs';
import { createSsmClient, createSsmPort } from '../aws/ssm';
import { parseConfig, type Config } from '../config/compute';
import { lambdaRuntime, type LambdaRuntime } from '../config/lambda-runtime';
import { logger } from '../logger';
import type { LifecycleDeps } from './compute/common';
import type { StorageDeps } from './storage/cluster';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { createCloudWatchClient, createMetricsPort } from '../aws/cloudwatch';
import { parseScalingConfig, type ScalingConfig } from '../config/scaling';
import { parseStatusConfig, type StatusConfig } from '../config/status';
import { parseStorageFunctionConfig, readOnlyDocuments, type StorageFunctionConfig } from '../config/storage';
import { parseWatchConfig, type WatchConfig } from '../config/watch';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../core/scaling/metric-names';
import type { AlarmDeps } from './alarm';
import type { MetricsSink } from '../ports/metrics';
import type { StorageExpansionPort } from '../ports/storage';
import { storageNotDeployed } from './storage-not-deployed';
import { createStorageExpansion } from './storage/invoke';
import { createStorageStatus } from './storage/status';
import type { StatusDeps } from './status';
import type { WatchDeps } from './watch';
import { randomUUID } from 'node:crypto';

/**
 * Each build takes its config, parsed by default by the function's parser in
 * lib/config/ (which reads process.env); tests hand their own in. Nothing here
 * reads the environment.
 */
/** What the notifications' console links point at: the groups, the target group and this invocation's log stream. */
function noticeContext(config: { computeGroupName: string; storageGroupName: string; targetGroupArn?: string }, runtime: LambdaRuntime) {
  return {
    computeGroupName: config.computeGroupName,
    storageGroupName: config.storageGroupName,
    ...(config.targetGroupArn ? { targetGroupArn: config.targetGroupArn } : {}),
    ...(runtime.logGroupName ? { logGroupName: runtime.logGroupName } : {}),
    ...(runtime.logStreamName ? { logStreamName: runtime.logStreamName } : {}),
  };
}

export function buildLifecycleDeps(config: Config = parseConfig(), runtime: LambdaRuntime = lambdaRuntime()): LifecycleDeps {
  const opts = { dryRun: config.dryRun, log: logger };
  logger.appendPersistentKeys({ stage: config.stage, ...(config.dryRun ? { dryRun: true } : {}) });
  return {
    config,
    autoScaling: createAutoScalingPort(createAutoScalingClient(), opts),
    ssm: createSsmPort(createSsmClient(), opts),
    coordination: createCoordinationPort(createDynamoDbClient(), config.coordinationTable, opts),
    targets: createTargetGroupPort(createElbv2Client(), opts),
    notifier: createNotifierPort(createSnsClient(), config.topicArn, opts, noticeContext(config, runtime)),
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

export function buildAlarmDeps(config: ScalingConfig = parseScalingConfig(), runtime: LambdaRuntime = lambdaRuntime()): AlarmDeps {
  const opts = { dryRun: config.dryRun, log: logger };
  logger.appendPersistentKeys({ stage: config.stage, ...(config.dryRun ? { dryRun: true } : {}) });
  const queue = createQueuePort(createSqsClient(), opts);
  // Without a storage tier: refuses expansions, health unknown (storageNotDeployed in ports.ts).
  const storage: StorageExpansionPort = config.storageQueueUrl
    ? createStorageExpansion({ stage: config.stage, queueUrl: config.storageQueueUrl, ssm: createSsmPort(createSsmClient(), opts), queue, log: logger, now: () => new Date() })
    : storageNotDeployed;
  return {
    config,
    autoScaling: createAutoScalingPort(createAutoScalingClient(), opts),
    alarms: createMetricsPort(createCloudWatchClient(), opts),
    storage,
    notifier: createNotifierPort(createSnsClient(), config.topicArn, opts, noticeContext(config, runtime)),
    queue,
    metrics: createEmfMetrics(),
    log: logger,
    now: () => new Date(),
  };
}

export function buildStatusDeps(config: StatusConfig = parseStatusConfig()): StatusDeps {
  const opts = { dryRun: config.dryRun, log: logger };
  logger.appendPersistentKeys({ stage: config.stage });
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

/** Composition root of the storage function: the lifecycle ports plus capacity, termination, Parameter Store records and the coordination table. */
export function buildStorageDeps({ config, storage, ec2: endpoint }: StorageFunctionConfig = parseStorageFunctionConfig(), runtime: LambdaRuntime = lambdaRuntime()): StorageDeps {
  const opts = { dryRun: config.dryRun, log: logger };
  logger.appendPersistentKeys({ stage: config.stage, tier: 'storage', ...(config.dryRun ? { dryRun: true } : {}) });
  // EC2 through a signed Query call of our own (client-ec2 is too large for the zip).
  const ec2 = createEc2Transport(endpoint, { credentials: defaultProvider() });
  return {
    config,
    storage,
    ...(storage.growInPlace.mode === 'off' ? {} : { volumes: createVolumePort(ec2, opts) }),
    tags: createInstanceTagPort(ec2, opts),
    autoScaling: createAutoScalingPort(createAutoScalingClient(), opts),
    ssm: createSsmPort(createSsmClient(), opts, readOnlyDocuments(storage)),
    coordination: createCoordinationPort(createDynamoDbClient(), config.coordinationTable, opts),
    notifier: createNotifierPort(createSnsClient(), config.topicArn, opts, noticeContext(config, runtime)),
    queue: createQueuePort(createSqsClient(), opts),
    log: logger,
    now: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

/** Composition root of the watch: the groups and their hooks, target health, the coordination table, the recorded Gluster health, the queues it re-drives to, the topic. */
export function buildWatchDeps(config: WatchConfig = parseWatchConfig()): WatchDeps {
  const opts = { dryRun: config.dryRun, log: logger };
  logger.appendPersistentKeys({ stage: config.stage, ...(config.dryRun ? { dryRun: true } : {}) });
  return {
    config,
    autoScaling: createAutoScalingPort(createAutoScalingClient(), opts),
    targets: createTargetGroupPort(createElbv2Client(), opts),
    coordination: createCoordinationPort(createDynamoDbClient(), config.coordinationTable, opts),
    parameters: createSsmPort(createSsmClient(), opts),
    queue: createQueuePort(createSqsClient(), opts),
    notifier: createNotifierPort(createSnsClient(), config.topicArn, opts),
    metrics: createEmfMetrics(),
    log: logger,
    now: () => new Date(),
    newId: () => randomUUID(),
  };
}
