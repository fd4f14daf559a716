/**
 * A network partition between the two replicas of a set while clients write
 * (issue 10), end to end in the sandbox: two storage members in two zones
 * (replica 2, as the sandbox boots them: a cluster older than the quorum
 * layout), two compute nodes (one per zone) writing through their real
 * /mnt/pydio-data FUSE mounts (made by the real mount-volumes document).
 *
 * The partition cuts the zones apart: inside every host's network namespace a
 * blackhole route to each host of the other zone (`ip route add blackhole
 * <ip>/32`), so each client sees only the brick of its own zone, and the two
 * glusterds see each other no more. Each writer runs a bounded stream
 * (partition-writer.py): its own new files (temporary name, fsync, rename:
 * acknowledged only once renamed) and one file both rewrite.
 *
 * 1. Control, as booted (no quorum option): the same partition leaves the
 *    shared file in split-brain, which `heal info split-brain` reports. That
 *    is what makes "no split-brain" below mean something. The split-brain is
 *    then resolved the way the README tells an operator (latest-mtime).
 * 2. The product sets the layout: {"action":"layout"} on the storage function
 *    (the next storage operation would do it too): client quorum auto, server
 *    quorum, ratio 51%.
 * 3. The same partition again: writes the cluster cannot keep consistent are
 *    refused (their errno counted), the partition is healed, a heal is
 *    triggered, and then: 0 split-brain entries on every volume, every
 *    acknowledged write present with its content, every refused one absent.
 * 4. The cost, and how the product pays it back: a storage member dies (the
 *    host crashes); with two members the survivor loses server quorum and
 *    stops its bricks (a client's write answers ENOTCONN); glusterd refuses the
 *    replacement as a new peer, so the storage function lifts server quorum
 *    (the dead member is gone from the group), takes over its bricks, heals,
 *    detaches it and sets server quorum back, telling ops both times.
 *
 * The result is a table in the test log. Everything is bounded; the sandbox
 * (and with it every route) is torn down in afterAll.
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseHealInfoSummary } from '../../../lib/core/storage/gluster-parse';
import { isSteady, startSandbox, type InstanceStatus, type Sandbox, type SnsNotification } from '../../sandbox/sandbox';
import { describeWithSandbox, leftovers } from '../sandbox/prerequisites';
import { glusterOn } from '../gluster-cli';
import { waitFor } from '../wait';

jest.setTimeout(900_000);

const NAME = 'pasqa';
const OCTET = 97;
const stateDir = path.join(tmpdir(), `pas-${NAME}-${process.pid}`);
const VOLUMES = ['pydio-config', 'pydio-data'];
const MOUNT = '/mnt/pydio-data';
const WRITER = path.join(__dirname, 'partition-writer.py');
/**
 * Writes start, the partition comes after LEAD_MS and holds (past Gluster's 42 s ping timeout), the
 * writers stop after their run. The control holds longer: without quorum a client cut off while it
 * held AFR's (eager) lock on the shared file keeps the other side's writes of that file waiting until
 * the brick notices it gone (seen: more than 75 s), and the control needs both sides to write it.
 */
const LEAD_MS = 6_000;
const CONTROL = { holdMs: 150_000, runSeconds: 200 };
const QUORUM = { holdMs: 75_000, runSeconds: 130 };
const MAX_WRITES = 600;
const INTERVAL_SECONDS = 0.5;

interface Op {
  readonly op: 'own' | 'shared';
  readonly seq: number;
  readonly path: string;
  /** own: one line of the file (the file is that line 64 times); shared: the whole file. */
  readonly content: string;
  readonly ok: boolean;
  readonly errno: string | null;
  readonly step: string | null;
  readonly start: number;
  readonly end: number;
}
interface WriterReport { readonly writer: string; readonly ops: readonly Op[] }
interface Zone { readonly zone: string; readonly storage: InstanceStatus; readonly compute: InstanceStatus; readonly writer: string }
interface PhaseResult {
  readonly phase: string;
  readonly reports: readonly WriterReport[];
  /** Per writer: acknowledged own files missing or wrong after the heal; refused ones present. */
  readonly lost: Record<string, string[]>;
  readonly refusedPresent: Record<string, string[]>;
  readonly sharedContent: string | undefined;
  readonly sharedAcknowledged: boolean;
  readonly splitBrain: Record<string, string[]>;
  readonly partitionEffective: boolean;
  /** When the routes went in and came out (ms since the epoch, the writers' clock too). */
  readonly cutAt: number;
  readonly healedAt: number;
  /** Per writer: a fresh write of a new file PROBE_AFTER_MS into the partition ('ok', an errno name, or 'timeout' after 15 s). */
  readonly probes: Record<string, string>;
}

