import { parseWatchConfig } from '../../../lib/config/watch';
import { WATCH_ENV } from './watch-env';

describe('parseWatchConfig', () => {
  it('defaults: every minute, 3 checks, a third of the group at once, claims of 900 s', () => {
    const config = parseWatchConfig(WATCH_ENV);
    expect(config.watch).toEqual({ periodSeconds: 60, unhealthyChecks: 3, maxReplaceShare: 0.34, claimTtlSeconds: 900 });
    expect(config.storageQueueUrl).toBe(WATCH_ENV.STORAGE_QUEUE_URL);
    expect(Object.isFrozen(config.watch)).toBe(true);
  });

  it('reads the settings given', () => {
    const config = parseWatchConfig({ ...WATCH_ENV, WATCH_PERIOD_MINUTES: '5', WATCH_UNHEALTHY_CHECKS: '2', WATCH_MAX_REPLACE_SHARE: '0.5', CLAIM_TTL_SECONDS: '600' });
    expect(config.watch).toEqual({ periodSeconds: 300, unhealthyChecks: 2, maxReplaceShare: 0.5, claimTtlSeconds: 600 });
  });

  it('no storage tier: no storage queue', () => {
    const { STORAGE_ASG_NAME: _group, STORAGE_QUEUE_URL: _queue, ...computeOnly } = WATCH_ENV;
    expect(parseWatchConfig(computeOnly).storageQueueUrl).toBe('');
  });

  it.each([
    ['WATCH_PERIOD_MINUTES', '0', 'WATCH_PERIOD_MINUTES must be between 1 and 1440, got 0'],
    ['WATCH_PERIOD_MINUTES', 'one', 'WATCH_PERIOD_MINUTES must be a whole number'],
    ['WATCH_UNHEALTHY_CHECKS', '0', 'WATCH_UNHEALTHY_CHECKS must be between 1 and 100'],
    ['WATCH_MAX_REPLACE_SHARE', '0', 'WATCH_MAX_REPLACE_SHARE must be above 0 and at most 1, got 0'],
    ['WATCH_MAX_REPLACE_SHARE', '1.5', 'WATCH_MAX_REPLACE_SHARE must be above 0 and at most 1, got 1.5'],
    ['WATCH_MAX_REPLACE_SHARE', '34%', 'WATCH_MAX_REPLACE_SHARE must be a decimal number'],
    ['CLAIM_TTL_SECONDS', '5', 'CLAIM_TTL_SECONDS must be between 10 and 2592000'],
    ['COORDINATION_TABLE', 'a b', 'COORDINATION_TABLE must be a DynamoDB table name'],
    ['LIFECYCLE_QUEUE_URL', 'queue', 'LIFECYCLE_QUEUE_URL must be an SQS queue URL'],
    ['TARGET_GROUP_ARN', 'pydio', 'TARGET_GROUP_ARN must be a target group ARN'],
  ])('%s=%s is refused, naming it', (key, value, message) => {
    expect(() => parseWatchConfig({ ...WATCH_ENV, [key]: value })).toThrow(message);
  });

  it.each(['TOPIC_ARN', 'TARGET_GROUP_ARN', 'COORDINATION_TABLE', 'LIFECYCLE_QUEUE_URL'])('%s is required', (key) => {
    expect(() => parseWatchConfig({ ...WATCH_ENV, [key]: '' })).toThrow(`${key} is required but not set`);
  });

  it('a storage group needs the storage queue, and the storage queue a storage group', () => {
    expect(() => parseWatchConfig({ ...WATCH_ENV, STORAGE_QUEUE_URL: '' })).toThrow('STORAGE_QUEUE_URL is required when STORAGE_ASG_NAME is set');
    expect(() => parseWatchConfig({ ...WATCH_ENV, STORAGE_ASG_NAME: '' })).toThrow('STORAGE_QUEUE_URL is set but STORAGE_ASG_NAME is not');
  });
});
