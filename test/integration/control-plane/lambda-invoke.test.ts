/**
 * The front's Lambda Invoke API and the functions' CloudWatch Logs, against
 * moto with the real Lambda runner and a tiny handler: the operator CLI's own
 * adapters (lib/aws/lambda.ts, lib/aws/logs.ts), the SDK and Debian's AWS CLI
 * reach the function as they would on AWS; each function's lines reach its
 * log group with its execution role, or are dropped when the role may not
 * write them.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CloudWatchLogsClient, DescribeLogStreamsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { createFunctionInvoker } from '../../../lib/aws/lambda';
import { createLogReader } from '../../../lib/aws/logs';
import { identitiesOf } from '../../sandbox/iam/enforcer';
import { LambdaRunner } from '../../sandbox/lambda/runner';
import { deployStack, type DeployedStack } from '../../sandbox/stack/deploy';
import { eventually, startHarness, startMoto, type Harness } from './harness';
import type { MotoServer } from '../../sandbox/control-plane/moto';

jest.setTimeout(120_000);

const HANDLER = `
exports.handler = async (event, context) => {
  console.log(JSON.stringify({ level: 'INFO', message: 'direct', echo: event.echo }));
  if (event.fail) throw new TypeError('asked to fail');
  if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  if (event.stream) return { stream: process.env.AWS_LAMBDA_LOG_STREAM_NAME, context: context.logStreamName };
  return { echo: event.echo };
};
`;

const logsPolicy = (fn: string) => ({
  PolicyName: 'logs',
  PolicyDocument: {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [{ 'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${fn}:*` }] }],
  },
});
/** The runner names a function by its zip (the serverless function key). */
const fn = (name: string, role: string, zip: string) => ({
  Type: 'AWS::Lambda::Function',
  Properties: { FunctionName: name, Handler: 'src/fn.handler', Runtime: 'nodejs22.x', Timeout: 2, MemorySize: 128, Role: { 'Fn::GetAtt': [role, 'Arn'] }, Code: { S3Bucket: 'x', S3Key: zip } },
});
const TEMPLATE = {
  Resources: {
    // A role that may write its function's logs (as the stack's roles may), and one that may not.
    LoggingRole: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {}, Policies: [logsPolicy('h6li-fn')] } },
    MuteRole: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {}, Policies: [] } },
    Fn: fn('h6li-fn', 'LoggingRole', 'fn.zip'),
    Mute: fn('h6li-mute', 'MuteRole', 'mute.zip'),
    FnLogGroup: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: '/aws/lambda/h6li-fn', RetentionInDays: 30 } },
    MuteLogGroup: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: '/aws/lambda/h6li-mute', RetentionInDays: 30 } },
  },
};

/** Debian's awscli (v2); the pip one earlier on some PATHs is v1. */
const AWS_CLI = '/usr/bin/aws';

let moto: MotoServer;
let h: Harness;
let stack: DeployedStack;
let runner: LambdaRunner;
let dir: string;
let lambda: LambdaClient;
let logs: CloudWatchLogsClient;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h6-invoke-test-'));
  fs.mkdirSync(path.join(dir, 'code', 'src'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'code', 'src', 'fn.js'), HANDLER);
  execFileSync('zip', ['-q', '-r', path.join(dir, 'fn.zip'), 'src'], { cwd: path.join(dir, 'code') });
  fs.copyFileSync(path.join(dir, 'fn.zip'), path.join(dir, 'mute.zip'));
  moto = await startMoto();
  h = await startHarness(moto);
  stack = await deployStack({ endpoint: h.cp.url, template: TEMPLATE });
  runner = await LambdaRunner.start({ packageDir: dir, stack, functionEndpoint: h.cp.url, logFile: path.join(dir, 'functions.log'), shipLogs: true });
  h.cp.enforceIam(identitiesOf(stack));
  h.cp.attachFunctions(runner);
  lambda = new LambdaClient({ ...h.config, maxAttempts: 1 });
  logs = new CloudWatchLogsClient(h.config);
});

