/**
 * What Lambda does with a function's output: each execution environment gets
 * its own log stream `YYYY/MM/DD/[$LATEST]<32 hex>` in the log group
 * `/aws/lambda/<function name>`, and every line the function printed (with
 * Lambda's START, END and REPORT lines) is put there with the function's
 * execution role ("Lambda automatically captures logs ... provided your
 * function's execution role has the necessary permissions"), so the front's
 * IAM check refuses a role without logs:CreateLogStream / logs:PutLogEvents.
 *
 * Lambda does not create a group here: the stack's roles hold no
 * logs:CreateLogGroup, and the stack declares each function's group. A missing
 * group or a refused call drops the lines, as Lambda does; the runner's log
 * file says so once per environment.
 */
import { randomBytes } from 'node:crypto';
import { CloudWatchLogsClient, CreateLogStreamCommand, PutLogEventsCommand, type InputLogEvent } from '@aws-sdk/client-cloudwatch-logs';

export interface ShippedLine {
  readonly timestamp: number;
  readonly message: string;
}

/** PutLogEvents: at most 10,000 events and 1,048,576 bytes a batch, counting 26 bytes per event. */
export const MAX_BATCH_EVENTS = 10_000;
export const MAX_BATCH_BYTES = 1_048_576;
export const EVENT_OVERHEAD_BYTES = 26;
/** One event's message is at most 256 KB; Lambda cuts a longer line. */
export const MAX_EVENT_BYTES = 262_144 - EVENT_OVERHEAD_BYTES;

export function logGroupOf(functionName: string): string {
  return `/aws/lambda/${functionName}`;
}

/** `2026/11/21/[$LATEST]0123456789abcdef0123456789abcdef`: the date the environment started, its version, a fresh id. */
export function streamNameOf(startedAt: Date): string {
  const d = startedAt.toISOString();
  return `${d.slice(0, 4)}/${d.slice(5, 7)}/${d.slice(8, 10)}/[$LATEST]${randomBytes(16).toString('hex')}`;
}

function cut(message: string): string {
  const bytes = Buffer.from(message, 'utf8');
  return bytes.length <= MAX_EVENT_BYTES ? message : bytes.subarray(0, MAX_EVENT_BYTES).toString('utf8');
}

/** Batches PutLogEvents accepts, in order. */
export function batches(lines: readonly ShippedLine[]): InputLogEvent[][] {
  const out: InputLogEvent[][] = [];
  let batch: InputLogEvent[] = [];
  let bytes = 0;
  for (const line of lines) {
    const message = cut(line.message === '' ? ' ' : line.message);
    const size = Buffer.byteLength(message, 'utf8') + EVENT_OVERHEAD_BYTES;
    if (batch.length > 0 && (batch.length >= MAX_BATCH_EVENTS || bytes + size > MAX_BATCH_BYTES)) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push({ timestamp: line.timestamp, message });
    bytes += size;
  }
  if (batch.length > 0) out.push(batch);
  return out;
}

/** One execution environment's stream: created on its first lines, then appended to, one shipment after the other. */
export class LogStream {
  private created = false;
  private dropped = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: CloudWatchLogsClient,
    private readonly functionName: string,
    /** streamNameOf(the environment's start): the runtime's AWS_LAMBDA_LOG_STREAM_NAME. */
    readonly streamName: string,
    private readonly note: (message: string) => void,
  ) {}

  /** Queued after the earlier shipments; never throws (Lambda's log delivery does not fail an invocation). */
  ship(lines: readonly ShippedLine[]): Promise<void> {
    if (lines.length === 0) return this.chain;
    this.chain = this.chain.then(() => this.put(lines)).catch((error: unknown) => this.drop(error));
    return this.chain;
  }

  private async put(lines: readonly ShippedLine[]): Promise<void> {
    const logGroupName = logGroupOf(this.functionName);
    if (!this.created) {
      await this.client.send(new CreateLogStreamCommand({ logGroupName, logStreamName: this.streamName }));
      this.created = true;
    }
    for (const logEvents of batches(lines)) {
      await this.client.send(new PutLogEventsCommand({ logGroupName, logStreamName: this.streamName, logEvents }));
    }
  }

  private drop(error: unknown): void {
    if (this.dropped) return;
    this.dropped = true;
    const name = error instanceof Error ? error.name : 'Error';
    this.note(`log lines of ${this.functionName} dropped, as Lambda drops them: ${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
