import type { AlarmSignal } from '../../../../lib/core/scaling/alarm-event';
import type { ScalingDecision, ScalingSnapshot } from '../../../../lib/core/scaling/decide';
import { decisionLogFields, scalingNotification, type DecisionReport } from '../../../../lib/core/scaling/messages';
import { SUBJECT_MAX } from '../../../../lib/core/notification';

const NOW = new Date('2026-11-21T10:00:00Z');
const signal: AlarmSignal = { alarmName: 'pydio-autoscaler-test-compute-cpu-high', state: 'ALARM', reason: 'Threshold Crossed', at: NOW.toISOString(), source: 'event', attempt: 0 };
const snapshot: ScalingSnapshot = {
  alarmRole: 'cpu-high', metricValue: 91.456, threshold: 70, activityInProgress: false, now: NOW, storageHealthy: { healthy: true }, dataVolume: 'pydio-data',
  group: { name: 'pydio-compute', min: 1, max: 4, desired: 2, instances: [] },
  lastActivityEnd: new Date(NOW.getTime() - 100_000),
};

function report(decision: ScalingDecision, over: Partial<DecisionReport> = {}): DecisionReport {
  return { stage: 'test', dryRun: false, signal, snapshot, cooldownSeconds: 300, decision, outcome: 'acted', notes: [], ...over };
}

const scale: ScalingDecision = { kind: 'scale', group: 'pydio-compute', direction: 'out', from: 2, to: 3, why: 'CPU high', recheckAfterSeconds: 300 };

describe('scalingNotification', () => {
  it('an acted scale-out is scaling.decided with sizes before/after, value vs threshold and cooldown', () => {
    const n = scalingNotification(report(scale));
    expect(n.eventType).toBe('scaling.decided');
    expect(n.subject).toBe('[test] scale-out pydio-compute 2->3 (pydio-autoscaler-test-compute-cpu-high)');
    expect(n.body).toContain('Value vs threshold: 91.46 vs 70');
    expect(n.body).toContain('Desired before: 2');
    expect(n.body).toContain('Desired after: 3');
    expect(n.body).toContain('Cooldown left: 3m20s of 5m00s');
    expect(n.body).toContain('Why: CPU high');
    expect(n.body).toContain('Next re-check: in 5m00s if still ALARM');
    expect(n.attributes).toMatchObject({ stage: 'test', alarmName: signal.alarmName, decision: 'scale', asgName: 'pydio-compute' });
  });

  it('a suppressed decision is scaling.suppressed naming the rule; sizes unchanged', () => {
    const n = scalingNotification(report({ kind: 'suppressed', rule: 'at-maximum', why: 'pydio-compute already at maximum 4' }, { outcome: 'no-action' }));
    expect(n.eventType).toBe('scaling.suppressed');
    expect(n.subject).toContain('scaling suppressed (at-maximum)');
    expect(n.body).toContain('Why: pydio-compute already at maximum 4');
    expect(n.body).toContain('Desired after: 2');
    expect(n.body).toContain('Next re-check: none');
    expect(n.attributes.rule).toBe('at-maximum');
  });

  it('a refused action is scaling.suppressed, a warning, saying why it was not done', () => {
    const decision: ScalingDecision = { kind: 'expand-storage', volume: 'pydio-data', sets: 1, why: 'disk high' };
    const n = scalingNotification(report(decision, { outcome: 'refused', outcomeNote: 'storage expansion is not deployed in this stage', notes: ['storage tier not deployed in this stage: expansion cannot start'] }));
    expect(n.eventType).toBe('scaling.suppressed');
    expect(n.severity).toBe('warning');
    expect(n.subject).toContain('storage expansion not started for pydio-data');
    expect(n.body).toContain('Outcome: not done: storage expansion is not deployed in this stage');
    expect(n.body).toContain('Notes: storage tier not deployed');
  });

  it('says dry run, and keeps the subject within the SNS limit', () => {
    const long: AlarmSignal = { ...signal, alarmName: 'x'.repeat(200) };
    const n = scalingNotification(report(scale, { dryRun: true, signal: long }));
    expect(n.subject.length).toBeLessThanOrEqual(SUBJECT_MAX);
    expect(n.body).toContain('Dry run: yes');
  });

  it('the log line carries the facts as keys', () => {
    expect(decisionLogFields(report(scale))).toMatchObject({
      alarmName: signal.alarmName, alarmState: 'ALARM', decision: 'scale', from: 2, to: 3, direction: 'out', asgName: 'pydio-compute', outcome: 'acted', recheckAfterSeconds: 300,
    });
  });
});
