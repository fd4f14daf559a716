#!/usr/bin/env node
/*
 * Package benchmark (`npm run bench`): for every function of the stack prints
 * bundle bytes (unzipped .js), zip bytes and the median cold init - the time to
 * `require()` the bundle in a fresh `node` process with the function's
 * environment set to dummy values - and PASS/FAIL against the targets
 * (zip <= 200 KB, median init <= 80 ms). Then, if test/bench/flows.ts exists,
 * runs it (AWS API calls per flow) and prints its output. Then
 * test/bench/expansion.ts: one storage expansion in a real sandbox, its time
 * split into Gluster's own work and our control plane's overhead (skipped with
 * the reason printed when the machine cannot run the sandbox, or with
 * PAS_BENCH_EXPANSION=0; about 2 minutes otherwise). Then test/bench/compute.ts: one
 * compute scale-out (0 -> 1) and scale-in (1 -> 0) in a real sandbox, each flow's wall time
 * split into what was running (launch + agent registration, documents, health checks, drain)
 * and the control plane's overhead, with the lifecycle function's AWS API calls
 * (PAS_BENCH_COMPUTE=0 skips it; PAS_BENCH_TIMINGS=realistic, the default, runs it with the
 * production waits and a 30 s agent registration, =sandbox with the sandbox's 1-2 s waits;
 * the expansion bench takes the same switch). Only when asked
 * (PAS_BENCH_CONTROL_PLANE=1, or the sizes, e.g. PAS_BENCH_CONTROL_PLANE=1,10):
 * test/bench/control-plane.ts, N simultaneous launches and scale-ins with
 * throttling on and production retry delays (minutes per size; also
 * `npm run bench:control-plane -- --sizes 1,10,50`).
 *
 * Figures only: nothing here asserts on time. Exit code is non-zero only when
 * the package cannot be built or read.
 *
 * Usage: node test/bench/bench.cjs [--runs N] [--repackage]
 *   Reuses .serverless/ when it is newer than every source file, else packages.
 */
'use strict';

const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');

const ROOT = path.resolve(__dirname, '..', '..');
const PACKAGE_DIR = path.join(ROOT, '.serverless');
const TEMPLATE = path.join(PACKAGE_DIR, 'cloudformation-template-update-stack.json');
const TARGET_ZIP_BYTES = 200 * 1024;
const TARGET_INIT_MS = 80;
/** What `sls package` reads: the list the sandbox's package cache and the stack test use. */
const SOURCES = require('../sandbox/stack/project-entries.json');

function parseArgs(argv) {
  const args = { runs: 21, repackage: false };
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--repackage') args.repackage = true;
    else if (argv[i] === '--runs') {
      const n = Number(argv[i + 1]);
      if (!Number.isInteger(n) || n < 20 || n > 500) throw new Error(`--runs must be a whole number from 20 to 500, got ${argv[i + 1]}`);
      args.runs = n;
      i += 1;
    } else throw new Error(`unknown argument ${JSON.stringify(argv[i])} (known: --runs N, --repackage)`);
  }
  return args;
}

/** Newest modification time under the given paths (bounded walk, skips node_modules). */
function newestMtime(paths) {
  let newest = 0;
  const stack = paths.map((p) => path.join(ROOT, p)).filter((p) => fs.existsSync(p));
  let visited = 0;
  while (stack.length > 0 && visited < 20000) {
    const current = stack.pop();
    visited += 1;
    const stat = fs.statSync(current);
    newest = Math.max(newest, stat.mtimeMs);
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(current)) if (entry !== 'node_modules') stack.push(path.join(current, entry));
    }
  }
  return newest;
}

function isPackageFresh() {
  if (!fs.existsSync(TEMPLATE)) return false;
  const zips = fs.readdirSync(PACKAGE_DIR).filter((f) => f.endsWith('.zip'));
  if (zips.length === 0) return false;
  const built = Math.min(...zips.map((z) => fs.statSync(path.join(PACKAGE_DIR, z)).mtimeMs), fs.statSync(TEMPLATE).mtimeMs);
  return built > newestMtime(SOURCES);
}

