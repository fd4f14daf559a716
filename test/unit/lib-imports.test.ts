import fs from 'node:fs';
import path from 'node:path';
import { filesUnder, importsOf, REPO_ROOT } from './source-imports';

/**
 * No module under lib/ reaches itself through its imports: a cycle means two
 * files hold one idea, or the layers are mixed. `import type` counts: a type
 * is part of what a reader must follow. Which layer may import which is
 * test/unit/layers.test.ts.
 */

type Graph = ReadonlyMap<string, readonly string[]>;

/** The lib/ file a relative specifier of `from` names (`x` -> `x.ts` or `x/index.ts`), or undefined. */
function resolveIn(files: ReadonlySet<string>, from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.posix.join(path.posix.dirname(from), specifier);
  return [base, `${base}.ts`, `${base}/index.ts`].find((candidate) => files.has(candidate));
}

/** Each file's imports of other files of the set. */
function importGraph(sources: ReadonlyMap<string, string>): Graph {
  const files = new Set(sources.keys());
  return new Map([...sources].map(([file, source]) => [
    file,
    [...new Set(importsOf(source).map(({ specifier }) => resolveIn(files, file, specifier)).filter((f): f is string => f !== undefined))],
  ]));
}

/** Cycles as the path that closes each (`a -> b -> a`), by depth-first search: at least one through every tangle of files. */
function cyclesOf(graph: Graph): string[] {
  const found = new Set<string>();
  const done = new Set<string>();
  const walk = (file: string, trail: string[]) => {
    const at = trail.indexOf(file);
    if (at >= 0) {
      const loop = trail.slice(at);
      // The same cycle entered elsewhere is reported once: start it at its smallest name.
      const first = loop.indexOf([...loop].sort()[0] as string);
      const rotated = [...loop.slice(first), ...loop.slice(0, first)];
      found.add([...rotated, rotated[0]].join(' -> '));
      return;
    }
    if (done.has(file)) return;
    for (const next of graph.get(file) ?? []) walk(next, [...trail, file]);
    done.add(file);
  };
  for (const file of [...graph.keys()].sort()) walk(file, []);
  return [...found].sort();
}

function libGraph(): Graph {
  const files = filesUnder('lib', ['.ts']).map((f) => f.split(path.sep).join('/'));
  return importGraph(new Map(files.map((file) => [file, fs.readFileSync(path.join(REPO_ROOT, file), 'utf8')])));
}

describe('cyclesOf', () => {
  const graphOf = (edges: Record<string, string>) => importGraph(new Map(Object.entries(edges)));

  it.each([
    ['no cycle', { 'lib/a.ts': "import { b } from './b';", 'lib/b.ts': "import { c } from './c/index';", 'lib/c/index.ts': '' }, []],
    ['two files', { 'lib/a.ts': "import { b } from './b';", 'lib/b.ts': "import type { A } from './a';" }, ['lib/a.ts -> lib/b.ts -> lib/a.ts']],
    ['three files entered anywhere', {
      'lib/x/c.ts': "import { a } from '../a';",
      'lib/a.ts': "import { b } from './x/b';",
      'lib/x/b.ts': "import { c } from './c';",
    }, ['lib/a.ts -> lib/x/b.ts -> lib/x/c.ts -> lib/a.ts']],
    ['a folder import', { 'lib/a.ts': "import { c } from './c';", 'lib/c/index.ts': "export { a } from '../a';" }, ['lib/a.ts -> lib/c/index.ts -> lib/a.ts']],
    ['a package is not a file', { 'lib/a.ts': "import middy from '@middy/core';\nimport { x } from 'node:fs';" }, []],
  ])('%s', (_name, edges, expected) => {
    expect(cyclesOf(graphOf(edges))).toEqual(expected);
  });
});

describe('lib/', () => {
  const graph = libGraph();

  it('has no import cycle', () => {
    expect(graph.size).toBeGreaterThan(40);
    expect(cyclesOf(graph)).toEqual([]);
  });
});