/**
 * A writer's stream can sit in one call for the whole partition (the ping timeout, then a lock a
 * cut-off client holds), neither acknowledged nor refused. A fresh write of a new file, well past the
 * ping timeout, says what the side can do then.
 */
const PROBE_AFTER_MS = 55_000;
const probeScript = (file: string) => [
  'import errno, os',
  'try:',
  `    fd = os.open(${JSON.stringify(file)}, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644); os.write(fd, b'x'); os.fsync(fd); os.close(fd); print('ok')`,
  'except OSError as e:',
  '    print(errno.errorcode.get(e.errno, e.errno))',
].join('\n');

/** Operations of a writer that ended acknowledged while the partition held. */
const acknowledgedDuring = (r: PhaseResult, w: WriterReport) => w.ops.filter((o) => o.ok && o.start * 1000 >= r.cutAt && o.end * 1000 <= r.healedAt);

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWithSandbox('storage/partition.test.ts')('a partition between the two replicas while clients write (real Gluster, real storage handler)', () => {
  let sb: Sandbox;
  let zones: [Zone, Zone];  // the last test puts the replacement in place of the storage member it replaced
  let firstBrickZone = '';
  const routes: Array<{ on: string; to: string }> = [];
  const results: PhaseResult[] = [];
  const times: Record<string, number> = {};

  const exec = (id: string, script: string, timeoutSeconds = 60) => sb.hosts.exec(id, ['bash', '-c', script], timeoutSeconds);
  const gluster = (on: InstanceStatus, ...args: string[]) => glusterOn(sb.hosts, on.instanceId, args);
  const notes = async (type: string, since = 0): Promise<SnsNotification[]> => (await sb.notifications()).filter((n) => n.attributes.eventType === type && n.at >= since);

  beforeAll(async () => {
    const start = Date.now();
    // storageMax / storageDataDiskMiB: room and a data disk for the replacement of the last test.
    sb = await startSandbox({ name: NAME, networkOctet: OCTET, stateDir, lbPort: 0, handleSignals: false, deregistrationDelaySeconds: 5, storageMax: 4, storageDataDiskMiB: 512 });
    await sb.setDesiredCapacity(2);
    const s = await sb.waitForState((st) => isSteady(st, sb.computeGroup, 2), 240_000, 'two compute instances InService and healthy');
    times.boot = Math.round((Date.now() - start) / 1000);
    const of = (role: string, zone: string) => s.instances.filter((i) => i.role === role && i.availabilityZone === zone && i.lifecycleState === 'InService');
    const zoneNames = ['eu-west-1a', 'eu-west-1b'];
    for (const zone of zoneNames) {
      expect({ zone, storage: of('storage', zone).length, compute: of('compute', zone).length }).toEqual({ zone, storage: 1, compute: 1 });
    }
    zones = zoneNames.map((zone, i) => ({ zone, storage: of('storage', zone)[0]!, compute: of('compute', zone)[0]!, writer: `w${'ab'[i]}` })) as [Zone, Zone];
    const info = await gluster(zones[0].storage, 'volume', 'info', 'pydio-data');
    const brick1 = /^Brick1: ([0-9.]+):/m.exec(info)?.[1];
    firstBrickZone = zones.find((z) => z.storage.privateIp === brick1)?.zone ?? `unknown (${brick1})`;
    for (const z of zones) {
      const fstype = (await sb.hosts.exec(z.compute.instanceId, ['findmnt', '-n', '-o', 'FSTYPE', MOUNT])).trim();
      expect({ host: z.compute.instanceId, fstype }).toEqual({ host: z.compute.instanceId, fstype: 'fuse.glusterfs' });
    }
    console.info(`partition e2e: zone a = storage ${zones[0].storage.privateIp}, compute ${zones[0].compute.privateIp}; zone b = storage ${zones[1].storage.privateIp}, compute ${zones[1].compute.privateIp}; Brick1 of pydio-data in ${firstBrickZone}`);
  }, 600_000);

  afterAll(async () => {
    // Routes go with the namespaces; taken out first anyway, so a kept sandbox is whole.
    await healPartition().catch(() => undefined);
    await sb?.stop();
    expect(leftovers(`pasbr${NAME}`, stateDir)).toEqual([]);
    if (results.length) console.info(resultTable(results).join('\n'));
    console.info(`partition e2e times (s): ${JSON.stringify(times)}`);
  }, 300_000);

  // --- the partition --------------------------------------------------------------------------

  async function partition(): Promise<void> {
    const [a, b] = zones;
    for (const [from, other] of [[a, b], [b, a]] as const) {
      for (const host of [from.storage, from.compute]) {
        for (const target of [other.storage, other.compute]) {
          await sb.hosts.exec(host.instanceId, ['ip', 'route', 'add', 'blackhole', `${target.privateIp}/32`]);
          routes.push({ on: host.instanceId, to: target.privateIp });
        }
      }
    }
  }

  async function healPartition(): Promise<void> {
    while (routes.length) {
      const r = routes.pop()!;
      await sb.hosts.exec(r.on, ['ip', 'route', 'del', 'blackhole', `${r.to}/32`]).catch(() => undefined);
    }
  }

  /** A client of zone b cannot open a connection to zone a's glusterd, and zone a's cannot reach zone b's. */
  async function partitionEffective(): Promise<boolean> {
    const probe = (from: Zone, to: Zone) => exec(from.compute.instanceId, `timeout 3 bash -c '</dev/tcp/${to.storage.privateIp}/24007' && echo open || echo closed`, 10);
    const [ab, ba] = [await probe(zones[0], zones[1]), await probe(zones[1], zones[0])];
    return ab.trim() === 'closed' && ba.trim() === 'closed';
  }

  // --- Gluster state -----------------------------------------------------------------------------

  async function waitWhole(): Promise<void> {
    for (const z of zones) {
      await waitFor(`${z.storage.privateIp} sees its peer connected`, 120_000, async () => ((await gluster(z.storage, 'peer', 'status')).includes('Peer in Cluster (Connected)') ? true : undefined), { intervalMs: 2000, retryOnError: true });
    }
    for (const volume of VOLUMES) {
      await waitFor(`both bricks of ${volume} online`, 120_000, async () => {
        const online = (await gluster(zones[0].storage, 'volume', 'status', volume, 'detail')).match(/^Online\s*:\s*Y/gm) ?? [];
        return online.length === 2 ? true : undefined;
      }, { intervalMs: 2000, retryOnError: true });
    }
  }

  async function healSummary(volume: string) {
    return parseHealInfoSummary(await gluster(zones[0].storage, '--xml', 'volume', 'heal', volume, 'info', 'summary'));
  }

  /** `heal info split-brain`: the paths (or gfids) each brick lists. */
  async function splitBrainPaths(volume: string): Promise<string[]> {
    const text = await gluster(zones[0].storage, 'volume', 'heal', volume, 'info', 'split-brain');
    return [...new Set(text.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('/') || l.startsWith('<gfid:')))];
  }

  /** A heal is triggered, then waited for until only split-brain entries (if any) remain. */
  async function healAndSettle(): Promise<void> {
    await waitWhole();
    for (const volume of VOLUMES) await gluster(zones[0].storage, 'volume', 'heal', volume).catch(() => undefined);
    for (const volume of VOLUMES) {
      await waitFor(`${volume} healed (only split-brain entries left)`, 180_000, async () => {
        const s = await healSummary(volume);
        return s.unreachable === 0 && s.pending === s.splitBrain ? true : undefined;
      }, { intervalMs: 3000, retryOnError: true });
    }
  }

  // --- one phase: writers, partition, heal, verdict ------------------------------------------------

  async function runPhase(phase: string, dir: string, { holdMs, runSeconds }: { holdMs: number; runSeconds: number }): Promise<PhaseResult> {
    await exec(zones[0].compute.instanceId, `set -e; mkdir -p ${MOUNT}/${dir}/${zones[0].writer} ${MOUNT}/${dir}/${zones[1].writer}`);
    const writers = Promise.all(zones.map(async (z) => JSON.parse(
      await sb.hosts.exec(z.compute.instanceId, ['python3', WRITER, `${MOUNT}/${dir}`, z.writer, String(MAX_WRITES), String(INTERVAL_SECONDS), String(runSeconds)], runSeconds + 120),
    ) as WriterReport));
    await sleep(LEAD_MS);
    await partition();
    const cutAt = Date.now();
    await sleep(5_000);
    const effective = await partitionEffective();
    await sleep(Math.max(0, PROBE_AFTER_MS - (Date.now() - cutAt)));
    // Killed after 15 s if it blocks (a non-zero exit): 'timeout'.
    const probes = Object.fromEntries(await Promise.all(zones.map(async (z) => [z.writer, (await sb.hosts.exec(
      z.compute.instanceId, ['timeout', '-s', 'KILL', '15', 'python3', '-c', probeScript(`${MOUNT}/${dir}/probe-${z.writer}`)], 30,
    ).catch(() => 'timeout')).trim()] as const)));
    await sleep(Math.max(0, holdMs - (Date.now() - cutAt)));
    await healPartition();
    const healedAt = Date.now();
    times[`${dir}Partition`] = Math.round((healedAt - cutAt) / 1000);
    const reports = await writers;
    await healAndSettle();

    // Read back through zone a's mount: every own file of both writers, and the shared file.
    const listing = await exec(zones[0].compute.instanceId, `cd ${MOUNT}/${dir} && find . -type f -name 'f*' -print0 | sort -z | xargs -0 -r sha256sum; echo "--shared--"; cat shared || true`, 120);
    const [files, shared] = listing.split('--shared--\n');
    const present = new Map((files ?? '').trim().split('\n').filter(Boolean).map((l) => { const [sum, file] = l.split(/\s+/); return [file!.slice(1), sum!] as const; }));
    const lost: Record<string, string[]> = {};
    const refusedPresent: Record<string, string[]> = {};
    for (const r of reports) {
      const own = r.ops.filter((o) => o.op === 'own');
      lost[r.writer] = own.filter((o) => o.ok && present.get(o.path) !== sha(o.content.repeat(64))).map((o) => o.path);
      refusedPresent[r.writer] = own.filter((o) => !o.ok && present.has(o.path)).map((o) => o.path);
    }
    const sharedAcknowledged = reports.some((r) => r.ops.some((o) => o.op === 'shared' && o.ok && o.content === shared));
    const splitBrain: Record<string, string[]> = {};
    for (const volume of VOLUMES) splitBrain[volume] = await splitBrainPaths(volume);
    const result: PhaseResult = { phase, reports, lost, refusedPresent, sharedContent: shared, sharedAcknowledged, splitBrain, partitionEffective: effective, cutAt, healedAt, probes };
    results.push(result);
    console.info(resultTable([result]).join('\n'));
    return result;
  }

  // --- the tests -------------------------------------------------------------------------------------

  test('control: as booted (replica 2, no quorum option), the partition leaves the shared file in split-brain, and heal info says so', async () => {
    const start = Date.now();
    const r = await sb.phase('partition without quorum', () => runPhase('without quorum (as booted)', 'pasq-control', CONTROL));
    times.control = Math.round((Date.now() - start) / 1000);
    // First what the README tells an operator, so that the next tests start from a clean volume whatever
    // is asserted below: pick the copy to keep, per file (here the first brick's; latest-mtime refuses
    // copies written in the same second: "No difference in mtime").
    const brick1 = /^Brick1: (\S+)$/m.exec(await gluster(zones[0].storage, 'volume', 'info', 'pydio-data'))![1]!;
    for (const file of r.splitBrain['pydio-data']!) {
      await gluster(zones[0].storage, 'volume', 'heal', 'pydio-data', 'split-brain', 'source-brick', brick1, file);
    }
    await healAndSettle();

    expect(r.partitionEffective).toBe(true);
    // Without quorum both sides took writes of the shared file during the partition (after the ping
    // timeout; a fresh write at 55 s may still wait, its answer is in the table only).
    expect(r.reports.map((w) => ({ writer: w.writer, shared: acknowledgedDuring(r, w).filter((o) => o.op === 'shared').length > 0 }))).toEqual(r.reports.map((w) => ({ writer: w.writer, shared: true })));
    expect(r.splitBrain['pydio-data']).toEqual(expect.arrayContaining([expect.stringMatching(/pasq-control\/shared$|^<gfid:/)]));
    for (const volume of VOLUMES) expect({ volume, splitBrain: (await healSummary(volume)).splitBrain, entries: await splitBrainPaths(volume) }).toEqual({ volume, splitBrain: 0, entries: [] });
  });

  test('the storage function sets the quorum layout on the volumes it finds without it (layout request), and tells ops once', async () => {
    const since = Date.now();
    const answer = (await sb.invoke('storage', { action: 'layout' })) as { outcome: string; result?: { outcome: string } };
    expect({ outcome: answer.outcome, result: answer.result?.outcome }).toEqual({ outcome: 'success', result: 'accepted' });
    const done = await waitFor('the layout request to end', 180_000, async () => {
      const bad = [...(await notes('storage.failed', since)), ...(await notes('storage.refused', since))];
      if (bad.length) throw new Error(`the layout request did not succeed:\n${bad.map((n) => `${n.subject}\n${n.message}`).join('\n---\n')}`);
      return (await notes('storage.succeeded', since)).find((n) => n.subject.includes('layout of the volumes done'));
    }, { intervalMs: 1000 });
    expect(done.message).toContain('Set pydio-data: cluster.server-quorum-type server.');
    const told = await notes('storage.layout', since);
    expect(told.map((n) => n.subject)).toEqual(['[pasbox] quorum options set on pydio-config, pydio-data: no split-brain, less availability']);
    for (const volume of VOLUMES) {
      const info = await gluster(zones[1].storage, 'volume', 'info', volume);
      expect({ volume, options: info.match(/^cluster\.(quorum-type|server-quorum-type|server-quorum-ratio): .*$/gm)?.sort() }).toEqual({
        volume, options: ['cluster.quorum-type: auto', 'cluster.server-quorum-ratio: 51%', 'cluster.server-quorum-type: server'],
      });
    }
    times.layout = Math.round((Date.now() - since) / 1000);
  });

  test('with the layout, the same partition: refused writes are reported as refused, none lost, and no split-brain entry on any volume afterwards', async () => {
    const info = await gluster(zones[0].storage, 'volume', 'info', 'pydio-data');
    if (!/^cluster\.server-quorum-type: server$/m.test(info)) throw new Error('pydio-data is not in the quorum layout (the layout request above did not set it): this phase would only repeat the control');
    const start = Date.now();
    const r = await sb.phase('partition with quorum', () => runPhase('with the quorum layout', 'pasq-quorum', QUORUM));
    times.quorum = Math.round((Date.now() - start) / 1000);
    expect(r.partitionEffective).toBe(true);
    for (const volume of VOLUMES) expect({ volume, splitBrain: r.splitBrain[volume] }).toEqual({ volume, splitBrain: [] });
    for (const volume of VOLUMES) expect({ volume, splitBrain: (await healSummary(volume)).splitBrain }).toEqual({ volume, splitBrain: 0 });
    // Every acknowledged write is there with its content; no refused write is.
    expect(r.lost).toEqual(Object.fromEntries(r.reports.map((w) => [w.writer, []])));
    expect(r.refusedPresent).toEqual(Object.fromEntries(r.reports.map((w) => [w.writer, []])));
    expect(r.sharedAcknowledged).toBe(true);
    // No write was acknowledged while the zones were apart (two members: each side lost server quorum);
    // a fresh write on either side, past the ping timeout, is refused or still waiting (seen both), never
    // acknowledged; every refusal of the streams names its errno (ENOTCONN since glusterfs 3.13, glusterdocs).
    expect(r.reports.map((w) => ({ writer: w.writer, acknowledgedDuring: acknowledgedDuring(r, w).length }))).toEqual(r.reports.map((w) => ({ writer: w.writer, acknowledgedDuring: 0 })));
    expect(Object.values(r.probes).filter((p) => p !== 'ENOTCONN' && p !== 'timeout')).toEqual([]);
    const refused = r.reports.flatMap((w) => w.ops.filter((o) => !o.ok));
    expect([...new Set(refused.map((o) => o.errno))].filter((e) => e !== 'ENOTCONN' && e !== 'EROFS')).toEqual([]);
    // After the heal the writers were acknowledged again: the volume came back by itself.
    for (const w of r.reports) expect({ writer: w.writer, lastOk: w.ops.at(-1)?.ok }).toEqual({ writer: w.writer, lastOk: true });
  });

  test('a storage member dies with the layout set: the survivor stops its bricks (writes refused), the replacement lifts server quorum, takes over, heals, and sets it back', async () => {
    const since = Date.now();
    const [victim, survivor] = zones;
    const kill = await sb.killStorageHost(victim.storage.instanceId, { noticeAfterSeconds: 8 });
    // Server quorum lost on the survivor (one of two): glusterd stops its bricks, so the clients have none.
    await waitFor(`${survivor.storage.privateIp} stops its bricks (server quorum lost)`, 120_000, async () => {
      const online = (await gluster(survivor.storage, 'volume', 'status', 'pydio-data', 'detail')).match(/^Online\s*:\s*Y/gm) ?? [];
      return online.length === 0 ? true : undefined;
    }, { intervalMs: 2000, retryOnError: true });
    const outage = (await sb.hosts.exec(survivor.compute.instanceId, ['python3', '-c', probeScript(`${MOUNT}/pasq-outage`)], 120)).trim();
    await kill.noticed;
    const done = await waitFor('the replacement', 400_000, async () => {
      const failed = [...(await notes('storage.failed', since)), ...(await notes('lifecycle.failed', since))];
      if (failed.length) throw new Error(`the replacement failed:\n${failed.map((n) => `${n.subject}\n${n.message}`).join('\n---\n')}`);
      return (await notes('storage.layout', since)).find((n) => n.subject.includes('server quorum restored'));
    }, { intervalMs: 2000 });
    times.memberLossToRestored = Math.round((done.at - kill.crashedAt) / 1000);
    const told = (await notes('storage.layout', since)).map((n) => n.subject);
    const s = await sb.status();
    const fresh = s.instances.find((i) => i.role === 'storage' && i.availabilityZone === victim.zone && i.instanceId !== victim.storage.instanceId && i.lifecycleState === 'InService');
    console.info(`member loss: writes during the outage answered ${outage}; told ${JSON.stringify(told)}; crash -> server quorum restored ${times.memberLossToRestored}s; replacement ${fresh?.instanceId} ${fresh?.privateIp}`);
    expect(outage).toBe('ENOTCONN');
    expect(told).toEqual(['[pasbox] server quorum lifted on pydio-config, pydio-data for a replacement', '[pasbox] server quorum restored on pydio-config, pydio-data: no split-brain, less availability']);
    expect(fresh).toBeDefined();
    for (const volume of VOLUMES) {
      const info = await gluster(survivor.storage, 'volume', 'info', volume);
      expect({ volume, serverQuorum: /^cluster\.server-quorum-type: (\S+)$/m.exec(info)?.[1], bricks: [...info.matchAll(/^Brick\d+: (\S+)$/gm)].map((m) => m[1]!.split(':')[0]).sort() })
        .toEqual({ volume, serverQuorum: 'server', bricks: [fresh!.privateIp, survivor.storage.privateIp].sort() });
    }
    zones = [{ ...victim, storage: fresh! }, survivor];
    await healAndSettle();
    for (const volume of VOLUMES) expect({ volume, splitBrain: await splitBrainPaths(volume) }).toEqual({ volume, splitBrain: [] });
    // Both clients write again.
    for (const z of zones) {
      const answer = (await sb.hosts.exec(z.compute.instanceId, ['python3', '-c', probeScript(`${MOUNT}/pasq-after-${z.writer}`)], 120)).trim();
      expect({ client: z.writer, answer }).toEqual({ client: z.writer, answer: 'ok' });
    }
  });

  function resultTable(rs: readonly PhaseResult[]): string[] {
    const lines = [
      `partition e2e (Brick1 of pydio-data in ${firstBrickZone}; writes every ${INTERVAL_SECONDS}s; partition ${CONTROL.holdMs / 1000}s of ${CONTROL.runSeconds}s without quorum, ${QUORUM.holdMs / 1000}s of ${QUORUM.runSeconds}s with it):`,
      '| phase | writer | writes | acknowledged (during the partition) | refused (errno at step x count) | a new write 55 s into the partition | acknowledged lost | refused present | shared file | split-brain entries |',
      '| --- | --- | ---: | ---: | --- | --- | ---: | ---: | --- | --- |',
    ];
    for (const r of rs) {
      for (const w of r.reports) {
        const refused = w.ops.filter((o) => !o.ok);
        const byErrno = Object.entries(refused.reduce<Record<string, number>>((acc, o) => ({ ...acc, [`${o.errno} at ${o.step}`]: (acc[`${o.errno} at ${o.step}`] ?? 0) + 1 }), {})).map(([k, n]) => `${k} x${n}`).join(', ') || '-';
        const sb2 = Object.entries(r.splitBrain).map(([v, e]) => `${v}: ${e.length}${e.length ? ` (${e.join(' ')})` : ''}`).join('; ');
        lines.push(`| ${r.phase} | ${w.writer} | ${w.ops.length} | ${w.ops.length - refused.length} (${acknowledgedDuring(r, w).length}) | ${byErrno} | ${r.probes[w.writer] ?? '?'} | ${r.lost[w.writer]?.length ?? '?'} | ${r.refusedPresent[w.writer]?.length ?? '?'} | ${r.sharedAcknowledged ? 'an acknowledged version' : JSON.stringify(r.sharedContent)} | ${sb2} |`);
      }
    }
    return lines;
  }
});