function packageStack() {
  process.stderr.write('bench: packaging (npx sls package)...\n');
  const result = spawnSync('npx', ['--no-install', 'sls', 'package'], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  if (result.status !== 0) {
    throw new Error(`sls package failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
}

/** Minimal ZIP reader (central directory + stored/deflate entries): no unzip binary needed. */
function readZip(file) {
  const buf = fs.readFileSync(file);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i -= 1) {
    if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error(`${file} is not a zip file (no end of central directory)`);
  const count = buf.readUInt16LE(eocd + 10);
  let offset = buf.readUInt32LE(eocd + 16);
  const entries = [];
  for (let n = 0; n < count; n += 1) {
    if (buf.readUInt32LE(offset) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${n}`);
    const method = buf.readUInt16LE(offset + 10);
    const compressedSize = buf.readUInt32LE(offset + 20);
    const nameLength = buf.readUInt16LE(offset + 28);
    const extraLength = buf.readUInt16LE(offset + 30);
    const commentLength = buf.readUInt16LE(offset + 32);
    const localOffset = buf.readUInt32LE(offset + 42);
    const name = buf.toString('utf8', offset + 46, offset + 46 + nameLength);
    offset += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith('/')) continue;
    const localNameLength = buf.readUInt16LE(localOffset + 26);
    const localExtraLength = buf.readUInt16LE(localOffset + 28);
    const start = localOffset + 30 + localNameLength + localExtraLength;
    const raw = buf.subarray(start, start + compressedSize);
    let data;
    if (method === 0) data = raw;
    else if (method === 8) data = zlib.inflateRawSync(raw);
    else throw new Error(`${file}: entry ${name} uses unsupported compression method ${method}`);
    entries.push({ name, data });
  }
  return entries;
}

/** Dummy value for an environment variable whose template value is not a plain string. */
function dummyValue(name, value) {
  if (typeof value === 'string') return value;
  if (name.endsWith('_QUEUE_URL')) return 'https://sqs.eu-west-1.amazonaws.com/123456789012/bench-queue';
  if (name.endsWith('_ARN')) return 'arn:aws:sns:eu-west-1:123456789012:bench-topic';
  if (name.startsWith('DOC_')) return `bench-${name.slice(4).toLowerCase().replace(/_/g, '-')}`;
  // lib/config/storage.ts takes only AmazonCloudWatch-* (the parameter the agent's managed policy reads).
  if (name === 'STORAGE_AGENT_CONFIG_PARAMETER') return 'AmazonCloudWatch-bench';
  return 'bench';
}

const INIT_PROBE = `
const start = process.hrtime.bigint();
require(process.argv[1]);
const end = process.hrtime.bigint();
process.stdout.write(String(Number(end - start) / 1e6));
`;

function measureInit(bundleFile, env, runs) {
  const samples = [];
  for (let i = 0; i < runs; i += 1) {
    const result = spawnSync(process.execPath, ['-e', INIT_PROBE, bundleFile], { env, encoding: 'utf8', timeout: 30_000 });
    if (result.status !== 0) throw new Error(`require(${bundleFile}) failed:\n${result.stderr}`);
    samples.push(Number(result.stdout));
  }
  samples.sort((a, b) => a - b);
  const mid = Math.floor(samples.length / 2);
  return samples.length % 2 ? samples[mid] : (samples[mid - 1] + samples[mid]) / 2;
}

function functionsOf(template) {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([logicalId, r]) => {
      const key = r.Properties.Code && r.Properties.Code.S3Key;
      if (typeof key !== 'string') throw new Error(`${logicalId} has no S3Key code location in the template`);
      return {
        logicalId,
        name: r.Properties.FunctionName,
        zip: path.join(PACKAGE_DIR, path.basename(key)),
        handler: r.Properties.Handler,
        variables: (r.Properties.Environment && r.Properties.Environment.Variables) || {},
      };
    });
}

