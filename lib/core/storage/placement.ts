/** Where new storage members go: zones for new members, and replica sets spread over zones. */
import { refused, type Refusal } from './guards';

/**
 * Zones for `count` new members: each goes to the zone with the fewest
 * members so far (ties: the order of `zones`), as the group's AZ balancing does.
 */
export function placeNewMembers(zones: readonly string[], existingPerZone: Readonly<Record<string, number>>, count: number): string[] {
  if (zones.length === 0) throw new RangeError('placeNewMembers: no zones');
  const load = new Map(zones.map((z) => [z, existingPerZone[z] ?? 0]));
  const out: string[] = [];
  for (let i = 0; i < count; i += 1) {
    let best = zones[0] as string;
    for (const z of zones) if ((load.get(z) as number) < (load.get(best) as number)) best = z;
    out.push(best);
    load.set(best, (load.get(best) as number) + 1);
  }
  return out;
}

export interface Candidate {
  readonly host: string;
  readonly zone: string;
}

/**
 * Groups candidates into replica sets, each set's members in distinct zones
 * (greedy: the zones with the most candidates left first). With allowSameZone,
 * sets may repeat a zone when nothing else is possible.
 */
export function pickBricksForNewSet<T extends Candidate>(
  candidates: readonly T[],
  replicaCount: number,
  allowSameZone = false,
): { kind: 'sets'; sets: T[][] } | Refusal {
  if (replicaCount < 1) return refused(`replica count ${replicaCount} is not a positive number`);
  if (candidates.length % replicaCount !== 0) {
    return refused(`${candidates.length} new members do not form whole replica sets of ${replicaCount}`);
  }
  const byZone = new Map<string, T[]>();
  for (const c of candidates) byZone.set(c.zone, [...(byZone.get(c.zone) ?? []), c]);
  const sets: T[][] = [];
  const setCount = candidates.length / replicaCount;
  for (let s = 0; s < setCount; s += 1) {
    const zones = [...byZone.entries()].filter(([, list]) => list.length > 0).sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]));
    const set: T[] = [];
    for (const [, list] of zones.slice(0, replicaCount)) set.push(list.shift() as T);
    if (set.length < replicaCount) {
      if (!allowSameZone) {
        const zoneList = [...new Set(candidates.map((c) => c.zone))].join(', ');
        return refused(`cannot place replica set ${s + 1} of ${setCount} with its ${replicaCount} replicas in distinct zones (new members' zones: ${zoneList}); pass allowSameZone to accept replicas sharing a zone`);
      }
      for (const [, list] of [...byZone.entries()].sort((a, b) => b[1].length - a[1].length)) {
        while (set.length < replicaCount && list.length > 0) set.push(list.shift() as T);
      }
    }
    sets.push(set);
  }
  return { kind: 'sets', sets };
}
