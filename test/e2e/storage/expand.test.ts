/**
 * The storage tier's expansion end to end, asserted on cluster STATES: the
 * sandbox (moto + front, real namespace hosts, GlusterFS, the deployed stack,
 * the REAL bundled storage handler fed by direct invokes and by the storage
 * group's lifecycle rule through StorageQueue) with the storage group allowed
 * to grow to 4 and a data disk (sparse loop device) for every storage host
 * launched after boot.
 *
 * 2000 small files are written to pydio-data through a FUSE mount in a
 * storage host, then: a dry run answers a plan and changes nothing; two
 * concurrent real requests make exactly one expansion (the other is refused:
 * lock held); after it the group has two more members that prepared bricks
 * and joined, the volume is 2 x 2 with every brick online, the rebalance
 * completed, and every file's sha256 is unchanged.
 *
 * Zones: moto alone would launch every instance of one SetDesiredCapacity in
 * the group's first subnet; the emulator's front launches them one at a time,
 * least used subnet first, as AWS spreads them, so the new set's two members
 * land in two zones and the requests need no allowSameZone.
 *
 * OPT-IN (PAS_E2E_STORAGE_EXPAND=1) while its reliability is established:
 * before the fix, in 1 of 5 runs two storage-launch flows and the expansion
 * read the Gluster status at the same moment, glusterd answered "Another
 * transaction is in progress" and the joining member was ABANDONed. The
 * storage flows now wait and retry on that answer (lib/usecases/storage/
 * cluster.ts, GLUSTER_BUSY); since then 3 of 3 runs passed. Enable it in CI
 * after more clean runs. See NOTES.md.
 */
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startSandbox, type Sandbox, type SandboxStatus } from '../../sandbox/sandbox';
import { describeWithSandbox, leftovers } from '../sandbox/prerequisites';

jest.setTimeout(200_000);

const NAME = 'e2est';
const stateDir = path.join(tmpdir(), `pas-${NAME}-${process.pid}`);
const VOLUME = 'pydio-data';
const FILES = 2000;
const MOUNT = '/mnt/e2e-data';

function storageOf(s: SandboxStatus) {
  return s.instances.filter((i) => i.role === 'storage');
}

function describeExpand(): jest.Describe {
  if (process.env.PAS_E2E_STORAGE_EXPAND === '1') return describeWithSandbox('storage/expand.test.ts');
  console.warn('storage expand e2e skipped: opt-in with PAS_E2E_STORAGE_EXPAND=1 until enough clean runs show it reliable (see test/e2e/storage/NOTES.md)');
  return describe.skip;
}