function benchFunction(fn, runs) {
  if (!fs.existsSync(fn.zip)) throw new Error(`${fn.logicalId}: ${fn.zip} not found; run with --repackage`);
  const zipBytes = fs.statSync(fn.zip).size;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h3-bench-'));
  try {
    let bundleBytes = 0;
    for (const entry of readZip(fn.zip)) {
      const target = path.join(dir, entry.name);
      if (!target.startsWith(dir + path.sep)) throw new Error(`${fn.zip}: entry ${entry.name} escapes the folder`);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, entry.data);
      if (entry.name.endsWith('.js') || entry.name.endsWith('.cjs') || entry.name.endsWith('.mjs')) bundleBytes += entry.data.length;
    }
    const handlerModule = fn.handler.slice(0, fn.handler.lastIndexOf('.'));
    const bundleFile = path.join(dir, `${handlerModule}.js`);
    if (!fs.existsSync(bundleFile)) throw new Error(`${fn.logicalId}: handler module ${handlerModule}.js is not in ${fn.zip}`);
    const env = {
      PATH: process.env.PATH,
      AWS_REGION: 'eu-west-1',
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      NODE_PATH: '', // the bundle must stand alone, as in Lambda: no node_modules to fall back on
    };
    for (const [name, value] of Object.entries(fn.variables)) env[name] = dummyValue(name, value);
    const initMs = measureInit(bundleFile, env, runs);
    return { bundleBytes, zipBytes, initMs };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function kb(bytes) {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.repackage || !isPackageFresh()) packageStack();
  else process.stderr.write('bench: reusing .serverless/ (newer than every source)\n');
  const template = JSON.parse(fs.readFileSync(TEMPLATE, 'utf8'));
  const functions = functionsOf(template);
  if (functions.length === 0) throw new Error(`${TEMPLATE} declares no Lambda function`);

  const load = os.loadavg()[0].toFixed(2);
  console.log(`targets: zip <= ${kb(TARGET_ZIP_BYTES)}, median cold init <= ${TARGET_INIT_MS} ms (${args.runs} runs, node ${process.version})`);
  // init times scale with machine load: read them against this figure
  console.log(`machine: ${os.cpus().length} cores, load average (1 min) ${load} at start`);
  console.log(['function', 'bundle', 'zip', 'init(median)', 'zip', 'init'].join('\t'));
  for (const fn of functions) {
    const r = benchFunction(fn, args.runs);
    console.log([
      fn.name,
      kb(r.bundleBytes),
      kb(r.zipBytes),
      `${r.initMs.toFixed(1)} ms`,
      r.zipBytes <= TARGET_ZIP_BYTES ? 'PASS' : 'FAIL',
      r.initMs <= TARGET_INIT_MS ? 'PASS' : 'FAIL',
    ].join('\t'));
  }

  const flows = path.join(__dirname, 'flows.ts');
  if (fs.existsSync(flows)) {
    console.log('\nAWS API calls per flow (test/bench/flows.ts):');
    const out = execFileSync('npx', ['--no-install', 'tsx', flows], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    process.stdout.write(out);
  }

  const expansion = path.join(__dirname, 'expansion.ts');
  if (fs.existsSync(expansion)) {
    console.log('\nStorage expansion in the sandbox, Gluster vs control plane (test/bench/expansion.ts):');
    if (process.env.PAS_BENCH_EXPANSION === '0') {
      console.log('skipped: PAS_BENCH_EXPANSION=0');
    } else {
      // tsx relays a timeout's SIGTERM to the bench, whose sandbox stops on it (handleSignals).
      const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');
      const r = spawnSync(tsx, [expansion], { cwd: ROOT, encoding: 'utf8', timeout: 1_800_000, killSignal: 'SIGTERM' });
      process.stdout.write(r.stdout ?? '');
      if (r.status !== 0) {
        const tail = (r.stderr ?? '').trim().split('\n').slice(-5).join('\n');
        console.log(`expansion bench FAILED (${r.error ? r.error.message : `exit ${r.status}`}):\n${tail}`);
      }
    }
  }

  const compute = path.join(__dirname, 'compute.ts');
  if (fs.existsSync(compute)) {
    console.log('\nCompute scale-out and scale-in in the sandbox, running vs control plane (test/bench/compute.ts):');
    if (process.env.PAS_BENCH_COMPUTE === '0') {
      console.log('skipped: PAS_BENCH_COMPUTE=0');
    } else {
      const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');
      const r = spawnSync(tsx, [compute], { cwd: ROOT, encoding: 'utf8', timeout: 1_800_000, killSignal: 'SIGTERM' });
      process.stdout.write(r.stdout ?? '');
      if (r.status !== 0) {
        const tail = (r.stderr ?? '').trim().split('\n').slice(-5).join('\n');
        console.log(`compute bench FAILED (${r.error ? r.error.message : `exit ${r.status}`}):\n${tail}`);
      }
    }
  }

  const controlPlane = path.join(__dirname, 'control-plane.ts');
  if (fs.existsSync(controlPlane)) {
    console.log('\nControl plane at 1, 10 and 50 simultaneous launches, throttling on (test/bench/control-plane.ts):');
    const asked = process.env.PAS_BENCH_CONTROL_PLANE ?? '';
    if (asked === '' || asked === '0') {
      console.log('skipped: takes minutes per size; run it with PAS_BENCH_CONTROL_PLANE=1 (all sizes) or =1,10 (those sizes), or npm run bench:control-plane');
    } else {
      const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');
      const sizes = asked === '1' ? [] : ['--sizes', asked];
      const r = spawnSync(tsx, [controlPlane, ...sizes], { cwd: ROOT, encoding: 'utf8', timeout: 3_600_000, killSignal: 'SIGTERM' });
      process.stdout.write(r.stdout ?? '');
      if (r.status !== 0) {
        const tail = (r.stderr ?? '').trim().split('\n').slice(-5).join('\n');
        console.log(`control-plane bench FAILED (${r.error ? r.error.message : `exit ${r.status}`}):\n${tail}`);
      }
    }
  }
}

try {
  main();
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
