import { LambdaInvokeApi, LOG_TAIL_BYTES, logTail, MAX_ASYNC_PAYLOAD_BYTES, MAX_RESPONSE_BYTES, MAX_SYNC_PAYLOAD_BYTES, type InvokableFunctions } from '../../sandbox/control-plane/lambda-invoke';
import type { LoggedInvokeResult } from '../../sandbox/lambda/runner';

const SCOPE = { region: 'eu-west-1', accountId: '123456789012' };
const NAME = 'pydio-autoscaler-pasbox-status';
const PATH = `/2015-03-31/functions/${NAME}/invocations`;

type Answer = Omit<LoggedInvokeResult, 'requestId' | 'log' | 'timeoutSeconds' | 'durationMs'> & { log?: string };

class FakeFunctions implements InvokableFunctions {
  readonly calls: { key: string; payload: unknown; trigger: string }[] = [];
  constructor(private readonly answer: (payload: unknown) => Answer = (payload) => ({ outcome: 'success', result: { echo: payload } })) {}
  functionNamed(name: string) {
    return name === NAME ? { key: 'status', fn: { functionName: NAME } } : undefined;
  }
  async invokeLogged(key: string, payload: unknown, trigger: 'direct' | 'event'): Promise<LoggedInvokeResult> {
    this.calls.push({ key, payload, trigger });
    const a = this.answer(payload);
    return { durationMs: 5, requestId: 'req-1', timeoutSeconds: 30, log: a.log ?? 'START RequestId: req-1 Version: $LATEST\nEND RequestId: req-1\n', ...a };
  }
}

function api(functions: InvokableFunctions = new FakeFunctions()) {
  const a = new LambdaInvokeApi(SCOPE);
  a.attach(functions);
  return a;
}
const json = (body: string) => JSON.parse(body) as Record<string, unknown>;
const post = (a: LambdaInvokeApi, path: string, body: string | Buffer = '{}', headers: Record<string, string> = {}) => a.handle('POST', path, headers, Buffer.isBuffer(body) ? body : Buffer.from(body));

