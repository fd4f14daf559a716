import { parseConfig } from '../../../lib/config/compute';
import { parseStorageConfig, parseStorageFunctionConfig } from '../../../lib/config/storage';
import { ConfigurationError } from '../../../lib/errors';
import { STORAGE_ENV } from '../usecases/storage/fake-storage';

describe('storage configuration', () => {
  const base = () => parseConfig(STORAGE_ENV);

  it('reads defaults and the documents', () => {
    const config = parseStorageConfig(STORAGE_ENV, base());
    expect(config).toMatchObject({ groupName: 'pydio-storage', volumes: ['pydio-config', 'pydio-data'], settings: { brickRoot: '/bricks', shrinkHeadroom: 0.2 } });
    expect(Object.isFrozen(config.settings)).toBe(true);
    expect(config.timing.lockStaleSeconds).toBe(3600);
  });

  it('takes a short lock TTL when the retries are short (the sandbox\'s 30 s over waits of 2 s)', () => {
    const env = { ...STORAGE_ENV, RETRY_BASE_SECONDS: '1', RETRY_MAX_SECONDS: '2', STORAGE_LOCK_STALE_SECONDS: '30' };
    expect(parseStorageConfig(env, parseConfig(env)).timing.lockStaleSeconds).toBe(30);
  });

  it.each([
    [{ STORAGE_QUEUE_URL: '' }, /STORAGE_QUEUE_URL is required/],
    [{ DOC_STORAGE_PEER_PROBE: 'a b' }, /DOC_STORAGE_PEER_PROBE must be an SSM document name/],
    [{ STORAGE_BRICK_ROOT: '/bricks/../etc' }, /STORAGE_BRICK_ROOT must be an absolute path/],
    [{ STORAGE_BRICK_DEVICE: 'xvdb' }, /STORAGE_BRICK_DEVICE must be empty or a \/dev/],
    [{ STORAGE_LOCK_STALE_SECONDS: '100' }, /STORAGE_LOCK_STALE_SECONDS \(100\) must be at least twice RETRY_MAX_SECONDS \(60\)/],
  ])('refuses %j naming the variable', (over, message) => {
    expect(() => parseStorageConfig({ ...STORAGE_ENV, ...over }, base())).toThrow(message);
  });

  it('needs the storage group', () => {
    const noGroup = parseConfig({ ...STORAGE_ENV, STORAGE_ASG_NAME: '' });
    expect(() => parseStorageConfig(STORAGE_ENV, noGroup)).toThrow(ConfigurationError);
  });
});

describe('parseStorageFunctionConfig', () => {
  it('reads the compute Config, the storage settings and the EC2 endpoint from one environment', () => {
    const { config, storage, ec2 } = parseStorageFunctionConfig({ ...STORAGE_ENV, AWS_REGION: 'eu-west-1' });
    expect(config.storageGroupName).toBe('pydio-storage');
    expect(storage.groupName).toBe('pydio-storage');
    expect(ec2).toEqual({ region: 'eu-west-1', url: 'https://ec2.eu-west-1.amazonaws.com/' });
  });

  it('stops at a cold start without a region, naming it', () => {
    expect(() => parseStorageFunctionConfig({ ...STORAGE_ENV, AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined })).toThrow(/AWS_REGION must be a region name/);
  });
});