afterAll(async () => {
  lambda?.destroy();
  logs?.destroy();
  await runner?.stop();
  await h?.cp.stop();
  await moto?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('the CLI\'s invoker reaches the function by name; an unknown name is not found; a thrown error comes back as its error document', async () => {
  const invoker = createFunctionInvoker(lambda);
  expect(await invoker.invoke('h6li-fn', { echo: 'hello' })).toEqual({ kind: 'answered', statusCode: 200, payload: { echo: 'hello' } });
  expect(await invoker.invoke('h6li-nosuch', {})).toEqual({ kind: 'not-found', message: 'Function not found: arn:aws:lambda:eu-west-1:123456789012:function:h6li-nosuch' });
  const failed = await invoker.invoke('h6li-fn', { fail: true });
  expect(failed).toMatchObject({ kind: 'answered', statusCode: 200, functionError: 'Unhandled', payload: { errorType: 'TypeError', errorMessage: 'asked to fail' } });
  expect(await invoker.invoke('h6li-fn', {}, 'DryRun')).toEqual({ kind: 'answered', statusCode: 204, payload: undefined });
});

test('LogType Tail returns the invocation\'s own execution log: START, the function\'s lines, END, REPORT', async () => {
  const out = await lambda.send(new InvokeCommand({ FunctionName: 'h6li-fn', LogType: 'Tail', Payload: Buffer.from('{"echo":"tail"}') }));
  const log = Buffer.from(out.LogResult ?? '', 'base64').toString('utf8');
  const lines = log.trimEnd().split('\n');
  const start = lines.findIndex((l) => /^START RequestId: [0-9a-f-]{36} Version: \$LATEST$/.test(l));
  expect(start).toBeGreaterThanOrEqual(0);
  expect(lines.slice(start + 1, -2).map((l) => JSON.parse(l) as unknown)).toEqual([{ level: 'INFO', message: 'direct', echo: 'tail' }]);
  expect(lines.at(-2)).toMatch(/^END RequestId: [0-9a-f-]{36}$/);
  expect(lines.at(-1)).toMatch(/^REPORT RequestId: [0-9a-f-]{36}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB/);
  expect(out.ExecutedVersion).toBe('$LATEST');
});

test('a timeout is Sandbox.Timedout at the function\'s timeout', async () => {
  const out = await lambda.send(new InvokeCommand({ FunctionName: 'h6li-fn', Payload: Buffer.from('{"sleepMs":5000}') }));
  expect(out.FunctionError).toBe('Unhandled');
  expect(JSON.parse(Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8'))).toMatchObject({ errorType: 'Sandbox.Timedout', errorMessage: expect.stringMatching(/^RequestId: \S+ Error: Task timed out after 2\.00 seconds$/) });
});

test('the function\'s lines reach its log group with its role, and the CLI\'s reader finds them across the pages', async () => {
  await createFunctionInvoker(lambda).invoke('h6li-fn', { echo: 'in-the-logs' });
  const reader = createLogReader(logs);
  const found = await eventually(async () => {
    const r = await reader.search({ logGroupName: '/aws/lambda/h6li-fn', startTime: Date.now() - 60_000, filterPattern: '"in-the-logs"', maxEvents: 100 });
    return r.found && r.events.length > 0 ? r : undefined;
  }, 'the line in CloudWatch Logs');
  expect(found.found && found.events.map((e) => JSON.parse(e.message) as unknown)).toEqual([{ level: 'INFO', message: 'direct', echo: 'in-the-logs' }]);
  // Every START, END and REPORT of this function is there too: more than one page of the sandbox's pages.
  const all = await reader.search({ logGroupName: '/aws/lambda/h6li-fn', startTime: 0, filterPattern: '"RequestId"', maxEvents: 1000 });
  expect(all.found && all.events.length).toBeGreaterThan(6);
  expect(await reader.search({ logGroupName: '/aws/lambda/h6li-none', startTime: 0, filterPattern: '"x"', maxEvents: 10 })).toMatchObject({ found: false });
});

test('the runtime names the stream its lines go to (AWS_LAMBDA_LOG_STREAM_NAME, context.logStreamName), as Lambda does', async () => {
  const out = await createFunctionInvoker(lambda).invoke('h6li-fn', { stream: true });
  const named = (out as { payload: { stream: string; context: string } }).payload;
  expect(named.stream).toMatch(/^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/);
  expect(named.context).toBe(named.stream);
  const streams = await eventually(async () => {
    const r = await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/lambda/h6li-fn' }));
    const names = (r.logStreams ?? []).map((x) => x.logStreamName);
    return names.includes(named.stream) ? names : undefined;
  }, 'the named stream in the log group');
  expect(streams).toContain(named.stream);
});

test('a role that may not write logs loses its function\'s lines, as on AWS', async () => {
  await createFunctionInvoker(lambda).invoke('h6li-mute', { echo: 'unheard' });
  await eventually(async () => (h.cp.iamDecisions.some((d) => d.functionName === 'h6li-mute' && d.action === 'logs:CreateLogStream' && !d.allowed) ? true : undefined), 'the refused CreateLogStream');
  const r = await createLogReader(logs).search({ logGroupName: '/aws/lambda/h6li-mute', startTime: 0, filterPattern: '"unheard"', maxEvents: 10 });
  expect(r).toEqual({ found: true, events: [], truncated: false });
});

function awsCli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(AWS_CLI, [...args, '--endpoint-url', h.cp.url, '--region', 'eu-west-1'], { env: { PATH: '/usr/bin:/bin', HOME: dir, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_PAGER: '' }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr }),
    );
  });
}

