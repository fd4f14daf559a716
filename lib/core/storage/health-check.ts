/** The StorageQueue message that asks for a Gluster health read: `{"healthCheck":{"requestedAt":"<ISO>"}}`, sent by the watch every period. */
import { MalformedEventError } from '../../errors';

export interface HealthCheckRequest {
  /** When the watch asked: a read that answered at or after this time already covers it. */
  readonly requestedAt: string;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** The message body (what the watch sends). */
export function encodeHealthCheck(now: Date): string {
  return JSON.stringify({ healthCheck: { requestedAt: now.toISOString() } });
}

export function isHealthCheckMessage(body: unknown): body is { healthCheck: unknown } {
  return typeof body === 'object' && body !== null && 'healthCheck' in body;
}

/** Strict: only `requestedAt`, an ISO UTC time; anything else is refused by name. */
export function parseHealthCheck(body: { healthCheck: unknown }): HealthCheckRequest {
  const what = 'health check message';
  const check = body.healthCheck;
  if (typeof check !== 'object' || check === null || Array.isArray(check)) throw new MalformedEventError(`${what}: healthCheck must be an object, got ${JSON.stringify(check)}`);
  const extra = Object.keys(check).filter((k) => k !== 'requestedAt');
  if (extra.length) throw new MalformedEventError(`${what}: unknown field${extra.length > 1 ? 's' : ''} ${extra.join(', ')} (only requestedAt)`);
  const others = Object.keys(body).filter((k) => k !== 'healthCheck');
  if (others.length) throw new MalformedEventError(`${what}: unknown top-level field${others.length > 1 ? 's' : ''} ${others.join(', ')}`);
  const { requestedAt } = check as { requestedAt?: unknown };
  if (typeof requestedAt !== 'string' || !ISO.test(requestedAt) || !Number.isFinite(Date.parse(requestedAt))) {
    throw new MalformedEventError(`${what}: requestedAt must be an ISO 8601 UTC time such as 2026-11-21T10:00:00.000Z, got ${JSON.stringify(requestedAt)}`);
  }
  return { requestedAt };
}
