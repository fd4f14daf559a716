/**
 * The load balancer's health check proves the node can serve Pydio, not that a file exists:
 * /check.txt is answered by PHP (install-health-check.sh), which probes both Gluster mounts.
 * On the live compute node of a real sandbox (the real documents installed it, HAProxy checks
 * it as the target group says): the data volume's FUSE client hangs (SIGSTOP), then dies
 * (SIGKILL). Each time the target turns unhealthy within the target group's threshold while
 * Apache keeps serving, and healthy again once the mount is back; the node's access log holds
 * the normal requests and no health check. Asserts states: target health, HTTP answers, logs.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { clientConfig, TARGET_GROUP_HEALTH_CHECK } from '../../sandbox/control-plane/aws-setup';
import { REPO_DIR } from '../../sandbox/hosts';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox';
import { describeWithSandbox, leftovers } from '../sandbox/prerequisites';
import { waitFor } from '../wait';

jest.setTimeout(300_000);

const NAME = 'pascc';
const stateDir = path.join(tmpdir(), `pas-${NAME}-${process.pid}`);
const DATA_MOUNT = '/mnt/pydio-data';
/** The check's own bound on the volumes' probes (configure-app.sh HEALTH_PROBE_TIMEOUT). */
const PROBE_BOUND_SECONDS = 3;
const hc = TARGET_GROUP_HEALTH_CHECK;
/**
 * How long the target group may take to act on a change: its threshold of consecutive checks, one
 * more interval for the check in flight when the change happened, the timeout, and 10 s for this
 * busy shared machine.
 */
const turnsUnhealthyMs = ((hc.unhealthyThreshold + 1) * hc.intervalSeconds + hc.timeoutSeconds + 10) * 1000;
const turnsHealthyMs = ((hc.healthyThreshold + 1) * hc.intervalSeconds + hc.timeoutSeconds + 10) * 1000;

