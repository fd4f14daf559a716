/**
 * Continuous Gluster health (issue 10), end to end in the sandbox and asserted
 * on STATES: real namespace hosts running glusterd, the deployed stack, the
 * REAL bundled storage handler fed through StorageQueue with the watch's
 * message `{"healthCheck":{"requestedAt":...}}` (sent here as the watch
 * sends it, every period), the functions' EMF log lines extracted into the
 * emulator's CloudWatch as CloudWatch Logs extracts them, and the alarm
 * evaluator applying the stack's Gluster alarms.
 *
 * A brick process (the glusterfsd of pydio-data on one storage member) is
 * SIGKILLed inside its host; the member itself stays up (glusterd, agent,
 * instance InService). Asserted: the next health read publishes
 * GlusterBricksOffline = 1 for pydio-data (and pool-wide) into CloudWatch;
 * ops get one `storage.health` notice naming the brick and its member; the
 * storage function restarts it (`gluster volume start pydio-data force`
 * through storage-gluster-command, under the lock) and says so; gluster shows
 * the brick online with a new process; the following reads publish 0 and ops
 * get "Gluster healthy again", once; the bricks-offline alarm goes ALARM and
 * back to OK. With PAS_DASHBOARD_SVG set, the run's dashboard is drawn there
 * (the README's picture comes from such a run).
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { clientConfig } from '../../sandbox/control-plane/aws-setup';
import { renderSandboxDashboard } from '../../sandbox/dashboard/render';
import { startSandbox, type Sandbox, type SnsNotification } from '../../sandbox/sandbox';
import { describeWithSandbox, leftovers } from '../sandbox/prerequisites';
import { glusterOn } from '../gluster-cli';
import { waitFor } from '../wait';

jest.setTimeout(300_000);

const NAME = 'pascha';
const stateDir = path.join(tmpdir(), `pas-${NAME}-${process.pid}`);
const VOLUME = 'pydio-data';
/** How often the test plays the watch (a short period: the sandbox's, not a production one). */
const WATCH_PERIOD_MS = 20_000;
const MOUNT = '/mnt/pascha-data';
/** Files written while the brick is down: what the live brick then holds for it, to heal. */
const OUTAGE_FILES = 40;

