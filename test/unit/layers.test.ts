import fs from 'node:fs';
import path from 'node:path';
import { filesUnder, importsOf, REPO_ROOT } from './source-imports';

/**
 * The core imports nothing from adapters (STYLE.md, 13). Port types live in
 * lib/ports/; lib/core/ and lib/usecases/ import them, lib/aws/ implements
 * them, and only the composition root builds the adapters. `import type`
 * counts too: a type taken from an adapter ties the core to its file.
 */
interface LayerRule {
  /** Folder whose files the rule reads. */
  readonly layer: string;
  /** Folders (repository paths) and package prefixes its files must not reach. */
  readonly forbidden: readonly string[];
  /** Files of the layer the rule does not apply to. */
  readonly except?: readonly string[];
}

/** Where the adapters are built, once per cold start: the one use-case file that may import lib/aws/. */
const COMPOSITION_ROOT = 'lib/usecases/context.ts';
/** The operator CLI's composition root: the one CLI file that builds adapters. */
const CLI_ROOT = 'lib/cli/main.ts';

const RULES: readonly LayerRule[] = [
  { layer: 'lib/core', forbidden: ['lib/aws', 'lib/usecases', 'functions', '@aws-sdk/'] },
  { layer: 'lib/ports', forbidden: ['lib/aws', 'lib/usecases', 'functions', '@aws-sdk/'] },
  { layer: 'lib/usecases', forbidden: ['lib/aws', 'functions', '@aws-sdk/'], except: [COMPOSITION_ROOT] },
  { layer: 'lib/cli', forbidden: ['lib/aws', 'functions', '@aws-sdk/'], except: [CLI_ROOT] },
];

/** What a file names: a repository path (no extension) for a relative import, the package name otherwise. */
function reachedModules(file: string, source: string): string[] {
  return importsOf(source).map(({ specifier }) =>
    specifier.startsWith('.')
      ? path.relative(REPO_ROOT, path.resolve(REPO_ROOT, path.dirname(file), specifier)).split(path.sep).join('/')
      : specifier,
  );
}

function isUnder(module: string, forbidden: string): boolean {
  return forbidden.endsWith('/') ? module.startsWith(forbidden) : module === forbidden || module.startsWith(`${forbidden}/`);
}

/** "file -> module" for each import of `file` that its layer's rule forbids. */
function violations(file: string, source: string, rules: readonly LayerRule[] = RULES): string[] {
  const rule = rules.find(({ layer }) => isUnder(file, layer));
  if (!rule || rule.except?.includes(file)) return [];
  return reachedModules(file, source)
    .filter((module) => rule.forbidden.some((forbidden) => isUnder(module, forbidden)))
    .map((module) => `${file} -> ${module}`);
}

describe('violations', () => {
  it.each([
    ['lib/core/decisions.ts', "import type { CommandInvocation } from '../aws/ssm';", ['lib/core/decisions.ts -> lib/aws/ssm']],
    ['lib/core/storage/expand.ts', "import {\n  planSteps,\n} from '../../usecases/storage/cluster';", ['lib/core/storage/expand.ts -> lib/usecases/storage/cluster']],
    ['lib/core/messages.ts', "const sns = require('../aws/sns');", ['lib/core/messages.ts -> lib/aws/sns']],
    ['lib/core/flow.ts', "import { SSMClient } from '@aws-sdk/client-ssm';", ['lib/core/flow.ts -> @aws-sdk/client-ssm']],
    ['lib/ports/ssm.ts', "export type { AdapterOptions } from '../aws/call';", ['lib/ports/ssm.ts -> lib/aws/call']],
    ['lib/usecases/alarm.ts', "import type { QueuePort } from '../aws/sqs';", ['lib/usecases/alarm.ts -> lib/aws/sqs']],
    ['lib/core/decisions.ts', "import type { CommandInvocation } from '../ports/ssm';", []],
    ['lib/core/storage/xml.ts', "import { MalformedEventError } from '../../errors';", []],
    ['lib/core/awsome.ts', "import { x } from './aws-like';", []],
    ['lib/ports/sns.ts', "import type { Notification } from '../core/notification';", []],
    [COMPOSITION_ROOT, "import { createSsmPort } from '../aws/ssm';", []],
    ['lib/cli/commands.ts', "import { createLogReader } from '../aws/logs';", ['lib/cli/commands.ts -> lib/aws/logs']],
    ['lib/cli/render.ts', "import { InvokeCommand } from '@aws-sdk/client-lambda';", ['lib/cli/render.ts -> @aws-sdk/client-lambda']],
    [CLI_ROOT, "import { createLogReader } from '../aws/logs';", []],
    ['lib/aws/ssm.ts', "import type { SsmPort } from '../ports/ssm';", []],
  ])('%s: %j breaks %j', (file, source, expected) => {
    expect(violations(file, source)).toEqual(expected);
  });
});

it('lib/core/, lib/ports/, the use cases and the CLI (but their composition roots) import no adapter, no SDK and no handler', () => {
  // Prepare
  const files = RULES.flatMap(({ layer }) => filesUnder(layer));
  // Act
  const offenders = files.flatMap((file) => violations(file, fs.readFileSync(path.join(REPO_ROOT, file), 'utf8')));
  // Assess
  expect(files.length).toBeGreaterThan(40);
  expect(offenders).toEqual([]);
});

it('lib/ports/ holds types only: every import in it is `import type`', () => {
  // Prepare
  const files = filesUnder('lib/ports');
  // Act
  const loaded = files.flatMap((file) =>
    importsOf(fs.readFileSync(path.join(REPO_ROOT, file), 'utf8'))
      .filter(({ typeOnly }) => !typeOnly)
      .map(({ specifier }) => `${file} -> ${specifier}`),
  );
  // Assess
  expect(files.length).toBeGreaterThan(5);
  expect(loaded).toEqual([]);
});