describeWithSandbox('hosts/health-check.test.ts')('the health check on a live node (real documents, Apache + PHP, Gluster, HAProxy)', () => {
  let sb: Sandbox;
  let id = '';
  let ip = '';
  const measured: Record<string, number | string> = {};

  const sh = (script: string) => sb.hosts.exec(id, ['bash', '-c', script], 60);
  const target = async () => (await sb.status()).targets.find((t) => t.instanceId === id);
  const get = async (urlPath: string) => {
    const start = Date.now();
    const res = await fetch(`http://${ip}${urlPath}`, { signal: AbortSignal.timeout(15_000) });
    return { status: res.status, body: await res.text(), ms: Date.now() - start };
  };
  /** The data volume's glusterfs client: in this host's mount namespace, mounting /mnt/pydio-data. */
  const dataClientPid = async () => {
    const out = await sh(
      `own=$(readlink /proc/self/ns/mnt); for p in $(pgrep -x glusterfs); do [[ $(readlink /proc/$p/ns/mnt) == "$own" ]] || continue; ` +
        `tr '\\0' ' ' </proc/$p/cmdline | grep -qE ' ${DATA_MOUNT} ?$' && echo $p; done`,
    );
    const pids = out.split('\n').filter((l) => /^\d+$/.test(l));
    expect(pids).toHaveLength(1);
    return pids[0]!;
  };
  /** Probes of the data volume still running ("pid seconds state"): each is its own session (setsid), so the session leaders. */
  const dataProbes = async () =>
    (
      await sh(
        `for p in $(pgrep -f 'pydio-autoscaler/health/probe.sh data '); do ` +
          `read -r _ _ state _ _ sid _ </proc/$p/stat 2>/dev/null && [[ $sid == "$p" ]] && echo "$p $(ps -o etimes= -p $p) $state $(ps -o wchan= -p $p)"; done; true`,
      )
    )
      .split('\n')
      .filter((l) => l.trim() !== '');
  const waitForTarget = async (state: string, timeoutMs: number, what: string) => {
    const start = Date.now();
    const t = await waitFor(what, timeoutMs, async () => {
      const now = await target();
      return now?.state === state ? now : undefined;
    });
    return { ...t, ms: Date.now() - start };
  };

  beforeAll(async () => {
    sb = await startSandbox({ name: NAME, networkOctet: 94, stateDir, lbPort: 0, deregistrationDelaySeconds: 5, handleSignals: false });
    const compute = (await sb.status()).instances.filter((i) => i.groupName === sb.computeGroup);
    expect(compute.map((i) => i.lifecycleState)).toEqual(['InService']);
    id = compute[0]!.instanceId;
    ip = compute[0]!.privateIp;
  }, 400_000);

  afterAll(async () => {
    await sb?.stop();
    expect(leftovers(`pasbr${NAME}`, stateDir)).toEqual([]);
    console.info(`health check e2e (ms): ${JSON.stringify(measured)}`);
  }, 200_000);

  test('a healthy node: /check.txt is 200 "OK" from PHP, and the target group checks it as the sandbox\'s HAProxy does', async () => {
    expect(await target()).toMatchObject({ state: 'healthy' });
    expect(await get('/check.txt')).toMatchObject({ status: 200, body: 'OK\n' });
    // The target group's own settings are what HAProxy checks with (a registration would be refused otherwise).
    const elb = new ElasticLoadBalancingV2Client(clientConfig(sb.endpoint));
    const tg = (await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [sb.targetGroupArn] }))).TargetGroups?.[0];
    expect({
      path: tg?.HealthCheckPath,
      intervalSeconds: tg?.HealthCheckIntervalSeconds,
      timeoutSeconds: tg?.HealthCheckTimeoutSeconds,
      healthyThreshold: tg?.HealthyThresholdCount,
      unhealthyThreshold: tg?.UnhealthyThresholdCount,
      matcher: tg?.Matcher?.HttpCode,
    }).toEqual(hc);
    expect(hc.timeoutSeconds).toBeGreaterThan(PROBE_BOUND_SECONDS); // the check answers 503 before the load balancer gives up
    // HAProxy's checks run the probe: this node's probe file on each volume is fresh.
    for (const mount of ['/mnt/pydio-config', DATA_MOUNT]) {
      const age = Number((await sh(`echo $(( $(date +%s) - $(stat -c %Y ${mount}/.pydio-autoscaler/health/$(hostname)) ))`)).trim());
      expect({ mount, fresh: age <= 3 * hc.intervalSeconds }).toEqual({ mount, fresh: true });
    }
  });

  test('a hung data mount (its glusterfs client stopped): 503 naming it within the check\'s bound, unhealthy within the threshold, Apache still serving, one blocked probe; back -> healthy', async () => {
    const pid = await dataClientPid();
    await sh(`kill -STOP ${pid}`);
    try {
      const answer = await get('/check.txt');
      measured.hungCheckMs = answer.ms;
      expect(answer.status).toBe(503);
      expect(answer.body).toMatch(new RegExp(`^UNHEALTHY: data volume ${DATA_MOUNT}: (no answer within ${PROBE_BOUND_SECONDS}s|a probe started \\d+s ago has not finished) \\(mount hung\\?\\)\\n$`));
      expect(answer.ms).toBeLessThan((PROBE_BOUND_SECONDS + 3) * 1000); // bounded: not as long as the mount hangs

      const unhealthy = await waitForTarget('unhealthy', turnsUnhealthyMs, `${id} unhealthy while its data mount hangs`);
      measured.hungToUnhealthyMs = unhealthy.ms;
      measured.hungReason = unhealthy.reason ?? '';
      // Apache's workers are not held by the hang: the app (sessions on the config volume) still answers.
      expect((await get('/index.php')).status).toBe(200);
      // Checks keep coming (HAProxy every interval, and ours): still one probe blocked on the volume, maybe one waiting.
      const again = await get('/check.txt');
      expect(again.status).toBe(503);
      const probes = await dataProbes();
      measured.blockedProbes = probes.join('; ');
      expect(probes.length).toBeGreaterThanOrEqual(1);
      expect(probes.length).toBeLessThanOrEqual(2);
    } finally {
      await sh(`kill -CONT ${pid}`);
    }
    const healthy = await waitForTarget('healthy', turnsHealthyMs, `${id} healthy again once the data mount answers`);
    measured.hungBackToHealthyMs = healthy.ms;
    expect(await get('/check.txt')).toMatchObject({ status: 200, body: 'OK\n' });
    // The probe blocked during the hang ends once the mount answers (checks now start short-lived ones: none lives long).
    let last: string[] = [];
    await waitFor('the blocked probe to end', 20_000, async () => {
      last = (await dataProbes()).filter((p) => Number(p.split(' ')[1]) >= PROBE_BOUND_SECONDS);
      return last.length === 0 ? true : undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}; still running (pid seconds state wchan): ${last.join('; ')}`);
    });
  });

  test('a dead data mount client (SIGKILL): 503 with the kernel\'s words at once, unhealthy; pydio-mount-volumes remounts it -> healthy', async () => {
    const pid = await dataClientPid();
    await sh(`kill -KILL ${pid}`);
    const answer = await get('/check.txt');
    measured.deadCheckMs = answer.ms;
    expect(answer.status).toBe(503);
    expect(answer.body).toMatch(new RegExp(`^UNHEALTHY: data volume ${DATA_MOUNT}: .*Transport endpoint is not connected`));
    expect(answer.ms).toBeLessThan(PROBE_BOUND_SECONDS * 1000);
    // The mount is still listed: mountinfo alone would have passed it.
    expect(await sh(`awk '$5 == "${DATA_MOUNT}" { sub(/.* - /, ""); print $1 }' /proc/self/mountinfo`)).toBe('fuse.glusterfs\n');
    const unhealthy = await waitForTarget('unhealthy', turnsUnhealthyMs, `${id} unhealthy with a dead data mount`);
    measured.deadToUnhealthyMs = unhealthy.ms;

    // The repair ops would run: the mount document (a stale FUSE mount is unmounted lazily and mounted again).
    const storage = (await sb.status()).instances.filter((i) => i.role === 'storage').map((i) => i.privateIp);
    const script = readFileSync(path.join(REPO_DIR, 'ssm-documents/scripts/mount-volumes.sh'), 'utf8');
    const env = { SSM_ConfigVolume: 'pydio-config', SSM_DataVolume: 'pydio-data', SSM_Servers: storage.join(','), SSM_ConfigMount: '/mnt/pydio-config', SSM_DataMount: DATA_MOUNT };
    const mounted = await sb.hosts.run(id, script, env, 120);
    expect({ exitCode: mounted.exitCode, stderr: mounted.exitCode === 0 ? '' : mounted.stderr }).toEqual({ exitCode: 0, stderr: '' });
    const healthy = await waitForTarget('healthy', turnsHealthyMs, `${id} healthy again after the remount`);
    measured.remountToHealthyMs = healthy.ms;
  });

  test('the node\'s access log holds the normal requests and not one of the many health checks', async () => {
    const marker = `pas-marker-${process.pid}`;
    for (let i = 0; i < 3; i += 1) expect((await get(`/index.php?${marker}=${i}`)).status).toBe(200);
    const log = await sh('cat /var/log/apache2/pydio-access.log');
    expect(log.split('\n').filter((l) => l.includes(`GET /index.php?${marker}=`))).toHaveLength(3);
    expect(log).not.toContain('check.txt');
    // Debian's log for virtual hosts without their own log is not where they went either.
    expect(await sh('cat /var/log/apache2/other_vhosts_access.log /var/log/apache2/access.log 2>/dev/null | grep -c check.txt || true')).toBe('0\n');
    // And checks did reach Apache all along: this node's probe file was written within the last interval or two.
    const age = Number((await sh(`echo $(( $(date +%s) - $(stat -c %Y ${DATA_MOUNT}/.pydio-autoscaler/health/$(hostname)) ))`)).trim());
    expect(age).toBeLessThanOrEqual(3 * hc.intervalSeconds);
  });
});
