/**
 * A storage cluster big enough to meet Run Command's limits (issue 8): the
 * sandbox (real GlusterFS hosts, the deployed stack, the real bundled storage
 * and status handlers, Run Command that keeps only the first 24,000
 * characters of stdout as AWS does) grows pydio-data from one replica set to
 * four (eight members) through two real expansions, then:
 *
 * - the Gluster status read as the product reads it (gzip+base64 in a frame)
 *   arrives whole and parses to all eight peers and four sets, while the
 *   same bundle printed plain is as large as the measurement says (the test
 *   prints both sizes; at and past 24,000 characters AWS cuts it, and the
 *   plain read then lacks its end marker);
 * - a dry-run expansion plans a fifth set from that status (desired 8 -> 10);
 * - the status function reports eight connected peers and every volume healthy.
 *
 * Every new member prepares its brick on a small sparse loop disk (300 MiB
 * XFS): the test is about the control plane's reads at this size, not capacity.
 */
import * as path from 'node:path';
import { tmpdir } from 'node:os';
import { ListCommandInvocationsCommand, GetCommandInvocationCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { parseStatusBundle } from '../../../lib/core/storage/gluster-parse';
import { BUNDLE_END, SSM_STDOUT_LIMIT, unframeStatus } from '../../../lib/core/storage/status-frame';
import { clientConfig } from '../../sandbox/control-plane/aws-setup';
import { startSandbox, type Sandbox, type SandboxStatus } from '../../sandbox/sandbox';
import { describeWithSandbox, leftovers } from '../sandbox/prerequisites';
import { waitFor } from '../wait';

jest.setTimeout(300_000);

const NAME = 'e2elarge';
const stateDir = path.join(tmpdir(), `pas-${NAME}-${process.pid}`);
const VOLUME = 'pydio-data';

const storageOf = (s: SandboxStatus) => s.instances.filter((i) => i.role === 'storage');

describeWithSandbox('storage/large.test.ts')('a storage cluster of four replica sets (eight members): status, plans and expansions past the 24,000-character stdout', () => {
  let sb: Sandbox;
  const times: Record<string, number> = {};
  const notes = async (type: string) => (await sb.notifications()).filter((n) => n.attributes.eventType === type);

  /** Runs the stack's storage-gluster-status document on `instanceId` and returns its step result as AWS answers it. */
  const readStatus = async (instanceId: string, encoding: 'gzip-base64' | 'plain'): Promise<string> => {
    const documentName = sb.controlPlane.steps.find((s) => s.documentName.endsWith('storage-gluster-status'))?.documentName;
    if (documentName === undefined) throw new Error('no storage-gluster-status run seen yet: the document name is unknown');
    const ssm = new SSMClient(clientConfig(sb.endpoint));
    try {
      const sent = await ssm.send(new SendCommandCommand({ DocumentName: documentName, InstanceIds: [instanceId], Parameters: { Volumes: ['pydio-config,pydio-data'], Encoding: [encoding] }, TimeoutSeconds: 60 }));
      const commandId = sent.Command?.CommandId ?? '';
      await waitFor(`storage-gluster-status (${encoding}) on ${instanceId}`, 90_000, async () => {
        const listed = await ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId, InstanceId: instanceId }));
        const status = listed.CommandInvocations?.[0]?.Status;
        if (status === 'Failed' || status === 'TimedOut' || status === 'Cancelled') throw new Error(`storage-gluster-status ${status} on ${instanceId}`);
        return status === 'Success' ? true : undefined;
      }, { intervalMs: 500 });
      const out = await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId, PluginName: 'glusterStatus' }));
      return out.StandardOutputContent ?? '';
    } finally {
      ssm.destroy();
    }
  };

  /** Asks for `sets` more replica sets and waits for the expansion to end; returns the members afterwards. */
  const expand = async (sets: number, members: number): Promise<void> => {
    const before = (await notes('storage.succeeded')).length;
    const start = Date.now();
    const answer = await sb.invoke('storage', { volume: VOLUME, sets });
    expect((answer as { result: { outcome: string } }).result.outcome).toBe('accepted');
    await waitFor(`the expansion by ${sets} set(s)`, 420_000, async () => {
      const failed = [...(await notes('storage.failed')), ...(await notes('lifecycle.failed')), ...(await notes('storage.refused'))];
      if (failed.length > 0) throw new Error(`expansion failed: ${failed.map((n) => `${n.subject}: ${n.message}`).join('\n')}`);
      return (await notes('storage.succeeded')).length > before ? true : undefined;
    });
    times[`expand+${sets}`] = (Date.now() - start) / 1000;
    const s = await sb.status();
    expect(storageOf(s).map((i) => i.lifecycleState)).toEqual(Array.from({ length: members }, () => 'InService'));
  };

  beforeAll(async () => {
    const start = Date.now();
    sb = await startSandbox({ name: NAME, networkOctet: 88, stateDir, lbPort: 0, handleSignals: false, skipInitialScaleOut: true, storageMax: 10, storageDataDiskMiB: 300 });
    times.boot = (Date.now() - start) / 1000;
  }, 400_000);

  afterAll(async () => {
    await sb?.stop();
    expect(leftovers(`pasbr${NAME}`, stateDir)).toEqual([]);
    console.info(`storage large e2e times (s): ${JSON.stringify(times)}`);
  }, 300_000);

  test('two real expansions grow pydio-data from one replica set to four: eight members, in service', async () => {
    await expand(2, 6);
    await expand(1, 8);
    expect((await notes('storage.succeeded')).map((n) => n.subject)).toEqual([
      expect.stringMatching(new RegExp(`expand of ${VOLUME} done in `)),
      expect.stringMatching(new RegExp(`expand of ${VOLUME} done in `)),
    ]);
  }, 900_000);

  test('the status as the product reads it arrives whole and parses to eight peers and four sets; the plain bundle is measured against the 24,000-character limit', async () => {
    const via = storageOf(await sb.status())[0]!.instanceId;
    const framed = await readStatus(via, 'gzip-base64');
    const bundle = unframeStatus(framed);
    const parsed = parseStatusBundle(framed);
    const data = parsed.volumes.find((v) => v.name === VOLUME)!;
    expect(parsed.pool).toHaveLength(8);
    expect(parsed.pool.every((p) => p.isLocal || p.connected)).toBe(true);
    expect({ bricks: data.bricks.length, replica: data.replicaCount }).toEqual({ bricks: 8, replica: 2 });
    expect(parsed.details[VOLUME]!.bricks.filter((b) => b.online)).toHaveLength(8);

    const plain = await readStatus(via, 'plain');
    times.framedChars = framed.length;
    times.plainBundleChars = bundle.length;
    console.info(`status at 8 members: framed ${framed.length} characters, plain bundle ${bundle.length} characters (Run Command keeps ${SSM_STDOUT_LIMIT})`);
    expect(framed.length).toBeLessThan(SSM_STDOUT_LIMIT);
    // What AWS hands back of the plain bundle: all of it below the limit, its first 24,000 characters above.
    expect(plain.length).toBe(Math.min(bundle.length, SSM_STDOUT_LIMIT));
    expect(plain.includes(BUNDLE_END)).toBe(bundle.length <= SSM_STDOUT_LIMIT);
  });

  test('a dry-run expansion plans a fifth set from that status (desired 8 -> 10) and changes nothing', async () => {
    const answer = await sb.invoke('storage', { volume: VOLUME, sets: 1, dryRun: true });
    const result = (answer as { result: { outcome: string; reason?: string; plan?: { desiredBefore: number; desiredAfter: number } } }).result;
    expect({ outcome: result.outcome, reason: result.reason }).toEqual({ outcome: 'planned', reason: undefined });
    expect({ before: result.plan?.desiredBefore, after: result.plan?.desiredAfter }).toEqual({ before: 8, after: 10 });
    expect(storageOf(await sb.status())).toHaveLength(8);
  });

  test('the status function reports eight connected peers and every volume healthy', async () => {
    const answer = await sb.invoke('status', {});
    const storage = (answer as { result: { storage: { available: boolean; peers?: Array<{ host: string; state: string }>; volumes?: Array<{ name: string; healthy: boolean }> } } }).result.storage;
    expect(storage.available).toBe(true);
    expect(storage.peers?.filter((p) => p.state === 'connected')).toHaveLength(8);
    expect(storage.volumes?.map((v) => [v.name, v.healthy]).sort()).toEqual([['pydio-config', true], ['pydio-data', true]]);
  });
});
