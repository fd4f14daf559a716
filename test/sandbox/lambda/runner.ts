/**
 * Runs the REAL bundled handlers, unmodified, against the emulator.
 *
 * Each function's zip (from the package directory) is unzipped once; each
 * function runs in its own child Node process (worker.cjs) with the resolved
 * stack environment plus the emulator endpoint, a region and credentials of
 * its execution role (an access key id derived from the role, which the front
 * evaluates against the role's policies: test/sandbox/iam) - nothing of the
 * parent's environment. The SQS pollers sign with the function's role too:
 * Lambda reads a queue with the function's execution role. SQS event source
 * mappings are emulated by one poller per mapped queue: long poll (<= 1 s),
 * build the Lambda SQS event, invoke, delete the records not reported in
 * batchItemFailures, leave the rest for re-delivery after the visibility
 * timeout. Every invocation lands in a journal; the functions' stdout (their
 * structured JSON logs) goes to one log file.
 */
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import type { DeployedFunction, DeployedStack, EventSourceMapping } from '../stack/deploy';
import { accessKeyIdOf } from '../iam/identity';
import { LogStream, streamNameOf, type ShippedLine } from './log-shipper';

export class RunnerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RunnerError';
  }
}

export interface RunnerOptions {
  /** Directory holding `<function>.zip` (a `.serverless/` or the package cache). */
  readonly packageDir: string;
  readonly stack: DeployedStack;
  /** AWS_ENDPOINT_URL the functions use (the front, or a recorder in front of it). */
  readonly functionEndpoint: string;
  /** Endpoint the event source pollers use (default: functionEndpoint). */
  readonly pollEndpoint?: string;
  /** File the functions' stdout/stderr lines are appended to. */
  readonly logFile: string;
  readonly region?: string;
  /** Extra environment per function key (overrides the stack's). */
  readonly envOverrides?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Long-poll wait of the pollers, 0 or 1 s (default 1). */
  readonly pollWaitSeconds?: 0 | 1;
  /** Start the event source pollers (default true). */
  readonly startPollers?: boolean;
  /**
   * Batches each SQS event source processes at once, each in an execution environment of its own
   * (default 1). Lambda "starts processing five batches at a time with five concurrent invocations of
   * your function" and scales up from there (Lambda Developer Guide, "Configuring scaling behavior for
   * SQS event source mappings"); 1 keeps the older tests' one-at-a-time order, 5 is Lambda's start.
   */
  readonly concurrentBatches?: number;
  /**
   * Put each function's log lines into CloudWatch Logs as Lambda does (its group
   * /aws/lambda/<name>, one stream per execution environment, signed with the
   * function's role), through pollEndpoint (default false).
   */
  readonly shipLogs?: boolean;
  /** Every stdout line of a function, as CloudWatch Logs receives it (the EMF extraction reads them). */
  readonly onStdoutLine?: (functionKey: string, line: string) => void;
}

export type Outcome = 'success' | 'error' | 'timeout' | 'partial-failure';

export interface Invocation {
  readonly functionKey: string;
  readonly requestId: string;
  /** direct: RequestResponse; sqs: an event source mapping's batch; event: an asynchronous (Event) invoke; schedule: an EventBridge scheduled rule (lambda/scheduler.ts). */
  readonly trigger: 'sqs' | 'direct' | 'event' | 'schedule';
  readonly startedAt: number;
  readonly durationMs: number;
  readonly outcome: Outcome;
  /** Whether this invocation started a fresh execution environment (init in the duration's lead). */
  readonly coldStart: boolean;
  readonly messageIds?: readonly string[];
  readonly failedMessageIds?: readonly string[];
  readonly error?: string;
}

export interface InvokeResult {
  readonly outcome: 'success' | 'error' | 'timeout';
  readonly result?: unknown;
  readonly error?: { name: string; message: string; stack?: string };
  readonly durationMs: number;
}

/** A direct invocation as Lambda's Invoke API reports it: its request id and its execution log (START ... REPORT). */
export interface LoggedInvokeResult extends InvokeResult {
  readonly requestId: string;
  readonly log: string;
  readonly timeoutSeconds: number;
}

interface RanInvocation extends InvokeResult {
  readonly coldStart: boolean;
  readonly requestId: string;
  readonly log: string;
}

