/**
 * The brick disk alarm end to end, asserted on cluster STATES: the sandbox
 * with its metrics agent and alarm evaluator (real `df /bricks` in every
 * storage host -> CWAgent disk_used_percent -> the stack's BrickDiskHighAlarm
 * evaluated as CloudWatch would -> the state-change event through EventBridge
 * -> the REAL alarm function -> an expansion request on StorageQueue -> the
 * REAL storage function: two new members in two zones prepare their bricks
 * and join, add-brick, rebalance).
 *
 * The two boot storage hosts have their own small data disks (sandbox option
 * storageBootDisks: XFS at /bricks), so filling pydio-data through a FUSE
 * mount fills their bricks. Every file's sha256 is recorded before and
 * compared after; the volume must grow from 1 x 2 to 2 x 2 bricks with more
 * capacity, and the disk alarm must return to OK once the rebalance moved
 * files onto the new set.
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startSandbox, type Sandbox, type SandboxStatus } from '../../sandbox/sandbox';
import { describeWithSandbox, leftovers } from '../sandbox/prerequisites';
import { glusterOn } from '../gluster-cli';
import { waitFor } from '../wait';

jest.setTimeout(300_000);

const NAME = 'dsk';
const stateDir = path.join(tmpdir(), `pas-${NAME}-${process.pid}`);
const VOLUME = 'pydio-data';
const THRESHOLD = 60;
/** Stop filling once the fullest brick is this full: clearly above the threshold, clearly below full. */
const FILL_TO = 70;
const MOUNT = '/mnt/dsk-data';
const DISK_MIB = 320;


function storageOf(s: SandboxStatus) {
  return s.instances.filter((i) => i.role === 'storage');
}

