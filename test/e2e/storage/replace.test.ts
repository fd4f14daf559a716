/**
 * A killed storage host is replaced (issue 4), end to end in the sandbox and
 * asserted on cluster STATES: real namespace hosts with GlusterFS, the
 * deployed stack, the REAL bundled storage handler fed by the storage group's
 * lifecycle rule through StorageQueue, and a data disk (sparse loop device,
 * XFS made by the real prepare-brick document) for the replacement.
 *
 * Files are written to pydio-data through a FUSE mount in the storage host
 * that survives. Then one storage host is killed (`killStorageHost`: every
 * process of it SIGKILLed, then its network removed; moto keeps the
 * instance), and a file is written through the surviving mount while it is
 * down. After a few seconds the group notices as AWS would (status check
 * failed -> Unhealthy -> terminate hook -> the storage function's terminate
 * flow copes with a dead host -> a replacement launched in the zone that lost
 * it). The replacement joins, takes over the dead member's bricks
 * (replace-brick ... commit force), the heal is watched to the end, the dead
 * peer is detached, and ops are told how long the volume ran with one replica.
 *
 * Asserted: the replacement is in the dead host's zone; the outage file and
 * every earlier file are byte-identical on the replacement's own brick (read
 * inside the replacement host); `gluster volume info` names the new brick and
 * not the dead one for both volumes; every brick online; heal info 0 entries;
 * the dead peer is gone from `gluster pool list`; the SNS message states the
 * one-replica time as a duration.
 */
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm';
import { clientConfig } from '../../sandbox/control-plane/aws-setup';
import { startSandbox, type Sandbox, type SandboxStatus, type SnsNotification, type StorageHostKill } from '../../sandbox/sandbox';
import { describeWithSandbox, leftovers } from '../sandbox/prerequisites';
import { glusterOn } from '../gluster-cli';
import { waitFor } from '../wait';

jest.setTimeout(300_000);

const NAME = 'rpl';
const stateDir = path.join(tmpdir(), `pas-${NAME}-${process.pid}`);
const VOLUMES = ['pydio-config', 'pydio-data'];
const MOUNT = '/mnt/rpl-data';
const FILES = 40;

const storageOf = (s: SandboxStatus) => s.instances.filter((i) => i.role === 'storage');
const seconds = (ms: number) => Math.round(ms / 100) / 10;

