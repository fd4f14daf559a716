import { parseScalingConfig, storageQueueUrl } from '../../../lib/config/scaling';
import { ConfigurationError } from '../../../lib/errors';

const ENV = {
  STAGE: 'test',
  COMPUTE_ASG_NAME: 'pydio-compute',
  TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:ops',
  DECISION_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/decisions',
  CPU_HIGH_ALARM_NAME: 'cpu-high',
  CPU_LOW_ALARM_NAME: 'cpu-low',
};

describe('parseScalingConfig', () => {
  it('has sane defaults and is frozen', () => {
    const config = parseScalingConfig(ENV);
    expect(config).toMatchObject({
      dryRun: false, storageGroupName: '', dataVolume: 'pydio-data', alarms: { cpuHigh: 'cpu-high', cpuLow: 'cpu-low', diskHigh: '' },
      scaling: { stepOut: 1, largeStepOut: 2, largeStepFactor: 1.5, cooldownSeconds: 300, busyRecheckSeconds: 60, maxRechecks: 96 },
    });
    expect(Object.isFrozen(config.scaling)).toBe(true);
  });

  it('reads every setting', () => {
    const config = parseScalingConfig({
      ...ENV, DRY_RUN: 'true', STORAGE_ASG_NAME: 'pydio-storage', DISK_HIGH_ALARM_NAME: 'disk-high', SCALE_OUT_STEP: '2', SCALE_OUT_LARGE_STEP: '4',
      LARGE_STEP_FACTOR: '2.25', SCALE_COOLDOWN_SECONDS: '600', SCALE_BUSY_RECHECK_SECONDS: '15', STORAGE_DATA_VOLUME: 'data2',
    });
    expect(config).toMatchObject({ dryRun: true, alarms: { diskHigh: 'disk-high' }, dataVolume: 'data2', scaling: { stepOut: 2, largeStepOut: 4, largeStepFactor: 2.25, cooldownSeconds: 600, busyRecheckSeconds: 15 } });
  });

  it('carries the storage queue of a stage with a storage tier, empty without one', () => {
    const url = 'https://sqs.eu-west-1.amazonaws.com/123456789012/pydio-autoscaler-dev-storage';
    expect(parseScalingConfig(ENV).storageQueueUrl).toBe('');
    expect(parseScalingConfig({ ...ENV, STORAGE_ASG_NAME: 'pydio-storage', STORAGE_QUEUE_URL: url }).storageQueueUrl).toBe(url);
    expect(() => parseScalingConfig({ ...ENV, STORAGE_QUEUE_URL: url })).toThrow(/STORAGE_QUEUE_URL is set but STORAGE_ASG_NAME is not/);
  });

  it.each([
    [{ CPU_HIGH_ALARM_NAME: '' }, /CPU_HIGH_ALARM_NAME is required/],
    [{ DECISION_QUEUE_URL: undefined }, /DECISION_QUEUE_URL is required/],
    [{ DECISION_QUEUE_URL: 'queue' }, /DECISION_QUEUE_URL must be an SQS queue URL/],
    [{ SCALE_OUT_STEP: '0' }, /SCALE_OUT_STEP must be between 1 and 100/],
    [{ SCALE_OUT_STEP: '3', SCALE_OUT_LARGE_STEP: '2' }, /SCALE_OUT_LARGE_STEP \(2\) must not be below SCALE_OUT_STEP \(3\)/],
    [{ LARGE_STEP_FACTOR: '1' }, /LARGE_STEP_FACTOR must be above 1/],
    [{ LARGE_STEP_FACTOR: 'big' }, /LARGE_STEP_FACTOR must be a decimal number/],
    [{ SCALE_COOLDOWN_SECONDS: '-5' }, /SCALE_COOLDOWN_SECONDS must be a whole number/],
    [{ SCALE_BUSY_RECHECK_SECONDS: '0' }, /SCALE_BUSY_RECHECK_SECONDS must be/],
    [{ SCALE_BUSY_RECHECK_SECONDS: '901' }, /SCALE_BUSY_RECHECK_SECONDS must be/],
    [{ DISK_HIGH_ALARM_NAME: 'disk' }, /DISK_HIGH_ALARM_NAME is set but STORAGE_ASG_NAME is not/],
    [{ CPU_LOW_ALARM_NAME: 'cpu-high' }, /must differ/],
    [{ STORAGE_DATA_VOLUME: 'a b' }, /STORAGE_DATA_VOLUME must be a Gluster volume name/],
    [{ DRY_RUN: 'maybe' }, /DRY_RUN must be true or false/],
  ])('refuses %p, naming the variable', (over, message) => {
    const env: Record<string, string | undefined> = { ...ENV, ...over };
    expect(() => parseScalingConfig(env)).toThrow(ConfigurationError);
    expect(() => parseScalingConfig(env)).toThrow(message);
  });
});

describe('storageQueueUrl (alarm function wiring)', () => {
  const url = 'https://sqs.eu-west-1.amazonaws.com/123456789012/pydio-autoscaler-dev-storage';
  it.each([
    ['unset', {}, 'storage', undefined],
    ['empty (stage without a storage tier)', { STORAGE_QUEUE_URL: '' }, '', undefined],
    ['set with a storage group', { STORAGE_QUEUE_URL: url }, 'storage', url],
  ])('%s', (_name, env, group, expected) => {
    expect(storageQueueUrl(env, group)).toBe(expected);
  });

  it('refuses a value that is no URL, naming the variable', () => {
    expect(() => storageQueueUrl({ STORAGE_QUEUE_URL: 'queue' }, 'storage')).toThrow(/STORAGE_QUEUE_URL/);
  });

  it('refuses a queue without a storage group', () => {
    expect(() => storageQueueUrl({ STORAGE_QUEUE_URL: url }, '')).toThrow(ConfigurationError);
  });
});