describeExpand()('storage expansion (real Gluster, real storage handler, loop-device bricks)', () => {
  let sb: Sandbox;
  let via: string;
  let before: string;
  let originalIds: string[];
  const times: Record<string, number> = {};

  const gluster = async (...args: string[]): Promise<string> => sb.hosts.exec(via, ['gluster', '--mode=script', ...args], 60);
  const brickCount = async (): Promise<string> => (/Number of Bricks: (.*)/.exec(await gluster('volume', 'info', VOLUME))?.[1] ?? '').trim();
  /** sha256 of every file under the test dir, read through a fresh FUSE mount (no client cache). */
  const checksums = async (): Promise<string> => {
    await sb.hosts.exec(via, ['bash', '-c', `umount ${MOUNT} 2>/dev/null; mkdir -p ${MOUNT} && mount -t glusterfs localhost:/${VOLUME} ${MOUNT}`], 60);
    return sb.hosts.exec(via, ['bash', '-c', `cd ${MOUNT}/e2e && find . -type f -print0 | sort -z | xargs -0 sha256sum`], 120);
  };
  const notes = async (type: string) => (await sb.notifications()).filter((n) => n.attributes.eventType === type);

  beforeAll(async () => {
    const start = Date.now();
    sb = await startSandbox({ name: NAME, networkOctet: 77, stateDir, lbPort: 0, handleSignals: false, skipInitialScaleOut: true, storageMax: 4, storageDataDiskMiB: 512 });
    times.boot = (Date.now() - start) / 1000;
    const s = await sb.status();
    originalIds = storageOf(s).map((i) => i.instanceId);
    via = originalIds[0]!;
    const write = Date.now();
    await sb.hosts.exec(
      via,
      [
        'bash',
        '-c',
        `set -e; mkdir -p ${MOUNT} && mount -t glusterfs localhost:/${VOLUME} ${MOUNT}; mkdir -p ${MOUNT}/e2e/d{0..19};` +
          ` for i in $(seq 1 ${FILES}); do head -c $((RANDOM % 4096 + 1)) /dev/urandom >${MOUNT}/e2e/d$((i % 20))/f$i; done`,
      ],
      150,
    );
    times.writeFiles = (Date.now() - write) / 1000;
    before = await checksums();
  }, 400_000);

  afterAll(async () => {
    await sb?.stop();
    expect(leftovers(`pasbr${NAME}`, stateDir)).toEqual([]);
    console.info(`storage expand e2e times (s): ${JSON.stringify(times)}`);
  }, 200_000);

  test(`${FILES} files are on the volume before anything happens`, () => {
    expect(before.trim().split('\n')).toHaveLength(FILES);
  });

  test('a dry run answers a plan (two zones, desired 2 -> 4, the commands) and changes nothing', async () => {
    const answer = await sb.invoke('storage', { volume: VOLUME, sets: 1, dryRun: true });
    expect(answer.outcome).toBe('success');
    const result = (answer as { result: { outcome: string; dryRun: boolean; plan: { desiredBefore: number; desiredAfter: number; sets: { zones: string[] }[]; launchZones: string[] }; commands: string[] } }).result;
    expect(result.outcome).toBe('planned');
    expect(result.dryRun).toBe(true);
    expect({ before: result.plan.desiredBefore, after: result.plan.desiredAfter }).toEqual({ before: 2, after: 4 });
    expect(result.plan.sets).toHaveLength(1);
    expect([...result.plan.sets[0]!.zones].sort()).toEqual(['eu-west-1a', 'eu-west-1b']);
    expect(result.commands).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^set desired capacity to 4 /),
        expect.stringMatching(new RegExp(`^gluster --mode=script volume add-brick ${VOLUME} replica 2 `)),
        `gluster --mode=script volume rebalance ${VOLUME} start`,
      ]),
    );
    // Nothing changed: give a wrongly queued run time to act, then look.
    await new Promise((r) => setTimeout(r, 4000));
    const s = await sb.status();
    expect(s.groups.find((g) => g.name === sb.storageGroup)?.desired).toBe(2);
    expect(storageOf(s)).toHaveLength(2);
    expect(await brickCount()).toBe('1 x 2 = 2');
    expect(await notes('storage.started')).toEqual([]);
  });

  test('two concurrent real requests make exactly one expansion: 2 x 2 bricks online on two new joined members, rebalance completed, every checksum unchanged', async () => {
    const request = { volume: VOLUME, sets: 1 };
    const start = Date.now();
    const answers = await sb.phase('expand pydio-data by one replica set', async () => {
      const both = await Promise.all([sb.invoke('storage', request), sb.invoke('storage', request)]);
      for (let i = 0; i < 300; i += 1) {
        if ((await notes('storage.succeeded')).length + (await notes('storage.failed')).length + (await notes('lifecycle.failed')).length > 0) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      return both;
    });
    times.expansion = (Date.now() - start) / 1000;

    // Exactly one expansion; the other refused (synchronously, or by the flow's lock step).
    const results = answers.map((a) => (a as { result: { outcome: string; reason?: string } }).result);
    const syncRefusals = results.filter((r) => r.outcome === 'refused');
    const flowRefusals = await notes('storage.refused');
    expect(await notes('storage.failed')).toEqual([]);
    expect((await notes('lifecycle.failed')).map((n) => `${n.subject}: ${n.message.split('\n').slice(0, 3).join(' | ')}`)).toEqual([]);
    const succeeded = await notes('storage.succeeded');
    expect(succeeded.map((n) => n.subject)).toEqual([expect.stringMatching(new RegExp(`^\\[pasbox\\] expand of ${VOLUME} done in `))]);
    expect(syncRefusals.length + flowRefusals.length).toBe(1);
    expect([...syncRefusals.map((r) => r.reason ?? ''), ...flowRefusals.map((n) => n.subject)]).toEqual([expect.stringContaining('holds the cluster lock')]);
    expect((await notes('storage.planned')).filter((n) => !n.subject.includes('dry run'))).toHaveLength(1);

    // The group grew by exactly two, both InService and joined.
    const s = await sb.status();
    expect(s.groups.find((g) => g.name === sb.storageGroup)?.desired).toBe(4);
    const storage = storageOf(s);
    expect(storage.map((i) => i.lifecycleState)).toEqual(['InService', 'InService', 'InService', 'InService']);
    const fresh = storage.filter((i) => !originalIds.includes(i.instanceId));
    expect(fresh).toHaveLength(2);
    const joined = (await notes('lifecycle.succeeded')).map((n) => n.attributes.instanceId);
    expect(joined).toEqual(expect.arrayContaining(fresh.map((i) => i.instanceId)));
    console.info(`new storage members: ${fresh.map((i) => `${i.instanceId} ${i.privateIp} ${i.availabilityZone}`).join(', ')}`);
    // The new replica set's two members are in different zones (the front spreads launches as AWS does).
    expect(fresh.map((i) => i.availabilityZone).sort()).toEqual(['eu-west-1a', 'eu-west-1b']);

    // Each new member's brick root is the XFS its prepare-brick made on its own disk.
    for (const m of fresh) {
      const [source, fstype] = (await sb.hosts.exec(m.instanceId, ['findmnt', '-n', '-o', 'SOURCE,FSTYPE', '--mountpoint', '/bricks'])).trim().split(/\s+/);
      // The disk is shown in the host at /dev/shm/pas-brick (bin/storage-disk.sh); the kernel may name it by its loop device.
      expect({ instance: m.instanceId, disk: /^\/dev\/(loop\d+|shm\/pas-brick)$/.test(source ?? ''), fstype }).toEqual({ instance: m.instanceId, disk: true, fstype: 'xfs' });
    }

    // Peers: every member in the pool and connected.
    const pool = (await gluster('pool', 'list')).trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    const connected = new Set(pool.filter((c) => c[c.length - 1] === 'Connected').map((c) => (c[1] === 'localhost' ? storage.find((i) => i.instanceId === via)!.privateIp : c[1])));
    expect([...connected].sort()).toEqual(storage.map((i) => i.privateIp).sort());

    // The volume: 2 x 2, the new set on the new members, every brick online.
    expect(await brickCount()).toBe('2 x 2 = 4');
    const bricks = [...(await gluster('volume', 'info', VOLUME)).matchAll(/^Brick\d+: (\S+)$/gm)].map((m) => m[1]);
    expect(bricks.slice(2).sort()).toEqual(fresh.map((i) => `${i.privateIp}:/bricks/${VOLUME}/brick`).sort());
    const online = (await gluster('volume', 'status', VOLUME, 'detail')).match(/^Online\s*:\s*Y/gm) ?? [];
    expect(online).toHaveLength(4);

    // Rebalance completed on every node, and it moved files onto the new set.
    const rebalance = await gluster('volume', 'rebalance', VOLUME, 'status');
    const rows = rebalance.split('\n').filter((l) => /^\s*(localhost|\d+\.\d+\.\d+\.\d+)\s/.test(l));
    expect(rows.length).toBeGreaterThanOrEqual(2);
    for (const row of rows) expect(row).toMatch(/completed/);
    let moved = 0;
    for (const m of fresh) {
      moved += Number((await sb.hosts.exec(m.instanceId, ['bash', '-c', `find /bricks/${VOLUME}/brick/e2e -type f ! -perm -1000 | wc -l`])).trim());
    }
    expect(moved).toBeGreaterThan(0);

    // Every file, byte for byte.
    const after = await checksums();
    expect(after.trim().split('\n')).toHaveLength(FILES);
    expect(after === before).toBe(true);

    // Where the time went: Gluster's own commands vs everything else.
    const steps = (await sb.stepTimings()).filter((t) => t.start >= start && t.end !== undefined);
    const sum = (list: typeof steps) => list.reduce((acc, t) => acc + ((t.end ?? t.start) - t.start), 0) / 1000;
    const glusterCommands = sum(steps.filter((t) => t.documentName.includes('gluster-command')));
    const phase = (await sb.phases()).find((p) => p.name.startsWith('expand'));
    times.glusterCommands = glusterCommands;
    times.documentsWall = phase?.documentsWallSeconds ?? NaN;
    times.controlPlaneOverhead = phase?.overheadSeconds ?? NaN;
    console.info(
      `expansion: ${times.expansion}s wall; Gluster commands (add-brick, rebalance start/status) ${glusterCommands.toFixed(1)}s; ` +
        `all documents (prepare-brick, peer-probe, status, gluster) ${phase?.documentsSeconds.toFixed(1)}s sum / ${phase?.documentsWallSeconds.toFixed(1)}s wall; ` +
        `control plane ${phase?.overheadSeconds.toFixed(1)}s`,
    );
    expect(glusterCommands).toBeGreaterThan(0);
  });
});
