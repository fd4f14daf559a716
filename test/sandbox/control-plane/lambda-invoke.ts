/**
 * Lambda's Invoke API in front of the Lambda runner, so the operator CLI, the
 * AWS CLI (`aws lambda invoke --endpoint-url ...`) and `sls invoke` reach the
 * REAL bundled handlers as they would on AWS (every rule is in
 * test/contracts/catalogue/lambda.yml, from the Lambda API reference):
 *
 * - POST /2015-03-31/functions/{FunctionName}/invocations; the name, its ARN or
 *   partial ARN, optionally with the qualifier $LATEST (no version is published
 *   here); anything else is ResourceNotFoundException (404, "Function not found: <arn>").
 * - X-Amz-Invocation-Type RequestResponse (default, 200 with the function's
 *   answer), Event (202, run in the background), DryRun (204, nothing runs).
 * - Payloads: at most 6 MB (6,291,456 bytes) synchronous, 1 MB (1,048,576
 *   bytes) asynchronous, else RequestTooLargeException (413); a body that is
 *   not JSON is InvalidRequestContentException (400).
 * - A function error is still 200, with X-Amz-Function-Error: Unhandled and the
 *   error document {errorType, errorMessage, trace}; a timeout is Sandbox.Timedout;
 *   an answer over 6,291,556 bytes is Function.ResponseSizeTooLarge.
 * - X-Amz-Log-Type Tail (RequestResponse only): X-Amz-Log-Result, the last 4 KB
 *   of the execution log, base64-encoded.
 *
 * Every other Lambda operation is refused loudly: the sandbox has no Lambda
 * control plane (functions are deployed by test/sandbox/stack/deploy.ts).
 */
import { randomUUID } from 'node:crypto';
import type { LoggedInvokeResult } from '../lambda/runner';
import type { Reply } from './wire';

/** What the Invoke API needs of the runner. */
export interface InvokableFunctions {
  functionNamed(functionName: string): { readonly key: string; readonly fn: { readonly functionName: string } } | undefined;
  invokeLogged(functionKey: string, payload: unknown, trigger: 'direct' | 'event'): Promise<LoggedInvokeResult>;
}

export interface LambdaScope {
  readonly region: string;
  readonly accountId: string;
}

export const MAX_SYNC_PAYLOAD_BYTES = 6_291_456;
export const MAX_ASYNC_PAYLOAD_BYTES = 1_048_576;
export const MAX_RESPONSE_BYTES = 6_291_556;
export const LOG_TAIL_BYTES = 4096;

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
/** NamespacedFunctionName (the API model's pattern): [arn:aws:lambda:][region:][account:][function:]name[:qualifier]. */
const FUNCTION_REF = /^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?(?:([a-z]{2}(?:(?:-gov)|(?:-iso[a-z]?))?-[a-z]+-\d):)?(?:(\d{12}):)?(?:function:)?([a-zA-Z0-9-_.]+)(?::(\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9-_]+))?$/;

function reply(status: number, headers: Record<string, string>, body: string): Reply {
  return { status, headers: { 'x-amzn-requestid': headers['x-amzn-requestid'] ?? randomUUID(), ...headers }, body };
}

/** A Lambda error in the REST-JSON protocol: the code in x-amzn-ErrorType, the members as the API model names them. */
function lambdaError(status: number, code: string, message: string, messageMember: 'Message' | 'message' = 'message'): Reply {
  return reply(status, { 'content-type': 'application/json', 'x-amzn-errortype': code }, JSON.stringify({ Type: 'User', [messageMember]: message }));
}

