import { AwsCallError, errorMessage, errorName } from '../errors';
import type { Log } from '../logger';

/**
 * Shared helpers of the adapters: options every factory takes, error
 * recognition (names from lib/errors.ts), error wrapping and the dry-run log
 * line. No SDK import here.
 */
export interface AdapterOptions {
  /** When true, mutating calls are logged and not sent; read-only calls still go to AWS. */
  readonly dryRun: boolean;
  readonly log: Log;
}

/** Retries (throttling, 5xx) are done by the SDK itself; see each create*Client. */
export const MAX_ATTEMPTS = 5;

/** True when `error` carries one of `names` (the SDK maps wire codes to these). */
export function isAwsError(error: unknown, ...names: readonly string[]): boolean {
  return names.includes(errorName(error));
}

/**
 * The error codes AWS answers when it throttles a caller, as SDK v3 classifies
 * them (@smithy/service-error-classification THROTTLING_ERROR_CODES, pinned by
 * test/unit/aws/call.test.ts; test/contracts/catalogue/throttling.yml).
 */
export const THROTTLING_ERROR_CODES: readonly string[] = [
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
];

/**
 * The one place that decides whether AWS throttled a call, as the SDK's
 * isThrottlingError does: HTTP 429, a throttling error code, or the model's
 * `$retryable.throttling` trait.
 */
export function isThrottlingError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const sdk = error as { $metadata?: { httpStatusCode?: unknown }; $retryable?: { throttling?: unknown }; status?: unknown };
  return sdk.$metadata?.httpStatusCode === 429 || sdk.status === 429 || THROTTLING_ERROR_CODES.includes(errorName(error)) || sdk.$retryable?.throttling === true;
}

/** Wraps anything an SDK call threw into the project's AwsCallError, keeping the cause and whether it was throttling. */
export function wrapError(operation: string, error: unknown): AwsCallError {
  if (error instanceof AwsCallError) return error;
  const name = errorName(error);
  const message = errorMessage(error);
  return new AwsCallError(operation, name && !message.startsWith(name) ? `${name}: ${message}` : message, { cause: error, throttled: isThrottlingError(error) });
}

/**
 * Runs one SDK call; `recover` may turn an expected error into a value
 * (return `undefined` from it to let the error through, wrapped).
 */
export async function callAws<T>(
  operation: string,
  send: () => Promise<T>,
  recover?: (error: unknown) => { value: T } | undefined,
): Promise<T> {
  try {
    return await send();
  } catch (error) {
    const recovered = recover?.(error);
    if (recovered) return recovered.value;
    throw wrapError(operation, error);
  }
}

/** The one dry-run log line: what would have been sent, at info. */
export function logDryRun(log: Log, operation: string, input: object): void {
  log.info(`dry run: would ${operation}`, { dryRun: true, operation, ...input });
}

/** Splits `items` into chunks of at most `size` (API list limits). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size must be a positive integer, got ${size}`);
  const chunks: T[][] = [];
  for (let index = 0; index < items.length; index += size) chunks.push(items.slice(index, index + size));
  return chunks;
}

/** Upper bound on pages read by any paginated call: every loop is bounded. */
export const MAX_PAGES = 100;