describeWithSandbox('storage/replace.test.ts')('a killed storage host is replaced (real Gluster, real storage handler, loop-device brick)', () => {
  let sb: Sandbox;
  let survivor: { instanceId: string; privateIp: string };
  let victim: { instanceId: string; privateIp: string; availabilityZone: string };
  let beforeSums: string;
  const times: Record<string, number> = {};

  const exec = (id: string, script: string, timeoutSeconds = 60) => sb.hosts.exec(id, ['bash', '-c', script], timeoutSeconds);
  const gluster = (...args: string[]) => glusterOn(sb.hosts, survivor.instanceId, args);
  const notes = async (type: string): Promise<SnsNotification[]> => (await sb.notifications()).filter((n) => n.attributes.eventType === type);
  const brief = (n: SnsNotification) => `${n.subject}: ${n.message.split('\n').slice(0, 3).join(' | ')}`;

  beforeAll(async () => {
    const start = Date.now();
    sb = await startSandbox({ name: NAME, networkOctet: 81, stateDir, lbPort: 0, handleSignals: false, skipInitialScaleOut: true, storageMax: 4, storageDataDiskMiB: 512 });
    times.boot = seconds(Date.now() - start);
    const storage = storageOf(await sb.status());
    expect(storage.map((i) => i.availabilityZone).sort()).toEqual(['eu-west-1a', 'eu-west-1b']);
    // The host in eu-west-1b dies: the group's first subnet is eu-west-1b's (sandbox boot), so moto alone
    // would also land there; the host in eu-west-1a is killed instead, where only AZ balancing lands.
    const a = storage.find((i) => i.availabilityZone === 'eu-west-1a')!;
    const b = storage.find((i) => i.availabilityZone === 'eu-west-1b')!;
    victim = a;
    survivor = b;
    // Both agents registered with SSM (as an instance's agent does at boot; the emulator learns it on the first look).
    const info = await new SSMClient(clientConfig(sb.endpoint)).send(new DescribeInstanceInformationCommand({}));
    const online = (info.InstanceInformationList ?? []).filter((i) => i.PingStatus === 'Online').map((i) => i.InstanceId);
    expect(online).toEqual(expect.arrayContaining([a.instanceId, b.instanceId]));

    await exec(
      survivor.instanceId,
      `set -e; mkdir -p ${MOUNT} && mount -t glusterfs localhost:/pydio-data ${MOUNT}; mkdir -p ${MOUNT}/rpl/d0 ${MOUNT}/rpl/d1;` +
        ` for i in $(seq 1 ${FILES}); do head -c $((RANDOM % 8192 + 1)) /dev/urandom >${MOUNT}/rpl/d$((i % 2))/f$i; done`,
      120,
    );
    beforeSums = await exec(survivor.instanceId, `cd ${MOUNT}/rpl && find . -type f -print0 | sort -z | xargs -0 sha256sum`);
  }, 400_000);

  afterAll(async () => {
    await sb?.stop();
    expect(leftovers(`pasbr${NAME}`, stateDir)).toEqual([]);
    console.info(`storage replace e2e times (s): ${JSON.stringify(times)}`);
  }, 200_000);

  test(`${FILES} files are on pydio-data over both original hosts before anything happens; a kill of no storage instance is refused by id`, async () => {
    expect(beforeSums.trim().split('\n')).toHaveLength(FILES);
    await expect(sb.killStorageHost('i-00000000000000000')).rejects.toThrow(`i-00000000000000000 is no instance of ${sb.storageGroup}`);
    const onVictim = await exec(victim.instanceId, 'find /srv/gluster/pydio-data/brick/rpl -type f | wc -l');
    expect(Number(onVictim.trim())).toBe(FILES);
  });

  test('the killed host is replaced in its zone; the outage file and every earlier file are on the replacement\'s brick; new brick in, dead brick and peer out, healed, ops told the one-replica time', async () => {
    // --- the host dies; a file is written while it is down ---------------------------------
    const t0 = Date.now();
    const kill: StorageHostKill = await sb.killStorageHost(victim.instanceId, { noticeAfterSeconds: 8 });
    times.crash = seconds(Date.now() - t0);
    await expect(sb.hosts.exec(victim.instanceId, ['true'], 10)).rejects.toThrow(/is not running/);
    const writeStart = Date.now();
    const outageSum = await exec(
      survivor.instanceId,
      `set -e; head -c 65536 /dev/urandom >${MOUNT}/rpl/outage.bin; sha256sum ${MOUNT}/rpl/outage.bin | cut -d' ' -f1`,
      120,
    );
    times.outageWrite = seconds(Date.now() - writeStart);
    // Begun before the group even noticed (8 s after the crash): the volume had one replica then.
    // (How long the write itself takes is Gluster's business: on a busy machine a client that
    // missed the reset waits out its ping timeout; the replacement is over a minute away either way.)
    expect(writeStart - kill.crashedAt).toBeLessThan(8000);
    await kill.noticed;
    const noticedAt = Date.now();
    times.crashToNoticed = seconds(noticedAt - kill.crashedAt);

    // --- the group replaces it; the storage function takes over -----------------------------
    let done: SnsNotification | undefined;
    await sb.phase('replace a killed storage host', async () => {
      done = await waitFor('the replacement', 250_000, async () => {
        const failed = [...(await notes('storage.failed')), ...(await notes('lifecycle.failed'))];
        if (failed.length > 0) throw new Error(`the replacement failed:\n${failed.map((n) => `${n.subject}\n${n.message}`).join('\n---\n')}`);
        return (await notes('storage.succeeded')).find((n) => n.subject.includes(`replaced ${victim.instanceId}`));
      }, { intervalMs: 500 }).catch(async (error: unknown) => {
        if (String(error).includes('the replacement failed')) throw error;
        throw new Error(`no replacement within the bound; timeline:\n${(await sb.timeline()).map((e) => e.text).join('\n')}`);
      });
      await sb.waitForState((s) => storageOf(s).length === 2 && storageOf(s).every((i) => i.lifecycleState === 'InService'), 120_000, 'two storage members InService');
    });
    times.crashToReplaced = seconds(Date.now() - kill.crashedAt);

    const storage = storageOf(await sb.status());
    const fresh = storage.find((i) => i.instanceId !== survivor.instanceId)!;
    console.info(`dead ${victim.instanceId} ${victim.privateIp} ${victim.availabilityZone}; replacement ${fresh.instanceId} ${fresh.privateIp} ${fresh.availabilityZone}`);
    expect(storage.map((i) => i.instanceId)).not.toContain(victim.instanceId);
    expect(fresh.availabilityZone).toBe(victim.availabilityZone);
    // Published just after the hook completes, which is what makes the replacement InService: it may trail.
    const joined = async () => (await notes('lifecycle.succeeded')).map((n) => n.attributes.instanceId);
    const joinedIds = await waitFor(`${fresh.instanceId}'s lifecycle.succeeded`, 20_000, async () => {
      const ids = await joined();
      return ids.includes(fresh.instanceId) ? ids : undefined;
    }, { intervalMs: 500 }).catch(joined);
    expect(joinedIds).toContain(fresh.instanceId);
    expect((await notes('lifecycle.failed')).map(brief)).toEqual([]);

    // The SNS message: who replaced whom, and how long the volumes ran with one replica.
    expect(done!.subject).toContain(`${fresh.instanceId} replaced ${victim.instanceId} in ${victim.availabilityZone}`);
    const degraded = /ran with one replica less for ((\d+)h)?((\d+)m)?(\d+)s\./.exec(done!.message);
    expect(degraded).not.toBeNull();
    const degradedSeconds = Number(degraded![2] ?? 0) * 3600 + Number(degraded![4] ?? 0) * 60 + Number(degraded![5]);
    times.reportedOneReplica = degradedSeconds;
    // Counted from when the group noticed (the terminate hook's flow start: the dead node's last
    // moment known serving), so at least the notice -> message time less the queue's delivery delay,
    // and at most the crash -> message time.
    expect(degradedSeconds).toBeGreaterThanOrEqual(Math.floor((done!.at - noticedAt) / 1000) - 20);
    expect(degradedSeconds).toBeLessThanOrEqual(Math.ceil((done!.at - kill.crashedAt) / 1000) + 2);

    // The replacement's brick root is the XFS its prepare-brick made on its own disk.
    const [, fstype] = (await sb.hosts.exec(fresh.instanceId, ['findmnt', '-n', '-o', 'SOURCE,FSTYPE', '--mountpoint', '/bricks'])).trim().split(/\s+/);
    expect(fstype).toBe('xfs');

    // The outage file and every earlier file, byte for byte, on the replacement's own brick.
    const onBrick = await exec(fresh.instanceId, 'cd /bricks/pydio-data/brick/rpl && find . -type f -print0 | sort -z | xargs -0 sha256sum');
    const sums = new Map(onBrick.trim().split('\n').map((l) => { const [sum, file] = l.split(/\s+/); return [file, sum]; }));
    expect(sums.get('./outage.bin')).toBe(outageSum.trim());
    const expected = beforeSums.trim().split('\n').map((l) => l.split(/\s+/));
    expect(expected.filter(([sum, file]) => sums.get(file!) !== sum).map(([, file]) => file)).toEqual([]);

    // Volumes: the new brick in, the dead one out, every brick online, nothing left to heal.
    for (const volume of VOLUMES) {
      const info = await gluster('volume', 'info', volume);
      const bricks = [...info.matchAll(/^Brick\d+: (\S+)$/gm)].map((m) => m[1]);
      expect({ volume, bricks: [...bricks].sort() }).toEqual({ volume, bricks: [`${fresh.privateIp}:/bricks/${volume}/brick`, `${survivor.privateIp}:/srv/gluster/${volume}/brick`].sort() });
      expect(info).not.toContain(victim.privateIp);
      const online = (await gluster('volume', 'status', volume, 'detail')).match(/^Online\s*:\s*Y/gm) ?? [];
      expect({ volume, online: online.length }).toEqual({ volume, online: 2 });
      const heal = await gluster('volume', 'heal', volume, 'info');
      const entries = [...heal.matchAll(/^Number of entries: (\d+)$/gm)].map((m) => Number(m[1]));
      expect({ volume, entries }).toEqual({ volume, entries: [0, 0] });
    }

    // The dead peer is gone from the pool; the others are connected.
    const pool = (await gluster('pool', 'list')).trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    expect(pool.map((c) => c[1])).not.toContain(victim.privateIp);
    expect(pool.map((c) => (c[1] === 'localhost' ? survivor.privateIp : c[1])).sort()).toEqual([fresh.privateIp, survivor.privateIp].sort());
    expect(pool.every((c) => c[c.length - 1] === 'Connected')).toBe(true);

    // The next storage operation is not blocked by the dead peer any more: a dry-run expansion plans.
    const dry = (await sb.invoke('storage', { volume: 'pydio-data', sets: 1, dryRun: true })) as { outcome: string; result?: { outcome: string; reason?: string } };
    expect(dry.outcome).toBe('success');
    expect({ outcome: dry.result?.outcome, reason: dry.result?.reason }).toEqual({ outcome: 'planned', reason: undefined });

    // Every file through the surviving mount, as before plus the outage file.
    const after = await exec(survivor.instanceId, `cd ${MOUNT}/rpl && find . -type f ! -name outage.bin -print0 | sort -z | xargs -0 sha256sum`);
    expect(after === beforeSums).toBe(true);

    const phase = (await sb.phases()).find((p) => p.name.startsWith('replace'));
    times.replacePhase = Math.round((phase?.seconds ?? NaN) * 10) / 10;
    times.documentsWall = Math.round((phase?.documentsWallSeconds ?? NaN) * 10) / 10;
    times.controlPlane = Math.round((phase?.overheadSeconds ?? NaN) * 10) / 10;
    console.info(
      `replacement: crash -> group noticed ${times.crashToNoticed}s, crash -> replaced + healed ${times.crashToReplaced}s; ` +
        `outage write ${times.outageWrite}s; reported one-replica time ${degradedSeconds}s; documents ${times.documentsWall}s wall, control plane ${times.controlPlane}s`,
    );
  }, 400_000);
});
