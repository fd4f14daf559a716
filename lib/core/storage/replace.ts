/** The replacement plan: a member that replaces a dead one takes over its bricks, then the volumes heal. */
import { commandLine, type GlusterStep } from './gluster-actions';
import { refused, type Refusal } from './guards';
import { brickPath, type StorageSettings } from './settings';
import { replicaSets, type ClusterSnapshot, type StorageMember } from './snapshot';

export interface ReplacementPlan {
  readonly kind: 'plan';
  readonly dead: StorageMember;
  readonly replacement: StorageMember;
  /** Volume -> the bricks taken over; an arbiter brick stays the arbiter (replace-brick keeps its place in the set). */
  readonly bricks: ReadonlyArray<{ readonly volume: string; readonly from: string; readonly to: string; readonly arbiter?: boolean }>;
  readonly steps: readonly GlusterStep[];
  readonly commands: readonly string[];
}

export function planReplacement(
  snapshot: ClusterSnapshot,
  deadInstanceId: string,
  replacement: StorageMember,
  settings: Pick<StorageSettings, 'brickRoot'>,
  lockHeldBy?: string,
): ReplacementPlan | Refusal {
  const dead = snapshot.members.find((m) => m.instanceId === deadInstanceId);
  if (!dead) return refused(`instance ${deadInstanceId} is not a known storage member`);
  if (dead.instanceId === replacement.instanceId || dead.host === replacement.host) {
    return refused(`the replacement ${replacement.instanceId} (${replacement.host}) is the dead member itself`);
  }
  if (replacement.zone !== dead.zone) {
    return refused(`the replacement ${replacement.instanceId} is in ${replacement.zone}, the dead member ${dead.instanceId} was in ${dead.zone}: the replica would leave its zone`);
  }
  if (replacement.peerState !== 'connected') return refused(`the replacement ${replacement.instanceId} (${replacement.host}) is ${replacement.peerState} in the Gluster pool: probe it first`);
  if (lockHeldBy) return refused(`another storage operation holds the cluster lock (${lockHeldBy}): one storage operation at a time`);
  const taken: Array<{ volume: string; from: string; to: string; arbiter?: boolean }> = [];
  for (const volume of snapshot.volumes) {
    if (volume.bricks.some((b) => b.host === replacement.host)) {
      return refused(`the replacement ${replacement.instanceId} (${replacement.host}) already holds a brick of ${volume.name}`);
    }
    for (const set of replicaSets(volume.bricks, volume.replicaCount)) {
      const mine = set.filter((b) => b.host === dead.host);
      if (mine.length === 0) continue;
      // The heal's source must hold the file data: an arbiter holds names and metadata only.
      const survivors = set.filter((b) => b.host !== dead.host && b.online && !b.arbiter);
      if (survivors.length === 0) {
        const arbiterLeft = set.some((b) => b.host !== dead.host && b.online && b.arbiter);
        return refused(`no online data replica left in the ${volume.name} set ${set.map((b) => `${b.host}:${b.path}${b.arbiter ? ' (arbiter)' : ''}`).join(' + ')}: self-heal would have no source${arbiterLeft ? ' (the arbiter holds no file data)' : ''}`);
      }
      for (const b of mine) taken.push({ volume: volume.name, from: `${b.host}:${b.path}`, to: `${replacement.host}:${brickPath(settings, volume.name)}`, ...(b.arbiter ? { arbiter: true } : {}) });
    }
  }
  if (taken.length === 0) return refused(`the dead member ${dead.instanceId} (${dead.host}) holds no bricks: nothing to replace`);
  const steps: GlusterStep[] = [
    ...taken.map((t): GlusterStep => ({ kind: 'gluster', action: 'replace-brick', volume: t.volume, bricks: [t.from, t.to] })),
    ...[...new Set(taken.map((t) => t.volume))].map((volume): GlusterStep => ({ kind: 'gluster', action: 'heal-full', volume })),
  ];
  return { kind: 'plan', dead, replacement, bricks: taken, steps, commands: steps.map(commandLine) };
}
