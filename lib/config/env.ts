/** How one environment variable is read and checked: the helpers every tier's parser uses, and the patterns values must match. */
import { ConfigurationError } from '../errors';

/** The environment as the parsers read it: process.env by default, a plain record in tests. */
export type Env = Readonly<Record<string, string | undefined>>;

export const NAME = /^[A-Za-z0-9._-]{1,255}$/;
export const ARN = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$/;
/**
 * An ELB target group: arn:${Partition}:elasticloadbalancing:${Region}:${Account}:targetgroup/${TargetGroupName}/${TargetGroupId}
 * (Service Authorization Reference); the name "can have a maximum of 32 characters, must contain only
 * alphanumeric characters or hyphens, and must not begin or end with a hyphen" (CreateTargetGroup).
 */
export const TARGET_GROUP_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/(?!-)[A-Za-z0-9-]{1,32}(?<!-)\/[0-9a-f]+$/;
export const URL_RE = /^https?:\/\/\S+$/;
const LABEL = '[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const DECIMAL = /^\d+(\.\d+)?$/;

/**
 * Values that travel into SSM document parameters are checked here with the
 * documents' own allowedPattern (test/unit/config/compute.test.ts proves they
 * are the same), so a bad value stops the cold start instead of a SendCommand later.
 */
export const DOCUMENT_PATTERNS = {
  volume: /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/,
  path: /^(\/[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}){1,16}$/,
  host: new RegExp(`^${LABEL}(\\.${LABEL})*$`),
  webService: /^(apache2|httpd)$/,
  webUser: /^[a-z_][a-z0-9_-]{0,31}$/,
} as const;

export function required(env: Env, key: string): string {
  const value = env[key]?.trim();
  if (value === undefined || value === '') {
    throw new ConfigurationError(`${key} is required but not set`);
  }
  return value;
}

export function optional(env: Env, key: string, fallback: string): string {
  const value = env[key]?.trim();
  return value === undefined || value === '' ? fallback : value;
}

export function matching(key: string, value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) {
    throw new ConfigurationError(`${key} must be ${what}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function integer(env: Env, key: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, key, String(fallback));
  if (!/^\d+$/.test(raw)) {
    throw new ConfigurationError(`${key} must be a whole number, got ${JSON.stringify(raw)}`);
  }
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigurationError(`${key} must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

export function decimal(env: Env, key: string, fallback: string, minExclusive: number, max: number): number {
  const raw = optional(env, key, fallback);
  if (!DECIMAL.test(raw)) throw new ConfigurationError(`${key} must be a decimal number such as 1.5, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (!(value > minExclusive) || value > max) throw new ConfigurationError(`${key} must be above ${minExclusive} and at most ${max}, got ${value}`);
  return value;
}

export function boolean(env: Env, key: string): boolean {
  const raw = optional(env, key, 'false').toLowerCase();
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigurationError(`${key} must be true or false, got ${JSON.stringify(raw)}`);
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * A hold (claim, lock) must outlive the longest gap between two deliveries of
 * its flow, which renew it: a wait of RETRY_MAX_SECONDS, and the delivery
 * itself. Twice RETRY_MAX_SECONDS is the least that leaves a margin; keep it
 * above the queue's visibility timeout too (README, Configure), so that a
 * delivery that failed and comes back still finds its hold.
 */
export function holdTtl(env: Env, key: string, fallback: number, retryMaxSeconds: number): number {
  const ttl = integer(env, key, fallback, 10, 30 * 86400);
  if (ttl < 2 * retryMaxSeconds) {
    throw new ConfigurationError(`${key} (${ttl}) must be at least twice RETRY_MAX_SECONDS (${retryMaxSeconds}): a flow renews its hold once per delivery, and a wait between two deliveries lasts up to RETRY_MAX_SECONDS`);
  }
  return ttl;
}
