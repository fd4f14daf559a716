import { planExpansion, type ExpansionPlan } from '../../../../lib/core/storage/expand';
import { planReplacement, type ReplacementPlan } from '../../../../lib/core/storage/replace';
import { describeExpansion, expansionPlanned, replacementSucceeded, storageProgress, storageRefused } from '../../../../lib/core/storage/messages';
import type { ClusterSnapshot, StorageMember } from '../../../../lib/core/storage/snapshot';

const GiB = 1024 ** 3;
const m = (n: number, zone: string, over: Partial<StorageMember> = {}): StorageMember => ({ instanceId: `i-${n}`, host: `10.71.${n}.5`, zone, lifecycleState: 'InService', peerState: 'connected', protected: true, ...over });
const snapshot: ClusterSnapshot = {
  group: { name: 'pydio-storage', min: 2, max: 6, desired: 2, zones: ['eu-west-1a', 'eu-west-1b'] },
  members: [m(1, 'eu-west-1a'), m(2, 'eu-west-1b')],
  volumes: [{ name: 'pydio-data', replicaCount: 2, rebalance: 'none', healPending: 0, bricks: [1, 2].map((n) => ({ host: `10.71.${n}.5`, path: '/bricks/pydio-data/brick', online: true, sizeTotal: 100 * GiB, sizeFree: 50 * GiB })) }],
};
const settings = { brickRoot: '/bricks', newBrickBytes: 100 * GiB, maxSetsPerRequest: 2 };

describe('storage messages', () => {
  const plan = planExpansion(snapshot, { volume: 'pydio-data', sets: 1 }, settings) as ExpansionPlan;
  it('reads like a sentence', () => {
    expect(describeExpansion(plan)).toBe('pydio-data grows by 1 replica set (2 bricks, zones eu-west-1a + eu-west-1b): 100 GiB -> 200 GiB usable; storage group pydio-storage desired 2 -> 4');
  });
  it('a dry-run plan lists the commands and says nothing changed', () => {
    const n = expansionPlanned('prod', plan, true);
    expect(n.eventType).toBe('storage.planned');
    expect(n.subject).toBe('[prod] dry run: pydio-data expansion planned (add-bricks)');
    expect(n.body).toContain('Dry run: nothing was changed.');
    expect(n.body).toContain('    gluster --mode=script volume rebalance pydio-data start');
    expect(n.attributes).toEqual({ stage: 'prod', volume: 'pydio-data', operation: 'expand', dryRun: 'true' });
  });
  it('a refusal carries its reason, subject within 100 chars', () => {
    const n = storageRefused('prod', 'expand', 'pydio-data', 'a rebalance of pydio-data is in progress '.repeat(5));
    expect(n.eventType).toBe('storage.refused');
    expect(n.subject.length).toBeLessThanOrEqual(100);
    expect(n.body).toContain('Reason: a rebalance');
  });
  it('progress names each node', () => {
    const n = storageProgress('prod', 'rebalance', 'pydio-data', { state: 'in-progress', statusText: 'in progress', nodes: [{ node: '10.71.2.5', state: 'in-progress', statusText: 'in progress', files: 3, size: 2048, lookups: 9, failures: 0, skipped: 0, runtimeSeconds: 4 }], files: 3, size: 2048, failures: 0, runtimeSeconds: 4 }, 75);
    expect(n.subject).toBe('[prod] rebalance of pydio-data: in progress, 3 files moved');
    expect(n.body).toContain('after 1m15s');
    expect(n.body).toContain('10.71.2.5: in progress, 3 files, 2 KiB, 0 failures');
  });
  it('a replacement says how long the volume ran with one replica less', () => {
    const dead = { ...m(2, 'eu-west-1b'), peerState: 'disconnected' as const };
    const s = { ...snapshot, members: [m(1, 'eu-west-1a'), dead, m(7, 'eu-west-1b')], volumes: [{ ...snapshot.volumes[0]!, bricks: snapshot.volumes[0]!.bricks.map((b, i) => ({ ...b, online: i === 0 })) }] };
    const rp = planReplacement(s, 'i-2', m(7, 'eu-west-1b'), settings) as ReplacementPlan;
    const n = replacementSucceeded('prod', rp, 3725);
    expect(n.body).toContain('ran with one replica less for 1h02m');
    expect(n.body).toContain('pydio-data: 10.71.2.5:/bricks/pydio-data/brick -> 10.71.7.5:/bricks/pydio-data/brick');
  });
});
