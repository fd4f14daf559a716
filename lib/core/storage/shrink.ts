/** The shrink plan: a volume gives up its last replica set, and members left without bricks go. */
import { formatBytes } from './bytes';
import { usableCapacity, usedBytes } from './capacity';
import { clusterGuard, isRefusal, refused, volumeNamed, type Refusal } from './guards';
import { replicaSets, type Brick, type ClusterSnapshot } from './snapshot';
import { describeStep, type PlanStep } from './steps';

export interface ShrinkPlan {
  readonly kind: 'plan';
  readonly volume: string;
  readonly removed: readonly string[];
  readonly usedBytes: number;
  readonly capacityBefore: number;
  readonly capacityAfter: number;
  /** Members left without any brick, released after the commit. */
  readonly releasedInstanceIds: readonly string[];
  readonly desiredBefore: number;
  readonly desiredAfter: number;
  readonly steps: readonly PlanStep[];
  readonly commands: readonly string[];
}

export function planShrink(
  snapshot: ClusterSnapshot,
  volumeName: string,
  options: { readonly headroom?: number; readonly lockHeldBy?: string } = {},
): ShrinkPlan | Refusal {
  const found = volumeNamed(snapshot, volumeName);
  if (isRefusal(found)) return found;
  const volume = found;
  const headroom = options.headroom ?? 0.2;
  if (!(headroom >= 0 && headroom < 1)) return refused(`headroom must be in [0, 1), got ${headroom}`);
  const guard = clusterGuard(snapshot, options.lockHeldBy);
  if (guard) return guard;
  const sets = replicaSets(volume.bricks, volume.replicaCount);
  if (sets.length < 2) return refused(`${volume.name} has a single replica set: removing it would remove the volume`);
  const last = sets[sets.length - 1] as Brick[];
  const remaining = { bricks: sets.slice(0, -1).flat(), replicaCount: volume.replicaCount };
  const used = usedBytes(volume);
  const capacityAfter = usableCapacity(remaining);
  const limit = capacityAfter * (1 - headroom);
  if (used > limit) {
    return refused(`${volume.name} holds ${formatBytes(used)}; without its last replica set it would have ${formatBytes(capacityAfter)} usable, and at most ${formatBytes(limit)} may be used to keep ${Math.round(headroom * 100)}% headroom`);
  }
  const removed = last.map((b) => `${b.host}:${b.path}`);
  const stillUsed = new Set(snapshot.volumes.flatMap((v) => (v.name === volume.name ? remaining.bricks : v.bricks).map((b) => b.host)));
  const released = snapshot.members.filter((m) => last.some((b) => b.host === m.host) && !stillUsed.has(m.host));
  const desiredAfter = snapshot.group.desired - released.length;
  if (desiredAfter < snapshot.group.min) {
    return refused(`releasing ${released.length} member(s) would take ${snapshot.group.name} to ${desiredAfter}, below its minimum ${snapshot.group.min}`);
  }
  const common = { kind: 'gluster' as const, volume: volume.name, replica: volume.replicaCount, bricks: removed };
  const steps: PlanStep[] = [
    { ...common, action: 'remove-brick-start' },
    { ...common, action: 'remove-brick-status' },
    { ...common, action: 'remove-brick-commit' },
    // Released members' peers leave the pool before their instances go: left behind
    // "Disconnected", they would make every later storage operation refuse.
    ...released
      .filter((m) => m.peerState !== 'absent' && m.host !== '')
      .map((m): PlanStep => ({ kind: 'gluster', action: 'peer-detach', volume: '', peer: m.host })),
    ...(released.length ? [{ kind: 'release-members' as const, instanceIds: released.map((m) => m.instanceId), desired: desiredAfter }] : []),
  ];
  return {
    kind: 'plan',
    volume: volume.name,
    removed,
    usedBytes: used,
    capacityBefore: usableCapacity(volume),
    capacityAfter,
    releasedInstanceIds: released.map((m) => m.instanceId),
    desiredBefore: snapshot.group.desired,
    desiredAfter,
    steps,
    commands: steps.map(describeStep),
  };
}