describeWithSandbox('alarms/disk.test.ts')('brick disk alarm -> storage expansion (real df, real alarm evaluation, real Gluster)', () => {
  let sb: Sandbox;
  let via: string;
  let diskAlarm: string;
  let bootIds: string[] = [];
  let before = '';
  let fullestBefore = 0;
  let capacityBefore = 0;
  const times: Record<string, number> = {};

  const gluster = (...args: string[]): Promise<string> => glusterOn(sb.hosts, via, args);
  const brickCount = async (): Promise<string> => (/Number of Bricks: (.*)/.exec(await gluster('volume', 'info', VOLUME))?.[1] ?? '').trim();
  /** Percent used of /bricks in one storage host (as the agent computes it: used / (used + available)). */
  const brickUsed = async (id: string): Promise<number> => {
    const [used, avail] = (await sb.hosts.exec(id, ['df', '-B1', '--output=used,avail', '/bricks'], 30)).trim().split('\n').pop()!.trim().split(/\s+/).map(Number);
    return (100 * used!) / (used! + avail!);
  };
  const remount = () => sb.hosts.exec(via, ['bash', '-c', `umount ${MOUNT} 2>/dev/null; mkdir -p ${MOUNT} && mount -t glusterfs localhost:/${VOLUME} ${MOUNT}`], 60);
  /** sha256 of every file of the test, read through a fresh FUSE mount (no client cache). */
  const checksums = async (): Promise<string> => {
    await remount();
    return sb.hosts.exec(via, ['bash', '-c', `cd ${MOUNT}/dsk && find . -type f -print0 | sort -z | xargs -0 sha256sum`], 120);
  };
  const volumeBytes = async (): Promise<number> => Number((await sb.hosts.exec(via, ['df', '-B1', '--output=size', MOUNT], 30)).trim().split('\n').pop());
  const transitionsOf = (to: string) => sb.alarms!.transitions().filter((t) => t.alarmName === diskAlarm && t.to === to);

  beforeAll(async () => {
    const start = Date.now();
    sb = await startSandbox({
      name: NAME,
      networkOctet: 83,
      stateDir,
      lbPort: 0,
      handleSignals: false,
      skipInitialScaleOut: true,
      storageMax: 4,
      storageDataDiskMiB: DISK_MIB,
      storageBootDisks: true,
      alarms: { diskHighThreshold: THRESHOLD, periodSeconds: 10, cooldownSeconds: 30, agentIntervalMs: 3000 },
    });
    times.boot = (Date.now() - start) / 1000;
    diskAlarm = sb.stack.outputs.BrickDiskHighAlarmName ?? '';
    bootIds = storageOf(await sb.status()).map((i) => i.instanceId);
    via = bootIds[0]!;
    await remount();
    capacityBefore = await volumeBytes();
    // Fill pydio-data with 2 MiB files until the fullest brick passes FILL_TO (bounded: at most 150 files).
    const fill = Date.now();
    const script =
      `set -e; mkdir -p ${MOUNT}/dsk/a ${MOUNT}/dsk/b; for i in $(seq 1 150); do` +
      ` head -c 2097152 /dev/urandom >${MOUNT}/dsk/$([ $((i % 2)) = 0 ] && echo a || echo b)/f$i;` +
      ` p=$(df --output=used,avail -B1 /bricks | tail -1 | awk '{printf "%d", 100*$1/($1+$2)}'); if [ "$p" -ge ${FILL_TO} ]; then echo "$i $p"; exit 0; fi; done; echo "150 $p"`;
    const out = (await sb.hosts.exec(via, ['bash', '-c', script], 180)).trim();
    times.fill = (Date.now() - fill) / 1000;
    times.filesWritten = Number(out.split(' ')[0]);
    fullestBefore = Math.max(...(await Promise.all(bootIds.map(brickUsed))));
    before = await checksums();
  }, 400_000);

  afterAll(async () => {
    await sb?.stop();
    expect(leftovers(`pasbr${NAME}`, stateDir)).toEqual([]);
    expect(fs.existsSync(stateDir)).toBe(false);
    console.info(`disk alarm e2e times (s): ${JSON.stringify(times)}`);
  }, 200_000);

  test('the data volume is filled past the threshold on both boot bricks (their own disks at /bricks)', async () => {
    expect(diskAlarm).toBe('pydio-autoscaler-pasbox-brick-disk-high');
    expect(fullestBefore).toBeGreaterThan(THRESHOLD);
    for (const id of bootIds) {
      const [source, fstype] = (await sb.hosts.exec(id, ['findmnt', '-n', '-o', 'SOURCE,FSTYPE', '--mountpoint', '/bricks'])).trim().split(/\s+/);
      expect({ id, fstype, hasSource: (source ?? '') !== '' }).toEqual({ id, fstype: 'xfs', hasSource: true });
    }
    expect(await brickCount()).toBe('1 x 2 = 2');
    expect(before.trim().split('\n').length).toBe(times.filesWritten);
  });

  test('the disk alarm goes to ALARM from the agent\'s datapoints and the alarm function requests an expansion', async () => {
    const t0 = Date.now();
    const alarm = await waitFor('the disk alarm in ALARM', 120_000, () => transitionsOf('ALARM')[0], { retryOnError: true });
    times.toAlarm = (Date.now() - t0) / 1000;
    expect(alarm.datapoints.some((v) => v > THRESHOLD)).toBe(true);
    const requested = await waitFor('the expansion decision', 60_000, async () =>
      // (other scaling.decided messages may come first: the alarm's own filter matters)
      (await sb.notifications()).find((n) => n.attributes.eventType === 'scaling.decided' && n.attributes.alarmName === diskAlarm && n.attributes.decision === 'expand-storage'),
    { retryOnError: true });
    expect(requested.subject).toBe(`[pasbox] storage expansion requested for ${VOLUME} (${diskAlarm})`);
  });

  test('the storage function adds a replica set on two new members in two zones and rebalances: 2 x 2 bricks, more capacity, every checksum unchanged', async () => {
    const t0 = Date.now();
    // Ends on success, or at once when the expansion itself failed (its whole message is the assertion's output).
    // A joining member that fails is replaced by the group and the expansion waits for it: not an end.
    // Two joins (prepare-brick, probe) and a rebalance on loop disks, possibly beside another sandbox on 2 cores.
    const done = await waitFor('the expansion to finish', 360_000, async () =>
      (await sb.notifications()).find(
        (n) => (n.attributes.eventType === 'storage.succeeded' && n.attributes.operation === 'expand' && n.attributes.volume === VOLUME) || n.attributes.eventType === 'storage.failed',
      ),
    { retryOnError: true }).catch(async (error: unknown) => {
      const failures = (await sb.notifications()).filter((n) => n.attributes.severity === 'error' || n.attributes.eventType === 'lifecycle.failed');
      throw new Error(`${String(error)}; failures ops were told about: ${failures.map((n) => `${n.subject}\n${n.message}`).join('\n---\n') || 'none'}`);
    });
    times.expansion = (Date.now() - t0) / 1000;
    expect(`${done.attributes.eventType}: ${done.subject}\n${done.message}`).toMatch(/^storage\.succeeded: /);
    expect(done.message).toContain('Rebalance completed.');
    expect(await brickCount()).toBe('2 x 2 = 4');
    const s = await sb.status();
    const fresh = storageOf(s).filter((i) => !bootIds.includes(i.instanceId));
    expect(fresh).toHaveLength(2);
    expect(fresh.map((i) => i.availabilityZone).sort()).toEqual(['eu-west-1a', 'eu-west-1b']);
    const bricks = [...(await gluster('volume', 'info', VOLUME)).matchAll(/^Brick\d+: (\S+)$/gm)].map((m) => m[1]);
    expect(bricks.slice(2).sort()).toEqual(fresh.map((i) => `${i.privateIp}:/bricks/${VOLUME}/brick`).sort());
    const status = await gluster('volume', 'status', VOLUME, 'detail');
    expect((status.match(/^Online\s*: Y/gm) ?? []).length).toBe(4);
    expect(await gluster('volume', 'rebalance', VOLUME, 'status')).toMatch(/completed/);
    await remount();
    const capacityAfter = await volumeBytes();
    times.capacityBeforeMiB = Math.round(capacityBefore / 2 ** 20);
    times.capacityAfterMiB = Math.round(capacityAfter / 2 ** 20);
    expect(capacityAfter).toBeGreaterThan(capacityBefore * 1.5);
    expect(await checksums()).toBe(before);
  }, 480_000);

  test('the fullest brick is below the threshold again and the disk alarm returns to OK', async () => {
    const ids = storageOf(await sb.status()).map((i) => i.instanceId);
    const fullest = Math.max(...(await Promise.all(ids.map(brickUsed))));
    times.fullestAfter = Math.round(fullest);
    expect(fullest).toBeLessThan(THRESHOLD);
    const t0 = Date.now();
    const ok = await waitFor('the disk alarm back to OK', 120_000, () => {
      const alarmAt = transitionsOf('ALARM')[0]?.at ?? Infinity;
      return transitionsOf('OK').find((t) => t.at > alarmAt);
    }, { retryOnError: true });
    times.toOk = (Date.now() - t0) / 1000;
    expect(ok.from).toBe('ALARM');
  });

  test('ops were told each step: the decision, the plan, the rebalance start, the result', async () => {
    const notes = (await sb.notifications()).filter((n) => n.attributes.alarmName === diskAlarm || n.attributes.volume === VOLUME);
    const kinds = notes.map((n) => `${n.attributes.eventType ?? ''} ${n.attributes.operation ?? n.attributes.decision ?? ''}`.trim());
    const first = (k: string) => kinds.indexOf(k);
    const firstAt = (k: string) => notes[first(k)]!.at;
    for (const k of ['scaling.decided expand-storage', 'storage.planned expand', 'storage.started rebalance', 'storage.succeeded expand']) expect(kinds).toContain(k);
    // The alarm function queues the request, then publishes its decision; the storage function may
    // plan (and publish) in between when the alarm worker stalls: the order holds within 2 s.
    expect(firstAt('scaling.decided expand-storage')).toBeLessThanOrEqual(firstAt('storage.planned expand') + 2000);
    expect(first('storage.planned expand')).toBeLessThan(first('storage.started rebalance'));
    expect(first('storage.started rebalance')).toBeLessThan(first('storage.succeeded expand'));
    // No second expansion: later re-checks of the alarm find the lock or the volume grown.
    expect(kinds.filter((k) => k === 'storage.succeeded expand')).toHaveLength(1);
  });
});
