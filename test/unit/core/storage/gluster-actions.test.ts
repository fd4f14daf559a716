import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load as loadYaml } from 'js-yaml';
import {
  commandParameters,
  glusterArgs,
  GLUSTER_ACTION_SPECS,
  GLUSTER_ACTIONS,
  VOLUME_SET_OPTIONS,
  type GlusterAction,
  type GlusterParameter,
  type GlusterStep,
} from '../../../../lib/core/storage/gluster-actions';

// The module is the one source of the action list and argv; the document and the
// script are copies. These tests fail when a copy adds, drops or builds differently.

const DOCS = join(__dirname, '..', '..', '..', '..', 'ssm-documents');
const SCRIPT = join(DOCS, 'scripts', 'storage-gluster-command.sh');

interface DocumentParameter { allowedValues?: string[]; allowedPattern?: string }
const document = loadYaml(readFileSync(join(DOCS, 'storage-gluster-command.yml'), 'utf8')) as { parameters: Record<string, DocumentParameter> };
const scriptText = readFileSync(SCRIPT, 'utf8');

/** The labels of every arm of each `case $action in ... esac` in the script (the `*)` arm aside). */
function caseArms(text: string): string[][] {
  const blocks = [...text.matchAll(/^\s*case \$action in\n([\s\S]*?)^\s*esac$/gm)].map((m) => m[1] as string);
  return blocks.map((block) =>
    [...block.matchAll(/^\s*([a-z][a-z-]*(?:\s*\|\s*[a-z][a-z-]*)*)\)/gm)].flatMap((m) => (m[1] as string).split('|').map((label) => label.trim())),
  );
}

const BRICKS = ['10.0.1.5:/bricks/pydio-data/brick', '10.0.2.6:/bricks/pydio-data/brick'];

const ARBITER_BRICKS = [...BRICKS, '10.0.3.7:/bricks/pydio-data/brick'];

/** A step for `action` with every parameter it reads set (two bricks, replica 2 when it reads both; no arbiter). */
function sampleStep(action: GlusterAction, over: Partial<GlusterStep> = {}): GlusterStep {
  const reads = (p: GlusterParameter) => GLUSTER_ACTION_SPECS[action].parameters.includes(p);
  return {
    kind: 'gluster',
    action,
    volume: reads('Volume') ? 'pydio-data' : '',
    ...(reads('Replica') ? { replica: 2 } : {}),
    ...(reads('Bricks') ? { bricks: BRICKS } : {}),
    ...(reads('Peer') ? { peer: '10.0.1.9' } : {}),
    ...(reads('Option') ? { option: 'cluster.quorum-type', value: 'auto' } : {}),
    ...over,
  };
}

/**
 * Every sample: each action as is, with force where it reads Force, and with replica 0
 * (the document's "none") where it reads Replica and may go without (volume-create may not).
 */
const SAMPLES: Array<[string, GlusterStep]> = GLUSTER_ACTIONS.flatMap((action) => {
  const reads = GLUSTER_ACTION_SPECS[action].parameters;
  const samples: Array<[string, GlusterStep]> = [[action, sampleStep(action)]];
  if (reads.includes('Force')) samples.push([`${action} force`, sampleStep(action, { force: true })]);
  if (reads.includes('Replica') && action !== 'volume-create') samples.push([`${action} replica 0`, sampleStep(action, { replica: 0 })]);
  if (reads.includes('Arbiter')) samples.push([`${action} replica 3 arbiter 1`, sampleStep(action, { replica: 3, arbiter: 1, bricks: ARBITER_BRICKS })]);
  if (action === 'volume-set') {
    samples.push(
      [`${action} server quorum`, sampleStep(action, { option: 'cluster.server-quorum-type', value: 'server' })],
      [`${action} server quorum lifted`, sampleStep(action, { option: 'cluster.server-quorum-type', value: 'none' })],
      [`${action} pool-wide ratio`, sampleStep(action, { volume: 'all', option: 'cluster.server-quorum-ratio', value: '51%' })],
    );
  }
  return samples;
});

