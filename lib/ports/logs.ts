/**
 * Reading what the functions logged, from CloudWatch Logs (the operator CLI's
 * recent decisions and notices). Implemented by lib/aws/logs.ts.
 */
export interface LogEvent {
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  readonly message: string;
}

export interface LogSearch {
  readonly logGroupName: string;
  /** Milliseconds since the epoch: events before it are not read. */
  readonly startTime: number;
  /** A CloudWatch Logs filter pattern (a quoted term: the events containing that phrase). */
  readonly filterPattern: string;
  /** Stop after this many matching events (read oldest first, as FilterLogEvents returns them; `truncated` then says so). */
  readonly maxEvents: number;
}

export type LogSearchResult =
  | { readonly found: true; readonly events: readonly LogEvent[]; /** More events matched than were read. */ readonly truncated: boolean }
  /** ResourceNotFoundException: the log group does not exist (the function never logged, or is not deployed). */
  | { readonly found: false; readonly message: string };

export interface LogReaderPort {
  search(search: LogSearch): Promise<LogSearchResult>;
}
