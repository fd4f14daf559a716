/**
 * The REAL storage-prepare-brick document (rendered by ssm-documents/render.js,
 * exactly what Run Command receives) on REAL namespaced storage hosts, each
 * with a loop device backed by a sparse file in the test's state dir.
 *
 * Asserts states, not logs:
 * - a device that already holds a file system (ext4 with a marker file) is
 *   NOT formatted: the step fails naming the refusal, the device still holds
 *   ext4 with the marker, fstab is unchanged and nothing is mounted;
 * - a blank device is formatted XFS, mounted (through fstab, by UUID) on the
 *   brick root, and a brick directory exists per volume; a second run keeps
 *   the same file system (same UUID) and changes nothing.
 *
 * The one seam: the script accepts only devices lsblk types `disk` or `part`,
 * and this machine gives a test no such device of its own (loop devices are
 * type `loop`, partition scanning of loop devices is off, no fdisk). So the
 * step runs with a PATH whose `lsblk` answers `disk` for `lsblk -n -d -o TYPE
 * <this test's loop device>` ONLY and runs the real lsblk for everything else;
 * blkid, mkfs.xfs, fstab, mount and the brick directories are all real.
 *
 * Loop devices are recorded when attached and detached at teardown (after
 * their backing file is checked to be this test's); hosts and the bridge go
 * with the state dir. Network: only the test's own bridge.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { NamespaceHosts, REPO_DIR, teardownSandbox } from '../../sandbox/hosts';
import { describeWithSandbox, leftovers } from '../sandbox/prerequisites';

jest.setTimeout(120_000);

const run = `${process.pid}`.slice(-5);
const stateDir = path.join(tmpdir(), `pas-e2esb-${run}`);
/** Backing files live outside the state dir (teardown.sh removes that dir while the loop devices still exist). */
const diskDir = path.join(tmpdir(), `pas-e2esb-${run}-disks`);
const sandbox = { stateDir, bridge: `pasbr-sb${run}`, bridgeCidr: '10.75.0.1/16' };
const ids = { used: `i-e2esb${run}u`, blank: `i-e2esb${run}b` };
const ip = { used: '10.75.1.10', blank: '10.75.2.10' };
const MARKER = `data that must survive ${run}\n`;
const BRICK_ROOT = '/bricks';
const VOLUMES = 'pydio-config,pydio-data';

/** The script Run Command would run: the rendered document's only step, lines joined. */
function renderedPrepareBrickScript(): string {
  // render.js is CommonJS shared with serverless.yml; require keeps it byte-identical to what the stack embeds.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const render = require(path.join(REPO_DIR, 'ssm-documents/render.js')) as {
    renderDocument: (yml: string) => { mainSteps: { name: string; inputs: { runCommand: string[] } }[] };
  };
  const doc = render.renderDocument(path.join(REPO_DIR, 'ssm-documents/storage-prepare-brick.yml'));
  if (doc.mainSteps.length !== 1) throw new Error(`storage-prepare-brick has ${doc.mainSteps.length} steps; this test runs exactly one`);
  return `${doc.mainSteps[0]!.inputs.runCommand.join('\n')}\n`;
}

function sh(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
}

const attached: string[] = [];

/** A loop device backed by a sparse file under the state dir (recorded for teardown). */
function attachLoop(name: string, megabytes: number): string {
  const file = path.join(diskDir, `${name}.img`);
  mkdirSync(diskDir, { recursive: true });
  sh('truncate', ['-s', `${megabytes}M`, file]);
  const device = sh('losetup', ['--find', '--show', file]).trim();
  if (!/^\/dev\/loop\d+$/.test(device)) throw new Error(`losetup answered '${device}' for ${file}`);
  attached.push(device);
  return device;
}

function backingFileOf(device: string): string {
  return spawnSync('losetup', ['-l', '-n', '-O', 'BACK-FILE', device], { encoding: 'utf8' }).stdout.trim();
}

/** Detaches this test's loop devices (only while their backing file is one of ours); returns those still attached. */
function detachLoops(): string[] {
  const left: string[] = [];
  for (const device of attached) {
    for (let attempt = 0; attempt < 25; attempt += 1) {
      if (!backingFileOf(device).startsWith(diskDir)) break;
      spawnSync('losetup', ['-d', device]);
      if (!backingFileOf(device).startsWith(diskDir)) break;
      if (attempt === 24) left.push(device);
      else spawnSync('sleep', ['0.2']);
    }
  }
  return left;
}

