import { decideWatch, settleAction, type WatchAction } from '../../../../lib/core/watch/decide';
import type { WatchSnapshot } from '../../../../lib/core/watch/snapshot';
import type { WatchState } from '../../../../lib/core/watch/state';
import { clusterWideCause, replacementLimit } from '../../../../lib/core/watch/unhealthy-targets';
import { ago, cluster, instance, NOW, remembered, SETTINGS, target } from './fixtures';

/** An action as the tables read it: its kind and the instances it names. */
function brief(action: WatchAction): string {
  switch (action.kind) {
    case 'mark-unhealthy':
      return `mark ${action.instanceId}`;
    case 'held-back':
      return `held-back ${action.instanceIds.join(',')}`;
    case 'cluster-wide':
      return `cluster-wide ${action.change}`;
    case 'cluster-recovered':
      return 'recovered';
    case 'redrive':
      return `redrive ${action.instanceId}`;
  }
}

const three = [instance('i-01'), instance('i-02'), instance('i-03')];
/** i-01's target unhealthy, the others healthy. */
const oneBad = (over: Parameters<typeof cluster>[0] = {}) => cluster({ compute: three, targets: [target('i-01', 'unhealthy'), target('i-02', 'healthy'), target('i-03', 'healthy')], ...over });
const DOWN = { state: 'down' as const, reason: 'brick 10.0.1.10:/bricks/pydio-data/brick offline', at: ago(30) };
const ALL_BAD = { kinds: ['all-targets-unhealthy' as const], cause: 'every registered target is unhealthy (3 of 3)', since: ago(120) };

describe('rule (b): a node whose target fails its health checks in N consecutive runs is marked Unhealthy', () => {
  it.each<[string, WatchSnapshot, WatchState, string[], Record<string, number>]>([
    // name, cluster, previous state, expected actions, expected unhealthy counts in the next state
    ['first unhealthy reading: counted, nothing done', oneBad(), remembered(), [], { 'i-01': 1 }],
    ['second reading: counted', oneBad(), remembered({ unhealthy: { 'i-01': 1 } }), [], { 'i-01': 2 }],
    ['third consecutive reading (watchUnhealthyChecks 3): marked', oneBad(), remembered({ unhealthy: { 'i-01': 2 } }), ['mark i-01'], { 'i-01': 3 }],
    ['healthy again: the count starts over', cluster({ compute: three }), remembered({ unhealthy: { 'i-01': 2 } }), [], {}],
    ...(['initial', 'draining', 'unused', 'unavailable'] as const).map((state): [string, WatchSnapshot, WatchState, string[], Record<string, number>] => [
      `target ${state}: not a failed health check, the count starts over`,
      cluster({ compute: three, targets: [target('i-01', state), target('i-02', 'healthy'), target('i-03', 'healthy')] }),
      remembered({ unhealthy: { 'i-01': 2 } }), [], {},
    ]),
    ['not registered at all: not counted', cluster({ compute: three, targets: [target('i-02', 'healthy'), target('i-03', 'healthy')] }), remembered({ unhealthy: { 'i-01': 2 } }), [], {}],
    ['within the grace period (300 s, InService for 100 s): not counted', oneBad({ grace: 300 }), remembered({ inService: { 'i-01': ago(100) }, unhealthy: { 'i-01': 2 } }), [], {}],
    ['past the grace period (InService for 301 s): counted and marked', oneBad({ grace: 300 }), remembered({ inService: { 'i-01': ago(301) }, unhealthy: { 'i-01': 2 } }), ['mark i-01'], { 'i-01': 3 }],
    ['grace period: first seen InService now counts as just in service', oneBad({ grace: 300 }), remembered(), [], {}],
    ['already Unhealthy in Auto Scaling: left to it', cluster({ compute: [instance('i-01', 'InService', 'Unhealthy'), instance('i-02'), instance('i-03')], targets: [target('i-01', 'unhealthy'), target('i-02', 'healthy'), target('i-03', 'healthy')] }), remembered({ unhealthy: { 'i-01': 5 } }), [], {}],
    ['not InService (Terminating:Wait, draining): not counted', cluster({ compute: [instance('i-01', 'Terminating:Wait'), instance('i-02'), instance('i-03')], targets: [target('i-01', 'unhealthy'), target('i-02', 'healthy'), target('i-03', 'healthy')] }), remembered({ unhealthy: { 'i-01': 2 } }), [], {}],
    ['marked by an earlier run (dry run, or not yet Unhealthy): not again', oneBad(), remembered({ unhealthy: {}, marked: { 'i-01': ago(60) } }), [], {}],
    ['target health unreadable: counts kept, nothing done', cluster({ compute: three, targets: null }), remembered({ unhealthy: { 'i-01': 2, 'i-09': 1 } }), [], { 'i-01': 2 }],
  ])('%s', (_name, snapshot, previous, expected, counts) => {
    const { actions, next } = decideWatch(snapshot, previous, SETTINGS, NOW);
    expect(actions.map(brief)).toEqual(expected);
    expect(next.unhealthy).toEqual(counts);
  });

  it('the mark names the checks, the reason and the cap', () => {
    const { actions } = decideWatch(oneBad(), remembered({ unhealthy: { 'i-01': 2 } }), SETTINGS, NOW);
    expect(actions).toEqual([{ kind: 'mark-unhealthy', groupName: 'pydio-compute', instanceId: 'i-01', checks: 3, reason: 'Target.FailedHealthChecks', limit: 1, replacing: [] }]);
  });

  it('a mark is remembered only once done: refused (grace period), it is tried again next run', () => {
    const { actions, next } = decideWatch(oneBad(), remembered({ unhealthy: { 'i-01': 2 } }), SETTINGS, NOW);
    const mark = actions[0]!;
    const refused = settleAction(next, mark, 'not-done', NOW);
    expect(decideWatch(oneBad(), refused, SETTINGS, new Date(NOW.getTime() + 60_000)).actions.map(brief)).toEqual(['mark i-01']);
    const done = settleAction(next, mark, 'done', NOW);
    expect(done.marked).toEqual({ 'i-01': NOW.toISOString() });
    expect(done.unhealthy).toEqual({});
    expect(decideWatch(oneBad(), done, SETTINGS, new Date(NOW.getTime() + 60_000)).actions).toEqual([]);
  });
});

