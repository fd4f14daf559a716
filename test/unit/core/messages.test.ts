import { startFlow } from '../../../lib/core/compute-flow';
import type { LifecycleEvent } from '../../../lib/core/lifecycle-event';
import * as messages from '../../../lib/core/messages';
import { fitSubject, SUBJECT_MAX } from '../../../lib/core/notification';

const event: LifecycleEvent = {
  kind: 'lifecycle',
  transition: 'launch',
  groupName: 'a-rather-long-auto-scaling-group-name-for-the-compute-tier-of-pydio',
  hookName: 'hook',
  instanceId: 'i-0123456789abcdef0',
  token: 't',
  time: '2026-11-21T10:00:00Z',
};
const t0 = new Date('2026-11-21T10:00:00Z');

describe('notifications', () => {
  const state = startFlow(event, 'm', 900, t0);
  const all = [
    messages.flowStarted('prod', state, false),
    messages.flowSucceeded('prod', state, new Date(t0.getTime() + 192_000)),
    messages.flowFailed('prod', { ...state, step: 'mount-volumes' }, 'pydio-mount-volumes failed with exit code 32', 'stderr:\nmount: no route', 'ABANDON', new Date(t0.getTime() + 65_000)),
    messages.flowWarning('prod', state, 'stickiness is off'),
    messages.lifecycleSkipped('prod', event, 'duplicate'),
    messages.malformedEvent('prod', 'field EC2InstanceId is missing', '{"detail":{}}'),
  ];

  it.each(all.map((n) => [n.eventType, n]))('%s has a short one-line subject and filterable attributes', (_type, n) => {
    expect(n.subject.length).toBeLessThanOrEqual(SUBJECT_MAX);
    expect(n.subject).not.toMatch(/\n/);
    expect(n.subject.startsWith('[prod] ')).toBe(true);
    expect(n.attributes.stage).toBe('prod');
    expect(['info', 'warning', 'error']).toContain(n.severity);
  });

  it('a failure names the step, the consequence, the duration and the output', () => {
    const failed = all[2]!;
    expect(failed.subject).toContain('FAILED at mount-volumes for i-0123456789abcdef0');
    expect(failed.body).toContain('Step "mount-volumes" failed: pydio-mount-volumes failed with exit code 32');
    expect(failed.body).toContain('ABANDON');
    expect(failed.body).toContain('Failed after: 1m05s');
    expect(failed.body).toContain('    mount: no route');
    expect(failed.severity).toBe('error');
    expect(failed.attributes).toMatchObject({ instanceId: 'i-0123456789abcdef0', step: 'mount-volumes' });
  });

  it('a success says how long it took', () => {
    expect(all[1]!.body).toContain('Took: 3m12s');
  });
});

describe('formatDuration', () => {
  it.each([[0, '0s'], [59, '59s'], [60, '1m00s'], [3599, '59m59s'], [3600, '1h00m'], [-4, '0s']])('%i -> %s', (s, text) => {
    expect(messages.formatDuration(s)).toBe(text);
  });
});

describe('fitSubject', () => {
  it('folds line breaks and cuts below 100 characters (SNS: "less than 100 characters long")', () => {
    const subject = fitSubject(`a\nb ${'x'.repeat(200)}`);
    expect(subject).toHaveLength(99);
    expect(subject.startsWith('a b ')).toBe(true);
    expect(subject.endsWith('…')).toBe(true);
  });
});
