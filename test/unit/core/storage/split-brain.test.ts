import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MalformedEventError, StepFailedError } from '../../../../lib/errors';
import { parseStatusBundle } from '../../../../lib/core/storage/gluster-parse';
import { parseHealInfoSplitBrain, splitBrainFiles, SPLIT_BRAIN_FILES_PER_BRICK } from '../../../../lib/core/storage/split-brain';

const FIXTURES = join(__dirname, 'fixtures');
const fixture = (name: string) => readFileSync(join(FIXTURES, `${name}.xml`), 'utf8');
const SCRIPT = join(__dirname, '..', '..', '..', '..', 'ssm-documents', 'scripts', 'storage-gluster-status.sh');

describe('heal info split-brain (genuine glusterfs 10.3 output)', () => {
  it('lists each brick with its files, status and count; one brick names them by gfid, the other by path', () => {
    const info = parseHealInfoSplitBrain(fixture('heal-info-split-brain'));
    expect(info.bricks.map((b) => [b.host, b.path, b.connected, b.entries, b.files.length])).toEqual([
      ['10.96.0.11', '/srv/bricks/pydio-config/brick', true, 3, 3],
      ['10.96.0.12', '/srv/bricks/pydio-config/brick', true, 3, 3],
    ]);
    expect(info.bricks[0]!.files[0]).toEqual({ gfid: '49a67f4c-391c-4287-aa86-d1e3fc6e9a9e', path: '<gfid:49a67f4c-391c-4287-aa86-d1e3fc6e9a9e>' });
  });

  it('the distinct files: one per gfid, the resolved path preferred, sorted', () => {
    expect(splitBrainFiles(parseHealInfoSplitBrain(fixture('heal-info-split-brain'))).map((f) => f.path)).toEqual([
      '/conf/bootstrap.json',
      '/conf/plugins conf.json',
      '/conf/users.json',
    ]);
  });

  it('a file only ever named by gfid stays named by gfid', () => {
    const xml = fixture('heal-info-split-brain').replace('/conf/users.json', '&lt;gfid:7603e8fd-2666-4402-8a7c-d112a16e2bbb&gt;');
    expect(splitBrainFiles(parseHealInfoSplitBrain(xml)).map((f) => f.path)).toContain('<gfid:7603e8fd-2666-4402-8a7c-d112a16e2bbb>');
  });

  it('a brick that could not be asked counts nothing and is not connected', () => {
    const xml = fixture('heal-info-split-brain').replace(/<status>Connected<\/status>\s*<numberOfEntries>3<\/numberOfEntries>/, '<status>Transport endpoint is not connected</status><numberOfEntries>-</numberOfEntries>');
    const [first] = parseHealInfoSplitBrain(xml).bricks;
    expect(first).toEqual(expect.objectContaining({ connected: false, entries: 0, status: 'Transport endpoint is not connected' }));
  });

  it.each([
    ['a file without its gfid', (x: string) => x.replace('gfid="d40e3bbc-6d9c-468d-a4ab-5643d091aeb2"', ''), /has no gfid attribute/],
    ['more files listed than counted', (x: string) => x.replace('<numberOfEntries>3</numberOfEntries>', '<numberOfEntries>2</numberOfEntries>'), /lists 3 files but counts 2/],
    ['a brick that is not host:/path', (x: string) => x.replace('10.96.0.11:/srv', '10.96.0.11-srv'), /is not host:\/path/],
    ['cut output', (x: string) => x.slice(0, x.indexOf('</bricks>')), /malformed XML/],
  ])('refuses %s', (_name, change, message) => {
    expect(() => parseHealInfoSplitBrain(change(fixture('heal-info-split-brain')))).toThrow(MalformedEventError);
    expect(() => parseHealInfoSplitBrain(change(fixture('heal-info-split-brain')))).toThrow(message);
  });

  it("a refusal is gluster's own words", () => {
    const xml = '<?xml version="1.0"?><cliOutput><opRet>-1</opRet><opErrno>2</opErrno><opErrstr>Volume pydio-x does not exist</opErrstr></cliOutput>';
    expect(() => parseHealInfoSplitBrain(xml)).toThrow(StepFailedError);
    expect(() => parseHealInfoSplitBrain(xml)).toThrow(/Volume pydio-x does not exist/);
  });
});

