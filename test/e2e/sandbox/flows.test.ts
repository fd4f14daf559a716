/**
 * The sandbox end to end, asserted on cluster STATES: boot through the real
 * scale-out flow, scale-out with sticky sessions, scale-in whose drain fails
 * no request, files written through one node and read through another.
 */
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CookieSession, isSteady, requestLoop, startSandbox, type Sandbox, type SandboxStatus } from '../../sandbox/sandbox';
import { describeWithSandbox, leftovers } from './prerequisites';
import { waitFor } from '../wait';

jest.setTimeout(300_000);

const NAME = 'e2ef';
const stateDir = path.join(tmpdir(), `pas-${NAME}-${process.pid}`);

function computeOf(s: SandboxStatus, group: string) {
  return s.instances.filter((i) => i.groupName === group);
}

describeWithSandbox('flows.test.ts')('sandbox flows (real hosts, HAProxy, Gluster, real handlers)', () => {
  let sb: Sandbox;
  const times: Record<string, number> = {};

  beforeAll(async () => {
    const start = Date.now();
    sb = await startSandbox({ name: NAME, networkOctet: 73, stateDir, lbPort: 0, deregistrationDelaySeconds: 5, handleSignals: false });
    times.boot = (Date.now() - start) / 1000;
  }, 400_000);

  afterAll(async () => {
    await sb?.stop();
    expect(leftovers(`pasbr${NAME}`, stateDir)).toEqual([]);
    console.info(`sandbox flows e2e times (s): ${JSON.stringify(times)}`);
  }, 200_000);

  test('after boot one compute instance is InService, its target healthy in HAProxy, both volumes mounted on it, and it answers through the LB', async () => {
    const s = await sb.status();
    const compute = computeOf(s, sb.computeGroup);
    expect(compute.map((i) => i.lifecycleState)).toEqual(['InService']);
    const id = compute[0]!.instanceId;
    expect(s.targets).toEqual([{ instanceId: id, port: 80, state: 'healthy' }]);
    expect(s.instances.filter((i) => i.role === 'storage').map((i) => i.availabilityZone).sort()).toEqual(['eu-west-1a', 'eu-west-1b']);
    for (const mount of ['/mnt/pydio-config', '/mnt/pydio-data']) {
      const fstype = (await sb.hosts.exec(id, ['findmnt', '-n', '-o', 'FSTYPE', mount])).trim();
      expect({ mount, fstype }).toEqual({ mount, fstype: 'fuse.glusterfs' });
    }
    const answer = await new CookieSession(sb.lbUrl).get();
    expect({ status: answer.status, node: answer.node }).toEqual({ status: 200, node: id });
    // The flow told ops it started and succeeded. It publishes just after completing the hook, which
    // is what makes the instance InService: the message may trail the steady state by a moment.
    const want = [`lifecycle.started:${id}`, `lifecycle.succeeded:${id}`];
    const kindsNow = async () => (await sb.notifications()).map((n) => `${n.attributes.eventType}:${n.attributes.instanceId}`);
    const kinds = await waitFor('the flow\'s started and succeeded messages', 10_000, async () => {
      const k = await kindsNow();
      return want.every((w) => k.includes(w)) ? k : undefined;
    }, { intervalMs: 500 }).catch(kindsNow);
    expect(kinds).toEqual(expect.arrayContaining(want));
  });

  test('after scale-out by one a sticky cookie keeps >= 20 consecutive requests on one node', async () => {
    const start = Date.now();
    await sb.phase('scale-out 1->2', async () => {
      await sb.setDesiredCapacity(2);
      await sb.waitForState((s) => isSteady(s, sb.computeGroup, 2), 240_000, 'two compute instances InService and healthy');
    });
    times.scaleOut = (Date.now() - start) / 1000;
    const session = new CookieSession(sb.lbUrl);
    const answers = [];
    for (let i = 0; i < 24; i += 1) answers.push(await session.get());
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(new Set(answers.map((a) => a.node)).size).toBe(1);
    expect(answers.map((a) => a.count)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    // The stickiness is the target group's app_cookie on Pydio 8's own session cookie, and the
    // lifecycle flow found it right: no registration warned ops about it.
    expect(session.cookie).toMatch(/^AjaXplorer=/);
    const warnings = (await sb.notifications()).filter((n) => n.attributes.eventType === 'lifecycle.warning');
    expect(warnings.map((n) => n.message)).toEqual([]);
    // Both nodes do take traffic: cookie-less requests reach each.
    const nodes = new Set<string>();
    for (let i = 0; i < 10 && nodes.size < 2; i += 1) nodes.add((await new CookieSession(sb.lbUrl).get()).node);
    expect(nodes.size).toBe(2);
  });

  test('a file written through one compute node is read back byte-identical through another', async () => {
    const compute = computeOf(await sb.status(), sb.computeGroup);
    expect(compute).toHaveLength(2);
    const [a, b] = compute as [(typeof compute)[number], (typeof compute)[number]];
    const body = randomBytes(1024 * 1024);
    const want = createHash('sha256').update(body).digest('hex');
    const name = `e2e/${process.pid}-${Date.now()}.bin`;
    const put = await fetch(`http://${a.privateIp}/files.php?repo=default&path=${name}`, { method: 'PUT', body });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { node: string; sha256: string })).toMatchObject({ node: a.instanceId, sha256: want });
    const got = await fetch(`http://${b.privateIp}/files.php?repo=default&path=${name}&raw=1`);
    expect(got.status).toBe(200);
    expect(got.headers.get('x-pydio-node')).toBe(b.instanceId);
    expect(createHash('sha256').update(Buffer.from(await got.arrayBuffer())).digest('hex')).toBe(want);
  });

  test('after scale-in the node is gone from HAProxy and no request failed during its drain', async () => {
    const before = computeOf(await sb.status(), sb.computeGroup).map((i) => i.instanceId);
    let release: () => void = () => undefined;
    const done = new Promise<void>((r) => (release = r));
    const loop = requestLoop(sb.lbUrl, 3, done, 240);
    await new Promise((r) => setTimeout(r, 1000));
    const start = Date.now();
    let after: SandboxStatus;
    try {
      after = await sb.phase('scale-in 2->1', async () => {
        await sb.setDesiredCapacity(1);
        return sb.waitForState((s) => isSteady(s, sb.computeGroup, 1), 240_000, 'one compute instance left, InService and healthy');
      });
    } finally {
      release();
    }
    times.scaleIn = (Date.now() - start) / 1000;
    const report = await loop;
    const gone = before.filter((id) => !after.instances.some((i) => i.instanceId === id));
    expect(gone).toHaveLength(1);
    expect(after.targets.map((t) => t.instanceId)).not.toContain(gone[0]);
    const stat = await sb.dataPlane.command('show servers state');
    expect(stat).not.toContain(gone[0]);
    expect(after.hosts.filter((h) => h.running).map((h) => h.instanceId)).not.toContain(gone[0]);
    expect({ failures: report.failures, samples: report.failureSamples }).toEqual({ failures: 0, samples: [] });
    expect(report.requests).toBeGreaterThan(20);
    expect(report.countersMonotonic).toBe(true);
    const phases = await sb.phases();
    console.info(`sandbox phases: ${JSON.stringify(phases.map((p) => ({ name: p.name, s: p.seconds, docs: p.documentsWallSeconds, overhead: p.overheadSeconds })))}`);
  });
});
