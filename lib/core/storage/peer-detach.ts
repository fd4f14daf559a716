/** The peer-detach plan: a dead member's peer leaves the Gluster pool once nothing needs it. */
import type { GlusterStep } from './gluster-actions';
import { refused, type Refusal } from './guards';
import type { ClusterSnapshot } from './snapshot';

export type PeerDetachDecision =
  | { readonly kind: 'detach'; readonly step: GlusterStep }
  | { readonly kind: 'skip'; readonly reason: string }
  | Refusal;

/**
 * After a replacement healed: the dead member's peer leaves the pool (else it
 * stays "Peer in Cluster (Disconnected)" and every later operation refuses to
 * run), but only once no volume names a brick on it, it is no live member of
 * the group, and it is still disconnected.
 */
export function planPeerDetach(snapshot: ClusterSnapshot, host: string): PeerDetachDecision {
  const member = snapshot.members.find((m) => m.host === host);
  if (member && !member.lifecycleState.startsWith('Terminat')) {
    return refused(`${host} is ${member.instanceId}, a ${member.lifecycleState} member of ${snapshot.group.name}: not detaching it`);
  }
  const holding = snapshot.volumes.filter((v) => v.bricks.some((b) => b.host === host)).map((v) => v.name);
  if (holding.length) return refused(`${host} still holds bricks of ${holding.join(', ')}: not detaching a peer that holds bricks`);
  const stray = snapshot.strayPeers?.find((p) => p.host === host);
  const inPool = stray !== undefined || (member !== undefined && member.peerState !== 'absent');
  if (!inPool) return { kind: 'skip', reason: `${host} is not in the Gluster pool any more` };
  if (stray?.connected || member?.peerState === 'connected') return refused(`${host} is connected to the pool again: not detaching a live peer`);
  return { kind: 'detach', step: { kind: 'gluster', action: 'peer-detach', volume: '', peer: host } };
}