describe('storage-gluster-status.sh lists split-brain files within SPLIT_BRAIN_FILES_PER_BRICK, and the bundle parses', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'split-brain-'));
    // 120 entries on each brick of pydio-data; the summary is the genuine split-brain one.
    const files = (b: number) => Array.from({ length: 120 }, (_, i) => `        <file gfid="00000000-0000-4000-8000-${String(i + b * 1000).padStart(12, '0')}">/d/f-${i} &amp; co</file>`).join('\n');
    const brick = (b: number) => `      <brick hostUuid="u${b}">\n        <name>10.96.0.1${b}:/srv/bricks/pydio-data/brick</name>\n${files(b)}\n        <status>Connected</status>\n        <numberOfEntries>120</numberOfEntries>\n      </brick>`;
    writeFileSync(join(dir, 'split.xml'), `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cliOutput>\n  <healInfo>\n    <bricks>\n${brick(1)}\n${brick(2)}\n    </bricks>\n  </healInfo>\n  <opRet>0</opRet>\n  <opErrno>0</opErrno>\n  <opErrstr/>\n</cliOutput>\n`);
    writeFileSync(join(dir, 'summary.xml'), fixture('heal-info-summary-split-brain').replaceAll('pydio-config', 'pydio-data'));
    writeFileSync(join(dir, 'pool.xml'), fixture('pool-list-connected'));
    writeFileSync(join(dir, 'info.xml'), fixture('volume-info-created').replace(/<statusStr>Created<\/statusStr>/g, '<statusStr>Started</statusStr>'));
    writeFileSync(join(dir, 'detail.xml'), fixture('volume-status-detail-replica2'));
    writeFileSync(join(dir, 'rebalance.xml'), fixture('rebalance-status-not-started'));
    writeFileSync(
      join(dir, 'gluster'),
      [
        '#!/usr/bin/env bash',
        'd=$(dirname "$0")',
        'case " $* " in',
        '  *" --xml pool list "*) cat "$d/pool.xml" ;;',
        '  *" --xml volume info "*) cat "$d/info.xml" ;;',
        '  *" volume info pydio-data "*) printf "Volume Name: pydio-data\\nStatus: Started\\n" ;;',
        '  *" volume info "*) exit 1 ;;',
        '  *" volume status "*) cat "$d/detail.xml" ;;',
        '  *" rebalance "*) cat "$d/rebalance.xml"; exit 1 ;;',
        '  *" info summary "*) cat "$d/summary.xml" ;;',
        '  *" info split-brain "*) cat "$d/split.xml" ;;',
        '  *) echo "unexpected $*" >&2; exit 99 ;;',
        'esac',
        '',
      ].join('\n'),
    );
    chmodSync(join(dir, 'gluster'), 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds the script to SPLIT_BRAIN_FILES_PER_BRICK', () => {
    expect(readFileSync(SCRIPT, 'utf8')).toContain(`\nSPLIT_BRAIN_FILES=${SPLIT_BRAIN_FILES_PER_BRICK}\n`);
  });

  it('prints a listing cut to whole elements that parses: the first files of each brick, every count', () => {
    const run = spawnSync('bash', [SCRIPT], { env: { PATH: `${dir}:${process.env.PATH ?? ''}`, SSM_Volumes: 'pydio-data', SSM_Encoding: 'plain', GLUSTER_STATUS_DIR: join(dir, 'run') }, encoding: 'utf8' });
    expect({ exit: run.status, stderr: run.status === 0 ? '' : run.stderr }).toEqual({ exit: 0, stderr: '' });
    const bundle = parseStatusBundle(run.stdout);
    const listing = bundle.splitBrain['pydio-data']!;
    expect(listing.bricks.map((b) => [b.entries, b.files.length])).toEqual([[120, SPLIT_BRAIN_FILES_PER_BRICK], [120, SPLIT_BRAIN_FILES_PER_BRICK]]);
    expect(listing.bricks[0]!.files[0]!.path).toBe('/d/f-0 & co');
    expect(bundle.heal['pydio-data']!.splitBrain).toBe(6);
  });
});
