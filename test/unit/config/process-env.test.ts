import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { filesUnder, REPO_ROOT } from '../source-imports';

/**
 * Configuration is parsed in lib/config/ and read nowhere else: no other file
 * under lib/ or functions/ touches process.env (STYLE.md, rule 6). Powertools
 * and the AWS SDK read their own variables inside their packages, which this
 * does not scan; lib/config/shared.ts lists what serverless.yml sets for
 * Powertools (POWERTOOLS_VARIABLES), lib/config/ec2-endpoint.ts what the
 * runtime sets for our EC2 call.
 */
const CONFIG = 'lib/config/';

/** Lines (1-based) where `source` reads the environment: process.env, process['env'], or env destructured from process. Comments and strings are not code. */
function environmentReads(source: string): number[] {
  const file = ts.createSourceFile('scanned.ts', source, ts.ScriptTarget.ES2022, true);
  const isProcess = (node: ts.Node): boolean =>
    (ts.isIdentifier(node) && node.text === 'process') || (ts.isPropertyAccessExpression(node) && node.name.text === 'process');
  const lines: number[] = [];
  const visit = (node: ts.Node): void => {
    const reads =
      (ts.isPropertyAccessExpression(node) && isProcess(node.expression) && node.name.text === 'env') ||
      (ts.isElementAccessExpression(node) && isProcess(node.expression) && ts.isStringLiteralLike(node.argumentExpression) && node.argumentExpression.text === 'env') ||
      (ts.isVariableDeclaration(node) && ts.isObjectBindingPattern(node.name) && node.initializer !== undefined && isProcess(node.initializer));
    if (reads) lines.push(file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1);
    ts.forEachChild(node, visit);
  };
  visit(file);
  return lines;
}

describe('environmentReads', () => {
  it.each([
    ['a variable', 'const stage = process.env.STAGE;', [1]],
    ['a default parameter', 'export function parse(env = process.env) {\n  return env;\n}', [1]],
    ['an element access', "const env = process['env'];", [1]],
    ['a destructuring', 'const x = 1;\nconst { env } = process;', [2]],
    ['through globalThis', 'const env = globalThis.process.env;', [1]],
    ['a comment', '// reads process.env\n/** process.env is parsed elsewhere */\nconst x = 1;', []],
    ['a string', "const hint = 'set process.env.STAGE';", []],
    ['another object', 'const env = subprocess.env;\nconst { argv } = options;', []],
  ])('%s: %j -> lines %j', (_name, source, expected) => {
    expect(environmentReads(source)).toEqual(expected);
  });
});

it('no file under lib/ or functions/ reads process.env, except the parsers in lib/config/', () => {
  // Prepare
  const files = [...filesUnder('lib'), ...filesUnder('functions')].map((file) => file.split(path.sep).join('/'));
  // Act
  const reads = files.flatMap((file) => environmentReads(fs.readFileSync(path.join(REPO_ROOT, file), 'utf8')).map((line) => `${file}:${line}`));
  // Assess
  expect(reads.filter((read) => read.startsWith(CONFIG)).length).toBeGreaterThan(0); // the scan sees the parsers' own reads
  expect(reads.filter((read) => !read.startsWith(CONFIG))).toEqual([]);
});
