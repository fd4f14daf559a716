/**
 * The contract catalogue (issue 8): one YAML list per area under test/contracts/catalogue/.
 * This module loads it and says what is wrong with it; the unit test and the count script use it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { load as loadYaml } from 'js-yaml';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const CATALOGUE_DIR = join(__dirname, 'catalogue');
export const FOUND = ['ok', 'wrong-before', 'gap'] as const;
const REFERENCE_FIELDS = ['product', 'enforced_by', 'proven_by'] as const;
const ID = /^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$/;

export interface Entry {
  area: string;
  index: number;
  raw: Record<string, unknown>;
}

/** Every entry of every area file, in file order, with the area (file name without .yml) it came from. */
export function loadCatalogue(dir = CATALOGUE_DIR): Entry[] {
  const entries: Entry[] = [];
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.yml')).sort()) {
    const area = file.replace(/\.yml$/, '');
    let parsed: unknown;
    try {
      parsed = loadYaml(readFileSync(join(dir, file), 'utf8'));
    } catch (error) {
      throw new Error(`${file}: not valid YAML (quote a value that holds ': ' or ' #'): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    if (parsed === undefined || parsed === null) continue;
    if (!Array.isArray(parsed)) throw new Error(`${file}: expected a YAML list of entries`);
    parsed.forEach((raw, index) => entries.push({ area, index, raw: raw as Record<string, unknown> }));
  }
  return entries;
}

const text = (value: unknown): value is string => typeof value === 'string' && value.trim().length > 0;

/** `path#needle`: the file exists under root and contains the needle (the first '#' splits them). */
export function checkReference(ref: string, root = REPO_ROOT): string | undefined {
  const at = ref.indexOf('#');
  if (at <= 0 || at === ref.length - 1) return `'${ref}' is not path#needle`;
  const path = ref.slice(0, at);
  const needle = ref.slice(at + 1);
  const file = join(root, path);
  if (!existsSync(file) || !statSync(file).isFile()) return `'${path}' is not a file`;
  if (!readFileSync(file, 'utf8').includes(needle)) return `'${path}' does not contain '${needle}'`;
  return undefined;
}

const isNone = (value: unknown): value is string => typeof value === 'string' && /^none: \S/.test(value);
/** moto itself enforces it (checked by running moto): allowed whatever `found` says. */
const isMoto = (value: unknown): boolean => typeof value === 'string' && /^none: moto \S/.test(value);

/** The problems of one entry, each a sentence; [] when it is well formed. */
export function checkEntry(raw: Record<string, unknown>, root = REPO_ROOT): string[] {
  const problems: string[] = [];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return ['an entry must be a mapping'];
  if (!text(raw.id) || !ID.test(raw.id)) problems.push(`id '${String(raw.id)}' must be lower-case and dotted`);
  if (!text(raw.contract)) problems.push('contract is missing');
  const source = raw.source as Record<string, unknown> | undefined;
  if (!source || typeof source !== 'object') problems.push('source is missing');
  else {
    if (!text(source.title)) problems.push('source.title is missing');
    if (!text(source.quote)) problems.push('source.quote is missing');
    const hasUrl = text(source.url) && /^https?:\/\/\S+$/.test(source.url);
    const hasRepo = text(source.repo) && /^[\w.-]+\/[\w.-]+$/.test(source.repo) && text(source.path);
    if (!hasUrl && !hasRepo) problems.push('source needs an http(s) url, or repo (owner/name) and path');
  }
  const found = raw.found;
  if (!FOUND.includes(found as (typeof FOUND)[number])) problems.push(`found '${String(found)}' is not one of ${FOUND.join(', ')}`);
  for (const field of REFERENCE_FIELDS) {
    const value = raw[field];
    const refs = Array.isArray(value) ? value : [value];
    if (refs.length === 0 || !refs.every(text)) {
      problems.push(`${field} is missing`);
      continue;
    }
    for (const ref of refs as string[]) {
      if (isNone(ref)) {
        if (field === 'product') problems.push('product cannot be none: an entry is a contract the product relies on');
        else if (found !== 'gap' && !(field === 'enforced_by' && isMoto(ref))) problems.push(`${field} is 'none: ...' but found is '${String(found)}' (only a gap may lack it)`);
        continue;
      }
      const problem = checkReference(ref, root);
      if (problem) problems.push(`${field}: ${problem}`);
    }
  }
  if (found === 'gap' && !refsOf(raw.enforced_by).some(isNone)) problems.push("a gap says why in enforced_by ('none: <why>')");
  return problems;
}

const refsOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

/** Every problem of the catalogue, each prefixed with area, index and id. */
export function checkCatalogue(entries: Entry[], root = REPO_ROOT): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const { area, index, raw } of entries) {
    const where = `${area}.yml[${index}] ${String(raw?.id)}`;
    for (const problem of checkEntry(raw, root)) problems.push(`${where}: ${problem}`);
    const id = String(raw?.id);
    if (seen.has(id)) problems.push(`${where}: id also used by ${seen.get(id)}`);
    else seen.set(id, `${area}.yml[${index}]`);
  }
  return problems;
}

export interface AreaCount {
  area: string;
  entries: number;
  wrongBefore: number;
  gaps: number;
}

/** Entries, wrong-before and gaps per area, and a total row last. */
export function countByArea(entries: Entry[]): AreaCount[] {
  const rows = new Map<string, AreaCount>();
  for (const { area, raw } of entries) {
    const row = rows.get(area) ?? { area, entries: 0, wrongBefore: 0, gaps: 0 };
    row.entries += 1;
    if (raw?.found === 'wrong-before') row.wrongBefore += 1;
    if (raw?.found === 'gap') row.gaps += 1;
    rows.set(area, row);
  }
  const list = [...rows.values()];
  const total = list.reduce((sum, row) => ({ area: 'total', entries: sum.entries + row.entries, wrongBefore: sum.wrongBefore + row.wrongBefore, gaps: sum.gaps + row.gaps }), { area: 'total', entries: 0, wrongBefore: 0, gaps: 0 });
  return [...list, total];
}
