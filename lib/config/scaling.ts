/** The scaling tier's configuration: what the alarm function reads to decide and apply scaling. */
import type { ScalingSettings } from '../core/scaling/decide';
import { ConfigurationError } from '../errors';
import { ARN, decimal, deepFreeze, DOCUMENT_PATTERNS, integer, matching, optional, required, URL_RE, type Env } from './env';
import { parseShared, SHARED_VARIABLES, type SharedConfig } from './shared';

/** Parsed once per cold start, validated and frozen; serverless.yml sets it (functions.alarm.environment). */
export interface ScalingConfig extends SharedConfig {
  readonly topicArn: string;
  readonly decisionQueueUrl: string;
  /** Where expansion requests go (the storage function's queue); empty when the stage deploys no storage tier. */
  readonly storageQueueUrl: string;
  /**
   * A Gluster health record older than this is trusted neither as healthy nor
   * as unhealthy (a few watch periods: the watch asks for a read every period).
   */
  readonly storageHealthMaxAgeSeconds: number;
  readonly dataVolume: string;
  readonly alarms: {
    readonly cpuHigh: string;
    readonly cpuLow: string;
    /** Empty when there is no storage group (the disk alarm exists only with one). */
    readonly diskHigh: string;
  };
  /** Handed as it is to decideScaling. */
  readonly scaling: ScalingSettings;
}

/** The variables parseScalingConfig reads (test/unit/config/variables.test.ts proves it). */
export const SCALING_VARIABLES = [
  ...SHARED_VARIABLES, 'TOPIC_ARN', 'DECISION_QUEUE_URL', 'STORAGE_QUEUE_URL', 'STORAGE_DATA_VOLUME', 'STORAGE_HEALTH_MAX_AGE_SECONDS',
  'CPU_HIGH_ALARM_NAME', 'CPU_LOW_ALARM_NAME', 'DISK_HIGH_ALARM_NAME',
  'SCALE_OUT_STEP', 'SCALE_OUT_LARGE_STEP', 'LARGE_STEP_FACTOR', 'SCALE_COOLDOWN_SECONDS', 'SCALE_BUSY_RECHECK_SECONDS', 'SCALE_MAX_RECHECKS',
] as const;

/** CloudWatch alarm names: 1..255 characters, no control characters. */
const ALARM_NAME = /^[^\u0000-\u001f\u007f]{1,255}$/;

function alarmName(env: Env, key: string, isRequired: boolean): string {
  const value = isRequired ? required(env, key) : optional(env, key, '');
  return value === '' ? '' : matching(key, value, ALARM_NAME, 'a CloudWatch alarm name (1-255 characters)');
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

export function parseScalingConfig(env: Env = process.env): ScalingConfig {
  const shared = parseShared(env);
  const stepOut = integer(env, 'SCALE_OUT_STEP', 1, 1, 100);
  const largeStepOut = integer(env, 'SCALE_OUT_LARGE_STEP', Math.max(2, stepOut), 1, 100);
  if (largeStepOut < stepOut) {
    throw new ConfigurationError(`SCALE_OUT_LARGE_STEP (${largeStepOut}) must not be below SCALE_OUT_STEP (${stepOut})`);
  }
  const diskHigh = alarmName(env, 'DISK_HIGH_ALARM_NAME', false);
  if (diskHigh !== '' && shared.storageGroupName === '') {
    throw new ConfigurationError('DISK_HIGH_ALARM_NAME is set but STORAGE_ASG_NAME is not: a brick disk alarm needs the storage group');
  }
  const alarms = {
    cpuHigh: alarmName(env, 'CPU_HIGH_ALARM_NAME', true),
    cpuLow: alarmName(env, 'CPU_LOW_ALARM_NAME', true),
    diskHigh,
  };
  const names = [alarms.cpuHigh, alarms.cpuLow, alarms.diskHigh].filter((n) => n !== '');
  if (new Set(names).size !== names.length) {
    throw new ConfigurationError(`CPU_HIGH_ALARM_NAME, CPU_LOW_ALARM_NAME and DISK_HIGH_ALARM_NAME must differ, got ${JSON.stringify(names)}`);
  }
  return deepFreeze({
    ...shared,
    topicArn: matching('TOPIC_ARN', required(env, 'TOPIC_ARN'), ARN, 'an SNS topic ARN'),
    decisionQueueUrl: matching('DECISION_QUEUE_URL', required(env, 'DECISION_QUEUE_URL'), URL_RE, 'an SQS queue URL'),
    storageQueueUrl: storageQueueUrl(env, shared.storageGroupName) ?? '',
    storageHealthMaxAgeSeconds: integer(env, 'STORAGE_HEALTH_MAX_AGE_SECONDS', 300, 60, 86_400),
    dataVolume: matching('STORAGE_DATA_VOLUME', optional(env, 'STORAGE_DATA_VOLUME', 'pydio-data'), DOCUMENT_PATTERNS.volume, 'a Gluster volume name ([A-Za-z0-9_-], at most 64)'),
    alarms,
    scaling: {
      stepOut,
      largeStepOut,
      largeStepFactor: decimal(env, 'LARGE_STEP_FACTOR', '1.5', 1, 100),
      cooldownSeconds: integer(env, 'SCALE_COOLDOWN_SECONDS', 300, 0, 86_400),
      busyRecheckSeconds: integer(env, 'SCALE_BUSY_RECHECK_SECONDS', 60, 1, 900),
      maxRechecks: integer(env, 'SCALE_MAX_RECHECKS', 96, 0, 10_000),
    },
  });
}
