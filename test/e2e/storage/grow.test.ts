/**
 * Grow in place end to end, asserted on cluster STATES: the sandbox (moto +
 * front, real namespace hosts, GlusterFS, the deployed stack, the REAL bundled
 * storage handler) with the two boot storage hosts on XFS loop disks
 * (storageBootDisks), a launch template mapping their EBS volume at /dev/sdf,
 * and a stage that prefers growing in place to 2 GiB.
 *
 * Files are written to pydio-data through a FUSE mount, then one request
 * (sets 1, no strategy: the stage's preference) makes the storage function
 * ModifyVolume both /dev/sdf volumes of the replica set (the front grows each
 * host's loop disk first, as EBS grows the device), wait for the modification,
 * run the real storage-grow-brick document (xfs_growfs) on both members and
 * read the Gluster status. Then: both EBS volumes are 2 GiB in the emulator,
 * both brick file systems and the volume's capacity are larger, the volume is
 * still 1 x 2 (no brick added), no rebalance ran, every sha256 is unchanged.
 */
import * as path from 'node:path';
import { tmpdir } from 'node:os';
import { createEc2Transport, createVolumePort } from '../../../lib/aws/ec2-volumes';
import type { Log } from '../../../lib/logger';
import { clientConfig } from '../../sandbox/control-plane/aws-setup';
import { startSandbox, type Sandbox, type SandboxStatus } from '../../sandbox/sandbox';
import { describeWithSandbox, leftovers } from '../sandbox/prerequisites';
import { glusterOn } from '../gluster-cli';

jest.setTimeout(200_000);

const NAME = 'grw';
const stateDir = path.join(tmpdir(), `pas-${NAME}-${process.pid}`);
const VOLUME = 'pydio-data';
const FILES = 300;
const MOUNT = '/mnt/e2e-grow';
const DISK_MIB = 600;
const GiB = 1024 ** 3;
const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Log;

function storageOf(s: SandboxStatus) {
  return s.instances.filter((i) => i.role === 'storage');
}