/** The lsblk seam (see the header): `disk` for exactly our devices' TYPE query, the real lsblk otherwise. */
function writeLsblkShim(devices: readonly string[]): string {
  const dir = path.join(diskDir, 'shim');
  mkdirSync(dir, { recursive: true });
  const cases = devices.map((d) => `'${d}'`).join('|');
  writeFileSync(
    path.join(dir, 'lsblk'),
    [
      '#!/bin/bash',
      '# Test seam: this machine has no block device of type disk for tests; present our loop devices as disks.',
      `if [[ $# -eq 5 && $1 == -n && $2 == -d && $3 == -o && $4 == TYPE ]]; then case $5 in ${cases}) echo disk; exit 0 ;; esac; fi`,
      'exec /usr/bin/lsblk "$@"',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return dir;
}

function blkidType(device: string): string {
  return spawnSync('blkid', ['-p', '-o', 'value', '-s', 'TYPE', device], { encoding: 'utf8' }).stdout.trim();
}

describeWithSandbox('storage/prepare-brick.test.ts')('storage-prepare-brick document on real storage hosts with loop devices', () => {
  let hosts: NamespaceHosts;
  const devices: { used?: string; blank?: string } = {};
  let script: string;
  let shimDir: string;

  beforeAll(async () => {
    script = renderedPrepareBrickScript();
    await teardownSandbox(sandbox);
    hosts = new NamespaceHosts({}, sandbox);
    await hosts.createHost(ids.used, ip.used, 'storage', 'eu-west-1a');
    await hosts.createHost(ids.blank, ip.blank, 'storage', 'eu-west-1b');

    // A disk that holds someone's data: ext4 populated from a directory (no mount needed).
    const content = path.join(diskDir, 'content');
    mkdirSync(content, { recursive: true });
    writeFileSync(path.join(content, 'marker.txt'), MARKER);
    devices.used = attachLoop('used', 64);
    sh('mkfs.ext4', ['-q', '-F', '-L', 'keepme', '-d', content, devices.used]);
    // A blank disk (XFS needs at least 300 MiB; the file is sparse).
    devices.blank = attachLoop('blank', 512);
    shimDir = writeLsblkShim([devices.used, devices.blank]);
  }, 180_000);

  afterAll(async () => {
    // Hosts first: their mount namespaces hold the XFS mount; then the loop devices (their files are in the state dir).
    let loops: string[];
    try {
      // teardown.sh can lose a race with the kernel removing a veth (`Cannot find device pasv-...`); it is idempotent: once more.
      await teardownSandbox(sandbox).catch(() => teardownSandbox(sandbox));
    } finally {
      loops = detachLoops();
    }
    if (loops.length === 0) rmSync(diskDir, { recursive: true, force: true });
    expect(loops).toEqual([]);
    expect(leftovers(sandbox.bridge, stateDir)).toEqual([]);
  }, 180_000);

  const runDocument = (host: string, device: string) =>
    hosts.run(host, script, { PATH: `${shimDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, SSM_Device: device, SSM_BrickRoot: BRICK_ROOT, SSM_Volumes: VOLUMES }, 120);

  test('a device that already holds ext4 is refused, never formatted: the marker file survives, fstab and mounts are unchanged', async () => {
    const device = devices.used!;
    const fstabBefore = await hosts.exec(ids.used, ['cat', '/etc/fstab']);
    const result = await runDocument(ids.used, device);

    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(new RegExp(`storage-prepare-brick\\[device\\]: ERROR: ${device} holds data \\([^)]*TYPE=ext4[^)]*\\), not XFS: it is never formatted`));
    expect(result.stderr).not.toMatch(/mkfs|formatting it XFS/);

    expect(blkidType(device)).toBe('ext4');
    expect(sh('debugfs', ['-R', 'cat /marker.txt', device])).toBe(MARKER);
    expect(await hosts.exec(ids.used, ['cat', '/etc/fstab'])).toBe(fstabBefore);
    const mounted = spawnSync('bash', [path.join(REPO_DIR, 'test/sandbox/bin/hostexec.sh'), ids.used, 'findmnt', '-n', '--mountpoint', BRICK_ROOT], {
      encoding: 'utf8',
      env: { ...process.env, PAS_STATE_DIR: stateDir, PAS_BRIDGE: sandbox.bridge, PAS_BRIDGE_CIDR: sandbox.bridgeCidr },
    });
    expect({ status: mounted.status, out: mounted.stdout.trim() }).toEqual({ status: 1, out: '' });
  });

  test('a blank device is formatted XFS, mounted by UUID on the brick root with a brick per volume; a second run reuses it unchanged', async () => {
    const device = devices.blank!;
    expect(blkidType(device)).toBe('');

    const first = await runDocument(ids.blank, device);
    expect({ exitCode: first.exitCode, stderr: first.exitCode === 0 ? '' : first.stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(blkidType(device)).toBe('xfs');
    const uuid = sh('blkid', ['-o', 'value', '-s', 'UUID', device]).trim();
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);

    const fstab = await hosts.exec(ids.blank, ['cat', '/etc/fstab']);
    expect(fstab.split('\n').filter((l) => l.includes(BRICK_ROOT))).toEqual([`UUID=${uuid} ${BRICK_ROOT} xfs defaults,noatime,nofail 0 0`]);
    const mount = (await hosts.exec(ids.blank, ['findmnt', '-n', '-o', 'SOURCE,FSTYPE', '--mountpoint', BRICK_ROOT])).trim().split(/\s+/);
    expect(mount).toEqual([device, 'xfs']);
    for (const volume of VOLUMES.split(',')) {
      expect((await hosts.exec(ids.blank, ['stat', '-c', '%F', `${BRICK_ROOT}/${volume}/brick`])).trim()).toBe('directory');
    }
    // The mount lives in the host's own mount namespace, not on the machine.
    expect(spawnSync('findmnt', ['-n', '--mountpoint', BRICK_ROOT]).status).toBe(1);

    // Idempotent: same file system, nothing formatted, fstab untouched.
    const second = await runDocument(ids.blank, device);
    expect(second.exitCode).toBe(0);
    expect(second.stderr).toContain(`${device} already holds XFS: not formatting it`);
    expect(second.stderr).toContain(`${BRICK_ROOT} already mounted from ${device}`);
    expect(second.stderr).toContain('/etc/fstab already has the entry');
    expect(sh('blkid', ['-o', 'value', '-s', 'UUID', device]).trim()).toBe(uuid);
    expect(await hosts.exec(ids.blank, ['cat', '/etc/fstab'])).toBe(fstab);
  });
});
