import fs from 'node:fs';
import path from 'node:path';
import { SUBJECT_MAX } from '../../../lib/core/notification';
import { notificationSamples, readmeBlocks, renderSample } from '../../sandbox/dashboard/readme-section';

const REPO = path.resolve(__dirname, '..', '..', '..');
const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Seeing the cluster: notifications and dashboard'));

describe('README "Seeing the cluster" shows the notifications as the code renders them', () => {
  const samples = notificationSamples();

  it('the samples are what the decision and storage code produce: a scale-out, a cooldown suppression, an expansion start, a brick offline told and restarted', () => {
    expect(samples.map((s) => [s.notification.eventType, s.notification.attributes.decision ?? s.notification.attributes.operation ?? s.notification.attributes.volume ?? s.notification.attributes.healthy])).toEqual([
      ['scaling.decided', 'scale'],
      ['scaling.suppressed', 'suppressed'],
      ['storage.planned', 'expand'],
      ['storage.health', 'false'],
      ['storage.repair', 'pydio-data'],
    ]);
    expect(samples[0]?.notification.subject).toBe('[prod] scale-out pydio-compute 2->3 (pydio-autoscaler-prod-compute-cpu-high)');
    expect(samples[1]?.notification.attributes.rule).toBe('cooldown');
    expect(samples[2]?.notification.body).toContain('gluster --mode=script volume add-brick pydio-data replica 2');
    for (const s of samples) expect(s.notification.subject.length).toBeLessThanOrEqual(SUBJECT_MAX);
  });

  it('the section exists once, near the end', () => {
    expect(readme.split('## Seeing the cluster: notifications and dashboard')).toHaveLength(2);
    expect(section.length).toBeGreaterThan(0);
  });

  it.each(notificationSamples().map((s) => [s.title, s.notification] as const))('README contains "%s" exactly', (title, notification) => {
    expect(section).toContain(`${title}:\n\n${renderSample(notification)}`);
  });

  it('every block the generator prints is in the section (run readme-section.ts to refresh)', () => {
    const { samples: blocks, layout } = readmeBlocks(REPO);
    for (const b of [...blocks, layout]) expect(section).toContain(b);
  });
});
