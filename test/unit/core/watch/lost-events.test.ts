import { decideWatch, settleAction } from '../../../../lib/core/watch/decide';
import { actionKey } from '../../../../lib/core/watch/lost-events';
import type { WatchSnapshot } from '../../../../lib/core/watch/snapshot';
import type { WatchState } from '../../../../lib/core/watch/state';
import { ago, cluster, instance, NOW, remembered, SETTINGS } from './fixtures';

const LAUNCH = 'lifecycle/i-09/launch';
const TERMINATE = 'lifecycle/i-01/terminate';
const STORAGE_LAUNCH = 'storage/lifecycle/i-s3/launch';

const waiting = (over: Parameters<typeof cluster>[0] = {}) => cluster({ compute: [instance('i-01'), instance('i-09', 'Pending:Wait')], ...over });

describe('rule (a): a waiting instance no flow holds is re-driven on the second run that sees it so', () => {
  it.each<[string, WatchSnapshot, WatchState | undefined, Array<[string, string, string]>, Record<string, string>]>([
    // name, cluster, previous state, expected re-drives [instance, transition, key], expected unclaimed in the next state
    ['first sighting: wait one period (the event may be in flight)', waiting(), remembered(), [], { [LAUNCH]: NOW.toISOString() }],
    ['no previous state at all: a first sighting', waiting(), undefined, [], { [LAUNCH]: NOW.toISOString() }],
    ['second consecutive sighting: re-driven', waiting(), remembered({ unclaimed: { [LAUNCH]: ago(60) } }), [['i-09', 'launch', LAUNCH]], { [LAUNCH]: ago(60) }],
    ['a flow holds it: nothing to do', waiting({ held: [LAUNCH] }), remembered(), [], {}],
    ['a flow took it since the last run: nothing, and forgotten', waiting({ held: [LAUNCH] }), remembered({ unclaimed: { [LAUNCH]: ago(60) } }), [], {}],
    ['the hold of another transition does not count', waiting({ held: ['lifecycle/i-09/terminate'] }), remembered({ unclaimed: { [LAUNCH]: ago(60) } }), [['i-09', 'launch', LAUNCH]], { [LAUNCH]: ago(60) }],
    ['a lost terminate event', cluster({ compute: [instance('i-01', 'Terminating:Wait'), instance('i-02')] }), remembered({ unclaimed: { [TERMINATE]: ago(60) } }), [['i-01', 'terminate', TERMINATE]], { [TERMINATE]: ago(60) }],
    ['a storage member: its own key and tier', cluster({ storage: [instance('i-s1'), instance('i-s3', 'Pending:Wait')] }), remembered({ unclaimed: { [STORAGE_LAUNCH]: ago(60) } }), [['i-s3', 'launch', STORAGE_LAUNCH]], { [STORAGE_LAUNCH]: ago(60) }],
    ['a storage flow holds it', cluster({ storage: [instance('i-s3', 'Pending:Wait')], held: [STORAGE_LAUNCH] }), remembered({ unclaimed: { [STORAGE_LAUNCH]: ago(60) } }), [], {}],
    ['re-driven 100 s ago: not again within the claim TTL', waiting(), remembered({ unclaimed: { [LAUNCH]: ago(160) }, redriven: { [LAUNCH]: ago(100) } }), [], { [LAUNCH]: ago(160) }],
    ['re-driven 901 s ago (claim TTL 900): again', waiting(), remembered({ unclaimed: { [LAUNCH]: ago(961) }, redriven: { [LAUNCH]: ago(901) } }), [['i-09', 'launch', LAUNCH]], { [LAUNCH]: ago(961) }],
    ['Pending:Proceed, Pending, InService, Terminating:Proceed are not waiting for a hook', cluster({ compute: ['Pending:Proceed', 'Pending', 'InService', 'Terminating:Proceed', 'Terminating'].map((s, i) => instance(`i-0${i}`, s)) }), remembered({ unclaimed: { 'lifecycle/i-00/launch': ago(60) } }), [], {}],
    ['two lost at once: each on its own count', cluster({ compute: [instance('i-09', 'Pending:Wait'), instance('i-01', 'Terminating:Wait')] }), remembered({ unclaimed: { [LAUNCH]: ago(60) } }), [['i-09', 'launch', LAUNCH]], { [LAUNCH]: ago(60), [TERMINATE]: NOW.toISOString() }],
    ['an instance gone since: its entry is dropped', cluster(), remembered({ unclaimed: { [LAUNCH]: ago(60) } }), [], {}],
  ])('%s', (_name, snapshot, previous, redrives, unclaimed) => {
    const { actions, next } = decideWatch(snapshot, previous, SETTINGS, NOW);
    expect(actions.filter((a) => a.kind === 'redrive').map((a) => a.kind === 'redrive' && [a.instanceId, a.transition, a.key])).toEqual(redrives);
    expect(next.unclaimed).toEqual(unclaimed);
  });

  it('names the group and tier of the instance and the first unclaimed sighting', () => {
    const { actions } = decideWatch(cluster({ storage: [instance('i-s3', 'Pending:Wait')] }), remembered({ unclaimed: { [STORAGE_LAUNCH]: ago(60) } }), SETTINGS, NOW);
    expect(actions).toEqual([{ kind: 'redrive', tier: 'storage', groupName: 'pydio-storage', instanceId: 'i-s3', transition: 'launch', key: STORAGE_LAUNCH, unclaimedSince: ago(60) }]);
  });

  it('a re-drive is remembered only once it was sent; the next run then waits the claim TTL', () => {
    const first = decideWatch(waiting(), remembered({ unclaimed: { [LAUNCH]: ago(60) } }), SETTINGS, NOW);
    const action = first.actions[0]!;
    expect(settleAction(first.next, action, 'not-done', NOW).redriven).toEqual({});
    const settled = settleAction(first.next, action, 'done', NOW);
    expect(settled.redriven).toEqual({ [LAUNCH]: NOW.toISOString() });
    const later = new Date(NOW.getTime() + 60_000);
    expect(decideWatch(waiting(), settled, SETTINGS, later).actions).toEqual([]);
  });

  it('keys are those the flows hold (lib/core/records.ts)', () => {
    expect(actionKey('compute', 'i-1', 'launch')).toBe('lifecycle/i-1/launch');
    expect(actionKey('storage', 'i-1', 'terminate')).toBe('storage/lifecycle/i-1/terminate');
  });
});