describeWithSandbox('storage/grow.test.ts')('storage grow in place (real Gluster, real XFS on loop disks, EBS volumes in the emulator)', () => {
  let sb: Sandbox;
  let via: string;
  let ids: string[] = [];
  let before = '';
  const sizesBefore: Record<string, number> = {};
  let capacityBefore = 0;
  const times: Record<string, number> = {};

  const gluster = (...args: string[]): Promise<string> => glusterOn(sb.hosts, via, args);
  const remount = () => sb.hosts.exec(via, ['bash', '-c', `umount ${MOUNT} 2>/dev/null; mkdir -p ${MOUNT} && mount -t glusterfs localhost:/${VOLUME} ${MOUNT}`], 60);
  const checksums = async (): Promise<string> => {
    await remount();
    return sb.hosts.exec(via, ['bash', '-c', `cd ${MOUNT}/grow && find . -type f -print0 | sort -z | xargs -0 sha256sum`], 120);
  };
  const capacity = async (): Promise<number> => Number((await sb.hosts.exec(via, ['df', '-B1', '--output=size', MOUNT], 30)).trim().split('\n').pop());
  const brickBytes = async (id: string): Promise<number> => Number((await sb.hosts.exec(id, ['df', '-B1', '--output=size', '/bricks'], 30)).trim().split('\n').pop());
  const notes = async (type: string) => (await sb.notifications()).filter((n) => n.attributes.eventType === type);
  const volumes = () => {
    const c = clientConfig(sb.controlPlane.url);
    return createVolumePort(createEc2Transport({ region: c.region, url: sb.controlPlane.url }, { credentials: c.credentials }), { dryRun: false, log: quiet });
  };

  beforeAll(async () => {
    const start = Date.now();
    sb = await startSandbox({
      name: NAME,
      networkOctet: 85,
      stateDir,
      lbPort: 0,
      handleSignals: false,
      skipInitialScaleOut: true,
      storageDataDiskMiB: DISK_MIB,
      storageBootDisks: true,
      storageGrowInPlace: { mode: 'preferred', toGiB: 2 },
    });
    times.boot = (Date.now() - start) / 1000;
    ids = storageOf(await sb.status()).map((i) => i.instanceId);
    via = ids[0]!;
    await remount();
    await sb.hosts.exec(via, ['bash', '-c', `set -e; mkdir -p ${MOUNT}/grow/d{0..9}; for i in $(seq 1 ${FILES}); do head -c $((RANDOM % 8192 + 1)) /dev/urandom >${MOUNT}/grow/d$((i % 10))/f$i; done`], 120);
    before = await checksums();
    for (const id of ids) sizesBefore[id] = await brickBytes(id);
    capacityBefore = await capacity();
  }, 400_000);

  afterAll(async () => {
    await sb?.stop();
    expect(leftovers(`pasbr${NAME}`, stateDir)).toEqual([]);
    console.info(`storage grow e2e times (s): ${JSON.stringify(times)}`);
  }, 200_000);

  test('each boot storage host has a 1 GiB EBS volume at /dev/sdf and its bricks on XFS', async () => {
    expect(ids).toHaveLength(2);
    for (const id of ids) {
      expect((await volumes().findAttachedVolume(id, '/dev/sdf'))?.sizeGiB).toBe(1);
      expect((await sb.hosts.exec(id, ['findmnt', '-n', '-o', 'FSTYPE', '--mountpoint', '/bricks'])).trim()).toBe('xfs');
      expect(sizesBefore[id]).toBeLessThan(DISK_MIB * 1024 * 1024);
    }
    expect(before.trim().split('\n')).toHaveLength(FILES);
  });

  test('a dry run plans grow-in-place for the one replica set and changes nothing', async () => {
    const answer = await sb.invoke('storage', { volume: VOLUME, sets: 1, dryRun: true });
    expect(answer.outcome).toBe('success');
    const result = (answer as { result: { outcome: string; plan: { strategy: string; why: string; desiredAfter: number; desiredBefore: number } } }).result;
    expect(result.outcome).toBe('planned');
    expect(result.plan.strategy).toBe('grow-in-place');
    expect(result.plan.why).toContain('prefers growing in place');
    expect(result.plan.desiredAfter).toBe(result.plan.desiredBefore);
    for (const id of ids) expect((await volumes().findAttachedVolume(id, '/dev/sdf'))?.sizeGiB).toBe(1);
  });

  test('one request grows both volumes and XFS bricks in place: capacity up, still 1 x 2, no rebalance, every checksum unchanged', async () => {
    const start = Date.now();
    await sb.invoke('storage', { volume: VOLUME, sets: 1 });
    for (let i = 0; i < 240; i += 1) {
      if ((await notes('storage.succeeded')).length + (await notes('storage.failed')).length + (await notes('storage.refused')).length > 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    times.grow = (Date.now() - start) / 1000;
    expect((await notes('storage.failed')).map((n) => `${n.subject}: ${n.message}`)).toEqual([]);
    expect((await notes('storage.refused')).map((n) => n.subject)).toEqual([]);
    const done = await notes('storage.succeeded');
    expect(done.map((n) => n.subject)).toEqual([expect.stringContaining(`expand of ${VOLUME} done in`)]);
    expect(done[0]!.message).toContain('No rebalance');

    // EBS: both volumes 2 GiB in the emulator.
    for (const id of ids) expect((await volumes().findAttachedVolume(id, '/dev/sdf'))?.sizeGiB).toBe(2);
    // The brick file systems grew to about the new size, the volume's capacity with them.
    for (const id of ids) {
      const after = await brickBytes(id);
      expect(after).toBeGreaterThan(sizesBefore[id]! * 2);
      expect(after).toBeGreaterThan(1.8 * GiB);
    }
    await remount();
    expect(await capacity()).toBeGreaterThan(capacityBefore * 2);
    // No new brick, no rebalance.
    expect((/Number of Bricks: (.*)/.exec(await gluster('volume', 'info', VOLUME))?.[1] ?? '').trim()).toBe('1 x 2 = 2');
    expect((await sb.hosts.exec(via, ['bash', '-c', `gluster --mode=script volume rebalance ${VOLUME} status 2>&1 || true`], 30))).not.toMatch(/completed|in progress/);
    expect((await notes('storage.started')).filter((n) => n.attributes.operation === 'rebalance')).toEqual([]);
    const online = (await gluster('volume', 'status', VOLUME, 'detail')).match(/^Online\s*:\s*Y/gm) ?? [];
    expect(online).toHaveLength(2);
    // Every file, byte for byte.
    const after = await checksums();
    expect(after.trim().split('\n')).toHaveLength(FILES);
    expect(after === before).toBe(true);
  });
});