function header(headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The last `LOG_TAIL_BYTES` bytes of the log, base64 (whole characters only). */
export function logTail(log: string): string {
  const bytes = Buffer.from(log, 'utf8');
  let tail = bytes.subarray(Math.max(0, bytes.length - LOG_TAIL_BYTES));
  // Do not start inside a multi-byte character: skip continuation bytes.
  let skip = 0;
  while (skip < tail.length && ((tail[skip] ?? 0) & 0xc0) === 0x80) skip += 1;
  tail = tail.subarray(skip);
  return tail.toString('base64');
}

/** The Node.js runtime's error document for a thrown error. */
export function errorDocument(error: { name: string; message: string; stack?: string }): { errorType: string; errorMessage: string; trace: string[] } {
  return { errorType: error.name, errorMessage: error.message, trace: (error.stack ?? `${error.name}: ${error.message}`).split('\n') };
}

export class LambdaInvokeApi {
  private functions: InvokableFunctions | undefined;
  private readonly background = new Set<Promise<unknown>>();

  constructor(
    private readonly scope: LambdaScope,
    private readonly log: (message: string, fields?: Record<string, unknown>) => void = () => undefined,
  ) {}

  /** From now on the deployed functions answer; before, every function is "not found", as before a deploy. */
  attach(functions: InvokableFunctions): void {
    this.functions = functions;
  }

  /** Asynchronous (Event) invocations still running. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.background]);
  }

  private notFound(name: string, qualifier: string | undefined): Reply {
    const arn = `arn:aws:lambda:${this.scope.region}:${this.scope.accountId}:function:${name}${qualifier ? `:${qualifier}` : ''}`;
    return lambdaError(404, 'ResourceNotFoundException', `Function not found: ${arn}`, 'Message');
  }

  async handle(method: string, rawUrl: string, headers: Readonly<Record<string, string | string[] | undefined>>, body: Buffer): Promise<Reply> {
    const url = new URL(rawUrl, 'http://lambda');
    const path = INVOKE_PATH.exec(url.pathname);
    if (method !== 'POST' || path === null) {
      return reply(501, { 'content-type': 'application/json', 'x-amzn-errortype': 'NotImplemented' }, JSON.stringify({ Type: 'Service', message: `the sandbox emulates Lambda's Invoke API only, not ${method} ${url.pathname}` }));
    }
    const ref = decodeURIComponent(path[1] ?? '');
    const m = FUNCTION_REF.exec(ref);
    if (m === null || ref.length > 256) {
      return lambdaError(400, 'ValidationException', `1 validation error detected: Value '${ref}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_]+))?`);
    }
    const [, region, account, name = '', refQualifier] = m;
    const queryQualifier = url.searchParams.get('Qualifier') ?? undefined;
    if (refQualifier !== undefined && queryQualifier !== undefined && refQualifier !== queryQualifier) {
      return lambdaError(400, 'InvalidParameterValueException', 'The derived qualifier from the function name does not match the specified qualifier.');
    }
    const qualifier = refQualifier ?? queryQualifier;
    const type = header(headers, 'x-amz-invocation-type') ?? 'RequestResponse';
    if (type !== 'RequestResponse' && type !== 'Event' && type !== 'DryRun') {
      return lambdaError(400, 'ValidationException', `1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`);
    }
    const logType = header(headers, 'x-amz-log-type') ?? 'None';
    if (logType !== 'None' && logType !== 'Tail') {
      return lambdaError(400, 'ValidationException', `1 validation error detected: Value '${logType}' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [Tail, None]`);
    }

    // Another Region or account, a version or alias: no such function here (nothing is published).
    const found = (region === undefined || region === this.scope.region) && (account === undefined || account === this.scope.accountId) && (qualifier === undefined || qualifier === '$LATEST')
      ? this.functions?.functionNamed(name)
      : undefined;
    if (found === undefined) return this.notFound(name, qualifier);

    const limit = type === 'Event' ? MAX_ASYNC_PAYLOAD_BYTES : MAX_SYNC_PAYLOAD_BYTES;
    if (body.length > limit) {
      return lambdaError(413, 'RequestTooLargeException', `${body.length} byte payload is too large for the ${type} invocation type (limit ${limit} bytes)`);
    }
    let payload: unknown = {};
    if (body.length > 0) {
      try {
        payload = JSON.parse(body.toString('utf8'));
      } catch (error) {
        return lambdaError(400, 'InvalidRequestContentException', `Could not parse request body into json: Could not parse payload into json: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const functions = this.functions as InvokableFunctions;

    if (type === 'DryRun') return reply(204, {}, '');
    if (type === 'Event') {
      const run = functions.invokeLogged(found.key, payload, 'event').then(
        (r) => this.log('lambda event invocation ended', { function: found.fn.functionName, outcome: r.outcome, requestId: r.requestId }),
        (error: unknown) => this.log('lambda event invocation failed to run', { function: found.fn.functionName, error: error instanceof Error ? error.message : String(error) }),
      );
      this.background.add(run);
      void run.finally(() => this.background.delete(run));
      return reply(202, { 'x-amz-executed-version': '$LATEST' }, '');
    }

    const r = await functions.invokeLogged(found.key, payload, 'direct');
    const headersOut: Record<string, string> = {
      'content-type': 'application/json',
      'x-amzn-requestid': r.requestId,
      'x-amz-executed-version': '$LATEST',
      ...(logType === 'Tail' ? { 'x-amz-log-result': logTail(r.log) } : {}),
    };
    if (r.outcome === 'timeout') {
      return reply(200, { ...headersOut, 'x-amz-function-error': 'Unhandled' }, JSON.stringify({ errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${r.requestId} Error: Task timed out after ${r.timeoutSeconds.toFixed(2)} seconds` }));
    }
    if (r.outcome === 'error') {
      return reply(200, { ...headersOut, 'x-amz-function-error': 'Unhandled' }, JSON.stringify(errorDocument(r.error ?? { name: 'Error', message: 'unknown error' })));
    }
    const answer = JSON.stringify(r.result === undefined ? null : r.result);
    if (Buffer.byteLength(answer, 'utf8') > MAX_RESPONSE_BYTES) {
      return reply(200, { ...headersOut, 'x-amz-function-error': 'Unhandled' }, JSON.stringify({ errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`, errorType: 'Function.ResponseSizeTooLarge' }));
    }
    return reply(200, headersOut, answer);
  }
}
