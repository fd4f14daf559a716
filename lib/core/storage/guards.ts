/** Refusals, and the guard rails every storage plan checks before it changes anything. */
import type { ClusterSnapshot, VolumeSnapshot } from './snapshot';

/** Why a plan will not run, in words a person can act on. */
export type Refusal = { readonly kind: 'refused'; readonly reason: string };

export function refused(reason: string): Refusal {
  return { kind: 'refused', reason };
}

export function isRefusal(x: unknown): x is Refusal {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'refused';
}

/** The volume of that name, or a refusal naming the volumes there are. */
export function volumeNamed(snapshot: ClusterSnapshot, name: string): VolumeSnapshot | Refusal {
  const volume = snapshot.volumes.find((v) => v.name === name);
  if (volume) return volume;
  const known = snapshot.volumes.map((v) => v.name).join(', ') || 'none';
  return { kind: 'refused', reason: `unknown volume ${JSON.stringify(name)} (volumes: ${known})` };
}

/** The rails every storage operation shares: one operation at a time, a whole and quiet cluster. */
export function clusterGuard(snapshot: ClusterSnapshot, lockHeldBy: string | undefined, ignoreHosts: readonly string[] = []): Refusal | undefined {
  if (lockHeldBy) return refused(`another storage operation holds the cluster lock (${lockHeldBy}): one storage operation at a time`);
  const down = snapshot.members.filter((m) => m.peerState === 'disconnected' && !ignoreHosts.includes(m.host));
  if (down.length) return refused(`member${down.length > 1 ? 's' : ''} ${down.map((m) => `${m.instanceId} (${m.host}, ${m.zone})`).join(', ')} disconnected from the Gluster pool`);
  const stray = (snapshot.strayPeers ?? []).filter((p) => !p.connected && !ignoreHosts.includes(p.host));
  if (stray.length) return refused(`peer${stray.length > 1 ? 's' : ''} ${stray.map((p) => p.host).join(', ')} disconnected from the Gluster pool and not in the storage group (replace or detach first)`);
  const missing = snapshot.members.filter((m) => m.lifecycleState === 'InService' && m.peerState === 'absent');
  if (missing.length) return refused(`in-service member${missing.length > 1 ? 's' : ''} ${missing.map((m) => `${m.instanceId} (${m.host})`).join(', ')} not in the Gluster pool`);
  for (const v of snapshot.volumes) {
    if (v.rebalance === 'in-progress') return refused(`a rebalance of ${v.name} is in progress`);
  }
  for (const v of snapshot.volumes) {
    if (v.healPending > 0) return refused(`a heal of ${v.name} is in progress (${v.healPending} entries pending)`);
    if ((v.healUnreachable ?? 0) > 0) return refused(`heal state of ${v.name} unknown: ${v.healUnreachable} brick(s) could not report`);
  }
  for (const v of snapshot.volumes) {
    const offline = v.bricks.filter((b) => !b.online && !ignoreHosts.includes(b.host));
    if (offline.length) return refused(`brick${offline.length > 1 ? 's' : ''} ${offline.map((b) => `${b.host}:${b.path}`).join(', ')} of ${v.name} offline`);
  }
  return undefined;
}