interface Pending {
  resolve(r: InvokeResult): void;
  timer: NodeJS.Timeout;
  started: number;
}

/** One execution environment of one function: a child process, one invocation at a time. */
class Sandbox {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<string, Pending>();
  private queue: Promise<unknown> = Promise.resolve();
  private cold = true;
  private stopped = false;
  /** Lines the environment printed during the running invocation (its execution log). */
  private capture: ShippedLine[] | undefined;
  /** Lines printed between invocations: shipped with the next invocation's. */
  private stray: ShippedLine[] = [];
  private stream: LogStream | undefined;
  /** How long the running environment's init took (Lambda's Init Duration), once it is ready. */
  private initMs: number | undefined;
  private readonly shipments = new Set<Promise<void>>();

  constructor(
    readonly key: string,
    private readonly fn: DeployedFunction,
    private readonly codeDir: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly functionArn: string,
    private readonly log: fs.WriteStream,
    private readonly logs: CloudWatchLogsClient | undefined,
    private readonly onStdoutLine?: (functionKey: string, line: string) => void,
  ) {}

  /** Start the environment now (its cold start), so that a later invoke begins at once. */
  async prepare(): Promise<void> {
    if (this.ready === undefined) this.ready = this.spawn();
    await this.ready;
  }

  /** Serialize: a Lambda execution environment runs one invocation at a time. */
  invoke(event: unknown): Promise<RanInvocation> {
    const run = this.queue.then(() => this.invokeNow(event));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private spawn(): Promise<void> {
    // A new execution environment writes to a new log stream, and its runtime names that stream.
    const streamName = streamNameOf(new Date());
    const spawnStarted = Date.now();
    const child = fork(path.join(__dirname, 'worker.cjs'), [this.codeDir, this.fn.handler], {
      cwd: this.codeDir,
      env: { ...this.env, AWS_LAMBDA_LOG_STREAM_NAME: streamName },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: [],
    });
    this.child = child;
    this.cold = true;
    this.initMs = undefined;
    this.stream = this.logs ? new LogStream(this.logs, this.fn.functionName, streamName, (note) => this.note(note)) : undefined;
    const pipe = (stream: NodeJS.ReadableStream | null, name: 'stdout' | 'stderr') => {
      if (stream === null) return;
      createInterface({ input: stream }).on('line', (line) => {
        (this.capture ?? this.stray).push({ timestamp: Date.now(), message: line });
        if (line.trim() === '') return;
        // JSON log lines are kept as they are; anything else is wrapped so the file stays JSON lines.
        const isJson = line.startsWith('{') && (() => { try { JSON.parse(line); return true; } catch { return false; } })();
        this.log.write(`${isJson ? line : JSON.stringify({ function: this.key, stream: name, message: line })}\n`);
        if (name === 'stdout') this.onStdoutLine?.(this.key, line);
      });
    };
    pipe(child.stdout, 'stdout');
    pipe(child.stderr, 'stderr');
    child.on('message', (msg: { type?: string; id?: string; ok?: boolean; result?: unknown; error?: { name: string; message: string; stack?: string } }) => {
      if (msg?.type !== 'result' || msg.id === undefined) return;
      const p = this.pending.get(msg.id);
      if (p === undefined) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      const durationMs = Date.now() - p.started;
      p.resolve(msg.ok === true ? { outcome: 'success', result: msg.result, durationMs } : { outcome: 'error', ...(msg.error ? { error: msg.error } : {}), durationMs });
    });
    child.once('exit', (code, signal) => {
      if (this.child === child) {
        this.child = undefined;
        this.ready = undefined;
      }
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        clearTimeout(p.timer);
        p.resolve({ outcome: 'error', error: { name: 'Runtime.ExitError', message: `execution environment exited (code ${String(code)}, signal ${String(signal)})` }, durationMs: Date.now() - p.started });
      }
    });
    return new Promise<void>((resolve, reject) => {
      const onMessage = (msg: { type?: string }) => {
        if (msg?.type === 'ready') {
          this.initMs = Date.now() - spawnStarted;
          child.off('message', onMessage);
          resolve();
        }
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new RunnerError(`${this.key}: execution environment exited during init (code ${String(code)})`)));
      child.once('error', (error) => reject(new RunnerError(`${this.key}: cannot start the execution environment: ${error.message}`, { cause: error })));
    });
  }

  private note(message: string): void {
    this.log.write(`${JSON.stringify({ function: this.key, stream: 'runner', message })}\n`);
  }

  private async invokeNow(event: unknown): Promise<RanInvocation> {
    if (this.stopped) throw new RunnerError(`${this.key}: runner stopped`);
    const requestId = randomUUID();
    const started = Date.now();
    // The init's own lines (a cold start) belong to this invocation's log, before its START line.
    this.capture = this.stray;
    this.stray = [];
    if (this.ready === undefined) this.ready = this.spawn();
    try {
      await this.ready;
    } catch (error) {
      this.stray = this.capture ?? [];
      this.capture = undefined;
      throw error;
    }
    const initMs = this.cold ? this.initMs : undefined;
    const initLines = this.capture;
    const lines: ShippedLine[] = [];
    this.capture = lines;
    const startLine = { timestamp: Date.now(), message: `START RequestId: ${requestId} Version: $LATEST` };
    const coldStart = this.cold;
    this.cold = false;
    const child = this.child;
    if (child === undefined) throw new RunnerError(`${this.key}: execution environment is gone`);
    const timeoutMs = this.fn.timeoutSeconds * 1000;
    const result = await new Promise<InvokeResult>((resolve) => {
      const id = randomUUID();
      const timer = setTimeout(() => {
        // Like Lambda: a timed-out environment is thrown away.
        this.pending.delete(id);
        // Discard this environment now: the next invocation must not reach the dying process.
        if (this.child === child) {
          this.child = undefined;
          this.ready = undefined;
        }
        resolve({ outcome: 'timeout', error: { name: 'Sandbox.Timedout', message: `Task timed out after ${this.fn.timeoutSeconds}.00 seconds` }, durationMs: Date.now() - started });
        this.kill(child);
      }, timeoutMs);
      this.pending.set(id, { resolve, timer, started });
      child.send({ type: 'invoke', id, event, deadlineMs: started + timeoutMs, requestId, functionName: this.fn.functionName, functionArn: this.functionArn, memoryMb: this.fn.memoryMb });
    });
    // A child's stdout pipe is written synchronously on Linux, so its lines are in the pipe before
    // the answer; the answer (IPC) may still be read first: a few ms let the last lines arrive.
    await new Promise((r) => setTimeout(r, 5));
    this.capture = undefined;
    const durationMs = Date.now() - started;
    // Lambda's Duration is the handler's time; the init is reported apart (Init Duration).
    const log = [...(initLines ?? []), startLine, ...lines, ...this.closingLines(requestId, result, durationMs - (initMs ?? 0), initMs, child)];
    this.shipLog(log);
    return { ...result, durationMs, coldStart, requestId, log: `${log.map((l) => l.message).join('\n')}\n` };
  }

  /** Lambda's END and REPORT lines (and its timeout line); memory is the environment's peak resident size (VmHWM). */
  private closingLines(requestId: string, result: InvokeResult, durationMs: number, initMs: number | undefined, child: ChildProcess): ShippedLine[] {
    const now = Date.now();
    const peakMb = (() => {
      try {
        const kb = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid ?? 0}/status`, 'utf8'))?.[1];
        return kb === undefined ? undefined : Math.ceil(Number(kb) / 1024);
      } catch {
        return undefined;
      }
    })();
    const report = [
      `REPORT RequestId: ${requestId}`,
      `Duration: ${durationMs.toFixed(2)} ms`,
      `Billed Duration: ${Math.ceil(durationMs)} ms`,
      `Memory Size: ${this.fn.memoryMb} MB`,
      ...(peakMb !== undefined ? [`Max Memory Used: ${peakMb} MB`] : []),
      ...(initMs !== undefined ? [`Init Duration: ${initMs.toFixed(2)} ms`] : []),
    ].join('\t');
    return [
      ...(result.outcome === 'timeout' ? [{ timestamp: now, message: `${new Date(now).toISOString()} ${requestId} Task timed out after ${this.fn.timeoutSeconds.toFixed(2)} seconds` }] : []),
      { timestamp: now, message: `END RequestId: ${requestId}` },
      { timestamp: now, message: report },
    ];
  }

  private shipLog(lines: readonly ShippedLine[]): void {
    if (this.stream === undefined) return;
    const shipment = this.stream.ship(lines);
    this.shipments.add(shipment);
    void shipment.finally(() => this.shipments.delete(shipment));
  }

  /** Every log shipment still on its way (bounded by the SDK's own timeouts). */
  async shipped(): Promise<void> {
    await Promise.allSettled([...this.shipments]);
  }

  private kill(child: ChildProcess): void {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 3000).unref());
    if ((await Promise.race([gone, timer])) === 'timeout') {
      this.kill(child);
      await Promise.race([gone, new Promise((r) => setTimeout(r, 2000).unref())]);
    }
  }
}

function unzip(zip: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('unzip', ['-q', '-o', zip, '-d', to], { timeout: 60_000 }, (error) => {
      if (error === null) {
        resolve();
        return;
      }
      // No unzip binary: python's zipfile does the same.
      execFile('python3', ['-m', 'zipfile', '-e', zip, to], { timeout: 60_000 }, (error2) =>
        error2 === null ? resolve() : reject(new RunnerError(`cannot unzip ${zip}: ${error.message}; ${error2.message}`, { cause: error2 })),
      );
    });
  });
}

/** Lambda's SQS event record for one received message. */
export function sqsRecord(message: Message, mapping: EventSourceMapping, region: string): Record<string, unknown> {
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.Attributes ?? {})) if (v !== undefined) attributes[k] = v;
  const messageAttributes: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[k] = {
      ...(v.StringValue !== undefined ? { stringValue: v.StringValue } : {}),
      ...(v.BinaryValue !== undefined ? { binaryValue: Buffer.from(v.BinaryValue).toString('base64') } : {}),
      stringListValues: v.StringListValues ?? [],
      binaryListValues: (v.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
      dataType: v.DataType,
    };
  }
  return {
    messageId: message.MessageId,
    receiptHandle: message.ReceiptHandle,
    body: message.Body ?? '',
    attributes,
    messageAttributes,
    md5OfBody: message.MD5OfBody,
    eventSource: 'aws:sqs',
    eventSourceARN: mapping.queueArn,
    awsRegion: region,
  };
}

/** The records a batch response asks to keep; undefined = the whole batch failed (invalid response). */
export function failedIds(result: unknown, batchIds: readonly string[], reportsFailures: boolean): string[] | undefined {
  if (!reportsFailures) return [];
  if (result === null || result === undefined) return [];
  if (typeof result !== 'object') return undefined;
  const failures = (result as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return [];
  if (!Array.isArray(failures)) return undefined;
  const ids: string[] = [];
  for (const f of failures) {
    const id = (f as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    // Lambda: an empty, missing or unknown identifier fails the whole batch.
    if (typeof id !== 'string' || !batchIds.includes(id)) return undefined;
    ids.push(id);
  }
  return ids;
}

/** A message an event source poller is to lose (see dropNext). */
interface Drop {
  readonly key: string;
  readonly matches: (body: string) => boolean;
  readonly resolve: (body: string) => void;
}

export class LambdaRunner {
  readonly journal: Invocation[] = [];
  private readonly sandboxes = new Map<string, Sandbox>();
  private readonly drops: Drop[] = [];
  private readonly pollers: Promise<void>[] = [];
  private readonly abort = new AbortController();
  private readonly region: string;
  private stopped = false;
  private inFlight = 0;

  private constructor(
    private readonly opts: RunnerOptions,
    private readonly workDir: string,
    private readonly log: fs.WriteStream,
  ) {
    this.region = opts.region ?? opts.stack.region;
  }

  private logsClients: CloudWatchLogsClient[] = [];

  static async start(opts: RunnerOptions): Promise<LambdaRunner> {
    const functions = Object.entries(opts.stack.functions);
    if (functions.length === 0) throw new RunnerError('the deployed stack has no functions to run');
    for (const [, fn] of functions) {
      const zip = path.join(opts.packageDir, fn.zipName);
      if (!fs.existsSync(zip)) throw new RunnerError(`${zip} is missing: package the stack first (sls package)`);
    }
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'h6-lambda-'));
    fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
    const log = fs.createWriteStream(opts.logFile, { flags: 'a' });
    const runner = new LambdaRunner(opts, workDir, log);
    try {
      for (const [key, fn] of functions) {
        const codeDir = path.join(workDir, key);
        fs.mkdirSync(codeDir);
        await unzip(path.join(opts.packageDir, fn.zipName), codeDir);
        const arn = `arn:aws:lambda:${runner.region}:${opts.stack.accountId}:function:${fn.functionName}`;
        runner.sandboxes.set(key, new Sandbox(key, fn, codeDir, runner.environment(key, fn, codeDir), arn, log, opts.shipLogs ? runner.logsClientOf(fn) : undefined, opts.onStdoutLine));
      }
      if (opts.startPollers !== false) {
        const batches = opts.concurrentBatches ?? 1;
        if (!Number.isInteger(batches) || batches < 1) throw new RunnerError(`concurrentBatches must be a positive integer, got ${String(batches)}`);
        for (const [key, fn] of functions) {
          for (const mapping of fn.eventSources) if (mapping.enabled) for (let slot = 0; slot < batches; slot += 1) runner.pollers.push(runner.poll(key, mapping, slot));
        }
      }
    } catch (error) {
      await runner.stop();
      throw error;
    }
    return runner;
  }

  /** What the Lambda service would set, plus the stack's variables; nothing of ours. */
  private environment(key: string, fn: DeployedFunction, codeDir: string): NodeJS.ProcessEnv {
    return {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: 'UTC',
      LAMBDA_TASK_ROOT: codeDir,
      AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
      AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: 'emulated',
      AWS_REGION: this.region,
      AWS_DEFAULT_REGION: this.region,
      AWS_ACCESS_KEY_ID: accessKeyIdOf(fn),
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_SESSION_TOKEN: 'testing',
      AWS_SHARED_CREDENTIALS_FILE: path.join(codeDir, '.no-credentials'),
      AWS_CONFIG_FILE: path.join(codeDir, '.no-config'),
      AWS_ENDPOINT_URL: this.opts.functionEndpoint,
      ...fn.environment,
      ...(this.opts.envOverrides?.[key] ?? {}),
    };
  }

  /** Lambda delivers a function's logs with the function's execution role. */
  private logsClientOf(fn: DeployedFunction): CloudWatchLogsClient {
    const client = new CloudWatchLogsClient({
      region: this.region,
      endpoint: this.opts.pollEndpoint ?? this.opts.functionEndpoint,
      credentials: { accessKeyId: accessKeyIdOf(fn), secretAccessKey: 'testing' },
      maxAttempts: 2,
    });
    this.logsClients.push(client);
    return client;
  }

  /** The deployed function called `functionName` (its serverless key and settings), if any. */
  functionNamed(functionName: string): { readonly key: string; readonly fn: DeployedFunction } | undefined {
    for (const [key, fn] of Object.entries(this.opts.stack.functions)) if (fn.functionName === functionName && this.sandboxes.has(key)) return { key, fn };
    return undefined;
  }

  private functionOf(key: string): DeployedFunction {
    const fn = this.opts.stack.functions[key];
    if (fn === undefined) throw new RunnerError(`no function ${JSON.stringify(key)} in the stack`);
    return fn;
  }

  private sandbox(key: string): Sandbox {
    const s = this.sandboxes.get(key);
    if (s === undefined) throw new RunnerError(`no function ${JSON.stringify(key)} in the stack (have: ${[...this.sandboxes.keys()].filter((k) => !k.includes('#')).join(', ')})`);
    return s;
  }

  /** The execution environment of one concurrent batch slot of `key`'s pollers: slot 0 is the function's own; the others are made on first use. */
  private slotSandbox(key: string, slot: number): Sandbox {
    if (slot === 0) return this.sandbox(key);
    const slotKey = `${key}#${slot}`;
    let s = this.sandboxes.get(slotKey);
    if (s === undefined) {
      const fn = this.functionOf(key);
      const codeDir = path.join(this.workDir, key);
      const arn = `arn:aws:lambda:${this.region}:${this.opts.stack.accountId}:function:${fn.functionName}`;
      s = new Sandbox(key, fn, codeDir, this.environment(key, fn, codeDir), arn, this.log, this.opts.shipLogs ? this.logsClientOf(fn) : undefined, this.opts.onStdoutLine);
      this.sandboxes.set(slotKey, s);
    }
    return s;
  }

  /** Direct (RequestResponse) invoke, or (trigger schedule) one attempt of an EventBridge rule's asynchronous invoke. */
  async invoke(functionKey: string, payload: unknown, trigger: 'direct' | 'schedule' = 'direct'): Promise<InvokeResult> {
    const { requestId: _, log: __, timeoutSeconds: ___, ...result } = await this.invokeLogged(functionKey, payload, trigger);
    return result;
  }

  /** An invoke with its request id and execution log, as Lambda's Invoke API needs them (Tail). */
  async invokeLogged(functionKey: string, payload: unknown, trigger: 'direct' | 'event' | 'schedule' = 'direct'): Promise<LoggedInvokeResult> {
    const r = await this.tracked(() => this.sandbox(functionKey).invoke(payload));
    this.journal.push({
      functionKey,
      requestId: r.requestId,
      trigger,
      startedAt: Date.now() - r.durationMs,
      durationMs: r.durationMs,
      outcome: r.outcome,
      coldStart: r.coldStart,
      ...(r.error ? { error: `${r.error.name}: ${r.error.message}` } : {}),
    });
    return {
      outcome: r.outcome,
      durationMs: r.durationMs,
      requestId: r.requestId,
      log: r.log,
      timeoutSeconds: this.functionOf(functionKey).timeoutSeconds,
      ...(r.result !== undefined ? { result: r.result } : {}),
      ...(r.error ? { error: r.error } : {}),
    };
  }

  /**
   * Concurrent direct invokes, as Lambda runs them: each in an execution environment of its own
   * (prepared first, cold starts included), all sent at once; the environments end afterwards.
   */
  async invokeConcurrently(functionKey: string, payloads: readonly unknown[]): Promise<InvokeResult[]> {
    const fn = this.functionOf(functionKey);
    const codeDir = path.join(this.workDir, functionKey);
    const arn = `arn:aws:lambda:${this.region}:${this.opts.stack.accountId}:function:${fn.functionName}`;
    const environments = payloads.map(() => new Sandbox(functionKey, fn, codeDir, this.environment(functionKey, fn, codeDir), arn, this.log, this.opts.shipLogs ? this.logsClientOf(fn) : undefined, this.opts.onStdoutLine));
    try {
      await Promise.all(environments.map((e) => e.prepare()));
      return await Promise.all(
        environments.map(async (e, i) => {
          const startedAt = Date.now();
          const r = await this.tracked(() => e.invoke(payloads[i]));
          this.journal.push({ functionKey, requestId: r.requestId, trigger: 'direct', startedAt, durationMs: r.durationMs, outcome: r.outcome, coldStart: r.coldStart, ...(r.error ? { error: `${r.error.name}: ${r.error.message}` } : {}) });
          return { outcome: r.outcome, durationMs: r.durationMs, ...(r.result !== undefined ? { result: r.result } : {}), ...(r.error ? { error: r.error } : {}) };
        }),
      );
    } finally {
      await Promise.all(environments.map((e) => e.stop()));
    }
  }

  /**
   * The next message of `functionKey`'s event source whose body `matches` is lost: the poller
   * deletes it from its queue without invoking the function, as if the flow it carried had died
   * (a continuation never delivered). Resolves with the body once dropped.
   */
  dropNext(functionKey: string, matches: (body: string) => boolean): Promise<string> {
    this.functionOf(functionKey);
    return new Promise((resolve) => this.drops.push({ key: functionKey, matches, resolve }));
  }

  private async tracked<T>(fn: () => Promise<T>): Promise<T> {
    this.inFlight += 1;
    try {
      return await fn();
    } finally {
      this.inFlight -= 1;
    }
  }

  /** Whether no invocation is running right now. */
  isIdle(): boolean {
    return this.inFlight === 0;
  }

  private async poll(key: string, mapping: EventSourceMapping, slot = 0): Promise<void> {
    const sqs = new SQSClient({
      region: this.region,
      endpoint: this.opts.pollEndpoint ?? this.opts.functionEndpoint,
      credentials: { accessKeyId: accessKeyIdOf(this.functionOf(key)), secretAccessKey: 'testing' },
      maxAttempts: 1,
      // Poll through pollEndpoint even when the queue URL names another host.
      useQueueUrlAsEndpoint: false,
    });
    const reportsFailures = mapping.functionResponseTypes.includes('ReportBatchItemFailures');
    const wait = this.opts.pollWaitSeconds ?? 1;
    // Bounded by stop(): each round is at most one long poll (<= 1 s) plus one invocation (<= the function timeout).
    while (!this.stopped) {
      let messages: Message[];
      try {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: mapping.queueUrl,
            MaxNumberOfMessages: Math.min(10, Math.max(1, mapping.batchSize)),
            WaitTimeSeconds: wait,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: this.abort.signal },
        );
        messages = out.Messages ?? [];
      } catch (error) {
        if (this.stopped) return;
        this.log.write(`${JSON.stringify({ function: key, stream: 'poller', message: `ReceiveMessage failed: ${error instanceof Error ? error.message : String(error)}` })}\n`);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (messages.length === 0 || this.stopped) continue;
      messages = await this.dropped(key, mapping, sqs, messages);
      if (messages.length === 0) continue;
      const records = messages.map((m) => sqsRecord(m, mapping, this.region));
      const ids = messages.map((m) => m.MessageId ?? '');
      let r: RanInvocation;
      try {
        r = await this.tracked(() => this.slotSandbox(key, slot).invoke({ Records: records }));
      } catch (error) {
        if (this.stopped) return;
        // The environment could not start: an invocation error, the batch stays for re-delivery.
        const e = error instanceof Error ? error : new Error(String(error));
        r = { outcome: 'error', error: { name: e.name, message: e.message }, durationMs: 0, coldStart: true, requestId: randomUUID(), log: '' };
      }
      const failed = r.outcome === 'success' ? failedIds(r.result, ids, reportsFailures) : undefined;
      const keep = failed ?? ids;
      const done = messages.filter((m) => !keep.includes(m.MessageId ?? ''));
      if (done.length > 0 && !this.stopped) {
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: mapping.queueUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })) }));
      }
      this.journal.push({
        functionKey: key,
        requestId: r.requestId,
        trigger: 'sqs',
        startedAt: Date.now() - r.durationMs,
        durationMs: r.durationMs,
        outcome: r.outcome !== 'success' ? r.outcome : keep.length > 0 ? 'partial-failure' : 'success',
        coldStart: r.coldStart,
        messageIds: ids,
        failedMessageIds: keep,
        ...(r.error ? { error: `${r.error.name}: ${r.error.message}` } : failed === undefined ? { error: 'invalid batch response: the whole batch is retried' } : {}),
      });
    }
  }

  /** The received messages without those a pending dropNext takes (deleted from the queue, never delivered). */
  private async dropped(key: string, mapping: EventSourceMapping, sqs: SQSClient, messages: Message[]): Promise<Message[]> {
    const kept: Message[] = [];
    for (const m of messages) {
      const index = this.drops.findIndex((d) => d.key === key && d.matches(m.Body ?? ''));
      if (index < 0) {
        kept.push(m);
        continue;
      }
      const [drop] = this.drops.splice(index, 1);
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: mapping.queueUrl, Entries: [{ Id: '0', ReceiptHandle: m.ReceiptHandle ?? '' }] }));
      this.log.write(`${JSON.stringify({ function: key, stream: 'poller', message: `message ${m.MessageId ?? ''} dropped (lost before delivery)` })}\n`);
      drop?.resolve(m.Body ?? '');
    }
    return kept;
  }

  /** Stop the pollers, then end each execution environment by its own PID. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await Promise.all([...this.sandboxes.values()].map((s) => s.stop()));
    await Promise.allSettled(this.pollers);
    await Promise.allSettled([...this.sandboxes.values()].map((s) => s.shipped()));
    for (const client of this.logsClients) client.destroy();
    await new Promise<void>((resolve) => this.log.end(() => resolve()));
    fs.rmSync(this.workDir, { recursive: true, force: true });
  }
}
