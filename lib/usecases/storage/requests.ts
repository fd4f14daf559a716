/** A storage operation request (manual invoke, alarm, queued), validated field by field. */
import { DOCUMENT_PATTERNS } from '../../config/env';
import { MalformedEventError } from '../../errors';
import type { StorageRequest } from '../../core/storage/flow-state';

const FIELDS = {
  expand: ['action', 'volume', 'sets', 'dryRun', 'allowSameZone', 'reason', 'strategy'],
  shrink: ['action', 'volume', 'dryRun', 'reason'],
  layout: ['action', 'dryRun', 'reason'],
} as const;

/**
 * A manual invoke or an alarm's request, validated field by field:
 *   {"volume":"pydio-data","sets":1,"dryRun":true}           grow (action "expand" implied)
 *   {"action":"shrink","volume":"pydio-data"}                 remove the last replica set
 *   {"volume":"pydio-data","sets":1,"strategy":"grow-in-place"} grow one replica set's volumes
 *   {"action":"layout","dryRun":true}                          the quorum options every volume lacks for its layout
 * Anything else is a MalformedEventError naming the field.
 */
export function parseStorageRequest(input: unknown, defaultReason: string): StorageRequest {
  const where = 'storage request';
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new MalformedEventError(`${where}: expected a JSON object like {"volume":"pydio-data","sets":1,"dryRun":true}`);
  }
  const o = input as Record<string, unknown>;
  const action = o.action ?? 'expand';
  if (action !== 'expand' && action !== 'shrink' && action !== 'layout') {
    throw new MalformedEventError(`${where}: field action must be "expand", "shrink" or "layout", got ${JSON.stringify(action)}`);
  }
  const allowed: readonly string[] = FIELDS[action];
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) throw new MalformedEventError(`${where}: unknown field ${JSON.stringify(key)} for ${action} (allowed: ${allowed.join(', ')})`);
  }
  if (action !== 'layout' && (typeof o.volume !== 'string' || !DOCUMENT_PATTERNS.volume.test(o.volume))) {
    throw new MalformedEventError(`${where}: field volume must be a Gluster volume name, got ${JSON.stringify(o.volume)}`);
  }
  const flag = (key: string): boolean => {
    if (o[key] === undefined) return false;
    if (typeof o[key] !== 'boolean') throw new MalformedEventError(`${where}: field ${key} must be true or false, got ${JSON.stringify(o[key])}`);
    return o[key] as boolean;
  };
  let sets = 0;
  if (action === 'expand') {
    if (typeof o.sets !== 'number' || !Number.isInteger(o.sets) || o.sets < 1 || o.sets > 16) {
      throw new MalformedEventError(`${where}: field sets must be a whole number from 1 to 16, got ${JSON.stringify(o.sets)}`);
    }
    sets = o.sets;
  }
  if (o.strategy !== undefined && o.strategy !== 'add-bricks' && o.strategy !== 'grow-in-place') {
    throw new MalformedEventError(`${where}: field strategy must be "add-bricks" or "grow-in-place", got ${JSON.stringify(o.strategy)}`);
  }
  if (o.reason !== undefined && (typeof o.reason !== 'string' || o.reason.length > 200)) {
    throw new MalformedEventError(`${where}: field reason must be a string of at most 200 characters`);
  }
  return {
    action,
    volume: action === 'layout' ? '' : (o.volume as string),
    sets,
    allowSameZone: action === 'expand' ? flag('allowSameZone') : false,
    ...(o.strategy !== undefined ? { strategy: o.strategy as 'add-bricks' | 'grow-in-place' } : {}),
    dryRun: flag('dryRun'),
    reason: (o.reason as string | undefined) ?? defaultReason,
  };
}

/**
 * The request as this stage runs it: a stage in DRY_RUN runs every request as a
 * dry run (plan, tell, stop). Its adapters would only log the sends, and the
 * steps after the plan would wait on members and modifications never asked for.
 */
export function asRunByStage(request: StorageRequest, stageDryRun: boolean): StorageRequest {
  return stageDryRun && !request.dryRun ? { ...request, dryRun: true } : request;
}
