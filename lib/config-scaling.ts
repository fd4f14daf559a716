import { ARN, NAME, URL_RE, boolean, deepFreeze, integer, matching, optional, required, type Env, DOCUMENT_PATTERNS } from './config/env';
import type { ScalingSettings } from './core/scaling/decide';
import { ConfigurationError } from './errors';

/**
 * Configuration of the alarm (scaling decision) and status functions, parsed
 * once per cold start, validated and frozen like lib/config/compute.ts (same helpers, lib/config/env.ts).
 */
export interface ScalingConfig {
  readonly stage: string;
  readonly dryRun: boolean;
  readonly computeGroupName: string;
  /** Empty when the cluster has no managed storage group yet. */
  readonly storageGroupName: string;
  readonly topicArn: string;
  readonly decisionQueueUrl: string;
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

export interface StatusConfig {
  readonly stage: string;
  readonly dryRun: boolean;
  readonly computeGroupName: string;
  readonly storageGroupName: string;
  readonly targetGroupArn: string;
}

/** CloudWatch alarm names: 1..255 characters, no control characters. */
const ALARM_NAME = /^[^\u0000-\u001f\u007f]{1,255}$/;
const DECIMAL = /^\d+(\.\d+)?$/;

function groupName(env: Env, key: string, isRequired: boolean): string {
  const value = isRequired ? required(env, key) : optional(env, key, '');
  return value === '' ? '' : matching(key, value, NAME, 'an Auto Scaling group name');
}

function alarmName(env: Env, key: string, isRequired: boolean): string {
  const value = isRequired ? required(env, key) : optional(env, key, '');
  return value === '' ? '' : matching(key, value, ALARM_NAME, 'a CloudWatch alarm name (1-255 characters)');
}

function decimal(env: Env, key: string, fallback: string, minExclusive: number, max: number): number {
  const raw = optional(env, key, fallback);
  if (!DECIMAL.test(raw)) throw new ConfigurationError(`${key} must be a decimal number such as 1.5, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (!(value > minExclusive) || value > max) throw new ConfigurationError(`${key} must be above ${minExclusive} and at most ${max}, got ${value}`);
  return value;
}

export function parseScalingConfig(env: Env): ScalingConfig {
  const stepOut = integer(env, 'SCALE_OUT_STEP', 1, 1, 100);
  const largeStepOut = integer(env, 'SCALE_OUT_LARGE_STEP', Math.max(2, stepOut), 1, 100);
  if (largeStepOut < stepOut) {
    throw new ConfigurationError(`SCALE_OUT_LARGE_STEP (${largeStepOut}) must not be below SCALE_OUT_STEP (${stepOut})`);
  }
  const storageGroupName = groupName(env, 'STORAGE_ASG_NAME', false);
  const diskHigh = alarmName(env, 'DISK_HIGH_ALARM_NAME', false);
  if (diskHigh !== '' && storageGroupName === '') {
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
    stage: matching('STAGE', required(env, 'STAGE'), NAME, 'a stage name'),
    dryRun: boolean(env, 'DRY_RUN'),
    computeGroupName: groupName(env, 'COMPUTE_ASG_NAME', true),
    storageGroupName,
    topicArn: matching('TOPIC_ARN', required(env, 'TOPIC_ARN'), ARN, 'an SNS topic ARN'),
    decisionQueueUrl: matching('DECISION_QUEUE_URL', required(env, 'DECISION_QUEUE_URL'), URL_RE, 'an SQS queue URL'),
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

export function parseStatusConfig(env: Env): StatusConfig {
  return deepFreeze({
    stage: matching('STAGE', required(env, 'STAGE'), NAME, 'a stage name'),
    dryRun: boolean(env, 'DRY_RUN'),
    computeGroupName: groupName(env, 'COMPUTE_ASG_NAME', true),
    storageGroupName: groupName(env, 'STORAGE_ASG_NAME', false),
    targetGroupArn: matching('TARGET_GROUP_ARN', required(env, 'TARGET_GROUP_ARN'), ARN, 'a target group ARN'),
  });
}
