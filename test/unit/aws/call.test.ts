import { readFileSync } from 'node:fs';
import { isThrottlingError as sdkIsThrottlingError } from '@smithy/core/retry';
import { callAws, chunk, isAwsError, isThrottlingError, logDryRun, THROTTLING_ERROR_CODES, wrapError } from '../../../lib/aws/call';
import { ec2Error } from '../../../lib/aws/ec2-volumes';
import { errorName } from '../../../lib/errors';
import { AwsCallError } from '../../../lib/errors';
import { awsError, recordingLog } from './helpers';

describe('errorName', () => {
  it.each([
    ['an SDK error', awsError('ThrottlingException', 'slow down'), 'ThrottlingException'],
    ['a Code-shaped error', { Code: 'ValidationError' }, 'ValidationError'],
    ['a plain Error', new Error('boom'), 'Error'],
    ['a string', 'boom', ''],
    ['null', null, ''],
  ])('reads %s', (_case, error, expected) => {
    expect(errorName(error)).toBe(expected);
  });

  it('matches any of the given names', () => {
    expect(isAwsError(awsError('InvalidTargetException', 'x'), 'InvalidTarget', 'InvalidTargetException')).toBe(true);
    expect(isAwsError(awsError('Other', 'x'), 'InvalidTarget')).toBe(false);
  });
});

describe('wrapError', () => {
  it('names operation and error code, keeps the cause', () => {
    const cause = awsError('AccessDeniedException', 'User is not authorized');
    const wrapped = wrapError('SendCommand', cause);
    expect(wrapped).toBeInstanceOf(AwsCallError);
    expect(wrapped.message).toBe('SendCommand: AccessDeniedException: User is not authorized');
    expect(wrapped.operation).toBe('SendCommand');
    expect(wrapped.cause).toBe(cause);
  });

  it('does not wrap twice', () => {
    const inner = new AwsCallError('X', 'y');
    expect(wrapError('Z', inner)).toBe(inner);
  });
});

describe('throttling, as the SDK classifies it', () => {
  it.each([...THROTTLING_ERROR_CODES])('wraps %s as throttled', (code) => {
    const wrapped = wrapError('DescribeAutoScalingInstances', awsError(code, 'Rate exceeded'));
    expect(wrapped.throttled).toBe(true);
  });

  it.each([
    ['HTTP 429 whatever the code', Object.assign(awsError('SomeNewCode', 'x'), { $metadata: { httpStatusCode: 429 } }), true],
    ['the model trait $retryable.throttling', Object.assign(awsError('CodedThrottlingError', 'x'), { $retryable: { throttling: true } }), true],
    ['a retryable error that is not throttling', Object.assign(awsError('InternalFailure', 'x'), { $retryable: {}, $metadata: { httpStatusCode: 500 } }), false],
    ['AccessDeniedException', awsError('AccessDeniedException', 'not authorized'), false],
    ['ValidationError', awsError('ValidationError', 'bad'), false],
    ['a network error', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), false],
    ['a string', 'Throttling', false],
  ])('classifies %s as the SDK does', (_case, error, expected) => {
    expect(isThrottlingError(error)).toBe(expected);
    expect(wrapError('Op', error).throttled).toBe(expected);
    if (typeof error === 'object') expect(sdkIsThrottlingError(error as never)).toBe(expected);
  });

  it('lists exactly the codes of the installed SDK (THROTTLING_ERROR_CODES in @smithy/core/retry)', () => {
    const source = readFileSync(require.resolve('@smithy/core/retry'), 'utf8');
    const literal = /THROTTLING_ERROR_CODES\s*=\s*\[([^\]]*)\]/.exec(source);
    expect(literal).not.toBeNull();
    const sdkCodes = [...literal![1].matchAll(/"([^"]+)"/g)].map((m) => m[1]).sort();
    expect([...THROTTLING_ERROR_CODES].sort()).toEqual(sdkCodes);
  });

  it('marks an EC2 RequestLimitExceeded answer (our own Query transport) as throttled, an auth failure not', () => {
    const xml = (code: string) => `<Response><Errors><Error><Code>${code}</Code><Message>m</Message></Error></Errors></Response>`;
    expect(ec2Error('DescribeVolumes', 503, xml('RequestLimitExceeded')).throttled).toBe(true);
    expect(ec2Error('DescribeVolumes', 403, xml('AuthFailure')).throttled).toBe(false);
  });
});

describe('callAws', () => {
  it('returns the recovered value for an expected error and wraps the rest', async () => {
    const recover = (error: unknown) => (isAwsError(error, 'Expected') ? { value: 'fallback' } : undefined);
    await expect(callAws('Op', () => Promise.reject(awsError('Expected', '')), recover)).resolves.toBe('fallback');
    await expect(callAws('Op', () => Promise.reject(awsError('Unexpected', 'bad')), recover)).rejects.toThrow('Op: Unexpected: bad');
    await expect(callAws('Op', () => Promise.resolve(42))).resolves.toBe(42);
  });
});

it('logDryRun logs one info line with the input', () => {
  const log = recordingLog();
  logDryRun(log, 'RegisterTargets', { TargetGroupArn: 'arn' });
  expect(log.infos).toEqual([['dry run: would RegisterTargets', { dryRun: true, operation: 'RegisterTargets', TargetGroupArn: 'arn' }]]);
});

it.each([
  [[], 2, []],
  [[1, 2, 3], 2, [[1, 2], [3]]],
  [[1, 2], 2, [[1, 2]]],
])('chunk(%p, %p)', (items, size, expected) => {
  expect(chunk(items, size)).toEqual(expected);
});

it('chunk refuses a size below 1 instead of looping', () => {
  expect(() => chunk([1], 0)).toThrow(/positive integer/);
});
