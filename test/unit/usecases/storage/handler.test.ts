import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Context, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { STORAGE_ENV } from './fake-storage';

/** The storage function through its real middy wiring, with the SDK clients mocked. */
const context = { functionName: 'storage', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
const sns = mockClient(SNSClient);
const ssm = mockClient(SSMClient);

function sqsEvent(...bodies: string[]): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `m-${i}`, receiptHandle: `r-${i}`, body, attributes: {} as never, messageAttributes: {},
      md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:storage', awsRegion: 'eu-west-1',
    })),
  };
}

const saved = { ...process.env };
beforeAll(() => {
  Object.assign(process.env, STORAGE_ENV, { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', POWERTOOLS_LOG_LEVEL: 'SILENT' });
});
afterAll(() => {
  process.env = { ...saved };
});
beforeEach(() => {
  sns.reset();
  ssm.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'n-1' });
});

const load = () => require('../../../../functions/storage/handler') as typeof import('../../../../functions/storage/handler');

describe('storage handler', () => {
  it('answers a malformed direct invoke naming the field, notifies, does nothing else', async () => {
    const answer = await load().handler({ volume: 'pydio-data', sets: 'two' } as never, context);
    expect(answer).toEqual({ outcome: 'rejected', error: expect.stringMatching(/field sets must be a whole number/) });
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    expect(ssm.calls()).toHaveLength(0);
  });

  it('rejects a malformed queue record without a batch failure (it would never get better)', async () => {
    const answer = await load().handler(sqsEvent('{nope') as never, context);
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.Subject).toContain('malformed');
  });

  it('reports a record whose AWS call failed as a batch item failure, so the queue re-delivers it', async () => {
    ssm.on(PutParameterCommand).rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    const event = JSON.stringify({
      version: '0', id: 'e', source: 'aws.autoscaling', account: '123456789012', time: '2026-11-21T10:00:00Z', region: 'eu-west-1', resources: [],
      'detail-type': 'EC2 Instance-launch Lifecycle Action',
      detail: { LifecycleActionToken: 'tok-1', AutoScalingGroupName: 'pydio-storage', LifecycleHookName: 'h', EC2InstanceId: 'i-0123456789abcdef0', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING' },
    });
    const answer = await load().handler(sqsEvent(event) as never, context);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] });
  });
});