describe('guard rail: never more than watchMaxReplaceShare of the InService instances at once (at least one)', () => {
  const six = ['i-01', 'i-02', 'i-03', 'i-04', 'i-05', 'i-06'].map((id) => instance(id));
  const healthy = (ids: string[]) => ids.map((id) => target(id, 'healthy'));
  it.each<[string, WatchSnapshot, WatchState, string[], string[]]>([
    // name, cluster, previous, expected actions, expected held back in the next state
    ['two due of three (cap 1): the one seen unhealthy longest goes, the other is held back and told',
      cluster({ compute: three, targets: [target('i-01', 'unhealthy'), target('i-02', 'unhealthy'), target('i-03', 'healthy')] }),
      remembered({ unhealthy: { 'i-01': 2, 'i-02': 4 } }), ['mark i-02', 'held-back i-01'], ['i-01']],
    ['ties go by instance id',
      cluster({ compute: three, targets: [target('i-01', 'unhealthy'), target('i-02', 'unhealthy'), target('i-03', 'healthy')] }),
      remembered({ unhealthy: { 'i-01': 2, 'i-02': 2 } }), ['mark i-01', 'held-back i-02'], ['i-02']],
    ['held back and told before: not told again',
      cluster({ compute: three, targets: [target('i-01', 'unhealthy'), target('i-02', 'unhealthy'), target('i-03', 'healthy')] }),
      remembered({ unhealthy: { 'i-01': 5, 'i-02': 5 }, marked: { 'i-03': ago(60) }, heldBack: ['i-01', 'i-02'] }), [], ['i-01', 'i-02']],
    ['one already terminating counts against the cap: nothing marked, held back',
      cluster({ compute: [...three, instance('i-04', 'Terminating:Wait')], targets: [target('i-01', 'unhealthy'), target('i-02', 'healthy'), target('i-03', 'healthy')] }),
      remembered({ unhealthy: { 'i-01': 2 } }), ['held-back i-01'], ['i-01']],
    ['one already Unhealthy (InService) counts against the cap',
      cluster({ compute: [instance('i-01'), instance('i-02', 'InService', 'Unhealthy'), instance('i-03')], targets: [target('i-01', 'unhealthy'), target('i-02', 'unhealthy'), target('i-03', 'healthy')] }),
      remembered({ unhealthy: { 'i-01': 2 } }), ['held-back i-01'], ['i-01']],
    ['six InService, share 0.34: two at once',
      cluster({ compute: six, targets: [target('i-01', 'unhealthy'), target('i-02', 'unhealthy'), target('i-03', 'unhealthy'), ...healthy(['i-04', 'i-05', 'i-06'])] }),
      remembered({ unhealthy: { 'i-01': 2, 'i-02': 2, 'i-03': 2 } }), ['mark i-01', 'mark i-02', 'held-back i-03'], ['i-03']],
    ['the held-back one goes once the others are gone',
      cluster({ compute: [instance('i-03'), instance('i-04'), instance('i-05'), instance('i-06')], targets: [target('i-03', 'unhealthy'), ...healthy(['i-04', 'i-05', 'i-06'])] }),
      remembered({ unhealthy: { 'i-03': 3 }, marked: { 'i-01': ago(120), 'i-02': ago(120) }, heldBack: ['i-03'] }), ['mark i-03'], []],
    ['two InService (0.68): at least one',
      cluster({ compute: [instance('i-01'), instance('i-02')], targets: [target('i-01', 'unhealthy'), target('i-02', 'healthy')] }),
      remembered({ unhealthy: { 'i-01': 2 } }), ['mark i-01'], []],
  ])('%s', (_name, snapshot, previous, expected, heldBack) => {
    const { actions, next } = decideWatch(snapshot, previous, SETTINGS, NOW);
    expect(actions.map(brief)).toEqual(expected);
    expect(next.heldBack).toEqual(heldBack);
  });

  it.each([
    [1, 0.34, 1], [2, 0.34, 1], [3, 0.34, 1], [5, 0.34, 1], [6, 0.34, 2], [9, 0.34, 3], [4, 0.5, 2], [10, 0.1, 1], [10, 1, 10], [0, 0.34, 1],
  ])('replacementLimit(%i InService, share %f) = %i', (count, share, limit) => {
    expect(replacementLimit(count, share)).toBe(limit);
  });
});