describeWithSandbox('storage/health.test.ts')('a brick process killed on a live storage member: metric, notice, repair, recovery (real Gluster, real storage handler)', () => {
  let sb: Sandbox;
  let cw: CloudWatchClient;
  let sqs: SQSClient;
  let queueUrl: string;
  let start: Date;
  let members: Array<{ instanceId: string; privateIp: string }>;
  let victim: { instanceId: string; privateIp: string };
  let reader: { instanceId: string; privateIp: string };
  let watch: NodeJS.Timeout | undefined;
  const times: Record<string, number> = {};

  const healthCheck = () => sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ healthCheck: { requestedAt: new Date().toISOString() } }) }));
  const notes = async (type: string): Promise<SnsNotification[]> => (await sb.notifications()).filter((n) => n.attributes.eventType === type);
  const gluster = (...args: string[]) => glusterOn(sb.hosts, reader.instanceId, args);
  /** The Maximum of a Gluster gauge in the emulator's CloudWatch since the test began, per minute. */
  const maxima = async (metric: string, volume?: string): Promise<number[]> => {
    const out = await cw.send(new GetMetricStatisticsCommand({
      Namespace: 'PydioAutoscaler', MetricName: metric,
      Dimensions: [{ Name: 'service', Value: 'pydio-autoscaler' }, ...(volume ? [{ Name: 'Volume', Value: volume }] : [])],
      StartTime: new Date(start.getTime() - 60_000), EndTime: new Date(Date.now() + 60_000), Period: 60, Statistics: ['Maximum'],
    }));
    return (out.Datapoints ?? []).sort((a, b) => a.Timestamp!.getTime() - b.Timestamp!.getTime()).map((d) => d.Maximum!);
  };
  /** pid and online state of `host`'s brick of VOLUME, as glusterd reports it. */
  const brickStatus = async (host: string): Promise<{ online: boolean; pid: number }> => {
    const xml = await gluster('--xml', 'volume', 'status', VOLUME, `${host}:${brickPath}`);
    return { online: /<status>1<\/status>/.test(xml), pid: Number(/<pid>(-?\d+)<\/pid>/.exec(xml)?.[1] ?? NaN) };
  };
  let brickPath = '';

  beforeAll(async () => {
    const t = Date.now();
    start = new Date();
    sb = await startSandbox({
      name: NAME, networkOctet: 95, stateDir, lbPort: 0, handleSignals: false,
      // The alarm evaluator applies the stack's alarms (the Gluster ones at their own 60 s period); the agent feeds the CPU and
      // disk widgets (the boot members' bricks on their own XFS disks, so /bricks is a mount the agent reports).
      alarms: { periodSeconds: 10 },
      storageBootDisks: true,
      storageDataDiskMiB: 320,
    });
    times.boot = (Date.now() - t) / 1000;
    cw = new CloudWatchClient(clientConfig(sb.endpoint));
    sqs = new SQSClient(clientConfig(sb.endpoint));
    queueUrl = sb.stack.outputs.StorageQueueUrl ?? '';
    expect(queueUrl).toMatch(/^http/);
    members = (await sb.status()).instances.filter((i) => i.role === 'storage').map((i) => ({ instanceId: i.instanceId, privateIp: i.privateIp }));
    expect(members).toHaveLength(2);
    // The victim holds the set's second brick: with client quorum auto on a replica-2 set (issue 10's quorum options)
    // writes go on while the first brick is up, and the outage writes below are what gives the heal count something to count.
    const info = await glusterOn(sb.hosts, members[0]!.instanceId, ['volume', 'info', VOLUME]);
    const second = /Brick2: ([0-9.]+):(\S+)/.exec(info);
    expect(second).not.toBeNull();
    victim = members.find((m) => m.privateIp === second![1])!;
    reader = members.find((m) => m !== victim)!;
    brickPath = second![2]!;
    expect(brickPath).toMatch(/^\//);
    await sb.hosts.exec(reader.instanceId, ['bash', '-c', `mkdir -p ${MOUNT} && mount -t glusterfs localhost:/${VOLUME} ${MOUNT} && mkdir -p ${MOUNT}/health`], 120);
  }, 400_000);

  afterAll(async () => {
    if (watch) clearInterval(watch);
    // The functions' log outlives the sandbox (its state dir goes with it): what the storage function did, line by line.
    const kept = path.join(tmpdir(), `pas-${NAME}-functions-${process.pid}.log`);
    if (sb && fs.existsSync(sb.logFile)) {
      fs.copyFileSync(sb.logFile, kept);
      const timeline = await sb.timeline().catch(() => []);
      fs.writeFileSync(`${kept}.timeline`, timeline.map((e) => `${new Date(e.at).toISOString()} ${e.kind} ${e.text}`).join('\n'));
      console.info(`functions' log kept at ${kept} (timeline beside it)`);
    }
    await sb?.stop();
    expect(leftovers(`pasbr${NAME}`, stateDir)).toEqual([]);
    console.info(`storage health e2e times (s): ${JSON.stringify(times)}`);
  }, 200_000);

  test('a healthy cluster: the first read publishes 0 everywhere and tells nothing', async () => {
    await healthCheck();
    await waitFor('the first health read in CloudWatch', 90_000, async () => ((await maxima('GlusterBricksOffline')).length > 0 ? true : undefined), { intervalMs: 1000 });
    expect(await maxima('GlusterBricksOffline')).toEqual([0]);
    expect(await maxima('GlusterBricksOffline', VOLUME)).toEqual([0]);
    expect(await maxima('GlusterPeersDisconnected')).toEqual([0]);
    expect(await maxima('GlusterSplitBrainEntries', 'pydio-config')).toEqual([0]);
    expect(await notes('storage.health')).toEqual([]);
  });

  test('the brick process killed on a live member: metric 1, one notice, restarted and told; then 0 and "healthy again", once; the alarm ALARM then OK', async () => {
    // --- the brick process dies; its member lives on ------------------------------------------
    const before = await brickStatus(victim.privateIp);
    expect(before.online).toBe(true);
    const t0 = Date.now();
    await sb.hosts.exec(victim.instanceId, ['kill', '-9', String(before.pid)], 10);
    // As on a real host, init reaps it at once (glusterd takes a zombie's pid file as a running brick: fixtures/README.md).
    await waitFor(`brick process ${before.pid} reaped`, 30_000, async () => ((await sb.hosts.exec(victim.instanceId, ['bash', '-c', `test -e /proc/${before.pid} && echo alive || echo gone`], 10)).trim() === 'gone' ? true : undefined), { intervalMs: 250 });
    expect((await brickStatus(victim.privateIp)).online).toBe(false);
    await expect(sb.hosts.exec(victim.instanceId, ['gluster', '--mode=script', 'pool', 'list'], 30)).resolves.toContain('localhost');
    // Clients keep writing: the live brick records each file as pending heal for the dead one.
    await sb.hosts.exec(reader.instanceId, ['bash', '-c', `for i in $(seq 1 ${OUTAGE_FILES}); do head -c 4096 /dev/urandom >${MOUNT}/health/outage-$i; done`], 120);

    // --- the watch asks; the storage function reads, publishes, tells, repairs --------------------
    await healthCheck();
    watch = setInterval(() => void healthCheck().catch(() => undefined), WATCH_PERIOD_MS);
    const told = await waitFor('the health notice', 180_000, async () => (await notes('storage.health'))[0], { intervalMs: 500 });
    times.killToNotice = (Date.now() - t0) / 1000;
    expect(told.subject).toMatch(/Gluster unhealthy: 1 brick offline \(pydio-data\)/);
    expect(told.message).toContain(`brick ${victim.privateIp}:${brickPath} of ${VOLUME} offline (member ${victim.instanceId})`);
    expect(told.message).toContain('restarting it (gluster volume start pydio-data force)');
    const restarted = await waitFor('the restart notice', 120_000, async () => (await notes('storage.repair'))[0], { intervalMs: 500 });
    times.killToRestarted = (Date.now() - t0) / 1000;
    expect(restarted.subject).toMatch(new RegExp(`brick of pydio-data offline on ${victim.instanceId}: restarted`));
    // The read's EMF lines reach CloudWatch as the invocation ends (CloudWatch Logs extracts them, here as there, a moment later).
    await waitFor('GlusterBricksOffline 1 for pydio-data in CloudWatch', 30_000, async () => ((await maxima('GlusterBricksOffline', VOLUME)).includes(1) ? true : undefined), { intervalMs: 500 });
    expect(await maxima('GlusterBricksOffline')).toContain(1);
    expect(await maxima('GlusterBricksOffline', 'pydio-config')).not.toContain(1);
    // What was written meanwhile is pending heal, counted on the brick that answered.
    expect(Math.max(...(await maxima('GlusterHealEntries', VOLUME)))).toBeGreaterThanOrEqual(OUTAGE_FILES);
    expect(told.message).toMatch(/Entries to heal: pydio-config 0, pydio-data \d+ \(1 brick\(s\) could not tell\)/);

    // --- glusterd started a new brick process ------------------------------------------------------
    const after = await waitFor('the brick online again', 60_000, async () => {
      const s = await brickStatus(victim.privateIp);
      return s.online ? s : undefined;
    }, { intervalMs: 1000 });
    expect(after.pid).not.toBe(before.pid);

    // --- the next reads: 0, and the recovery told once --------------------------------------------
    const recovered = await waitFor('"healthy again"', 120_000, async () => (await notes('storage.health'))[1], { intervalMs: 1000 });
    times.killToRecovered = (Date.now() - t0) / 1000;
    expect(recovered.subject).toMatch(/Gluster healthy again/);
    expect(recovered.message).toContain(`Resolved: brick ${VOLUME} ${victim.privateIp}:${brickPath} offline`);
    // Per minute, Maximum: the minute of the restart still shows 1; the next whole minute of reads shows 0.
    await waitFor('a minute of GlusterBricksOffline 0 for pydio-data', 150_000, async () => ((await maxima('GlusterBricksOffline', VOLUME)).at(-1) === 0 ? true : undefined), { intervalMs: 2000 });
    // Self-heal copies the outage files to the restarted brick: the count goes back to 0, and the files are there.
    await waitFor('the outage files healed (GlusterHealEntries 0)', 180_000, async () => ((await maxima('GlusterHealEntries', VOLUME)).at(-1) === 0 ? true : undefined), { intervalMs: 2000 });
    times.killToHealed = (Date.now() - t0) / 1000;
    const onVictim = await sb.hosts.exec(victim.instanceId, ['bash', '-c', `ls ${brickPath}/health | wc -l`], 30);
    expect(Number(onVictim.trim())).toBe(OUTAGE_FILES);

    // --- the stack's alarm saw it too: ALARM, then OK ---------------------------------------------
    const alarmName = sb.stack.outputs.GlusterBricksOfflineAlarmName ?? '';
    expect(alarmName).toContain('gluster-bricks-offline');
    const inAlarm = await waitFor(`${alarmName} ALARM`, 180_000, async () => sb.alarms!.transitions().find((x) => x.alarmName === alarmName && x.to === 'ALARM'), { intervalMs: 2000 });
    await waitFor(`${alarmName} back to OK`, 180_000, async () => sb.alarms!.transitions().find((x) => x.alarmName === alarmName && x.to === 'OK' && x.at > inAlarm.at), { intervalMs: 2000 });
    times.killToAlarmOk = (Date.now() - t0) / 1000;

    // Told once each: no repeat while the state held.
    await new Promise((r) => setTimeout(r, WATCH_PERIOD_MS * 2));
    expect((await notes('storage.health')).map((n) => n.subject.replace(/^\[\w+\] /, ''))).toEqual(['Gluster unhealthy: 1 brick offline (pydio-data)', 'Gluster healthy again']);
    expect(await notes('storage.repair')).toHaveLength(1);
    expect(await notes('storage.failed')).toEqual([]);
  });

  test('the dashboard drawn from this run shows the Gluster widgets with real data', async () => {
    if (watch) clearInterval(watch);
    watch = undefined;
    const out = process.env.PAS_DASHBOARD_SVG ?? path.join(stateDir, 'dashboard.svg');
    const rendered = await renderSandboxDashboard(sb, { out, start, periodOverride: 10 });
    console.info(`dashboard written to ${rendered.out}: ${JSON.stringify(rendered.pointsPerWidget)}`);
    expect(rendered.pointsPerWidget['Gluster bricks offline and peers disconnected']).toBeGreaterThan(3);
    expect(rendered.pointsPerWidget['Gluster entries to heal']).toBeGreaterThan(3);
    expect(rendered.pointsPerWidget['Gluster split-brain entries (never resolved automatically)']).toBeGreaterThan(3);
    // Read from CloudWatch (the EMF lines extracted as CloudWatch Logs does), not from the log file.
    const gluster = rendered.data[rendered.dashboard.widgets.findIndex((w) => w.type === 'metric' && w.title.startsWith('Gluster bricks offline'))] ?? [];
    expect(gluster.every((s) => s.source !== 'emf')).toBe(true);
    expect(gluster.flatMap((s) => s.points.map((p) => p.v))).toContain(1);
  });
});
