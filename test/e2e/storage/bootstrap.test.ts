/**
 * A new cluster's storage from zero members (issue 12), end to end in the sandbox and
 * asserted on cluster STATES: the storage group starts empty (`storageStartsEmpty`: no
 * `bin/storage-boot.sh`, no pool, no volume, nothing claimed on a config volume), as the
 * reference cluster's storage group does when the stack creates it.
 *
 * The group is set to 2 in one call, as a stack creating it launches its MinSize at once: two
 * hosts in two zones, each with a blank data disk, each through the REAL storage launch flow
 * (lifecycle hook -> EventBridge -> StorageQueue -> the bundled storage handler): prepare-brick
 * makes its XFS brick disk, the member with the lowest instance id starts the pool, the other
 * waits until it is in service and is probed from it, and its bootstrap creates pydio-config
 * and pydio-data (replica 2, one brick per zone). Then compute scales 0 -> 1 through the real
 * scale-out flow: the node mounts both volumes from the storage group, claims the install
 * wizard on the fresh config volume (it is Pydio's first node: the deployment guide's
 * installer is served through the load balancer) and goes healthy behind it.
 */
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AutoScalingClient, SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import { clientConfig } from '../../sandbox/control-plane/aws-setup';
import { isSteady, startSandbox, type Sandbox, type SandboxStatus, type SnsNotification } from '../../sandbox/sandbox';
import { glusterOn } from '../gluster-cli';
import { describeWithSandbox, leftovers } from '../sandbox/prerequisites';
import { waitFor } from '../wait';

jest.setTimeout(300_000);

const NAME = 'pasref';
const stateDir = path.join(tmpdir(), `pas-${NAME}-${process.pid}`);
const VOLUMES = ['pydio-config', 'pydio-data'] as const;

const storageOf = (s: SandboxStatus) => s.instances.filter((i) => i.role === 'storage');
const seconds = (ms: number) => Math.round(ms / 100) / 10;

