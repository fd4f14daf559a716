/** The volumes' health as the watch judges it, from the record the storage function keeps (lib/core/records.ts healthName). */
import type { VolumesHealth } from './snapshot';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `raw` is the recorded HealthRecord (JSON), undefined when none was written.
 * A record older than `maxAgeSeconds` says nothing about now: unknown, like an
 * unreadable one. Only a fresh record of unhealthy volumes is "down".
 */
export function judgeVolumesHealth(raw: string | undefined, now: Date, maxAgeSeconds: number): VolumesHealth {
  if (raw === undefined) return { state: 'unknown', reason: 'no Gluster health recorded yet' };
  let record: unknown;
  try {
    record = JSON.parse(raw);
  } catch {
    return { state: 'unknown', reason: 'the recorded Gluster health is not JSON' };
  }
  if (!isRecord(record) || typeof record.healthy !== 'boolean' || typeof record.at !== 'string' || !Number.isFinite(Date.parse(record.at))) {
    return { state: 'unknown', reason: 'the recorded Gluster health is incomplete' };
  }
  const ageSeconds = (now.getTime() - Date.parse(record.at)) / 1000;
  if (ageSeconds > maxAgeSeconds) return { state: 'unknown', reason: `the recorded Gluster health is ${Math.round(ageSeconds)}s old (more than ${maxAgeSeconds}s)` };
  if (record.healthy) return { state: 'healthy', at: record.at };
  return { state: 'down', reason: typeof record.reason === 'string' && record.reason !== '' ? record.reason : 'unhealthy', at: record.at };
}