describe('guard rail: no node is replaced while the cause is cluster-wide, which is told once per change', () => {
  it.each<[string, WatchSnapshot, WatchState, string[], string | undefined]>([
    // name, cluster, previous, expected actions, expected cause remembered
    ['every target unhealthy: told, nothing marked, counts restart',
      cluster({ compute: three, targets: three.map((i) => target(i.instanceId, 'unhealthy')) }),
      remembered({ unhealthy: { 'i-01': 5, 'i-02': 5, 'i-03': 5 } }), ['cluster-wide started'], 'every registered target is unhealthy (3 of 3)'],
    ['still so next period: not told again',
      cluster({ compute: three, targets: three.map((i) => target(i.instanceId, 'unhealthy')) }),
      remembered({ clusterWide: ALL_BAD }), [], ALL_BAD.cause],
    ['the volumes go down as well: the change is told',
      cluster({ compute: three, targets: three.map((i) => target(i.instanceId, 'unhealthy')), volumes: DOWN }),
      remembered({ clusterWide: ALL_BAD }), ['cluster-wide changed'], `the Gluster volumes are down (${DOWN.reason}, recorded ${DOWN.at}); every registered target is unhealthy (3 of 3)`],
    ['volumes down, targets fine: cluster-wide still',
      cluster({ compute: three, targets: [target('i-01', 'unhealthy'), target('i-02', 'healthy'), target('i-03', 'healthy')], volumes: DOWN }),
      remembered({ unhealthy: { 'i-01': 2 } }), ['cluster-wide started'], `the Gluster volumes are down (${DOWN.reason}, recorded ${DOWN.at})`],
    ['volumes unknown (no record yet): not a cause',
      oneBad({ volumes: { state: 'unknown', reason: 'no health recorded yet' } }),
      remembered({ unhealthy: { 'i-01': 2 } }), ['mark i-01'], undefined],
    ['volumes healthy: not a cause',
      oneBad({ volumes: { state: 'healthy', at: ago(30) } }),
      remembered({ unhealthy: { 'i-01': 2 } }), ['mark i-01'], undefined],
    ['one node only, unhealthy: every target, so told, not replaced',
      cluster({ compute: [instance('i-01')], targets: [target('i-01', 'unhealthy')] }),
      remembered({ unhealthy: { 'i-01': 2 } }), ['cluster-wide started'], 'every registered target is unhealthy (1 of 1)'],
    ['draining and initial targets are not judged: the one judged target is unhealthy',
      cluster({ compute: three, targets: [target('i-01', 'unhealthy'), target('i-02', 'draining'), target('i-03', 'initial')] }),
      remembered({ unhealthy: { 'i-01': 2 } }), ['cluster-wide started'], 'every registered target is unhealthy (1 of 1)'],
    ['no judged target at all: not cluster-wide',
      cluster({ compute: three, targets: [target('i-01', 'initial')] }),
      remembered(), [], undefined],
    ['it ended: told once, nodes judged again from zero',
      oneBad(),
      remembered({ clusterWide: ALL_BAD }), ['recovered'], undefined],
  ])('%s', (_name, snapshot, previous, expected, cause) => {
    const { actions, next } = decideWatch(snapshot, previous, SETTINGS, NOW);
    expect(actions.map(brief)).toEqual(expected);
    expect(next.clusterWide?.cause).toEqual(cause);
    if (cause !== undefined) expect(next.unhealthy).toEqual({});
  });

  it('the condition keeps the time it started across periods and changes', () => {
    const snapshot = cluster({ compute: three, targets: three.map((i) => target(i.instanceId, 'unhealthy')), volumes: DOWN });
    expect(decideWatch(snapshot, remembered({ clusterWide: ALL_BAD }), SETTINGS, NOW).next.clusterWide?.since).toBe(ALL_BAD.since);
  });

  it('a cause does not change because the counts or the record time do', () => {
    const a = clusterWideCause(cluster({ compute: three, targets: three.map((i) => target(i.instanceId, 'unhealthy')), volumes: DOWN }));
    const b = clusterWideCause(cluster({ compute: [instance('i-01')], targets: [target('i-01', 'unhealthy')], volumes: { ...DOWN, at: ago(5) } }));
    expect(a?.kinds).toEqual(b?.kinds);
    expect(a?.text).not.toEqual(b?.text);
  });
});

describe('both rules in one run', () => {
  it('a lost launch and an unhealthy node are acted on together, and the state carries both', () => {
    const snapshot = cluster({ compute: [...three, instance('i-09', 'Pending:Wait')], targets: [target('i-01', 'unhealthy'), target('i-02', 'healthy'), target('i-03', 'healthy')] });
    const { actions, next } = decideWatch(snapshot, remembered({ unclaimed: { 'lifecycle/i-09/launch': ago(60) }, unhealthy: { 'i-01': 2 } }), SETTINGS, NOW);
    expect(actions.map(brief)).toEqual(['redrive i-09', 'mark i-01']);
    expect(Object.keys(next.inService).sort()).toEqual(['i-01', 'i-02', 'i-03']);
  });

  it('refuses settings out of range', () => {
    expect(() => decideWatch(cluster(), undefined, { ...SETTINGS, maxReplaceShare: 0 }, NOW)).toThrow(/maxReplaceShare must be above 0/);
    expect(() => decideWatch(cluster(), undefined, { ...SETTINGS, unhealthyChecks: 0 }, NOW)).toThrow(/unhealthyChecks must be a whole number of at least 1/);
  });
});
