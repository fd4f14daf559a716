/**
 * The emulated deploy and Lambda runner themselves, against plain moto, with
 * a tiny handler zip whose behaviour each message chooses: intrinsics and
 * conditions resolved, a clean Lambda-like environment, batchItemFailures
 * honoured (failed records re-delivered, then dead-lettered), a thrown error
 * keeping the whole batch, a timeout discarding the execution environment.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { clientConfig } from '../../sandbox/control-plane/aws-setup';
import { startMoto, type MotoServer } from '../../sandbox/control-plane/moto';
import { failedIds, LambdaRunner } from '../../sandbox/lambda/runner';
import { deployStack, DeployError, type DeployedStack } from '../../sandbox/stack/deploy';
import { eventually } from './harness';

jest.setTimeout(120_000);

const HANDLER = `
exports.handler = async (event, context) => {
  if (event.Records === undefined) {
    if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
    console.log(JSON.stringify({ level: 'INFO', message: 'direct', echo: event.echo }));
    return { echo: event.echo, joined: process.env.JOINED, queue: process.env.QUEUE, partition: process.env.PARTITION,
      leaked: process.env.H6_PARENT_ONLY ?? null, endpoint: process.env.AWS_ENDPOINT_URL,
      functionName: context.functionName, remaining: context.getRemainingTimeInMillis(), requestId: context.awsRequestId };
  }
  const bodies = event.Records.map((r) => r.body);
  console.log(JSON.stringify({ level: 'INFO', message: 'batch', bodies }));
  if (bodies.includes('throw')) throw new Error('boom');
  if (bodies.includes('slow')) await new Promise((r) => setTimeout(r, 800));
  if (bodies.includes('bad-response')) return { batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] };
  return { batchItemFailures: event.Records.filter((r) => r.body === 'fail').map((r) => ({ itemIdentifier: r.messageId })) };
};
`;

const TEMPLATE = {
  Parameters: { Flavour: { Type: 'String', Default: 'plain', AllowedValues: ['plain', 'fancy'] } },
  Conditions: { IsFancy: { 'Fn::Equals': [{ Ref: 'Flavour' }, 'fancy'] } },
  Resources: {
    Dlq: { Type: 'AWS::SQS::Queue', Properties: { QueueName: { 'Fn::Sub': 'h6rt-${AWS::Region}-dlq' } } },
    Queue: {
      Type: 'AWS::SQS::Queue',
      Properties: { QueueName: 'h6rt-work', VisibilityTimeout: 2, RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['Dlq', 'Arn'] }, maxReceiveCount: 2 } },
    },
    FancyTopic: { Type: 'AWS::SNS::Topic', Condition: 'IsFancy', Properties: { TopicName: 'h6rt-fancy' } },
    Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } },
    Fn: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        FunctionName: 'h6rt-fn',
        Handler: 'src/fn.handler',
        Runtime: 'nodejs22.x',
        Timeout: 1,
        MemorySize: 128,
        Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
        Code: { S3Bucket: 'x', S3Key: 'serverless/h6rt/1/fn.zip' },
        Environment: {
          Variables: {
            QUEUE: { Ref: 'Queue' },
            JOINED: { 'Fn::Join': ['|', [{ 'Fn::GetAtt': ['Queue', 'QueueName'] }, { 'Fn::If': ['IsFancy', 'fancy', 'plain'] }]] },
            PARTITION: { 'Fn::Sub': ['${AWS::Partition}:${Dlq.QueueName}:${Extra}', { Extra: { Ref: 'AWS::AccountId' } }] },
          },
        },
      },
    },
    Mapping: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: { EventSourceArn: { 'Fn::GetAtt': ['Queue', 'Arn'] }, FunctionName: { 'Fn::GetAtt': ['Fn', 'Arn'] }, BatchSize: 5, FunctionResponseTypes: ['ReportBatchItemFailures'] },
    },
  },
};

let moto: MotoServer;
let stack: DeployedStack;
let runner: LambdaRunner;
let dir: string;
let sqs: SQSClient;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h6-runner-test-'));
  fs.mkdirSync(path.join(dir, 'code', 'src'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'code', 'src', 'fn.js'), HANDLER);
  execFileSync('zip', ['-q', '-r', path.join(dir, 'fn.zip'), 'src'], { cwd: path.join(dir, 'code') });
  moto = await startMoto();
  stack = await deployStack({ endpoint: moto.url, template: TEMPLATE });
  process.env.H6_PARENT_ONLY = 'must not reach the function';
  runner = await LambdaRunner.start({ packageDir: dir, stack, functionEndpoint: moto.url, logFile: path.join(dir, 'functions.log') });
  sqs = new SQSClient(clientConfig(moto.url));
});

afterAll(async () => {
  delete process.env.H6_PARENT_ONLY;
  await runner?.stop();
  await moto?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('deploy resolves Ref, GetAtt, Sub, Join, If with conditions and records the function with its queue', () => {
  const fn = stack.functions.fn;
  expect(fn?.environment).toEqual({
    QUEUE: stack.physicalId('Queue'),
    JOINED: 'h6rt-work|plain',
    PARTITION: 'aws:h6rt-eu-west-1-dlq:123456789012',
  });
  expect(stack.resources.FancyTopic?.status).toBe('skipped-condition');
  expect(stack.resources.Role?.status).toBe('recorded');
  expect(fn?.eventSources).toEqual([
    expect.objectContaining({ queueUrl: stack.physicalId('Queue'), batchSize: 5, functionResponseTypes: ['ReportBatchItemFailures'] }),
  ]);
  expect(fn?.timeoutSeconds).toBe(1);
});

test('a parameter flips a condition: the conditional resource is created and Fn::If takes the other branch', async () => {
  const fancy = await deployStack({ endpoint: moto.url, template: TEMPLATE, params: { Flavour: 'fancy' } });
  expect(fancy.resources.FancyTopic?.status).toBe('created');
  expect(fancy.physicalId('FancyTopic')).toBe('arn:aws:sns:eu-west-1:123456789012:h6rt-fancy');
  expect(fancy.functions.fn?.environment.JOINED).toBe('h6rt-work|fancy');
});

test('deploy refuses an undeclared parameter or a value outside AllowedValues, naming it', async () => {
  await expect(deployStack({ endpoint: moto.url, template: TEMPLATE, params: { Nope: 'x' } })).rejects.toThrow(/parameter Nope is not declared/);
  await expect(deployStack({ endpoint: moto.url, template: TEMPLATE, params: { Flavour: 'odd' } })).rejects.toThrow(DeployError);
});

test('deploy refuses an SQS event source whose function timeout exceeds the queue visibility timeout, as Lambda does (InvalidParameterValueException)', async () => {
  const longer = structuredClone(TEMPLATE) as unknown as { Resources: Record<string, { Properties: Record<string, unknown> }> };
  longer.Resources.Queue.Properties.QueueName = 'h6rt-short';
  longer.Resources.Fn.Properties.Timeout = 5;
  await expect(deployStack({ endpoint: moto.url, template: longer as unknown as typeof TEMPLATE })).rejects.toThrow(/InvalidParameterValueException: Queue visibility timeout: 2 seconds is less than Function timeout: 5 seconds/);
  // A queue that sets none has SQS's default of 30 seconds.
  delete longer.Resources.Queue.Properties.VisibilityTimeout;
  longer.Resources.Queue.Properties.QueueName = 'h6rt-default';
  longer.Resources.Fn.Properties.Timeout = 60;
  await expect(deployStack({ endpoint: moto.url, template: longer as unknown as typeof TEMPLATE })).rejects.toThrow(/Queue visibility timeout: 30 seconds is less than Function timeout: 60 seconds/);
});

test('a direct invoke runs the bundle with the stack environment, a Lambda context, and nothing of the parent environment', async () => {
  const r = await runner.invoke('fn', { echo: 'hello' });
  expect(r.outcome).toBe('success');
  expect(r.result).toMatchObject({
    echo: 'hello',
    joined: 'h6rt-work|plain',
    queue: stack.physicalId('Queue'),
    leaked: null,
    endpoint: moto.url,
    functionName: 'h6rt-fn',
  });
  const remaining = (r.result as { remaining: number }).remaining;
  expect(remaining).toBeGreaterThan(0);
  expect(remaining).toBeLessThanOrEqual(1000);
  // The function's stdout and the IPC result travel on different pipes: the log line may land a moment after the result.
  const logged = await eventually(async () => {
    const text = fs.readFileSync(path.join(dir, 'functions.log'), 'utf8');
    const lines = text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { message?: string; echo?: string });
    return lines.find((l) => l.message === 'direct' && l.echo === 'hello');
  }, 'the direct invocation log line', 5_000, 25);
  expect(logged).toMatchObject({ message: 'direct', echo: 'hello' });
});

test('a timeout ends the invocation at the function timeout and the next one gets a fresh environment', async () => {
  const slow = await runner.invoke('fn', { echo: 'slow', sleepMs: 3000 });
  expect(slow.outcome).toBe('timeout');
  expect(slow.durationMs).toBeLessThan(2500);
  const next = await runner.invoke('fn', { echo: 'after' });
  expect(next.outcome).toBe('success');
  const last = runner.journal[runner.journal.length - 1];
  expect(last?.coldStart).toBe(true);
});

test('records in batchItemFailures are re-delivered until the redrive policy dead-letters them; the others are deleted', async () => {
  const queueUrl = stack.physicalId('Queue');
  const ok = (await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'ok' }))).MessageId ?? '';
  const fail = (await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'fail' }))).MessageId ?? '';
  const dlq = stack.physicalId('Dlq');
  const dead = await eventually(async () => {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    return out.Messages?.find((m) => m.MessageId === fail);
  }, 'the failing record in the dead-letter queue', 30_000, 0);
  expect(dead.Body).toBe('fail');
  const okRuns = runner.journal.filter((i) => i.messageIds?.includes(ok));
  const failRuns = runner.journal.filter((i) => i.messageIds?.includes(fail));
  expect(okRuns).toHaveLength(1);
  expect(okRuns[0]?.failedMessageIds).not.toContain(ok);
  expect(failRuns).toHaveLength(2);
  for (const run of failRuns) expect(run.failedMessageIds).toContain(fail);
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  expect(attrs.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
});

test('a thrown error or an invalid batch response keeps the whole batch', async () => {
  const queueUrl = stack.physicalId('Queue');
  const thrown = (await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'throw' }))).MessageId ?? '';
  const invocation = await eventually(async () => runner.journal.find((i) => i.messageIds?.includes(thrown)), 'the throwing invocation', 10_000, 50);
  expect(invocation.outcome).toBe('error');
  expect(invocation.error).toContain('boom');
  expect(invocation.failedMessageIds).toEqual(invocation.messageIds);

  expect(failedIds({ batchItemFailures: [{ itemIdentifier: 'x' }] }, ['a', 'b'], true)).toBeUndefined();
  expect(failedIds({ batchItemFailures: [{ itemIdentifier: '' }] }, ['a'], true)).toBeUndefined();
  expect(failedIds({ batchItemFailures: [{ itemIdentifier: 'b' }] }, ['a', 'b'], true)).toEqual(['b']);
  expect(failedIds({ batchItemFailures: [] }, ['a'], true)).toEqual([]);
  expect(failedIds(null, ['a'], true)).toEqual([]);
  expect(failedIds({ batchItemFailures: [{ itemIdentifier: 'b' }] }, ['a', 'b'], false)).toEqual([]);
});

test('invokeConcurrently runs each payload at the same time in an execution environment of its own, then ends them', async () => {
  const started = Date.now();
  const results = await runner.invokeConcurrently('fn', [{ echo: 'a', sleepMs: 600 }, { echo: 'b', sleepMs: 600 }]);
  expect(results.map((r) => [r.outcome, (r.result as { echo: string }).echo])).toEqual([['success', 'a'], ['success', 'b']]);
  // One environment would run them one after the other (1.2 s of sleep); two overlap.
  const runs = runner.journal.slice(-2);
  expect(runs.map((r) => r.coldStart)).toEqual([true, true]);
  const [first, second] = runs.map((r) => ({ start: r.startedAt, end: r.startedAt + r.durationMs }));
  expect(Math.max(first!.start, second!.start)).toBeLessThan(Math.min(first!.end, second!.end));
  expect(Date.now() - started).toBeLessThan(10_000);
});

test('dropNext: the poller deletes the next matching message without invoking, and delivers the others', async () => {
  const queueUrl = stack.physicalId('Queue');
  const dropped = runner.dropNext('fn', (body) => body === 'lost');
  const lost = (await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'lost' }))).MessageId ?? '';
  const kept = (await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'ok' }))).MessageId ?? '';
  expect(await dropped).toBe('lost');
  await eventually(async () => runner.journal.find((i) => i.messageIds?.includes(kept)), 'the other message delivered', 10_000, 50);
  // Deleted, not merely hidden: past the queue's visibility timeout (2 s) it is still never delivered.
  await new Promise((r) => setTimeout(r, 3500));
  expect(runner.journal.filter((i) => i.messageIds?.includes(lost))).toEqual([]);
});

test('concurrentBatches: an SQS event source runs that many batches at once, each in an environment of its own', async () => {
  // A stack of its own (batch size 1, so each message is a batch) run by a second runner with 3 slots.
  const template = JSON.parse(JSON.stringify(TEMPLATE)) as typeof TEMPLATE;
  const resources = template.Resources as Record<string, { Properties: Record<string, unknown> }>;
  resources.Dlq!.Properties.QueueName = 'h6rt-concurrent-dlq';
  resources.Queue!.Properties = { ...resources.Queue!.Properties, QueueName: 'h6rt-concurrent', VisibilityTimeout: 10 };
  resources.Fn!.Properties = { ...resources.Fn!.Properties, FunctionName: 'h6rt-concurrent-fn', Timeout: 5 };
  resources.Mapping!.Properties = { ...resources.Mapping!.Properties, BatchSize: 1 };
  delete (resources as Record<string, unknown>).FancyTopic;
  const concurrentStack = await deployStack({ endpoint: moto.url, template });
  const concurrent = await LambdaRunner.start({ packageDir: dir, stack: concurrentStack, functionEndpoint: moto.url, logFile: path.join(dir, 'concurrent.log'), concurrentBatches: 3 });
  try {
    const queueUrl = concurrentStack.physicalId('Queue');
    const ids = await Promise.all([1, 2, 3].map(async () => (await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'slow' }))).MessageId ?? ''));
    const runs = await eventually(async () => {
      const done = concurrent.journal.filter((i) => i.messageIds?.some((m) => ids.includes(m)));
      return done.length === 3 ? done : undefined;
    }, 'the three slow messages processed', 30_000, 50);
    expect(runs.map((r) => r.outcome)).toEqual(['success', 'success', 'success']);
    // One environment would run the three 800 ms batches one after the other; with three slots some overlap.
    const spans = runs.map((r) => ({ start: r.startedAt, end: r.startedAt + r.durationMs })).sort((a, b) => a.start - b.start);
    expect(spans.some((s, i) => i > 0 && s.start < spans[i - 1]!.end)).toBe(true);
  } finally {
    await concurrent.stop();
  }
  await expect(LambdaRunner.start({ packageDir: dir, stack: concurrentStack, functionEndpoint: moto.url, logFile: path.join(dir, 'bad.log'), concurrentBatches: 0 })).rejects.toThrow(
    'concurrentBatches must be a positive integer, got 0',
  );
});