describe('RequestResponse', () => {
  it('runs the function with the JSON payload and answers 200 with its result and $LATEST', async () => {
    const functions = new FakeFunctions();
    const r = await post(api(functions), PATH, '{"a":1}');
    expect(r.status).toBe(200);
    expect(json(r.body)).toEqual({ echo: { a: 1 } });
    expect(r.headers['x-amz-executed-version']).toBe('$LATEST');
    expect(r.headers['x-amz-function-error']).toBeUndefined();
    expect(functions.calls).toEqual([{ key: 'status', payload: { a: 1 }, trigger: 'direct' }]);
  });

  it.each([
    ['the function ARN', `arn:aws:lambda:eu-west-1:123456789012:function:${NAME}`],
    ['the partial ARN', `123456789012:function:${NAME}`],
    ['the name with $LATEST', `${NAME}:$LATEST`],
  ])('names the function by %s', async (_what, ref) => {
    const r = await post(api(), `/2015-03-31/functions/${encodeURIComponent(ref)}/invocations`);
    expect(r.status).toBe(200);
  });

  it('an empty body is the empty event {}', async () => {
    const functions = new FakeFunctions();
    await post(api(functions), PATH, '');
    expect(functions.calls[0]?.payload).toEqual({});
  });

  it('a thrown error is still 200, X-Amz-Function-Error Unhandled with the runtime\'s error document', async () => {
    const r = await post(api(new FakeFunctions(() => ({ outcome: 'error', error: { name: 'MalformedEventError', message: 'status takes no arguments', stack: 'MalformedEventError: status takes no arguments\n    at x (/var/task/h.js:1:1)' } }))), PATH);
    expect(r.status).toBe(200);
    expect(r.headers['x-amz-function-error']).toBe('Unhandled');
    expect(json(r.body)).toEqual({ errorType: 'MalformedEventError', errorMessage: 'status takes no arguments', trace: ['MalformedEventError: status takes no arguments', '    at x (/var/task/h.js:1:1)'] });
  });

  it('a timeout is Sandbox.Timedout naming the request and the function\'s timeout', async () => {
    const r = await post(api(new FakeFunctions(() => ({ outcome: 'timeout' }))), PATH);
    expect(r.headers['x-amz-function-error']).toBe('Unhandled');
    expect(json(r.body)).toEqual({ errorType: 'Sandbox.Timedout', errorMessage: 'RequestId: req-1 Error: Task timed out after 30.00 seconds' });
  });

  it(`an answer over ${MAX_RESPONSE_BYTES} bytes is Function.ResponseSizeTooLarge`, async () => {
    const r = await post(api(new FakeFunctions(() => ({ outcome: 'success', result: 'x'.repeat(MAX_RESPONSE_BYTES) }))), PATH);
    expect(r.headers['x-amz-function-error']).toBe('Unhandled');
    expect(json(r.body)).toEqual({ errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).', errorType: 'Function.ResponseSizeTooLarge' });
  });

  it('LogType Tail adds the last 4 KB of the execution log, base64; None adds nothing', async () => {
    const log = `START RequestId: req-1 Version: $LATEST\n${'x'.repeat(5000)}\nEND RequestId: req-1\nREPORT RequestId: req-1\tDuration: 5.00 ms\n`;
    const a = api(new FakeFunctions(() => ({ outcome: 'success', result: null, log })));
    const tail = await post(a, PATH, '{}', { 'x-amz-log-type': 'Tail' });
    const decoded = Buffer.from(tail.headers['x-amz-log-result'] ?? '', 'base64').toString('utf8');
    expect(Buffer.byteLength(decoded)).toBe(LOG_TAIL_BYTES);
    expect(decoded.endsWith('END RequestId: req-1\nREPORT RequestId: req-1\tDuration: 5.00 ms\n')).toBe(true);
    expect(tail.body).toBe('null');
    expect((await post(a, PATH)).headers['x-amz-log-result']).toBeUndefined();
  });
});

describe('Event and DryRun', () => {
  it('Event answers 202 at once and runs the function in the background', async () => {
    const functions = new FakeFunctions();
    const a = api(functions);
    const r = await post(a, PATH, '{"b":2}', { 'x-amz-invocation-type': 'Event', 'x-amz-log-type': 'Tail' });
    expect(r.status).toBe(202);
    expect(r.body).toBe('');
    expect(r.headers['x-amz-log-result']).toBeUndefined();
    await a.settled();
    expect(functions.calls).toEqual([{ key: 'status', payload: { b: 2 }, trigger: 'event' }]);
  });

  it('DryRun answers 204 and runs nothing, but still refuses an unknown function', async () => {
    const functions = new FakeFunctions();
    const a = api(functions);
    expect((await post(a, PATH, '{}', { 'x-amz-invocation-type': 'DryRun' })).status).toBe(204);
    expect(functions.calls).toEqual([]);
    expect((await post(a, '/2015-03-31/functions/nosuch/invocations', '{}', { 'x-amz-invocation-type': 'DryRun' })).status).toBe(404);
  });
});

describe('refusals, as Lambda words them', () => {
  it.each<[string, string, string, number, string, string]>([
    ['an unknown function', '/2015-03-31/functions/nosuch/invocations', '{}', 404, 'ResourceNotFoundException', 'Function not found: arn:aws:lambda:eu-west-1:123456789012:function:nosuch'],
    ['a version (nothing is published)', `/2015-03-31/functions/${NAME}/invocations?Qualifier=1`, '{}', 404, 'ResourceNotFoundException', `Function not found: arn:aws:lambda:eu-west-1:123456789012:function:${NAME}:1`],
    ['another Region\'s ARN', `/2015-03-31/functions/${encodeURIComponent(`arn:aws:lambda:us-east-1:123456789012:function:${NAME}`)}/invocations`, '{}', 404, 'ResourceNotFoundException', 'Function not found'],
    ['a body that is not JSON', PATH, 'not json', 400, 'InvalidRequestContentException', 'Could not parse request body into json: Could not parse payload into json'],
    ['a qualifier in the name and another in the query', `/2015-03-31/functions/${NAME}:a/invocations?Qualifier=b`, '{}', 400, 'InvalidParameterValueException', 'The derived qualifier from the function name does not match the specified qualifier.'],
  ])('%s', async (_what, path, body, status, code, message) => {
    const r = await post(api(), path, body);
    expect(r.status).toBe(status);
    expect(r.headers['x-amzn-errortype']).toBe(code);
    expect(String(json(r.body).message ?? json(r.body).Message)).toContain(message);
  });

  it('before the functions are deployed every function is not found', async () => {
    expect((await post(new LambdaInvokeApi(SCOPE), PATH)).headers['x-amzn-errortype']).toBe('ResourceNotFoundException');
  });

  it(`payloads over ${MAX_SYNC_PAYLOAD_BYTES} bytes (synchronous) and ${MAX_ASYNC_PAYLOAD_BYTES} bytes (Event) are RequestTooLargeException`, async () => {
    const functions = new FakeFunctions();
    const a = api(functions);
    const big = (n: number) => Buffer.from(`"${'x'.repeat(n - 2)}"`);
    expect((await post(a, PATH, big(MAX_SYNC_PAYLOAD_BYTES))).status).toBe(200);
    const sync = await post(a, PATH, big(MAX_SYNC_PAYLOAD_BYTES + 1));
    expect([sync.status, sync.headers['x-amzn-errortype'], json(sync.body).message]).toEqual([413, 'RequestTooLargeException', '6291457 byte payload is too large for the RequestResponse invocation type (limit 6291456 bytes)']);
    expect((await post(a, PATH, big(MAX_ASYNC_PAYLOAD_BYTES), { 'x-amz-invocation-type': 'Event' })).status).toBe(202);
    const event = await post(a, PATH, big(MAX_ASYNC_PAYLOAD_BYTES + 1), { 'x-amz-invocation-type': 'Event' });
    expect([event.status, json(event.body).message]).toEqual([413, '1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)']);
    await a.settled();
    expect(functions.calls).toHaveLength(2);
  });

  it('an invocation type or log type outside the API\'s enums is refused', async () => {
    const type = await post(api(), PATH, '{}', { 'x-amz-invocation-type': 'Async' });
    expect([type.status, type.headers['x-amzn-errortype']]).toEqual([400, 'ValidationException']);
    const log = await post(api(), PATH, '{}', { 'x-amz-log-type': 'All' });
    expect([log.status, log.headers['x-amzn-errortype']]).toEqual([400, 'ValidationException']);
  });

  it('any other Lambda operation is refused loudly: the sandbox has no Lambda control plane', async () => {
    const r = await api().handle('GET', `/2015-03-31/functions/${NAME}`, {}, Buffer.alloc(0));
    expect(r.status).toBe(501);
    expect(json(r.body).message).toContain("the sandbox emulates Lambda's Invoke API only, not GET /2015-03-31/functions/");
  });
});

it('logTail never starts inside a multi-byte character', () => {
  const log = `${'é'.repeat(3000)}`;
  const decoded = Buffer.from(logTail(log), 'base64').toString('utf8');
  expect(decoded).toBe('é'.repeat(2048));
});