describe('storage-gluster-command.yml agrees with gluster-actions', () => {
  it('allows exactly the actions of GLUSTER_ACTIONS as Action values', () => {
    expect(document.parameters.Action?.allowedValues).toEqual([...GLUSTER_ACTIONS]);
  });

  it('declares exactly Action and the parameters the actions read', () => {
    const read = new Set(GLUSTER_ACTIONS.flatMap((a) => GLUSTER_ACTION_SPECS[a].parameters));
    expect(Object.keys(document.parameters).sort()).toEqual(['Action', ...read].sort());
  });

  it.each(SAMPLES)('accepts the parameters commandParameters builds for %s', (_, step) => {
    for (const [name, value] of Object.entries(commandParameters(step))) {
      const declared = document.parameters[name] as DocumentParameter;
      if (declared.allowedValues) expect(declared.allowedValues).toContain(value);
      else expect(value).toMatch(new RegExp(declared.allowedPattern as string));
    }
  });
});

describe('volume-set options: one list in gluster-actions, repeated by the document and the script', () => {
  const options = Object.keys(VOLUME_SET_OPTIONS);
  it('the document allows exactly these options (and none)', () => {
    const alternatives = /^\^\((.*)\)\?\$$/.exec(document.parameters.Option?.allowedPattern ?? '')?.[1]?.split('|').map((a) => a.replace(/\\\./g, '.'));
    expect(alternatives).toEqual(options);
  });
  it('the script names exactly these options, each with the value pattern and scope of the list', () => {
    const block = /^\s*case \$option in\n([\s\S]*?)^\s*esac$/m.exec(scriptText)?.[1] ?? '';
    const arms = [...block.matchAll(/^\s*([a-z][a-z.-]*)\) value_re='([^']*)' scope=(\w+) ;;$/gm)].map((m) => [m[1], m[2], m[3]]);
    expect(arms).toEqual(Object.entries(VOLUME_SET_OPTIONS).map(([name, spec]) => [name, spec.values.source, spec.scope]));
  });
  it.each(Object.entries(VOLUME_SET_OPTIONS))('every value the list gives %s passes the document\'s Value pattern', (_name, spec) => {
    const pattern = new RegExp(document.parameters.Value?.allowedPattern as string);
    for (const value of ['auto', 'server', 'none', '51%', '75%', '100%'].filter((v) => spec.values.test(v))) expect(value).toMatch(pattern);
  });

  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gluster-set-'));
    writeFileSync(join(dir, 'gluster'), '#!/usr/bin/env bash\nexit 0\n');
    chmodSync(join(dir, 'gluster'), 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it.each<[string, Record<string, string>, RegExp]>([
    ['an option outside the list', { Option: 'performance.readdir-ahead', Value: 'auto' }, /not an option volume-set may set/],
    ['a value the option does not take', { Option: 'cluster.quorum-type', Value: 'none' }, /not a value volume-set may give cluster.quorum-type/],
    ['a minority ratio', { Volume: 'all', Option: 'cluster.server-quorum-ratio', Value: '50%' }, /not a value/],
    ['the ratio on a volume', { Option: 'cluster.server-quorum-ratio', Value: '51%' }, /pool-wide: SSM_Volume must be 'all'/],
    ['a volume option on all', { Volume: 'all', Option: 'cluster.server-quorum-type', Value: 'server' }, /set per volume, not on 'all'/],
    ['an option on another action', { Action: 'volume-start', Option: 'cluster.quorum-type', Value: 'auto' }, /volume-start takes no SSM_Option/],
    ['an arbiter without replica 3', { Action: 'add-brick', Replica: '2', Arbiter: '1', Bricks: BRICKS.join(','), Option: '', Value: '' }, /needs SSM_Replica 3/],
    ['an arbiter on remove-brick', { Action: 'remove-brick-start', Replica: '3', Arbiter: '1', Bricks: ARBITER_BRICKS.join(','), Option: '', Value: '' }, /remove-brick-start takes no SSM_Arbiter/],
  ])('the script refuses %s', (_name, over, message) => {
    const env = { PATH: `${dir}:${process.env.PATH ?? ''}`, SSM_Action: 'volume-set', SSM_Volume: 'pydio-data', SSM_Replica: '0', SSM_Bricks: '', SSM_Force: 'no', ...Object.fromEntries(Object.entries(over).map(([k, v]) => [`SSM_${k}`, v])) };
    const run = spawnSync('bash', [SCRIPT], { env, encoding: 'utf8' });
    expect({ exit: run.status, stderr: run.stderr }).toEqual({ exit: 1, stderr: expect.stringMatching(message) });
  });
});