test('Debian\'s AWS CLI invokes it: the answer in the outfile, the log tail, an unknown function and a payload that is not JSON refused by name', async () => {
  expect(fs.existsSync(AWS_CLI)).toBe(true); // test/setup.sh installs Debian's awscli
  const outfile = path.join(dir, 'out.json');
  const ok = await awsCli(['lambda', 'invoke', '--function-name', 'h6li-fn', '--cli-binary-format', 'raw-in-base64-out', '--payload', '{"echo":"cli"}', '--log-type', 'Tail', outfile]);
  expect(ok.code).toBe(0);
  const meta = JSON.parse(ok.stdout) as { StatusCode: number; ExecutedVersion: string; LogResult: string };
  expect([meta.StatusCode, meta.ExecutedVersion]).toEqual([200, '$LATEST']);
  expect(Buffer.from(meta.LogResult, 'base64').toString('utf8')).toContain('"echo":"cli"');
  expect(JSON.parse(fs.readFileSync(outfile, 'utf8'))).toEqual({ echo: 'cli' });

  const missing = await awsCli(['lambda', 'invoke', '--function-name', 'h6li-nosuch', outfile]);
  expect(missing.code).not.toBe(0);
  expect(missing.stderr).toContain('An error occurred (ResourceNotFoundException) when calling the Invoke operation: Function not found: arn:aws:lambda:eu-west-1:123456789012:function:h6li-nosuch');

  const bad = await awsCli(['lambda', 'invoke', '--function-name', 'h6li-fn', '--cli-binary-format', 'raw-in-base64-out', '--payload', 'not json', outfile]);
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toContain('(InvalidRequestContentException) when calling the Invoke operation: Could not parse request body into json');

  const event = await awsCli(['lambda', 'invoke', '--function-name', 'h6li-fn', '--invocation-type', 'Event', '--cli-binary-format', 'raw-in-base64-out', '--payload', '{"echo":"later"}', outfile]);
  expect(event.code).toBe(0);
  expect(JSON.parse(event.stdout)).toMatchObject({ StatusCode: 202 });
  await eventually(async () => runner.journal.find((i) => i.trigger === 'event' && i.outcome === 'success'), 'the Event invocation');
});
