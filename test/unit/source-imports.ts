import fs from 'node:fs';
import path from 'node:path';

/** What the source-structure tests read: module specifiers, as written. */
export interface ImportSpecifier {
  readonly specifier: string;
  /** `import type` / `export type`: erased at build time, loads nothing. */
  readonly typeOnly: boolean;
}

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Files under `dir` (relative to the repository) whose names end in one of `extensions`. */
export function filesUnder(dir: string, extensions: readonly string[] = ['.ts', '.js', '.cjs', '.mjs']): string[] {
  return fs.readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : filesUnder(rel, extensions);
    return extensions.some((ext) => entry.name.endsWith(ext)) ? [rel] : [];
  });
}

/**
 * Every module a source names: static `import`/`export ... from` (one or many
 * lines), side-effect `import '...'`, `require('...')` and `import('...')`.
 */
export function importsOf(source: string): ImportSpecifier[] {
  const found: Array<ImportSpecifier & { at: number }> = [];
  // The clause between the keyword and `from` holds no ; = ( or quote: a declaration (`export const`, `export type X =`, `export function`) never reaches a later `from`.
  for (const m of source.matchAll(/^\s*(import|export)\s+(type\s+)?[^;=('"]*?\bfrom\s+['"]([^'"]+)['"]/gm)) {
    found.push({ specifier: m[3]!, typeOnly: m[2] !== undefined, at: m.index });
  }
  for (const m of source.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) found.push({ specifier: m[1]!, typeOnly: false, at: m.index });
  for (const m of source.matchAll(/\b(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push({ specifier: m[1]!, typeOnly: false, at: m.index });
  return found.sort((a, b) => a.at - b.at).map(({ specifier, typeOnly }) => ({ specifier, typeOnly }));
}
