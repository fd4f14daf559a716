import { parseScalingConfig, parseStatusConfig } from '../../lib/config-scaling';
import { ConfigurationError } from '../../lib/errors';

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

describe('parseStatusConfig', () => {
  it('needs the stage, compute group and target group', () => {
    expect(() => parseStatusConfig({ STAGE: 'test', COMPUTE_ASG_NAME: 'c' })).toThrow(/TARGET_GROUP_ARN is required/);
    expect(parseStatusConfig({ STAGE: 'test', COMPUTE_ASG_NAME: 'c', TARGET_GROUP_ARN: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/p/1' }).storageGroupName).toBe('');
  });
});
