import fs from 'node:fs';
import path from 'node:path';
import { bodyLines, buildNotification, factLines, SUBJECT_MAX, type Fact } from '../../../lib/core/notification';
import { filesUnder, REPO_ROOT } from '../source-imports';

describe('buildNotification', () => {
  it('prefixes the stage, keeps the body, and puts the stage first among the attributes', () => {
    // Act
    const n = buildNotification({ stage: 'prod', eventType: 'storage.started', severity: 'info', subject: 'expand of pydio-data started', body: 'b', attributes: { volume: 'pydio-data' } });
    // Assess
    expect(n).toEqual({ subject: '[prod] expand of pydio-data started', body: 'b', eventType: 'storage.started', severity: 'info', attributes: { stage: 'prod', volume: 'pydio-data' } });
    expect(Object.keys(n.attributes)).toEqual(['stage', 'volume']);
  });

  it('fits the subject to SNS: one line, at most SUBJECT_MAX characters', () => {
    const n = buildNotification({ stage: 'prod', eventType: 'storage.failed', severity: 'error', subject: `line\nbreak ${'x'.repeat(200)}`, body: '', attributes: {} });
    expect(n.subject.length).toBe(SUBJECT_MAX);
    expect(n.subject.startsWith('[prod] line break x')).toBe(true);
  });
});

describe('bodyLines', () => {
  it.each([
    [['a', undefined, '', 'b'], 'a\nb'],
    [[], ''],
    [['one\ntwo'], 'one\ntwo'],
  ] as const)('%j -> %j', (lines, expected) => {
    expect(bodyLines(lines)).toBe(expected);
  });
});

describe('factLines', () => {
  it.each<[Fact[], string]>([
    [[['Instance', 'i-1'], ['Note', undefined], ['Empty', ''], ['Took', '3s']], 'Instance: i-1\nTook: 3s'],
    [[['Output (tail)', 'stderr:\nboom']], 'Output (tail):\n    stderr:\n    boom'],
    [[], ''],
  ])('%j -> %j', (rows, expected) => {
    expect(factLines(rows)).toBe(expected);
  });
});

it('every notification is built by buildNotification: besides it, only the SNS adapter (its dry-run prefix) fits a subject', () => {
  // Prepare
  const allowed = ['lib/core/notification.ts', 'lib/aws/sns.ts'];
  const files = filesUnder('lib').map((file) => file.split(path.sep).join('/'));
  // Act
  const fitting = files.filter((file) => !allowed.includes(file) && /\bfitSubject\b/.test(fs.readFileSync(path.join(REPO_ROOT, file), 'utf8')));
  // Assess
  expect(files).toEqual(expect.arrayContaining(allowed));
  expect(fitting).toEqual([]);
});
