/**
 * The one error hierarchy of the project. Every class sets `name`, ends in
 * `Error` and keeps the `cause`, so callers can catch broadly
 * (`AutoscalerError`) or narrowly, and logs show the whole chain.
 */
export class AutoscalerError extends Error {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AutoscalerError';
  }
}

/** A required setting is missing or malformed; raised at cold start. */
export class ConfigurationError extends AutoscalerError {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigurationError';
  }
}

/** An incoming event (or invoke payload) has a shape we cannot act on. */
export class MalformedEventError extends AutoscalerError {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MalformedEventError';
  }
}

/**
 * An AWS call failed (after the SDK's own retries). `throttled`: AWS refused it
 * for its request rate (decided once, in lib/aws/call.ts): the flow engine
 * waits and tries again instead of failing the message.
 */
export class AwsCallError extends AutoscalerError {
  public readonly operation: string;
  public readonly throttled: boolean;
  public constructor(operation: string, message: string, options?: { cause?: unknown; throttled?: boolean }) {
    super(`${operation}: ${message}`, options);
    this.name = 'AwsCallError';
    this.operation = operation;
    this.throttled = options?.throttled === true;
  }
}

/** True for an AwsCallError whose cause was AWS throttling the call. */
export function isThrottledCall(error: unknown): error is AwsCallError {
  return error instanceof AwsCallError && error.throttled;
}

/** A lifecycle step failed for good: the flow must end (ABANDON for launches). */
export class StepFailedError extends AutoscalerError {
  public readonly step: string;
  public readonly output?: string;
  public constructor(step: string, message: string, options?: { cause?: unknown; output?: string }) {
    super(`${step}: ${message}`, options);
    this.name = 'StepFailedError';
    this.step = step;
    this.output = options?.output;
  }
}

/** A guard rail refused an action; the reason is meant for a person. */
export class RefusedError extends AutoscalerError {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RefusedError';
  }
}

/** What an operator asked for cannot be done as asked (bad option, function not deployed); the message is the one sentence to show. */
export class OperatorError extends AutoscalerError {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OperatorError';
  }
}

// --- reading any thrown value (SDK errors included) -----------------------------------------

/** The error's name: `error.name`, or `Code`/`code` on some older SDK shapes; '' when none. */
export function errorName(error: unknown): string {
  if (typeof error !== 'object' || error === null) return '';
  const named = error as { name?: unknown; Code?: unknown; code?: unknown };
  if (typeof named.name === 'string' && named.name !== 'Error') return named.name;
  if (typeof named.Code === 'string') return named.Code;
  if (typeof named.code === 'string') return named.code;
  return typeof named.name === 'string' ? named.name : '';
}

/** The message of anything thrown (an Error, an object with a message, or the value itself). */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message;
  }
  return String(error);
}

