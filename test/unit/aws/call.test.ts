import { callAws, chunk, isAwsError, logDryRun, wrapError } from '../../../lib/aws/call';
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
