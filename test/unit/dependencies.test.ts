import fs from 'node:fs';
import path from 'node:path';
import { filesUnder, importsOf, REPO_ROOT } from './source-imports';

/**
 * package.json `dependencies` are what the product runs: exactly the packages
 * lib/ and functions/ import at run time (the Lambda bundles, and the operator
 * CLI of lib/cli/ with its Lambda and CloudWatch Logs clients). A package only
 * the tests or the sandbox use (e.g. @aws-sdk/client-ec2, which the product
 * replaced by its own signed Query call in lib/aws/ec2-volumes.ts) is a devDependency.
 */

/** Package names a file loads at run time: `import type` is erased, node: builtins and relative paths are not packages. */
function runtimePackages(source: string): string[] {
  return importsOf(source)
    .filter(({ specifier, typeOnly }) => !typeOnly && !specifier.startsWith('.') && !specifier.startsWith('node:'))
    .map(({ specifier }) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/'));
}

describe('runtimePackages', () => {
  it.each([
    ["import { SSMClient } from '@aws-sdk/client-ssm';", ['@aws-sdk/client-ssm']],
    ["import {\n  A,\n  B,\n} from '@aws-sdk/client-auto-scaling';", ['@aws-sdk/client-auto-scaling']],
    ["import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';", ['@aws-lambda-powertools/logger']],
    ["import middy from '@middy/core';", ['@middy/core']],
    ["import type { Context } from 'aws-lambda';", []],
    ["import { createHash } from 'node:crypto';", []],
    ["import { parseXml } from '../core/storage/xml';", []],
    ["const x = require('js-yaml');", ['js-yaml']],
  ])('%j loads %j', (source, expected) => {
    expect(runtimePackages(source)).toEqual(expected);
  });
});

it('runtime dependencies are exactly the packages lib/ and functions/ load', () => {
  // Prepare
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  // lib/package-time runs inside `sls package` (devDependencies), never in a function.
  const files = [...filesUnder('lib'), ...filesUnder('functions')].filter((file) => !file.startsWith('lib/package-time/'));
  // Act
  const loaded = new Set(files.flatMap((file) => runtimePackages(fs.readFileSync(path.join(REPO_ROOT, file), 'utf8'))));
  // Assess
  expect([...loaded].sort()).toEqual(Object.keys(pkg.dependencies).sort());
});
