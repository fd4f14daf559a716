import fs from 'node:fs';
import path from 'node:path';
import { filesUnder, importsOf, REPO_ROOT, type ImportSpecifier } from '../source-imports';

/**
 * The sandbox emulates AWS in front of moto; the product's AWS adapters
 * (lib/aws/) are what it checks. It talks to moto with the SDK's own clients
 * (@aws-sdk/client-*), never through an adapter: an adapter that checked
 * itself would pass whatever it got wrong.
 */
const ADAPTERS = 'lib/aws';

/** The repository paths (without extension) that `file` reaches through its relative imports. */
function productModules(file: string, imports: readonly ImportSpecifier[]): string[] {
  return imports
    .filter(({ specifier }) => specifier.startsWith('.'))
    .map(({ specifier }) => path.relative(REPO_ROOT, path.resolve(REPO_ROOT, path.dirname(file), specifier)).split(path.sep).join('/'));
}

function reachesAdapters(file: string, source: string): string[] {
  return productModules(file, importsOf(source)).filter((module) => module === ADAPTERS || module.startsWith(`${ADAPTERS}/`));
}

describe('reachesAdapters', () => {
  it.each([
    ['test/sandbox/control-plane/front.ts', "import { createVolumePort } from '../../../lib/aws/ec2-volumes';", ['lib/aws/ec2-volumes']],
    ['test/sandbox/control-plane/front.ts', "import type { VolumePort } from '../../../lib/aws/ec2-volumes';", ['lib/aws/ec2-volumes']],
    ['test/sandbox/sandbox.ts', "import {\n  createSsmPort,\n} from '../../lib/aws/ssm';", ['lib/aws/ssm']],
    ['test/sandbox/lambda/worker.cjs', "const call = require('../../../lib/aws/call');", ['lib/aws/call']],
    ['test/sandbox/sandbox.ts', "const aws = await import('../../lib/aws');", ['lib/aws']],
    ['test/sandbox/control-plane/front.ts', "import { EC2Client } from '@aws-sdk/client-ec2';", []],
    ['test/sandbox/control-plane/aws-setup.ts', "import { APP_PROFILES } from '../../../lib/config';", []],
    ['test/sandbox/control-plane/front.ts', "import { wire } from './aws/wire';", []],
  ])('%s: %j reaches %j', (file, source, expected) => {
    expect(reachesAdapters(file, source)).toEqual(expected);
  });
});

it('no file under test/sandbox imports a product AWS adapter (lib/aws)', () => {
  // Prepare
  const files = filesUnder('test/sandbox');
  // Act
  const offenders = files.flatMap((file) => reachesAdapters(file, fs.readFileSync(path.join(REPO_ROOT, file), 'utf8')).map((module) => `${file} -> ${module}`));
  // Assess
  expect(files.length).toBeGreaterThan(20);
  expect(offenders).toEqual([]);
});
