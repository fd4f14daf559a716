/**
 * End to end on real hosts: GlusterFS replica volumes on two namespaced
 * storage hosts in two zones, Apache+PHP compute hosts mounting them, and
 * HAProxy as the sticky target group. Asserts cluster states: peers
 * connected, bricks online, the same bytes on every mount, sticky sessions,
 * a drain without failed requests. Needs root; tears everything down.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { TARGET_GROUP_HEALTH_CHECK, TARGET_GROUP_STICKINESS } from '../../sandbox/control-plane/aws-setup';
import { checkSandboxPrerequisites, HaproxyDataPlane, NamespaceHosts, REPO_DIR, teardownSandbox } from '../../sandbox/hosts';

const isRoot = process.getuid?.() === 0;
const canRun = isRoot && existsSync('/dev/fuse');
if (!canRun) {
  // One clear line instead of a failure: these tests need root and FUSE.
  console.warn(`hosts e2e skipped: ${isRoot ? '/dev/fuse is missing (no FUSE)' : 'not root (network and mount namespaces need root)'}`);
}
const describeRoot = canRun ? describe : describe.skip;

jest.setTimeout(120_000);

const run = `${process.pid}`.slice(-5);
const sandbox = { stateDir: path.join(tmpdir(), `pas-e2e-${run}`), bridge: `pasbr-e${run}`, bridgeCidr: '10.72.0.1/16' };
const TG = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pydio-web/0123456789abcdef';
/** A target group set up as the deployment guide used to say: app_cookie on `Pydio`, a cookie Pydio 8 never sets. */
const TG_ON_PYDIO = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pydio-old/0123456789abcdef';
const ids = { s1: `i-e2e${run}s1`, s2: `i-e2e${run}s2`, c1: `i-e2e${run}c1`, c2: `i-e2e${run}c2` };
const ip = { s1: '10.72.1.10', s2: '10.72.2.10', c1: '10.72.1.20', c2: '10.72.2.20' };
const MOUNT_SCRIPT = path.join(REPO_DIR, 'ssm-documents/scripts/mount-volumes.sh');
const CONFIGURE_SCRIPT = path.join(REPO_DIR, 'ssm-documents/scripts/configure-app.sh');
const INSTALL_HEALTH_CHECK_SCRIPT = path.join(REPO_DIR, 'ssm-documents/scripts/install-health-check.sh');
/** Enough for a target group's health check to change a target's state (thresholds x interval + timeout), with room for a busy machine. */
const HEALTH_CHANGE_SECONDS = 2 * (Math.max(TARGET_GROUP_HEALTH_CHECK.healthyThreshold, TARGET_GROUP_HEALTH_CHECK.unhealthyThreshold) * TARGET_GROUP_HEALTH_CHECK.intervalSeconds + TARGET_GROUP_HEALTH_CHECK.timeoutSeconds);

