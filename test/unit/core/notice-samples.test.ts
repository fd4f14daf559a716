import fs from 'node:fs';
import path from 'node:path';
import { filesUnder, REPO_ROOT } from '../source-imports';
import { noticeSamples } from './notice-samples';

/** "module.function" of every exported function of lib/core that returns a Notification (the notice kinds). */
function noticeFunctions(): string[] {
  const found: string[] = [];
  for (const file of filesUnder('lib/core')) {
    const rel = file.split(path.sep).join('/');
    if (rel === 'lib/core/notification.ts') continue;
    const source = fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');
    const module = rel.replace(/^lib\/core\//, '').replace(/\.ts$/, '');
    for (const match of source.matchAll(/export function (\w+)\((?:(?!export function)[\s\S])*?\):\s*Notification\b/g)) found.push(`${module}.${match[1] ?? ''}`);
  }
  return found.sort();
}

describe('noticeSamples', () => {
  const samples = noticeSamples();

  it('has a sample of every kind of notice lib/core can build (add one to notice-samples.ts for a new notice)', () => {
    const functions = noticeFunctions();
    expect(functions.length).toBeGreaterThanOrEqual(20);
    expect([...new Set(samples.map((s) => s.builder))].sort()).toEqual(functions);
  });

  it('covers every event type and severity the notices use', () => {
    expect(new Set(samples.map((s) => s.notification.severity))).toEqual(new Set(['info', 'warning', 'error']));
    expect(new Set(samples.map((s) => s.notification.eventType)).size).toBeGreaterThanOrEqual(14);
  });

  it('names each sample once', () => {
    const keys = samples.map((s) => `${s.builder} / ${s.variant}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