describeWithSandbox('storage/bootstrap.test.ts')('a new cluster\'s storage from zero members: the product\'s bootstrap creates the volumes, then a compute node mounts them', () => {
  let sb: Sandbox;
  const times: Record<string, number> = {};
  const notes = async (type: string): Promise<SnsNotification[]> => (await sb.notifications()).filter((n) => n.attributes.eventType === type);
  const exec = (id: string, script: string, timeoutSeconds = 60) => sb.hosts.exec(id, ['bash', '-c', script], timeoutSeconds);
  const failures = async () => [...(await notes('lifecycle.failed')), ...(await notes('storage.failed'))];

  beforeAll(async () => {
    const start = Date.now();
    sb = await startSandbox({
      name: NAME,
      networkOctet: 89,
      stateDir,
      lbPort: 0,
      handleSignals: false,
      skipInitialScaleOut: true,
      storageStartsEmpty: true,
      storageDataDiskMiB: 512,
      deregistrationDelaySeconds: 5,
    });
    times.boot = seconds(Date.now() - start);
  }, 400_000);

  afterAll(async () => {
    await sb?.stop();
    expect(leftovers(`pasbr${NAME}`, stateDir)).toEqual([]);
    console.info(`storage bootstrap e2e times (s): ${JSON.stringify(times)}`);
  }, 200_000);

  test('the sandbox starts with an empty storage group: no member, no Gluster, nothing to mount', async () => {
    const s = await sb.status();
    expect(s.groups.find((g) => g.name === sb.storageGroup)).toMatchObject({ desired: 0, min: 0 });
    expect(storageOf(s)).toEqual([]);
    expect(s.hosts).toEqual([]);
    expect(await sb.notifications()).toEqual([]);
  });

  test('storage 0 -> 2 in one call: two members in two zones join through the storage launch flow, one pool, and the second one\'s bootstrap creates both volumes', async () => {
    const asg = new AutoScalingClient(clientConfig(sb.endpoint));
    const t0 = Date.now();
    await sb.phase('storage 0 -> 2 (bootstrap)', async () => {
      await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: sb.storageGroup, DesiredCapacity: 2 }));
      await waitFor('two storage members joined and the bootstrap done', 260_000, async () => {
        const failed = await failures();
        if (failed.length > 0) throw new Error(`a storage launch failed:\n${failed.map((n) => `${n.subject}\n${n.message}`).join('\n---\n')}`);
        const joined = (await notes('lifecycle.succeeded')).filter((n) => n.subject.includes('storage node'));
        const bootstrapped = (await notes('storage.succeeded')).filter((n) => n.subject.includes('bootstrap'));
        return joined.length === 2 && bootstrapped.length === 1 ? true : undefined;
      }, { intervalMs: 1000 }).catch(async (error: unknown) => {
        if (String(error).includes('a storage launch failed')) throw error;
        throw new Error(`${String(error)}; timeline:\n${(await sb.timeline()).map((e) => e.text).join('\n')}`);
      });
      await sb.waitForState((s) => storageOf(s).length === 2 && storageOf(s).every((i) => i.lifecycleState === 'InService'), 60_000, 'two storage members InService');
    });
    times.storageBootstrap = seconds(Date.now() - t0);
    asg.destroy();

    const members = storageOf(await sb.status()).sort((a, b) => a.instanceId.localeCompare(b.instanceId));
    const [founder, second] = members as [typeof members[0], typeof members[0]];
    expect(members.map((m) => m.availabilityZone).sort()).toEqual(['eu-west-1a', 'eu-west-1b']);

    // One pool: the founder (lowest instance id) started it; the other was probed from it, never the other way round.
    const probes = (await sb.stepTimings()).filter((t) => t.documentName.endsWith('storage-peer-probe'));
    expect(probes.map((p) => p.instanceId)).toEqual([founder.instanceId]);
    for (const m of members) {
      const pool = await glusterOn(sb.hosts, m.instanceId, ['pool', 'list']);
      const peers = pool.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
      expect([m.instanceId, peers.length, peers.every((p) => p.at(-1) === 'Connected')]).toEqual([m.instanceId, 2, true]);
    }
    const founderJoined = (await notes('lifecycle.succeeded')).find((n) => n.attributes.instanceId === founder.instanceId)!;
    expect(founderJoined.message).toMatch(/this node starts the pool/);
    expect(founderJoined.message).toMatch(/volumes not created yet: 2 connected members in distinct zones are needed/);

    // Both volumes: started, replica 2 in the two-zone layout (client and server quorum, set before the first start),
    // one brick on each member's own XFS brick disk.
    for (const volume of VOLUMES) {
      const info = await glusterOn(sb.hosts, founder.instanceId, ['volume', 'info', volume]);
      expect([volume, /^Status: Started$/m.test(info), /^Number of Bricks: 1 x 2 = 2$/m.test(info)]).toEqual([volume, true, true]);
      expect([volume, /^cluster\.quorum-type: auto$/m.test(info), /^cluster\.server-quorum-type: server$/m.test(info), /^cluster\.server-quorum-ratio: 51%?$/m.test(info)]).toEqual([volume, true, true, true]);
      const bricks = [...info.matchAll(/^Brick\d+: (\S+)$/gm)].map((m) => m[1]).sort();
      expect(bricks).toEqual([founder, second].map((m) => `${m.privateIp}:/bricks/${volume}/brick`).sort());
      const status = await glusterOn(sb.hosts, founder.instanceId, ['volume', 'status', volume, 'detail']);
      expect([volume, (status.match(/^Online\s*:\s*Y/gm) ?? []).length]).toEqual([volume, 2]);
    }
    for (const m of members) {
      expect([m.instanceId, (await exec(m.instanceId, 'findmnt -n -o FSTYPE --mountpoint /bricks')).trim()]).toEqual([m.instanceId, 'xfs']);
    }
    const bootstrap = (await notes('storage.succeeded')).find((n) => n.subject.includes('bootstrap'))!;
    expect(bootstrap.message).toContain('Volumes pydio-config, pydio-data created as replica 2 with client quorum auto and server quorum (two zones) and started.');
    expect(await failures()).toEqual([]);
  });

  test('compute 0 -> 1: the first node mounts both volumes from the storage group, claims the install wizard on the fresh config volume, and is healthy behind the load balancer', async () => {
    const t0 = Date.now();
    await sb.phase('compute 0 -> 1 on the new volumes', async () => {
      await sb.setDesiredCapacity(1);
      await sb.waitForState((s) => isSteady(s, sb.computeGroup, 1), 240_000, 'one compute node InService with a healthy target');
    });
    times.computeScaleOut = seconds(Date.now() - t0);
    const status = await sb.status();
    const node = status.instances.find((i) => i.role === 'compute')!;
    const storageIps = storageOf(status).map((m) => m.privateIp);
    for (const [volume, mount] of [['pydio-config', '/mnt/pydio-config'], ['pydio-data', '/mnt/pydio-data']] as const) {
      const [fstype, source] = (await exec(node.instanceId, `findmnt -n -o FSTYPE,SOURCE --mountpoint ${mount}`)).trim().split(/\s+/);
      expect([mount, fstype]).toEqual([mount, 'fuse.glusterfs']);
      const [server, name] = (source ?? '').split(':/');
      expect([mount, storageIps.includes(server ?? ''), name]).toEqual([mount, true, volume]);
    }
    // Nothing claimed the wizard before: this node is Pydio's first, the deployment guide's installer is served.
    const claim = (await exec(node.instanceId, 'cat /mnt/pydio-config/skip_install')).trim();
    expect(claim).not.toBe('installed-before-the-autoscaler'); // storage-boot.sh's seed: not here
    expect(claim.length).toBeGreaterThan(0);
    const answer = (await (await fetch(`${sb.lbUrl}/`)).json()) as { node: string; installWizard?: boolean };
    expect(answer).toMatchObject({ node: node.instanceId, installWizard: true });
    // A file written through the node is on both bricks (replica 2).
    await exec(node.instanceId, 'head -c 65536 /dev/urandom >/mnt/pydio-data/bootstrap-probe.bin');
    const sum = (await exec(node.instanceId, 'sha256sum /mnt/pydio-data/bootstrap-probe.bin')).split(' ')[0];
    for (const m of storageOf(status)) {
      const onBrick = await waitFor(`the probe file on ${m.instanceId}'s brick`, 30_000, async () => {
        const out = await exec(m.instanceId, 'sha256sum /bricks/pydio-data/brick/bootstrap-probe.bin 2>/dev/null || true');
        return out.trim() === '' ? undefined : out.split(' ')[0];
      });
      expect([m.instanceId, onBrick]).toEqual([m.instanceId, sum]);
    }
    expect(await failures()).toEqual([]);
  });
});