const times: Record<string, number> = {};
async function timed<T>(name: string, work: () => Promise<T>): Promise<T> {
  const start = Date.now();
  try {
    return await work();
  } finally {
    times[name] = (Date.now() - start) / 1000;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, seconds: number): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let last: unknown;
  for (let i = 0; i < 10_000 && Date.now() < deadline; i += 1) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${seconds}s waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

interface Answer {
  node: string;
  sessionId: string;
  count: number;
  session?: string;
}

describeRoot('sandbox hosts (root, namespaces, GlusterFS, Apache, HAProxy)', () => {
  let hosts: NamespaceHosts;
  let lb: HaproxyDataPlane;
  let url = '';
  let oldPort = 0;
  let reportPath = '';

  beforeAll(async () => {
    await checkSandboxPrerequisites();
    await teardownSandbox(sandbox); // leftovers of an interrupted run with the same name
    const port = await freePort();
    oldPort = await freePort();
    lb = new HaproxyDataPlane({
      ...sandbox,
      healthCheck: TARGET_GROUP_HEALTH_CHECK,
      listeners: [
        { port, targetGroupName: 'pydio-web', stickiness: TARGET_GROUP_STICKINESS },
        { port: oldPort, targetGroupName: 'pydio-old', stickiness: { cookieName: 'Pydio', durationSeconds: 86400 } },
      ],
    });
    hosts = new NamespaceHosts({ 'pydio-storage': 'storage', 'pydio-web': 'compute' }, sandbox, lb);
    await lb.start();
    url = lb.urlOf();
  });

  afterAll(async () => {
    await lb?.stop().catch(() => undefined);
    await teardownSandbox(sandbox);
    console.info(`hosts e2e times (s): ${JSON.stringify(times)}`);
  }, 180_000);

  test('two storage hosts in two zones serve pydio-config and pydio-data as replica 2 with every brick online', async () => {
    await timed('storageHostCreate', async () => {
      await hosts.onInstanceLaunched({ instanceId: ids.s1, privateIp: ip.s1, availabilityZone: 'eu-west-1a', subnetId: 'subnet-a', groupName: 'pydio-storage' });
      await hosts.onInstanceLaunched({ instanceId: ids.s2, privateIp: ip.s2, availabilityZone: 'eu-west-1b', subnetId: 'subnet-b', groupName: 'pydio-storage' });
    });
    await timed('glusterBoot', () => hosts.bootStorage([ids.s1, ids.s2]));
    await timed('glusterBootAgain', () => hosts.bootStorage([ids.s1, ids.s2])); // desired state: nothing left to do

    const pool = await hosts.exec(ids.s2, ['gluster', '--mode=script', 'pool', 'list']);
    expect(pool).toContain(ip.s1);
    expect(pool.split('\n').filter((l) => /\sConnected\s*$/.test(l))).toHaveLength(2);
    for (const volume of ['pydio-config', 'pydio-data']) {
      const info = await hosts.exec(ids.s1, ['gluster', '--mode=script', 'volume', 'info', volume]);
      expect(info).toMatch(/^Type: Replicate$/m);
      expect(info).toMatch(/^Status: Started$/m);
      expect(info).toMatch(/^Number of Bricks: 1 x 2 = 2$/m);
      expect(info).toContain(`${ip.s1}:/srv/gluster/${volume}/brick`);
      expect(info).toContain(`${ip.s2}:/srv/gluster/${volume}/brick`);
      const detail = await hosts.exec(ids.s1, ['gluster', '--mode=script', 'volume', 'status', volume, 'detail']);
      expect(detail.match(/^Online\s*:\s*Y/gm)).toHaveLength(2);
    }
    // Each host has its own glusterd identity.
    const uuid = async (id: string) => (await hosts.exec(id, ['cat', '/var/lib/glusterd/glusterd.info'])).match(/UUID=(\S+)/)?.[1];
    expect(await uuid(ids.s1)).not.toEqual(await uuid(ids.s2));
  });

  test('a Run Command step runs inside the host with exactly the SSM_ environment, its exit code, and a timeout that kills it', async () => {
    await timed('computeHostCreate', () =>
      hosts.onInstanceLaunched({ instanceId: ids.c1, privateIp: ip.c1, availabilityZone: 'eu-west-1a', subnetId: 'subnet-a', groupName: 'pydio-web' }),
    );
    await hosts.onInstanceLaunched({ instanceId: ids.c2, privateIp: ip.c2, availabilityZone: 'eu-west-1b', subnetId: 'subnet-b', groupName: 'pydio-web' });
    expect(await hosts.isAgentOnline(ids.c1)).toBe(true);
    expect(await hosts.isAgentOnline('i-neverlaunched')).toBe(false);
    expect(await hosts.ipAddressOf(ids.c2)).toBe(ip.c2);

    const step = await hosts.run(ids.c1, 'echo "$(hostname) $SSM_Greeting ${PAS_STATE_DIR:-unset}"\nip -4 -o addr show eth0 | awk \'{print $4}\'\necho oops >&2\nexit 3', { SSM_Greeting: 'hello world' }, 30);
    expect(step).toEqual({ exitCode: 3, stdout: `${ids.c1} hello world unset\n${ip.c1}/16\n`, stderr: 'oops\n', timedOut: false });

    const started = Date.now();
    const nap = `59.${run}`; // a sleep no other process on this machine runs
    const slow = await hosts.run(ids.c1, `echo before; sleep ${nap}; echo after`, {}, 1);
    expect(slow.timedOut).toBe(true);
    expect(slow.stdout).toBe('before\n');
    expect(Date.now() - started).toBeLessThan(10_000);
    const sleepers = readdirSync('/proc').filter((pid) => /^\d+$/.test(pid)).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === `sleep\0${nap}\0`;
      } catch {
        return false;
      }
    });
    expect(sleepers).toEqual([]); // the whole step was killed

    await expect(hosts.onInstanceLaunched({ instanceId: 'i-x', privateIp: '10.72.3.3', availabilityZone: 'eu-west-1a', subnetId: 's', groupName: 'nope' })).rejects.toThrow(/group 'nope' has no host role/);
    await expect(hosts.createHost('i-y', '192.168.1.1', 'compute')).rejects.toThrow(/outside the sandbox network/);
  });

  test('both compute hosts mount both volumes and see the same bytes, stored on both bricks', async () => {
    const useScript = existsSync(MOUNT_SCRIPT);
    const script = useScript
      ? readFileSync(MOUNT_SCRIPT, 'utf8')
      : 'set -e\nfor v in "$SSM_ConfigVolume:$SSM_ConfigMount" "$SSM_DataVolume:$SSM_DataMount"; do mkdir -p "${v#*:}"; mountpoint -q "${v#*:}" || mount -t glusterfs "${SSM_Servers%%,*}:/${v%%:*}" "${v#*:}"; done';
    const env = { SSM_ConfigVolume: 'pydio-config', SSM_DataVolume: 'pydio-data', SSM_Servers: `${ip.s1},${ip.s2}`, SSM_ConfigMount: '/mnt/pydio-config', SSM_DataMount: '/mnt/pydio-data' };
    for (const id of [ids.c1, ids.c2]) {
      const result = await timed(`mountVolumes_${id === ids.c1 ? 'c1' : 'c2'}`, () => hosts.run(id, script, env, 90));
      expect({ exitCode: result.exitCode, stderr: result.exitCode === 0 ? '' : result.stderr }).toEqual({ exitCode: 0, stderr: '' });
      const mounts = await hosts.exec(id, ['cat', '/proc/self/mounts']);
      expect(mounts).toMatch(/:\/?pydio-config \/mnt\/pydio-config fuse\.glusterfs /);
      expect(mounts).toMatch(/:\/?pydio-data \/mnt\/pydio-data fuse\.glusterfs /);
    }
    // The mounts exist only inside the hosts, never on this machine.
    expect(readFileSync('/proc/self/mounts', 'utf8')).not.toContain('/mnt/pydio-data fuse.glusterfs');

    await hosts.exec(ids.c1, ['bash', '-c', 'head -c 3000000 /dev/urandom > /mnt/pydio-data/e2e.bin && sync']);
    const sum = async (id: string, file: string) => (await hosts.exec(id, ['sha256sum', file])).split(' ')[0];
    const written = await sum(ids.c1, '/mnt/pydio-data/e2e.bin');
    expect(written).toMatch(/^[0-9a-f]{64}$/);
    expect(await sum(ids.c2, '/mnt/pydio-data/e2e.bin')).toBe(written);
    for (const id of [ids.s1, ids.s2]) {
      expect(await sum(id, '/srv/gluster/pydio-data/brick/e2e.bin')).toBe(written);
    }
  });

  test('the stand-in app, configured onto the volumes, writes on one node and reads the same bytes on the other', async () => {
    // The configure document's script, run unchanged as SSM would; without it
    // (not written yet) a stand-in points the repositories at the data volume.
    const configure = existsSync(CONFIGURE_SCRIPT)
      ? readFileSync(CONFIGURE_SCRIPT, 'utf8')
      : 'set -e; mkdir -p /mnt/pydio-data/common; chown www-data: /mnt/pydio-data/common; ' +
        'sed -i \'s|"AJXP_DATA_PATH/files"|"/mnt/pydio-data/common"|\' /var/www/pydio/conf/bootstrap_repositories.php; echo OK > /var/www/pydio/check.txt';
    const env = { SSM_AppRoot: '/var/www/pydio', SSM_ConfigMount: '/mnt/pydio-config', SSM_DataMount: '/mnt/pydio-data', SSM_WebUser: 'www-data', SSM_WebService: 'apache2', SSM_AppPort: '80', SSM_KeepAliveTimeout: '65' };
    for (const id of [ids.c1, ids.c2]) {
      // The document's first step: the health check that configure points /check.txt at.
      const installed = await hosts.run(id, readFileSync(INSTALL_HEALTH_CHECK_SCRIPT, 'utf8'), { SSM_WebUser: 'www-data' }, 60);
      expect({ exitCode: installed.exitCode, stderr: installed.exitCode === 0 ? '' : installed.stderr }).toEqual({ exitCode: 0, stderr: '' });
      const result = await timed(`configureApp_${id === ids.c1 ? 'c1' : 'c2'}`, () => hosts.run(id, configure, env, 90));
      expect({ exitCode: result.exitCode, stderr: result.exitCode === 0 ? '' : result.stderr }).toEqual({ exitCode: 0, stderr: '' });
    }
    // Apache may be finishing a graceful restart.
    await until('apache answers after configure', async () => ((await fetch(`http://${ip.c2}/check.txt`)).status === 200 ? true : undefined), 15);

    const body = createHash('sha256').update(`payload ${run}`).digest('hex').repeat(500);
    const put = await fetch(`http://${ip.c1}/files.php?repo=default&path=docs/report-${run}.txt`, { method: 'PUT', body });
    expect(put.status).toBe(200);
    const written = (await put.json()) as { node: string; sha256: string; path: string };
    expect(written.node).toBe(ids.c1);
    expect(written.path).toMatch(new RegExp(`^/mnt/pydio-data/[a-z]+/docs/report-${run}\\.txt$`));
    reportPath = written.path;
    expect(written.sha256).toBe(createHash('sha256').update(body).digest('hex'));

    const get = await fetch(`http://${ip.c2}/files.php?repo=default&path=docs/report-${run}.txt&raw=1`);
    expect(get.status).toBe(200);
    expect(get.headers.get('x-pydio-node')).toBe(ids.c2);
    expect(await get.text()).toBe(body);
    // Personal folders resolve AJXP_USER and also land on the data volume.
    const mine = await fetch(`http://${ip.c2}/files.php?repo=my-files&user=alice&path=notes.txt`, { method: 'PUT', body: 'x' });
    expect(((await mine.json()) as { path: string }).path).toMatch(/^\/mnt\/pydio-data\/.*alice\/notes\.txt$/);

    const bad = await fetch(`http://${ip.c2}/files.php?path=../../etc/passwd`);
    expect(bad.status).toBe(400);
  });

  test('through HAProxy a client with Pydio 8\'s session cookie (AjaXplorer) stays on one node for 25 requests while two nodes are healthy', async () => {
    await timed('registerToHealthy', async () => {
      for (const [id, addr] of [[ids.c1, ip.c1], [ids.c2, ip.c2]] as const) await lb.register(TG, { instanceId: id, ip: addr, port: 80 });
      expect((await lb.health(TG, ids.c1, 80))?.state).toMatch(/^(initial|healthy)$/);
      for (const id of [ids.c1, ids.c2]) {
        await until(`${id} healthy`, async () => ((await lb.health(TG, id, 80))?.state === 'healthy' ? true : undefined), HEALTH_CHANGE_SECONDS);
      }
    });
    expect(await lb.health(TG, 'i-unknown', 80)).toBeUndefined();

    // Without a cookie the two nodes share the load.
    const anonymous = new Set<string>();
    for (let i = 0; i < 6; i += 1) anonymous.add(((await (await fetch(`${url}/index.php`)).json()) as Answer).node);
    expect([...anonymous].sort()).toEqual([ids.c1, ids.c2].sort());

    const first = await fetch(`${url}/index.php`);
    const cookie = /(?:^|, )(AjaXplorer=[^;]+)/.exec(first.headers.get('set-cookie') ?? '')?.[1];
    expect(cookie).toBeDefined();
    const answers: Answer[] = [(await first.json()) as Answer];
    for (let i = 0; i < 24; i += 1) {
      const res = await fetch(`${url}/index.php`, { headers: { cookie: cookie! } });
      expect(res.status).toBe(200);
      answers.push((await res.json()) as Answer);
    }
    expect(new Set(answers.map((a) => a.node)).size).toBe(1);
    expect(answers.map((a) => a.count)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(answers[0]).toMatchObject({ session: 'AjaXplorer' });
  });

  test('a target group sticky on `Pydio` never sticks: Pydio 8 sets no such cookie (as on an ALB)', async () => {
    for (const [id, addr] of [[ids.c1, ip.c1], [ids.c2, ip.c2]] as const) await lb.register(TG_ON_PYDIO, { instanceId: id, ip: addr, port: 80 });
    for (const id of [ids.c1, ids.c2]) {
      await until(`${id} healthy behind pydio-old`, async () => ((await lb.health(TG_ON_PYDIO, id, 80))?.state === 'healthy' ? true : undefined), HEALTH_CHANGE_SECONDS);
    }
    const oldUrl = lb.urlOf(TG_ON_PYDIO);
    const first = await fetch(`${oldUrl}/index.php`);
    const cookie = /(?:^|, )(AjaXplorer=[^;]+)/.exec(first.headers.get('set-cookie') ?? '')![1]!;
    const nodes = new Set<string>([((await first.json()) as Answer).node]);
    for (let i = 0; i < 9; i += 1) nodes.add(((await (await fetch(`${oldUrl}/index.php`, { headers: { cookie } })).json()) as Answer).node);
    expect([...nodes].sort()).toEqual([ids.c1, ids.c2].sort());
    for (const [id, addr] of [[ids.c1, ip.c1], [ids.c2, ip.c2]] as const) await lb.deregister(TG_ON_PYDIO, { instanceId: id, ip: addr, port: 80 }, 0);
    for (const id of [ids.c1, ids.c2]) {
      await until(`${id} gone from pydio-old`, async () => ((await lb.health(TG_ON_PYDIO, id, 80)) === undefined ? true : undefined), HEALTH_CHANGE_SECONDS);
    }
  });

  test('a sticky session leaves an unhealthy node for a healthy one and stays there when the first comes back (as on an ALB)', async () => {
    const first = await fetch(`${url}/index.php`);
    const cookie = /(?:^|, )(AjaXplorer=[^;]+)/.exec(first.headers.get('set-cookie') ?? '')![1]!;
    const failed = ((await first.json()) as Answer).node;
    const other = failed === ids.c1 ? ids.c2 : ids.c1;
    const nodeWithCookie = async () => ((await (await fetch(`${url}/index.php`, { headers: { cookie } })).json()) as Answer).node;
    expect(await nodeWithCookie()).toBe(failed);

    // The node loses one of its own Pydio files: its health check answers 503 naming it.
    await hosts.exec(failed, ['mv', '/var/www/pydio/conf/bootstrap_context.php', '/var/www/pydio/conf/bootstrap_context.php.off']);
    try {
      await until(`${failed} unhealthy`, async () => ((await lb.health(TG, failed, 80))?.state === 'unhealthy' ? true : undefined), HEALTH_CHANGE_SECONDS);
      for (let i = 0; i < 3; i += 1) expect(await nodeWithCookie()).toBe(other);
    } finally {
      await hosts.exec(failed, ['mv', '/var/www/pydio/conf/bootstrap_context.php.off', '/var/www/pydio/conf/bootstrap_context.php']);
    }
    await until(`${failed} healthy again`, async () => ((await lb.health(TG, failed, 80))?.state === 'healthy' ? true : undefined), HEALTH_CHANGE_SECONDS);
    for (let i = 0; i < 3; i += 1) expect(await nodeWithCookie()).toBe(other);
  });

  test('a draining node gets no new request, sticky or not, and fails none; then it is gone from HAProxy', async () => {
    const first = await fetch(`${url}/index.php`);
    const cookie = /(?:^|, )(AjaXplorer=[^;]+)/.exec(first.headers.get('set-cookie') ?? '')![1]!;
    const drained = ((await first.json()) as Answer).node;
    const other = drained === ids.c1 ? ids.c2 : ids.c1;
    const stuck = (await (await fetch(`${url}/index.php`, { headers: { cookie } })).json()) as Answer;
    expect(stuck.node).toBe(drained); // sticky before the deregistration

    let stop = false;
    let deregistered = false;
    const failures: string[] = [];
    const afterDeregistration: string[] = [];
    const load = (async () => {
      for (let i = 0; i < 5_000 && !stop; i += 1) {
        for (const headers of [{ cookie }, {}] as Record<string, string>[]) {
          const sentAfter = deregistered;
          try {
            const res = await fetch(`${url}/index.php`, { headers });
            if (res.status !== 200) failures.push(`HTTP ${res.status}`);
            else {
              const node = ((await res.json()) as Answer).node;
              if (sentAfter) afterDeregistration.push(node);
            }
          } catch (err) {
            failures.push(String(err));
          }
        }
      }
    })();

    await timed('drain', async () => {
      await lb.deregister(TG, { instanceId: drained, ip: drained === ids.c1 ? ip.c1 : ip.c2, port: 80 }, 3);
      deregistered = true;
      expect((await lb.health(TG, drained, 80))?.state).toBe('draining');
      expect((await lb.health(TG, other, 80))?.state).toBe('healthy');
      await until('drained node gone', async () => ((await lb.health(TG, drained, 80)) === undefined ? true : undefined), 30);
    });
    await new Promise((r) => setTimeout(r, 1500));
    stop = true;
    await load;

    expect(failures).toEqual([]);
    expect(afterDeregistration.length).toBeGreaterThan(10);
    // ELB "stops sending requests to targets that are deregistering": the sticky client too.
    expect(new Set(afterDeregistration)).toEqual(new Set([other]));
    expect(await lb.command('show stat')).not.toContain(drained);
  });

  test('terminating an instance stops its daemons and removes its namespace and link', async () => {
    await lb.register(TG, { instanceId: ids.c2, ip: ip.c2, port: 80 }); // no-op when still registered
    await timed('terminate', () => hosts.onInstanceTerminated(ids.c2));
    expect(await hosts.isAgentOnline(ids.c2)).toBe(false);
    expect(await lb.health(TG, ids.c2, 80)).toBeUndefined();
    const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    const mine = readFileSync(path.join(sandbox.stateDir, 'hosts', ids.c2, 'netns'), 'utf8').trim();
    expect(netns).not.toContain(mine);
    // The other hosts still work: the data volume is still served.
    expect((await hosts.exec(ids.c1, ['cat', reportPath])).length).toBe(32_000);
  });
});
