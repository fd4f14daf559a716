/**
 * The storage tier's expansion and shrink end to end, asserted on cluster
 * STATES: the sandbox (moto + front, real namespace hosts, GlusterFS, the
 * deployed stack, the REAL bundled storage handler fed by direct invokes and
 * by the storage group's lifecycle rule through StorageQueue) with the
 * storage group allowed to grow to 4 and a data disk (sparse loop device) for
 * every storage host (storageBootDisks: the two boot members' bricks are on
 * 512 MiB XFS loop disks too, so the volume's capacity is theirs, not the
 * machine's root file system). One sandbox, tests in order:
 *
 * 1. expansion: 2000 small files are written to pydio-data through a FUSE
 *    mount; a dry run answers a plan and changes nothing; two concurrent real
 *    requests make exactly one expansion (the other is refused: lock held);
 *    after it the group has two more members that prepared bricks and joined
 *    (in two zones), the volume is 2 x 2 with every brick online, the
 *    rebalance completed, and every file's sha256 is unchanged. Its time is
 *    split into Gluster's own work and our control plane (the bench's split).
 * 2. shrink: a dry run shows the plan (the new set, its two members, desired
 *    4 -> 2) and changes nothing; the real one runs remove-brick start, status
 *    until the migration completed, commit, then detaches the two peers; the
 *    members leave through their terminate hooks, the volume is 1 x 2 on the
 *    original members, the pool holds only them, every sha256 is unchanged.
 *    Before it, pydio-data is filled past 80% of what the first set alone
 *    holds: the shrink is refused with the sizes (dry run and queued) and
 *    nothing changes; the fill is removed and the plan comes back.
 *    After it, a shrink below one set is refused (dry run and queued).
 * 3. a storage launch on a data disk that already holds ext4 (with a marker
 *    file): prepare-brick refuses, the hook is ABANDONed, ops get a message
 *    naming the device and why, and the image is still ext4 with the marker.
 *
 * Zones: moto alone would launch every instance of one SetDesiredCapacity in
 * the group's first subnet; the emulator's front launches them one at a time,
 * least used subnet first, as AWS spreads them, so the new set's two members
 * land in two zones and the requests need no allowSameZone.
 *
 * In CI since session 2 (runs in NOTES.md: the expansion passed 6 of 7 runs
 * this session, the last three in a row with every test). The one loss: a
 * joining member failed at peer-probe (exit 1 within a second, two members
 * probed from the same member at once) and was ABANDONed; if it happens again
 * the failure message carries the whole ops message with the output tail.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AutoScalingClient, SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import { GetCommandInvocationCommand, SSMClient } from '@aws-sdk/client-ssm';
import { clientConfig } from '../../sandbox/control-plane/aws-setup';
import type { StepRun } from '../../sandbox/control-plane/run-command';
import { startSandbox, type InstanceStatus, type Sandbox, type SandboxStatus } from '../../sandbox/sandbox';
import { formatSplit, measureExpansionSplit, watchGlusterActions } from '../../bench/expansion-split';
import { describeWithSandbox, leftovers } from '../sandbox/prerequisites';
import { glusterOn } from '../gluster-cli';
import { waitFor } from '../wait';

jest.setTimeout(200_000);

const NAME = 'e2est';
const stateDir = path.join(tmpdir(), `pas-${NAME}-${process.pid}`);
const VOLUME = 'pydio-data';
const FILES = 2000;
const MOUNT = '/mnt/e2e-data';
const EXPAND_PHASE = 'expand pydio-data by one replica set';

function storageOf(s: SandboxStatus) {
  return s.instances.filter((i) => i.role === 'storage');
}

describeWithSandbox('storage/expand.test.ts')('storage expansion (real Gluster, real storage handler, loop-device bricks)', () => {
  let sb: Sandbox;
  let via: string;
  let before: string;
  let originalIds: string[];
  /** The expansion's two new members (the set the shrink removes). */
  let fresh: InstanceStatus[] = [];
  const times: Record<string, number> = {};

  const gluster = (...args: string[]): Promise<string> => glusterOn(sb.hosts, via, args);
  const brickCount = async (): Promise<string> => (/Number of Bricks: (.*)/.exec(await gluster('volume', 'info', VOLUME))?.[1] ?? '').trim();
  /** sha256 of every file under the test dir, read through a fresh FUSE mount (no client cache). */
  const checksums = async (): Promise<string> => {
    await sb.hosts.exec(via, ['bash', '-c', `umount ${MOUNT} 2>/dev/null; mkdir -p ${MOUNT} && mount -t glusterfs localhost:/${VOLUME} ${MOUNT}`], 60);
    return sb.hosts.exec(via, ['bash', '-c', `cd ${MOUNT}/e2e && find . -type f -print0 | sort -z | xargs -0 sha256sum`], 120);
  };
  const notes = async (type: string) => (await sb.notifications()).filter((n) => n.attributes.eventType === type);

  beforeAll(async () => {
    const start = Date.now();
    sb = await startSandbox({ name: NAME, networkOctet: 77, stateDir, lbPort: 0, handleSignals: false, skipInitialScaleOut: true, storageMax: 4, storageDataDiskMiB: 512, storageBootDisks: true });
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
    sb?.controlPlane.events.off('step', recordShrinkRun);
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
    const watch = watchGlusterActions(sb);
    const answers = await sb.phase(EXPAND_PHASE, async () => {
      const both = await Promise.all([sb.invoke('storage', request), sb.invoke('storage', request)]);
      // Up to 300 s: on this machine a loaded run took 120 s (20 rebalance status polls).
      for (let i = 0; i < 600; i += 1) {
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
    // The whole message: its output tail is the only record of why a document failed.
    expect((await notes('lifecycle.failed')).map((n) => `${n.subject}: ${n.message}`)).toEqual([]);
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
    fresh = storage.filter((i) => !originalIds.includes(i.instanceId));
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

    // Where the time went: Gluster's own work vs our control plane (the bench prints the same split).
    watch.stop();
    const split = await measureExpansionSplit(sb, EXPAND_PHASE, watch.actions);
    times.glusterCommands = split.glusterSeconds;
    times.documentsWall = split.documentsWallSeconds;
    times.controlPlaneOverhead = split.controlPlaneSeconds;
    console.info(formatSplit(split).join('\n'));
    // The rebalance is watched through the status document (gluster's rebalance status grows with the pool).
    // The sandbox boots its volumes without quorum options (a cluster older than issue 10): this first
    // storage operation sets them first, five volume-set (client quorum x2, the pool's ratio, server quorum x2).
    expect(Object.keys(split.glusterByAction).sort()).toEqual(['add-brick', 'rebalance-start', 'volume-set']);
    expect(split.glusterByAction['volume-set']?.runs).toBe(5);
    const phase = (await sb.phases()).find((p) => p.name === EXPAND_PHASE)!;
    const statusReads = (await sb.stepTimings()).filter((t) => t.documentName.endsWith('storage-gluster-status') && t.start >= phase.start && t.start <= phase.start + phase.seconds * 1000);
    expect(statusReads.length).toBeGreaterThanOrEqual(2);
    expect(split.glusterSeconds).toBeGreaterThan(0);
  }, 400_000);

  // --- shrink: the same sandbox, after the expansion ---------------------------------------

  const shrinkNotes = async (type: string) => (await notes(type)).filter((n) => n.attributes.operation === 'shrink');
  /** Polls the notifications until `found` answers something (bounded); returns it. */
  const awaitNotes = <T>(found: () => Promise<T | undefined>, what: string, seconds: number): Promise<T> =>
    waitFor(what, seconds * 1000, found, { intervalMs: 500 }).catch(async () => {
      throw new Error(`no ${what} within ${seconds}s; notifications: ${(await sb.notifications()).map((n) => n.subject).join(' / ')}`);
    });
  /** Gluster commands of the shrink (remove-brick, peer-detach) as the storage-gluster-command document ran them, in order. */
  const shrinkRuns: StepRun[] = [];
  const recordShrinkRun = (run: StepRun): void => {
    const action = run.env.SSM_Action ?? '';
    if (action.startsWith('remove-brick') || action === 'peer-detach') shrinkRuns.push(run);
  };
  /** What a command printed (the gluster --xml answer), through the emulated SSM API. */
  const outputOf = async (run: StepRun): Promise<string> => {
    const ssm = new SSMClient(clientConfig(sb.endpoint));
    try {
      return (await ssm.send(new GetCommandInvocationCommand({ CommandId: run.commandId, InstanceId: run.instanceId }))).StandardOutputContent ?? '';
    } finally {
      ssm.destroy();
    }
  };

  test('a shrink dry run answers the plan (remove the new set, release its two members, desired 4 -> 2) and changes nothing', async () => {
    expect(fresh).toHaveLength(2);
    sb.controlPlane.events.on('step', recordShrinkRun);
    const answer = await sb.invoke('storage', { action: 'shrink', volume: VOLUME, dryRun: true });
    expect(answer.outcome).toBe('success');
    const result = (answer as { result: { outcome: string; dryRun: boolean; plan: { removed: string[]; releasedInstanceIds: string[]; desiredBefore: number; desiredAfter: number }; commands: string[] } }).result;
    expect({ outcome: result.outcome, dryRun: result.dryRun }).toEqual({ outcome: 'planned', dryRun: true });
    expect([...result.plan.removed].sort()).toEqual(fresh.map((i) => `${i.privateIp}:/bricks/${VOLUME}/brick`).sort());
    expect([...result.plan.releasedInstanceIds].sort()).toEqual(fresh.map((i) => i.instanceId).sort());
    expect({ before: result.plan.desiredBefore, after: result.plan.desiredAfter }).toEqual({ before: 4, after: 2 });
    expect(result.commands).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^gluster --mode=script volume remove-brick ${VOLUME} .* start$`)),
        expect.stringMatching(new RegExp(`^gluster --mode=script volume remove-brick ${VOLUME} .* commit$`)),
        ...fresh.map((i) => `gluster --mode=script peer detach ${i.privateIp}`),
      ]),
    );
    await new Promise((r) => setTimeout(r, 4000));
    const s = await sb.status();
    expect(s.groups.find((g) => g.name === sb.storageGroup)?.desired).toBe(4);
    expect(storageOf(s).filter((i) => i.lifecycleState === 'InService')).toHaveLength(4);
    expect(await brickCount()).toBe('2 x 2 = 4');
    expect(await shrinkNotes('storage.started')).toEqual([]);
    expect(shrinkRuns).toEqual([]);
  });

  type Planned = { result: { outcome: string; reason?: string; plan?: { usedBytes: number; capacityAfter: number } } };
  /** With pydio-data filled: the dry run and the queued request both refused, with the sizes; nothing changed. */
  const expectCapacityRefusals = async (): Promise<void> => {
    const reason = new RegExp(`^${VOLUME} holds \\S+ \\S+; without its last replica set it would have \\S+ \\S+ usable, and at most \\S+ \\S+ may be used to keep 20% headroom$`);
    const dry = ((await sb.invoke('storage', { action: 'shrink', volume: VOLUME, dryRun: true })) as Planned).result;
    console.info(`dry run answer: ${JSON.stringify(dry)}`);
    expect(dry.outcome).toBe('refused');
    expect(dry.reason).toMatch(reason);

    const refusedBefore = (await shrinkNotes('storage.refused')).length;
    const queued = ((await sb.invoke('storage', { action: 'shrink', volume: VOLUME })) as Planned).result;
    expect(queued.outcome).toBe('accepted');
    const refusal = await awaitNotes(async () => (await shrinkNotes('storage.refused'))[refusedBefore], 'refusal of the queued shrink', 120);
    expect(refusal.message).toContain(`The shrink of ${VOLUME} was refused and nothing was changed.`);
    expect(refusal.message.split('\n').map((l) => l.replace(/^Reason: /, '')).find((l) => reason.test(l))).toBeDefined();
    expect(await brickCount()).toBe('2 x 2 = 4');
    expect((await sb.status()).groups.find((g) => g.name === sb.storageGroup)?.desired).toBe(4);
    expect(shrinkRuns).toEqual([]);
  };

  test('a shrink the remaining set could not hold with 20% headroom is refused with the sizes (dry run and queued), and changes nothing', async () => {
    const planned = ((await sb.invoke('storage', { action: 'shrink', volume: VOLUME, dryRun: true })) as Planned).result;
    expect(planned.outcome).toBe('planned');
    const { usedBytes, capacityAfter } = planned.plan!;
    // The boot members' bricks are 512 MiB XFS disks: fill past 80% of what the first set alone offers.
    const MiB = 1024 ** 2;
    const fillMiB = Math.ceil((capacityAfter * 0.8 - usedBytes) / MiB) + 32;
    console.info(`capacity refusal: used ${(usedBytes / MiB).toFixed(0)} MiB, first set alone ${(capacityAfter / MiB).toFixed(0)} MiB usable; writing ${fillMiB} MiB`);
    expect(fillMiB).toBeGreaterThan(32);
    expect(fillMiB).toBeLessThan(450);
    const removeFill = () => sb.hosts.exec(via, ['bash', '-c', `rm -f ${MOUNT}/fill.bin; sync`], 60);
    try {
      await sb.hosts.exec(via, ['bash', '-c', `set -e; mountpoint -q ${MOUNT} || mount -t glusterfs localhost:/${VOLUME} ${MOUNT}; dd if=/dev/zero of=${MOUNT}/fill.bin bs=1M count=${fillMiB} status=none; sync`], 300);
      await expectCapacityRefusals();
    } finally {
      // Whatever happened above, the tests after this one need the fill gone.
      await removeFill();
    }
    // Without the fill, the same shrink plans again.
    let again: Planned['result'] | undefined;
    for (let i = 0; i < 10; i += 1) {
      again = ((await sb.invoke('storage', { action: 'shrink', volume: VOLUME, dryRun: true })) as Planned).result;
      if (again.outcome === 'planned') break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    expect(again?.outcome).toBe('planned');
  }, 400_000);


  test('a real shrink: remove-brick start, migration watched, commit after it completed; the set\'s members leave (desired 2), 1 x 2 bricks, every checksum unchanged', async () => {
    const start = Date.now();
    const answer = await sb.phase('shrink pydio-data by one replica set', async () => {
      const a = await sb.invoke('storage', { action: 'shrink', volume: VOLUME });
      await awaitNotes(async () => {
        const end = [...(await shrinkNotes('storage.succeeded')), ...(await shrinkNotes('storage.failed')), ...(await shrinkNotes('storage.refused'))].filter((n) => n.at >= start);
        return end.length ? end : undefined;
      }, 'end of the shrink (storage.succeeded/failed/refused)', 300);
      return a;
    });
    times.shrink = (Date.now() - start) / 1000;
    expect((answer as { result: { outcome: string } }).result.outcome).toBe('accepted');
    expect((await shrinkNotes('storage.failed')).map((n) => n.subject)).toEqual([]);
    expect((await shrinkNotes('storage.refused')).filter((n) => n.at >= start).map((n) => n.subject)).toEqual([]);
    expect((await shrinkNotes('storage.succeeded')).map((n) => n.subject)).toEqual([expect.stringMatching(new RegExp(`^\\[pasbox\\] shrink of ${VOLUME} done in `))]);

    // The commands, in order: start; status until the migration completed; commit; the released peers detached.
    sb.controlPlane.events.off('step', recordShrinkRun);
    const actions = shrinkRuns.map((r) => r.env.SSM_Action);
    console.info(`shrink commands: ${actions.join(', ')}`);
    const freshIps = fresh.map((i) => i.privateIp).sort();
    const statuses = actions.filter((a) => a === 'remove-brick-status').length;
    expect(statuses).toBeGreaterThanOrEqual(1);
    expect(actions).toEqual(['remove-brick-start', ...Array<string>(statuses).fill('remove-brick-status'), 'remove-brick-commit', 'peer-detach', 'peer-detach']);
    for (const r of shrinkRuns.filter((x) => x.env.SSM_Action?.startsWith('remove-brick'))) {
      expect(r.env.SSM_Bricks?.split(',').sort()).toEqual(freshIps.map((ip) => `${ip}:/bricks/${VOLUME}/brick`));
    }
    expect(shrinkRuns.filter((r) => r.env.SSM_Action === 'peer-detach').map((r) => r.env.SSM_Peer).sort()).toEqual(freshIps);
    // Run on a member that stays, and the last status before the commit said completed (no failures).
    expect(shrinkRuns.filter((r) => !originalIds.includes(r.instanceId)).map((r) => r.instanceId)).toEqual([]);
    const lastStatus = await outputOf(shrinkRuns[statuses]!);
    expect(lastStatus).toMatch(/<statusStr>completed<\/statusStr>/);
    expect(lastStatus).not.toMatch(/<statusStr>(in progress|failed)<\/statusStr>/);

    // The released members leave through their terminate hooks; the group is back to the original two.
    const freshIds = fresh.map((i) => i.instanceId);
    const s = await sb.waitForState(
      (st) =>
        st.groups.find((g) => g.name === sb.storageGroup)?.desired === 2 &&
        storageOf(st).map((i) => i.instanceId).sort().join() === [...originalIds].sort().join() &&
        storageOf(st).every((i) => i.lifecycleState === 'InService') &&
        !st.hosts.some((h) => freshIds.includes(h.instanceId) && h.running),
      240_000,
      'the storage group back to its two original members, the released hosts gone',
    );
    expect(s.hosts.filter((h) => freshIds.includes(h.instanceId) && h.running)).toEqual([]);
    // Their peers left the pool: only the two original members, both connected.
    const pool = (await gluster('pool', 'list')).trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    expect(pool.map((c) => `${c[1] === 'localhost' ? 'self' : c[1]} ${c[c.length - 1]}`).sort()).toEqual(
      ['self Connected', `${storageOf(s).find((i) => i.instanceId !== via)!.privateIp} Connected`].sort(),
    );
    const left = await awaitNotes(async () => {
      const l = (await notes('lifecycle.succeeded')).filter((n) => freshIds.includes(n.attributes.instanceId ?? '') && n.subject.includes('left'));
      return l.length === 2 ? l : undefined;
    }, 'terminate-hook completion of both released members', 120);
    for (const n of left) expect(n.subject).toMatch(/left \(no bricks\)$/);

    // The volume: one set, on the original members, online.
    expect(await brickCount()).toBe('1 x 2 = 2');
    const bricks = [...(await gluster('volume', 'info', VOLUME)).matchAll(/^Brick\d+: (\S+)$/gm)].map((m) => m[1]);
    expect(bricks.every((b) => !fresh.some((f) => b?.startsWith(`${f.privateIp}:`)))).toBe(true);
    expect((await gluster('volume', 'status', VOLUME, 'detail')).match(/^Online\s*:\s*Y/gm) ?? []).toHaveLength(2);

    // No file lost, none changed.
    const after = await checksums();
    expect(after.trim().split('\n')).toHaveLength(FILES);
    expect(after === before).toBe(true);
  }, 500_000);

  test('a shrink below one replica set is refused with a reason that reads well, and changes nothing', async () => {
    const dry = await sb.invoke('storage', { action: 'shrink', volume: VOLUME, dryRun: true });
    expect((dry as { result: unknown }).result).toEqual({ outcome: 'refused', reason: `${VOLUME} has a single replica set: removing it would remove the volume` });

    const before = (await shrinkNotes('storage.refused')).length;
    const real = await sb.invoke('storage', { action: 'shrink', volume: VOLUME });
    expect((real as { result: { outcome: string } }).result.outcome).toBe('accepted');
    const refusal = await awaitNotes(async () => (await shrinkNotes('storage.refused'))[before], 'refusal of the queued shrink', 120);
    // The subject is cut to SNS's limit; the message carries the whole reason.
    expect(refusal.subject).toMatch(new RegExp(`^\\[pasbox\\] shrink of ${VOLUME} refused: ${VOLUME} has a single replica set`));
    expect(refusal.message).toContain(`The shrink of ${VOLUME} was refused and nothing was changed.`);
    expect(refusal.message).toContain(`${VOLUME} has a single replica set: removing it would remove the volume`);
    expect(await brickCount()).toBe('1 x 2 = 2');
    expect((await sb.status()).groups.find((g) => g.name === sb.storageGroup)?.desired).toBe(2);
  });

  // --- a data disk that already holds a file system, through the whole storage launch -------

  test('a storage launch whose disk already holds ext4 is ABANDONed with an ops message naming the device; the disk keeps its file system and data', async () => {
    const marker = `pas-e2e-marker-${process.pid}`;
    // Every instance seen so far (a failure of an earlier member must not be taken for this one's).
    const known = new Set([...storageOf(await sb.status()).map((i) => i.instanceId), ...(await sb.notifications()).map((n) => n.attributes.instanceId ?? '')]);
    sb.preformatNextStorageDisk(marker);
    const asg = new AutoScalingClient(clientConfig(sb.endpoint));
    try {
      await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: sb.storageGroup, DesiredCapacity: 3, HonorCooldown: false }));
    } finally {
      asg.destroy();
    }
    const failed = await awaitNotes(async () => (await notes('lifecycle.failed')).find((n) => n.attributes.tier === 'storage' && !known.has(n.attributes.instanceId ?? '')), 'lifecycle.failed of the new storage member', 240);
    const id = failed.attributes.instanceId ?? '';
    console.info(`pre-formatted member ${id}: ${failed.subject} | ${failed.message.split('\n').slice(0, 2).join(' | ')}`);
    expect(failed.subject).toBe(`[pasbox] storage node ${id} FAILED at prepare-brick`);
    expect(failed.message).toContain('Lifecycle action completed with ABANDON.');
    expect(failed.message).toContain('/dev/shm/pas-brick');
    expect(failed.message).toMatch(/holds data \(.*ext4.*\), not XFS: it is never formatted/);

    // ABANDON: Auto Scaling lets the instance go (and launches a replacement on a blank disk).
    await sb.waitForState((st) => !storageOf(st).some((i) => i.instanceId === id && i.lifecycleState !== 'Terminated') && !st.hosts.some((h) => h.instanceId === id && h.running), 120_000, `${id} gone after ABANDON`);

    // The disk itself: still ext4, the marker intact (read-only mount of the image, before teardown).
    const img = `${sb.stateDir}-disks/${id}.img`;
    expect(fs.existsSync(img)).toBe(true);
    const blkid = spawnSync('blkid', ['-o', 'value', '-s', 'TYPE', img], { encoding: 'utf8' });
    expect(blkid.stdout.trim()).toBe('ext4');
    const dir = fs.mkdtempSync(path.join(tmpdir(), 'pas-e2est-ro-'));
    try {
      const mount = spawnSync('mount', ['-o', 'ro,loop', img, dir], { encoding: 'utf8' });
      expect(mount.stderr.trim()).toBe('');
      try {
        expect(fs.readFileSync(path.join(dir, 'pas-marker'), 'utf8')).toBe(`${marker}\n`);
        expect(fs.readdirSync(dir).sort()).toEqual(['lost+found', 'pas-marker']);
      } finally {
        spawnSync('umount', [dir]);
      }
    } finally {
      fs.rmdirSync(dir);
    }

    // The replacement, on a blank disk, joins: the group heals itself.
    const joined = await awaitNotes(async () => (await notes('lifecycle.succeeded')).find((n) => n.attributes.tier === 'storage' && !known.has(n.attributes.instanceId ?? '') && n.attributes.instanceId !== id && n.subject.includes('joined')), 'the replacement member joining', 240);
    expect(joined.subject).toMatch(/joined in /);
  }, 500_000);
});
