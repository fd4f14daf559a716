import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createFunctionInvoker, createLambdaClient } from '../../../lib/aws/lambda';
import { AwsCallError } from '../../../lib/errors';
import { awsError } from './helpers';

const lambdaMock = mockClient(LambdaClient);
// The SDK answers a Uint8ArrayBlobAdapter, a Uint8Array: the adapter reads only the bytes.
const blob = (text: string) => new TextEncoder().encode(text) as never;

beforeEach(() => lambdaMock.reset());

it('invokes by name, RequestResponse by default, with the payload as JSON, and parses the answer', async () => {
  // Prepare
  lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: blob('{"stage":"prod"}'), ExecutedVersion: '$LATEST' });
  // Act
  const outcome = await createFunctionInvoker(new LambdaClient({ region: 'eu-west-1' })).invoke('pydio-autoscaler-prod-status', {});
  // Assess
  const input = lambdaMock.commandCalls(InvokeCommand)[0].args[0].input;
  expect({ ...input, Payload: Buffer.from(input.Payload as Uint8Array).toString('utf8') }).toEqual({ FunctionName: 'pydio-autoscaler-prod-status', InvocationType: 'RequestResponse', Payload: '{}' });
  expect(outcome).toEqual({ kind: 'answered', statusCode: 200, payload: { stage: 'prod' } });
});

it('reports a function error with its error document (X-Amz-Function-Error)', async () => {
  lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: blob('{"errorType":"MalformedEventError","errorMessage":"status takes no arguments"}') });
  const outcome = await createFunctionInvoker(new LambdaClient({ region: 'eu-west-1' })).invoke('f', { x: 1 });
  expect(outcome).toEqual({ kind: 'answered', statusCode: 200, functionError: 'Unhandled', payload: { errorType: 'MalformedEventError', errorMessage: 'status takes no arguments' } });
});

it('a DryRun answers 204 with no payload', async () => {
  lambdaMock.on(InvokeCommand).resolves({ StatusCode: 204 });
  const outcome = await createFunctionInvoker(new LambdaClient({ region: 'eu-west-1' })).invoke('f', {}, 'DryRun');
  expect(lambdaMock.commandCalls(InvokeCommand)[0].args[0].input.InvocationType).toBe('DryRun');
  expect(outcome).toEqual({ kind: 'answered', statusCode: 204, payload: undefined });
});

it('ResourceNotFoundException is the not-found outcome with the service message; any other error an AwsCallError', async () => {
  lambdaMock
    .on(InvokeCommand)
    .rejectsOnce(awsError('ResourceNotFoundException', 'Function not found: arn:aws:lambda:eu-west-1:123456789012:function:f'))
    .rejectsOnce(awsError('AccessDeniedException', 'not authorized to perform: lambda:InvokeFunction'));
  const invoker = createFunctionInvoker(new LambdaClient({ region: 'eu-west-1' }));
  await expect(invoker.invoke('f', {})).resolves.toEqual({ kind: 'not-found', message: 'Function not found: arn:aws:lambda:eu-west-1:123456789012:function:f' });
  await expect(invoker.invoke('f', {})).rejects.toThrow(AwsCallError);
});

it('the client makes one attempt only: an invoke that asks for an expansion is never sent twice', async () => {
  const client = createLambdaClient({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:4566' });
  expect(await client.config.maxAttempts()).toBe(1);
  expect(await client.config.region()).toBe('eu-west-1');
  client.destroy();
});
