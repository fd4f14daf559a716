import { decisionOf, newest, noticeOf, type Entry } from '../../../lib/cli/decisions';

/** A line as Powertools' Logger writes it in Lambda (injectLambdaContext adds the function_* keys). */
const line = (fields: Record<string, unknown>) =>
  JSON.stringify({
    level: 'INFO',
    timestamp: '2026-11-21T10:00:00.123Z',
    service: 'pydio-autoscaler',
    cold_start: false,
    function_name: 'pydio-autoscaler-prod-alarm',
    function_request_id: 'req-1',
    stage: 'prod',
    ...fields,
  });
const event = (fields: Record<string, unknown>, timestamp = Date.parse('2026-11-21T10:00:00.200Z')) => ({ timestamp, message: `${line(fields)}\n` });

const DECISION = {
  message: 'scaling decision',
  alarmName: 'pydio-autoscaler-prod-compute-cpu-high',
  alarmState: 'ALARM',
  asgName: 'pydio-compute',
  decision: 'scale',
  from: 2,
  to: 3,
  outcome: 'acted',
  outcomeNote: 'desired capacity set to 3',
  why: 'CPU high: scale out by step +1',
  dryRun: false,
  notified: true,
  notice: { subject: 'scale-out pydio-compute 2->3', eventType: 'scaling.decided', severity: 'info' },
};

describe('decisionOf', () => {
  it('reads a decision line with the notice it sent, timed by the line itself', () => {
    expect(decisionOf(event(DECISION))).toEqual({
      kind: 'decision',
      at: '2026-11-21T10:00:00.123Z',
      alarmName: 'pydio-autoscaler-prod-compute-cpu-high',
      alarmState: 'ALARM',
      decision: 'scale',
      outcome: 'acted',
      outcomeNote: 'desired capacity set to 3',
      why: 'CPU high: scale out by step +1',
      group: 'pydio-compute',
      from: 2,
      to: 3,
      dryRun: false,
      notice: { subject: 'scale-out pydio-compute 2->3', eventType: 'scaling.decided', severity: 'info' },
      requestId: 'req-1',
    });
  });

  it.each<[string, string]>([
    ['a line that only quotes the phrase', line({ message: 'something else', note: 'scaling decision' })],
    ['a line without a decision', line({ message: 'scaling decision', outcome: 'acted' })],
    ['text that is not JSON', 'scaling decision at 10:00'],
    ['a JSON array', '["scaling decision"]'],
  ])('ignores %s', (_what, message) => {
    expect(decisionOf({ timestamp: 0, message })).toBeUndefined();
  });

  it('a decision logged only has no notice; a runtime prefix before the JSON is skipped', () => {
    const quiet = { ...DECISION, notified: false, notice: undefined, decision: 'none', outcome: 'no-action' };
    const d = decisionOf({ timestamp: 0, message: `2026-11-21T10:00:00.123Z\treq-1\tINFO\t${line(quiet)}` });
    expect(d).toMatchObject({ decision: 'none', outcome: 'no-action' });
    expect(d?.notice).toBeUndefined();
  });

  it('a line without a usable timestamp is timed by the event', () => {
    expect(decisionOf(event({ ...DECISION, timestamp: 'soon' }, Date.parse('2026-11-21T11:00:00Z')))?.at).toBe('2026-11-21T11:00:00.000Z');
  });
});

describe('noticeOf and newest', () => {
  const notice = (subject: string, requestId: string, at: string) =>
    event({ message: 'notification published', subject, eventType: 'storage.planned', severity: 'info', function_request_id: requestId, timestamp: at });

  it('reads a notice line, naming the function that sent it', () => {
    expect(noticeOf(notice('pydio-data expansion planned', 'r-9', '2026-11-21T10:01:00.000Z'), 'storage')).toEqual({
      kind: 'notice',
      at: '2026-11-21T10:01:00.000Z',
      function: 'storage',
      subject: 'pydio-data expansion planned',
      eventType: 'storage.planned',
      severity: 'info',
      requestId: 'r-9',
    });
    expect(noticeOf(event(DECISION), 'alarm')).toBeUndefined();
  });

  it('keeps the newest, oldest first, and drops the alarm notice its own decision already carries', () => {
    const decision = decisionOf(event(DECISION)) as Entry;
    const sameInvocation = noticeOf(notice('[dry run] scale-out', 'req-1', '2026-11-21T10:00:00.130Z'), 'alarm') as Entry;
    const otherAlarmNotice = noticeOf(notice('malformed event', 'req-2', '2026-11-21T09:00:00.000Z'), 'alarm') as Entry;
    const storage = noticeOf(notice('pydio-data expansion planned', 'req-1', '2026-11-21T10:05:00.000Z'), 'storage') as Entry;
    const old = noticeOf(notice('old', 'req-0', '2026-11-20T10:00:00.000Z'), 'lifecycle') as Entry;
    expect(newest([storage, sameInvocation, decision, otherAlarmNotice, old], 3)).toEqual([otherAlarmNotice, decision, storage]);
  });
});
