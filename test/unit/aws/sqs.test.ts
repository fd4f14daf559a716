import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { clampDelaySeconds, createQueuePort, createSqsClient } from '../../../lib/aws/sqs';
import { AwsCallError } from '../../../lib/errors';
import { awsError, recordingLog } from './helpers';

const sqsMock = mockClient(SQSClient);
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/pydio-autoscaler-lifecycle';

function port(dryRun = false) {
  return createQueuePort(new SQSClient({ region: 'eu-west-1' }), { dryRun, log: recordingLog() });
}

beforeEach(() => sqsMock.reset());

it.each([
  [0, 0],
  [30, 30],
  [900, 900],
  [901, 900],
  [3600, 900],
  [-5, 0],
  [12.1, 13],
  [Number.POSITIVE_INFINITY, 900],
])('delay %p is sent as %p', async (delay, expected) => {
  // Prepare
  sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
  // Act
  await port().send(QUEUE, '{"kind":"continuation"}', delay);
  // Assess
  expect(sqsMock.commandCalls(SendMessageCommand)[0].args[0].input).toEqual({
    QueueUrl: QUEUE, MessageBody: '{"kind":"continuation"}', DelaySeconds: expected,
  });
});

it('refuses a NaN delay', () => {
  expect(() => clampDelaySeconds(Number.NaN)).toThrow(/NaN/);
});

it('still sends continuations in dry run (queue traffic is the autoscaler\'s own)', async () => {
  sqsMock.on(SendMessageCommand).resolves({});
  await port(true).send(QUEUE, 'body', 10);
  expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(1);
});

it('wraps a send failure', async () => {
  sqsMock.on(SendMessageCommand).rejects(awsError('QueueDoesNotExist', 'The specified queue does not exist.'));
  await expect(port().send(QUEUE, 'body', 10)).rejects.toThrow(AwsCallError);
});

it('createSqsClient retries up to 5 attempts', async () => {
  await expect(createSqsClient().config.maxAttempts()).resolves.toBe(5);
});
