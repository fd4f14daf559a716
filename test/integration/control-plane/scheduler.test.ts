/**
 * EventBridge scheduled rules as the sandbox fires them (lambda/scheduler.ts):
 * moto stores the rule and never fires it. On a compressed clock (one
 * schedule minute = 1 s): the Scheduled Event AWS sends, at the rule's rate,
 * only where the function's resource-based policy lets the rule invoke it,
 * and Lambda's asynchronous retries as the function's EventInvokeConfig says.
 */
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import type { MotoServer } from '../../sandbox/control-plane/moto';
import type { InvokeResult } from '../../sandbox/lambda/runner';
import { Scheduler } from '../../sandbox/lambda/scheduler';
import type { DeployedFunction, DeployedStack, LambdaPermission } from '../../sandbox/stack/deploy';
import { startHarness, startMoto, type Harness } from './harness';

jest.setTimeout(60_000);

const ACCOUNT = '123456789012';
const FUNCTION = 'pydio-autoscaler-t-watch';
const FUNCTION_ARN = `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:${FUNCTION}`;

let moto: MotoServer;
let h: Harness;
let scheduler: Scheduler | undefined;

beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});
beforeEach(async () => {
  h = await startHarness(moto);
});
afterEach(async () => {
  await scheduler?.stop();
  scheduler = undefined;
  await h?.cp.stop();
});

async function rule(name: string, expression: string): Promise<string> {
  const events = new EventBridgeClient(h.config);
  const { RuleArn } = await events.send(new PutRuleCommand({ Name: name, ScheduleExpression: expression, State: 'ENABLED' }));
  await events.send(new PutTargetsCommand({ Rule: name, Targets: [{ Id: 'watch', Arn: FUNCTION_ARN }] }));
  return RuleArn ?? '';
}

function stack(permissions: LambdaPermission[], retries?: number): DeployedStack {
  const fn = { functionName: FUNCTION } as DeployedFunction;
  return {
    region: 'eu-west-1', accountId: ACCOUNT, resources: {}, functions: { watch: fn }, roles: {}, outputs: {},
    lambdaPermissions: permissions,
    invokeConfigs: retries === undefined ? {} : { [FUNCTION]: { maximumRetryAttempts: retries } },
    physicalId: () => '',
  };
}

const permission = (sourceArn: string): LambdaPermission => ({ logicalId: 'WatchLambdaPermission', functionName: FUNCTION_ARN, action: 'lambda:InvokeFunction', principal: 'events.amazonaws.com', sourceArn });

function recorder(outcome: InvokeResult['outcome'] = 'success') {
  const payloads: Array<{ at: number; payload: Record<string, unknown> }> = [];
  const invoke = async (key: string, payload: unknown): Promise<InvokeResult> => {
    expect(key).toBe('watch');
    payloads.push({ at: Date.now(), payload: payload as Record<string, unknown> });
    return outcome === 'success' ? { outcome, durationMs: 1 } : { outcome, durationMs: 1, error: { name: 'Error', message: 'boom' } };
  };
  return { payloads, invoke };
}

test('a rate(1 minute) rule invokes its function with the Scheduled Event, one period after it exists, then every period', async () => {
  const ruleArn = await rule('t-watch', 'rate(1 minute)');
  const r = recorder();
  const started = Date.now();
  scheduler = await Scheduler.start({ clientConfig: h.config, stack: stack([permission(ruleArn)]), invoke: r.invoke, minuteMs: 1000 });
  expect(scheduler.rules()).toEqual([{ ruleName: 't-watch', functionKey: 'watch', periodMs: 1000, permitted: true }]);
  await new Promise((resolve) => setTimeout(resolve, 3400));
  expect(r.payloads.length).toBeGreaterThanOrEqual(3);
  expect(r.payloads.length).toBeLessThanOrEqual(4);
  expect(r.payloads[0]!.at - started).toBeGreaterThanOrEqual(900);
  expect(r.payloads[0]!.payload).toEqual({
    version: '0', id: expect.stringMatching(/^[0-9a-f-]{36}$/), 'detail-type': 'Scheduled Event', source: 'aws.events', account: ACCOUNT,
    time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/), region: 'eu-west-1', resources: [ruleArn], detail: {},
  });
  expect(new Set(r.payloads.map((p) => p.payload.id)).size).toBe(r.payloads.length);
});

test('rate(2 minutes) fires half as often', async () => {
  const ruleArn = await rule('t-two', 'rate(2 minutes)');
  const r = recorder();
  scheduler = await Scheduler.start({ clientConfig: h.config, stack: stack([permission(ruleArn)]), invoke: r.invoke, minuteMs: 1000 });
  await new Promise((resolve) => setTimeout(resolve, 4500));
  expect(r.payloads).toHaveLength(2);
});

test('without a permission for this rule, nothing runs: the firing is recorded not permitted', async () => {
  await rule('t-denied', 'rate(1 minute)');
  const r = recorder();
  scheduler = await Scheduler.start({ clientConfig: h.config, stack: stack([permission(`arn:aws:events:eu-west-1:${ACCOUNT}:rule/another-rule`)]), invoke: r.invoke, minuteMs: 1000 });
  await scheduler.fireNow('t-denied');
  expect(r.payloads).toEqual([]);
  expect(scheduler.runs).toEqual([expect.objectContaining({ ruleName: 't-denied', outcome: 'not-permitted' })]);
});

test('a function error is retried after one, then two minutes with the same event, as many times as its EventInvokeConfig allows', async () => {
  const ruleArn = await rule('t-retry', 'rate(10 minutes)');
  const r = recorder('error');
  scheduler = await Scheduler.start({ clientConfig: h.config, stack: stack([permission(ruleArn)]), invoke: r.invoke, minuteMs: 1000 });
  await scheduler.fireNow('t-retry');
  await new Promise((resolve) => setTimeout(resolve, 3500));
  expect(r.payloads).toHaveLength(3);
  expect(new Set(r.payloads.map((p) => p.payload.id)).size).toBe(1);
  expect(r.payloads[1]!.at - r.payloads[0]!.at).toBeGreaterThanOrEqual(950);
  expect(r.payloads[2]!.at - r.payloads[1]!.at).toBeGreaterThanOrEqual(1950);
  expect(scheduler.runs.map((run) => [run.attempt, run.outcome])).toEqual([[0, 'error'], [1, 'error'], [2, 'error']]);
});

test('MaximumRetryAttempts 0: no retry', async () => {
  const ruleArn = await rule('t-noretry', 'rate(10 minutes)');
  const r = recorder('error');
  scheduler = await Scheduler.start({ clientConfig: h.config, stack: stack([permission(ruleArn)], 0), invoke: r.invoke, minuteMs: 1000 });
  await scheduler.fireNow('t-noretry');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(r.payloads).toHaveLength(1);
});
