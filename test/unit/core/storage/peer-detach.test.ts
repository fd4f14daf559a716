import { commandLine, commandParameters, type GlusterStep } from '../../../../lib/core/storage/gluster-actions';
import { planPeerDetach } from '../../../../lib/core/storage/peer-detach';
import type { Brick, ClusterSnapshot, StorageMember, VolumeSnapshot } from '../../../../lib/core/storage/snapshot';

const A = 'eu-west-1a';
const B = 'eu-west-1b';
const DEAD = '10.71.1.9';

const member = (n: number, zone: string, over: Partial<StorageMember> = {}): StorageMember => ({
  instanceId: `i-${n}`, host: `10.71.${zone === A ? 1 : 2}.${n}`, zone, lifecycleState: 'InService', peerState: 'connected', protected: true, ...over,
});
const brick = (host: string): Brick => ({ host, path: '/bricks/pydio-data/brick', online: true, sizeTotal: 1, sizeFree: 1 });
const volume = (hosts: string[]): VolumeSnapshot => ({ name: 'pydio-data', replicaCount: 2, bricks: hosts.map(brick), rebalance: 'none', healPending: 0 });
const fresh = member(3, A);
const survivor = member(2, B);
const snap = (over: Partial<ClusterSnapshot> = {}): ClusterSnapshot => ({
  group: { name: 'pydio-storage', min: 2, max: 4, desired: 2, zones: [A, B] },
  members: [fresh, survivor],
  volumes: [volume([fresh.host, survivor.host])],
  strayPeers: [{ host: DEAD, connected: false }],
  ...over,
});

describe('planPeerDetach', () => {
  it('detaches a disconnected stray peer that no volume names: peer-detach with the peer and no volume', () => {
    const out = planPeerDetach(snap(), DEAD);
    expect(out.kind).toBe('detach');
    const step = (out as { step: GlusterStep }).step;
    expect(commandLine(step)).toBe(`gluster --mode=script peer detach ${DEAD}`);
    expect(commandParameters(step)).toEqual({ Action: 'peer-detach', Volume: '', Replica: '0', Bricks: '', Force: 'no', Peer: DEAD });
  });

  it('detaches a dead member still listed as Terminating and disconnected', () => {
    const dying = member(9, A, { host: DEAD, lifecycleState: 'Terminating:Wait', peerState: 'disconnected' });
    expect(planPeerDetach(snap({ members: [fresh, survivor, dying], strayPeers: [] }), DEAD).kind).toBe('detach');
  });

  it('skips a peer already gone from the pool', () => {
    expect(planPeerDetach(snap({ strayPeers: [] }), DEAD)).toEqual({ kind: 'skip', reason: `${DEAD} is not in the Gluster pool any more` });
  });

  it.each<[string, Partial<ClusterSnapshot>, RegExp]>([
    ['a volume still names a brick on it', { volumes: [volume([DEAD, survivor.host])] }, /10\.71\.1\.9 still holds bricks of pydio-data/],
    ['it is connected again', { strayPeers: [{ host: DEAD, connected: true }] }, /connected to the pool again/],
    ['it is a live member of the group', { members: [fresh, survivor, member(9, A, { host: DEAD, peerState: 'disconnected' })], strayPeers: [] }, /i-9, a InService member of pydio-storage: not detaching it/],
    ['a Terminating member that is still connected', { members: [fresh, survivor, member(9, A, { host: DEAD, lifecycleState: 'Terminating:Wait' })], strayPeers: [] }, /connected to the pool again/],
  ])('refuses when %s', (_name, over, reason) => {
    const out = planPeerDetach(snap(over), DEAD);
    expect(out.kind).toBe('refused');
    expect(out.kind === 'refused' && out.reason).toMatch(reason);
  });
});
