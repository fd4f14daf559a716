/**
 * Package the stack (`sls package`) for a test stage, once per source state.
 *
 * Packaging runs in a temporary copy of the project (others may package the
 * repository at the same time) and its output - the CloudFormation template
 * and one zip per function - is cached under the OS temp dir, keyed by a hash
 * of every file packaging reads plus the stage and its params. A stale cache
 * (any source changed) is simply a different key.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import projectEntries from './project-entries.json';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * What `sls package` reads; tests, the sandbox and .git stay out of the copy.
 * One list (project-entries.json) for this cache, the stack test's copy and
 * the benchmark's freshness check (test/bench/bench.cjs reads the JSON).
 */
export const PROJECT_ENTRIES: readonly string[] = projectEntries;

export interface PackageOptions {
  /** Stage name (`--stage`). */
  readonly stage: string;
  /** Stage params (`--param key=value`), e.g. computeGroupName, targetGroupArn, retryBaseSeconds. */
  readonly params: Readonly<Record<string, string>>;
  /** Project to package (default: this repository). */
  readonly projectRoot?: string;
  /** Where packaged stages are cached (default: $TMPDIR/h6-sls-cache). */
  readonly cacheDir?: string;
  /** Upper bound for `sls package` (default 300 s). */
  readonly timeoutMs?: number;
}

export interface PackagedStack {
  /** Directory holding the template and `<function>.zip` files (like `.serverless/`). */
  readonly dir: string;
  readonly templatePath: string;
  readonly template: Record<string, unknown>;
  /** Whether this call ran `sls package` (false: the cache was fresh). */
  readonly packagedNow: boolean;
}

export class PackagingError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PackagingError';
  }
}

const TEMPLATE = 'cloudformation-template-update-stack.json';
const PARAM_NAME = /^[A-Za-z][A-Za-z0-9]*$/;
const STAGE_NAME = /^[a-z][a-z0-9-]{0,15}$/;

function listFiles(root: string, entry: string): string[] {
  const full = path.join(root, entry);
  if (!fs.existsSync(full)) return [];
  const stat = fs.statSync(full);
  if (stat.isFile()) return [entry];
  const out: string[] = [];
  for (const name of fs.readdirSync(full).sort()) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    out.push(...listFiles(root, path.join(entry, name)));
  }
  return out;
}

/**
 * Everything packaging reads: the fixed entries plus the folder of every
 * `${file(./...)}` source serverless.yml names (e.g. a renderer kept elsewhere).
 */
export function packagingEntries(root: string): string[] {
  const entries = new Set(PROJECT_ENTRIES);
  const yml = path.join(root, 'serverless.yml');
  const text = fs.existsSync(yml) ? fs.readFileSync(yml, 'utf8') : '';
  for (const m of text.matchAll(/\$\{file\(\.\/([^)]+)\)/g)) {
    const rel = path.normalize(m[1] ?? '');
    if (rel.startsWith('..') || path.isAbsolute(rel)) throw new PackagingError(`serverless.yml reads ${m[1] ?? ''} from outside the project`);
    const dir = path.dirname(rel);
    entries.add(dir === '.' ? rel : dir);
  }
  return [...entries];
}

/** Hash of every file packaging reads (name + content), the stage and its params. */
export function sourceKey(root: string, stage: string, params: Readonly<Record<string, string>>): string {
  const hash = createHash('sha256');
  hash.update(`stage=${stage}\n`);
  for (const [k, v] of Object.entries(params).sort(([a], [b]) => a.localeCompare(b))) hash.update(`param ${k}=${v}\n`);
  for (const entry of packagingEntries(root)) {
    for (const file of listFiles(root, entry)) {
      hash.update(`file ${file}\n`);
      hash.update(fs.readFileSync(path.join(root, file)));
    }
  }
  return hash.digest('hex').slice(0, 20);
}

function validate(opts: PackageOptions): void {
  if (!STAGE_NAME.test(opts.stage)) throw new PackagingError(`stage ${JSON.stringify(opts.stage)} must be lower case letters, digits and dashes (at most 16)`);
  for (const [k, v] of Object.entries(opts.params)) {
    if (!PARAM_NAME.test(k)) throw new PackagingError(`param name ${JSON.stringify(k)} is not a serverless param name`);
    if (/[\r\n]/.test(v)) throw new PackagingError(`param ${k} must be one line`);
  }
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout ends sls and esbuild under npx too.
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/**
 * The packaged stack for `stage` + `params`: from the cache when the sources
 * did not change, else by running `sls package` (offline, no credentials).
 */
export async function packageStack(opts: PackageOptions): Promise<PackagedStack> {
  validate(opts);
  const root = opts.projectRoot ?? REPO_ROOT;
  for (const entry of ['serverless.yml', 'package.json']) {
    if (!fs.existsSync(path.join(root, entry))) throw new PackagingError(`${entry} is missing from ${root}: nothing to package`);
  }
  const cacheRoot = opts.cacheDir ?? path.join(os.tmpdir(), 'h6-sls-cache');
  const key = sourceKey(root, opts.stage, opts.params);
  const dir = path.join(cacheRoot, `${opts.stage}-${key}`);
  const templatePath = path.join(dir, TEMPLATE);
  if (fs.existsSync(templatePath)) {
    return { dir, templatePath, template: JSON.parse(fs.readFileSync(templatePath, 'utf8')) as Record<string, unknown>, packagedNow: false };
  }

  fs.mkdirSync(cacheRoot, { recursive: true });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'h6-sls-work-'));
  try {
    for (const entry of packagingEntries(root)) {
      const from = path.join(root, entry);
      if (fs.existsSync(from)) fs.cpSync(from, path.join(work, entry), { recursive: true });
    }
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(work, 'node_modules'), 'dir');
    const args = ['--no-install', 'sls', 'package', '--stage', opts.stage];
    for (const [k, v] of Object.entries(opts.params)) args.push(`--param=${k}=${v}`);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_SESSION_TOKEN: '',
      AWS_PROFILE: 'h6-no-such-profile',
      AWS_SHARED_CREDENTIALS_FILE: path.join(work, 'no-credentials'),
      AWS_CONFIG_FILE: path.join(work, 'no-config'),
      SLS_TELEMETRY_DISABLED: '1',
    };
    const { code, output } = await run('npx', args, work, env, opts.timeoutMs ?? 300_000);
    const produced = path.join(work, '.serverless');
    if (code !== 0 || !fs.existsSync(path.join(produced, TEMPLATE))) {
      throw new PackagingError(`sls package --stage ${opts.stage} failed (exit ${String(code)}):\n${output.trim().split('\n').slice(-25).join('\n')}`);
    }
    // Publish atomically: a half-written cache entry is never seen.
    const staging = fs.mkdtempSync(path.join(cacheRoot, '.staging-'));
    for (const name of fs.readdirSync(produced)) {
      if (name === TEMPLATE || name.endsWith('.zip') || name === 'serverless-state.json') fs.copyFileSync(path.join(produced, name), path.join(staging, name));
    }
    try {
      fs.renameSync(staging, dir);
    } catch (error) {
      // Another process published the same key first: theirs is identical.
      fs.rmSync(staging, { recursive: true, force: true });
      if (!fs.existsSync(templatePath)) throw new PackagingError(`could not publish the package to ${dir}`, { cause: error });
    }
    return { dir, templatePath, template: JSON.parse(fs.readFileSync(templatePath, 'utf8')) as Record<string, unknown>, packagedNow: true };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
