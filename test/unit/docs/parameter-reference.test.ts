/**
 * README's parameter reference is keyed by stage parameter, as users deploy
 * (issue 12): every `${param:x}` serverless.yml reads has a row, and the row
 * names the environment variable(s) the parameter sets. A parameter added
 * without its row, or a row whose variable drifted, fails here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
const template = readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8');
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The section between "### Parameter reference" and the next heading. */
function referenceSection(): string {
  const start = readme.indexOf('### Parameter reference');
  if (start < 0) throw new Error('README.md has no "### Parameter reference" section');
  const rest = readme.slice(start + 1);
  const end = rest.search(/\n#{2,3} /);
  return end < 0 ? rest : rest.slice(0, end);
}

/** Rows keyed by every parameter their first cell names in backquotes. */
function rows(): Map<string, string> {
  const byParam = new Map<string, string>();
  for (const line of referenceSection().split('\n')) {
    if (!line.startsWith('| `')) continue;
    const first = line.split('|')[1] ?? '';
    for (const m of first.matchAll(/`([A-Za-z][A-Za-z0-9]*)`/g)) byParam.set(m[1] as string, line);
  }
  return byParam;
}

/** Every stage parameter serverless.yml reads, outside comments. */
function parametersRead(): Set<string> {
  const names = new Set<string>();
  for (const line of template.split('\n')) {
    const code = line.replace(/\s#.*$/, '');
    for (const m of code.matchAll(/\$\{param:([A-Za-z][A-Za-z0-9]*)/g)) names.add(m[1] as string);
  }
  return names;
}

/** The keys of params.default (a parameter read by a plugin, such as opsSubscriptions, is only there). */
function defaultedParameters(): Set<string> {
  const block = template.split(/^  default:\n/m)[1]?.split(/^  [a-z]\w*:\n/m)[0] ?? '';
  return new Set([...block.matchAll(/^ {4}([A-Za-z][A-Za-z0-9]*):/gm)].map((m) => m[1] as string));
}

/** ENV_NAME: ${param:x} pairs of the functions' environments. */
function environmentOf(): Array<{ variable: string; param: string }> {
  const pairs: Array<{ variable: string; param: string }> = [];
  for (const m of template.matchAll(/^\s+([A-Z][A-Z0-9_]+):\s*'?\$\{param:([A-Za-z][A-Za-z0-9]*)/gm)) {
    pairs.push({ variable: m[1] as string, param: m[2] as string });
  }
  return pairs;
}

describe("README's parameter reference (keyed by stage parameter)", () => {
  const byParam = rows();

  test('serverless.yml reads parameters at all (the scan is not empty)', () => {
    expect(parametersRead().size).toBeGreaterThan(40);
    expect(environmentOf().length).toBeGreaterThan(40);
  });

  test.each([...parametersRead()].sort())('stage parameter %s has a row', (param) => {
    expect(byParam.has(param)).toBe(true);
  });

  test.each(environmentOf().map((p) => [p.param, p.variable] as const))('the row of %s names the variable %s it sets', (param, variable) => {
    expect(byParam.get(param) ?? '').toContain(`\`${variable}\``);
  });

  test('no row names a parameter that serverless.yml neither reads nor defaults', () => {
    const read = new Set([...parametersRead(), ...defaultedParameters()]);
    expect([...byParam.keys()].filter((p) => !read.has(p) && !/^[A-Z]/.test(p))).toEqual([]);
  });
});
