import { COMPUTE_VARIABLES, parseConfig } from '../../../lib/config/compute';
import { EC2_ENDPOINT_VARIABLES, ec2Endpoint } from '../../../lib/config/ec2-endpoint';
import { LAMBDA_RUNTIME_VARIABLES, lambdaRuntime } from '../../../lib/config/lambda-runtime';
import type { Env } from '../../../lib/config/env';
import { parseScalingConfig, SCALING_VARIABLES } from '../../../lib/config/scaling';
import { parseShared, SHARED_VARIABLES } from '../../../lib/config/shared';
import { parseStatusConfig, STATUS_VARIABLES } from '../../../lib/config/status';
import { parseStorageConfig, STORAGE_VARIABLES } from '../../../lib/config/storage';
import { parseWatchConfig, WATCH_VARIABLES } from '../../../lib/config/watch';
import { WATCH_ENV } from './watch-env';
import { STORAGE_ENV } from '../usecases/storage/fake-storage';

/**
 * Each tier's list of variables is the one source the stack test checks
 * serverless.yml against; these prove each list is what its parser reads,
 * no more and no less, by recording every name the parser asks for.
 */
function namesRead(parse: (env: Env) => unknown, ...envs: Array<Record<string, string>>): string[] {
  const seen = new Set<string>();
  for (const env of envs) {
    const recording = new Proxy(env, {
      get(target, key) {
        if (typeof key === 'string') seen.add(key);
        return Reflect.get(target, key);
      },
    });
    parse(recording);
  }
  return [...seen].sort();
}

const sorted = (names: readonly string[]) => [...names].sort();

const SCALING_ENV = {
  STAGE: 'test',
  COMPUTE_ASG_NAME: 'pydio-compute',
  STORAGE_ASG_NAME: 'pydio-storage',
  TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:ops',
  DECISION_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/decisions',
  STORAGE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/storage',
  CPU_HIGH_ALARM_NAME: 'cpu-high',
  CPU_LOW_ALARM_NAME: 'cpu-low',
  DISK_HIGH_ALARM_NAME: 'disk-high',
};

/** Grow in place on: STORAGE_GROW_TO_GIB is read only then. */
const GROWING_ENV = { ...STORAGE_ENV, STORAGE_GROW_IN_PLACE: 'allowed', STORAGE_GROW_TO_GIB: '200', DOC_STORAGE_GROW_BRICK: 'doc-grow-brick' };

describe('each parser reads exactly the variables its tier declares', () => {
  it.each([
    ['parseShared', SHARED_VARIABLES, () => namesRead(parseShared, STORAGE_ENV)],
    ['parseConfig', COMPUTE_VARIABLES, () => namesRead(parseConfig, STORAGE_ENV)],
    ['parseScalingConfig', SCALING_VARIABLES, () => namesRead(parseScalingConfig, SCALING_ENV)],
    ['parseStatusConfig', STATUS_VARIABLES, () => namesRead(parseStatusConfig, STORAGE_ENV)],
    ['parseWatchConfig', WATCH_VARIABLES, () => namesRead(parseWatchConfig, WATCH_ENV)],
    ['parseStorageConfig', STORAGE_VARIABLES, () => namesRead((env) => parseStorageConfig(env, parseConfig(GROWING_ENV)), STORAGE_ENV, GROWING_ENV)],
    ['ec2Endpoint', EC2_ENDPOINT_VARIABLES, () => namesRead(ec2Endpoint, { AWS_REGION: 'eu-west-1' }, { AWS_DEFAULT_REGION: 'eu-west-1' })],
    ['lambdaRuntime', LAMBDA_RUNTIME_VARIABLES, () => namesRead(lambdaRuntime, {})],
  ] as const)('%s', (_name, declared, read) => {
    expect(read()).toEqual(sorted(declared));
  });
});

describe('lambdaRuntime', () => {
  it('reads the log group and stream the Lambda runtime sets, and never throws without them', () => {
    expect(lambdaRuntime({ AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/f', AWS_LAMBDA_LOG_STREAM_NAME: '2026/11/21/[$LATEST]ab' })).toEqual({ logGroupName: '/aws/lambda/f', logStreamName: '2026/11/21/[$LATEST]ab' });
    expect(lambdaRuntime({})).toEqual({ logGroupName: '', logStreamName: '' });
  });
});
