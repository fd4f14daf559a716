/**
 * The sandbox end to end, failure paths: a configure step that fails on a
 * real host (host-level fault: the next launched host lacks Pydio's
 * bootstrap_context.php) ends in ABANDON, the instance is replaced and ops are
 * told; a document parameter breaking its allowedPattern is refused by
 * SendCommand exactly as SSM does, and nothing runs on the host.
 */
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ListCommandsCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { clientConfig } from '../../sandbox/control-plane/aws-setup';
import { isSteady, startSandbox, type Sandbox, type SnsNotification } from '../../sandbox/sandbox';
import { describeWithSandbox, leftovers } from './prerequisites';

jest.setTimeout(300_000);

const NAME = 'e2ex';
const stateDir = path.join(tmpdir(), `pas-${NAME}-${process.pid}`);

describeWithSandbox('failures.test.ts')('sandbox failure paths (real hosts, real handlers)', () => {
  let sb: Sandbox;

  beforeAll(async () => {
    sb = await startSandbox({ name: NAME, networkOctet: 74, stateDir, lbPort: 0, deregistrationDelaySeconds: 5, handleSignals: false });
  }, 400_000);

  afterAll(async () => {
    await sb?.stop();
    expect(leftovers(`pasbr${NAME}`, stateDir)).toEqual([]);
  }, 200_000);

  test('a configure step failing on the host ends in ABANDON, the instance is replaced, and ops get lifecycle.failed naming the step', async () => {
    const first = (await sb.status()).instances.filter((i) => i.groupName === sb.computeGroup).map((i) => i.instanceId);
    expect(first).toHaveLength(1);
    const seen = (await sb.notifications()).length;
    sb.injectFaultOnNextLaunch({ removeFile: '/var/www/pydio/conf/bootstrap_context.php' });
    await sb.setDesiredCapacity(2);

    let failed: SnsNotification | undefined;
    const deadline = Date.now() + 180_000;
    while (failed === undefined && Date.now() < deadline) {
      failed = (await sb.notifications()).slice(seen).find((n) => n.attributes.eventType === 'lifecycle.failed');
      if (failed === undefined) await new Promise((r) => setTimeout(r, 500));
    }
    expect(failed).toBeDefined();
    const broken = failed!.attributes.instanceId ?? '';
    expect(first).not.toContain(broken);
    expect(failed!.attributes.step).toBe('configure-app');
    expect(failed!.subject).toMatch(/FAILED at configure-app/);
    expect(failed!.message).toMatch(/ABANDON/);
    expect(failed!.message).toMatch(/bootstrap_context\.php not found/);

    // The group replaces it: two InService, healthy instances, the broken one gone with its host.
    const after = await sb.waitForState(
      (s) => isSteady(s, sb.computeGroup, 2) && !s.instances.some((i) => i.instanceId === broken),
      240_000,
      'the abandoned instance replaced by a healthy one',
    );
    expect(after.targets.map((t) => t.instanceId)).not.toContain(broken);
    expect(after.hosts.filter((h) => h.running).map((h) => h.instanceId)).not.toContain(broken);
    const replacement = after.instances.find((i) => i.groupName === sb.computeGroup && !first.includes(i.instanceId));
    expect(replacement?.lifecycleState).toBe('InService');
    // On the broken host the volumes mounted, the health check script went in (configure points Apache at it),
    // configure failed, and the wait for a healthy node (checkHealth) never ran.
    const steps = await sb.stepTimings();
    expect(steps.filter((s) => s.instanceId === broken).map((s) => `${s.stepName}:${s.status}`)).toEqual(['mountVolumes:Success', 'installHealthCheck:Success', 'configure:Failed']);
  });

  test('a parameter that breaks its allowedPattern is refused with InvalidParameters and nothing runs on the host', async () => {
    const ssm = new SSMClient(clientConfig(sb.endpoint));
    const target = (await sb.status()).instances.find((i) => i.groupName === sb.computeGroup && i.lifecycleState === 'InService');
    expect(target).toBeDefined();
    // Counted on the target only: the watch's Gluster health reads run documents on the storage members meanwhile.
    const onTarget = async () => ({
      commands: ((await ssm.send(new ListCommandsCommand({}))).Commands ?? []).filter((c) => c.InstanceIds?.includes(target!.instanceId)).length,
      steps: sb.controlPlane.steps.filter((s) => s.instanceId === target!.instanceId).length,
    });
    const before = await onTarget();
    const marker = '/tmp/pas-e2e-injected';
    await expect(
      ssm.send(
        new SendCommandCommand({
          DocumentName: sb.stack.physicalId('ConfigureAppDocument'),
          InstanceIds: [target!.instanceId],
          Parameters: { AppRoot: [`/var/www/pydio; touch ${marker}`] },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameters' });
    await new Promise((r) => setTimeout(r, 1000));
    expect(await onTarget()).toEqual(before);
    await expect(sb.hosts.exec(target!.instanceId, ['test', '-e', marker])).rejects.toThrow(/failed/);
  });
});
