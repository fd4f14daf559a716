import { AutoScalingClient, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Context, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { ENV, lifecycleEvent } from '../usecases/fake-cloud';

const context = { functionName: 'lifecycle', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

function sqsEvent(...bodies: string[]): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `m-${i}`, receiptHandle: `r-${i}`, body, attributes: {} as never, messageAttributes: {},
      md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:lifecycle', awsRegion: 'eu-west-1',
    })),
  };
}

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

/**
 * A cold start with this environment (kept for the test). `isolated` loads
 * the module afresh; otherwise it shares the SDK modules aws-sdk-client-mock patched.
 */
function loadHandler(env: Record<string, string | undefined>, isolated = false) {
  Object.assign(process.env, env, { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', POWERTOOLS_LOG_LEVEL: 'SILENT' });
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  let mod: typeof import('../../../functions/lifecycle/handler') | undefined;
  if (isolated) {
    jest.isolateModules(() => {
      mod = require('../../../functions/lifecycle/handler');
    });
  } else {
    mod = require('../../../functions/lifecycle/handler');
  }
  return mod!;
}

describe('lifecycle handler', () => {
  const ssm = mockClient(SSMClient);
  const asg = mockClient(AutoScalingClient);
  const sns = mockClient(SNSClient);
  beforeEach(() => {
    ssm.reset();
    asg.reset();
    sns.reset();
  });

  it('stops at cold start with an error naming a missing setting', () => {
    expect(() => loadHandler({ ...ENV, COMPUTE_ASG_NAME: undefined }, true)).toThrow('COMPUTE_ASG_NAME is required but not set');
  });

  it('reports a record whose AWS call fails as a batch item failure, and handles the others', async () => {
    // Prepare: the claim succeeds, Auto Scaling is throttling.
    const { handler } = loadHandler(ENV);
    ssm.on(PutParameterCommand).resolves({ Version: 1 });
    asg.on(DescribeAutoScalingInstancesCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    sns.on(PublishCommand).resolves({ MessageId: 'n-1' });
    // Act
    const result = await handler(sqsEvent(lifecycleEvent('launch'), '{"not":"a lifecycle event"}'), context);
    // Assess: the first is re-delivered, the malformed second is consumed after a notification.
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] });
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.MessageAttributes?.eventType?.StringValue).toBe('event.malformed');
  });

  it("keeps the stage in every log line of a warm container: the cold start's keys outlive the first invocation", async () => {
    const { handler } = loadHandler(ENV);
    const { logger } = require('../../../lib/logger') as typeof import('../../../lib/logger');
    sns.on(PublishCommand).resolves({ MessageId: 'n-1' });
    await handler(sqsEvent('{"not":"a lifecycle event"}'), context);
    await handler(sqsEvent('{"not":"a lifecycle event"}'), context);
    expect(logger.getPersistentLogAttributes()).toMatchObject({ stage: ENV.STAGE });
  });
});