describe('storage-gluster-command.sh agrees with gluster-actions', () => {
  it('has two `case $action in` lists (allow-list, argv), each naming exactly GLUSTER_ACTIONS', () => {
    const arms = caseArms(scriptText);
    expect(arms).toHaveLength(2);
    for (const labels of arms) expect([...labels].sort()).toEqual([...GLUSTER_ACTIONS].sort());
  });

  let dir: string;
  beforeAll(() => {
    // A stand-in gluster: no volume exists yet, the peer to detach is in the pool, and
    // the argv of any other call (the operation itself) is recorded, NUL-separated.
    dir = mkdtempSync(join(tmpdir(), 'gluster-actions-'));
    writeFileSync(
      join(dir, 'gluster'),
      [
        '#!/usr/bin/env bash',
        'case " $* " in',
        '  *" volume info "*) exit 1 ;;',
        `  *" pool list "*) printf 'UUID\\tHostname\\tState\\nbbbb\\t%s\\tDisconnected\\n' "$SSM_Peer" ;;`,
        `  *) printf '%s\\0' "$@" >"$GLUSTER_ARGV" ;;`,
        'esac',
        '',
      ].join('\n'),
    );
    chmodSync(join(dir, 'gluster'), 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(SAMPLES)('runs gluster with glusterArgs for %s', (name, step) => {
    const argvFile = join(dir, `${name.replace(/ /g, '-')}.argv`);
    const env: Record<string, string> = { PATH: `${dir}:${process.env.PATH ?? ''}`, GLUSTER_ARGV: argvFile, SSM_Peer: '' };
    for (const [param, value] of Object.entries(commandParameters(step))) env[`SSM_${param}`] = value;
    const run = spawnSync('bash', [SCRIPT], { env, encoding: 'utf8' });
    expect({ exit: run.status, stderr: run.status === 0 ? '' : run.stderr }).toEqual({ exit: 0, stderr: '' });
    const argv = readFileSync(argvFile, 'utf8').split('\0').slice(0, -1);
    // gluster answers `heal ... full` in plain text, so the script asks for XML on every other action.
    const xml = step.action === 'heal-full' ? [] : ['--xml'];
    expect(argv).toEqual(['--mode=script', ...xml, ...glusterArgs(step)]);
  });
});

describe('GLUSTER_ACTION_SPECS', () => {
  it.each([...GLUSTER_ACTIONS])('the argv of %s depends only on the parameters it reads', (action) => {
    const reads = GLUSTER_ACTION_SPECS[action].parameters;
    const others: Partial<GlusterStep> = {
      ...(reads.includes('Volume') ? {} : { volume: 'other-volume' }),
      ...(reads.includes('Replica') ? {} : { replica: 3 }),
      ...(reads.includes('Bricks') ? {} : { bricks: ['10.0.3.7:/elsewhere'] }),
      ...(reads.includes('Force') ? {} : { force: true }),
      ...(reads.includes('Peer') ? {} : { peer: '10.0.3.8' }),
      ...(reads.includes('Arbiter') ? {} : { arbiter: 1 }),
      ...(reads.includes('Option') ? {} : { option: 'cluster.server-quorum-type' }),
      ...(reads.includes('Value') ? {} : { value: 'none' }),
    };
    expect(glusterArgs(sampleStep(action, others))).toEqual(glusterArgs(sampleStep(action)));
  });
});
