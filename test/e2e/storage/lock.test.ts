/**
 * The storage lock end to end, in the coordination table, asserted on cluster
 * STATES: the sandbox (moto + front with IAM, real namespace hosts running
 * GlusterFS, the deployed stack, the REAL bundled storage handler) with data
 * disks as in expand.test.ts. One sandbox, tests in order:
 *
 * 1. a storage operation dies holding the lock: an expansion takes the lock,
 *    then its continuation is lost before delivery (the event source deletes
 *    it, as if the flow had died); the lock stays in the table, held by the
 *    operation, and nothing else happens;
 * 2. while that lock is live, another operation is refused at once, naming the
 *    holder, and nothing changes;
 * 3. once it expired (the stage's storageLockStaleSeconds), the next operation
 *    proceeds: it breaks the stale lock (ops are told whose), expands pydio-data
 *    to 2 x 2 on two new members, and gives the lock back;
 * 4. two invocations racing on an expired lock, each in its own execution
 *    environment at the same moment: exactly one takes it (one lock-broken
 *    notice), the other is refused naming the winner.
 *
 * storageLockStaleSeconds is 30 here (the stack's default is 3600): a dead
 * operation's lock then expires within the test. A live holder is unaffected:
 * the sandbox's waits are 1-2 s (retryMaxSeconds 2) and each delivery renews
 * the lock, so a live lock is never older than a few seconds.
 */
import * as path from 'node:path';
import { tmpdir } from 'node:os';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { encodeStorageRequest } from '../../../lib/core/storage/flow-state';
import { clientConfig } from '../../sandbox/control-plane/aws-setup';
import { startSandbox, type Sandbox, type SandboxStatus } from '../../sandbox/sandbox';
import type { SnsNotification } from '../../sandbox/types';
import { describeWithSandbox, leftovers } from '../sandbox/prerequisites';
import { glusterOn } from '../gluster-cli';

jest.setTimeout(200_000);

const NAME = 'pascoa';
const stateDir = path.join(tmpdir(), `pas-${NAME}-${process.pid}`);
const VOLUME = 'pydio-data';
const LOCK_STALE_SECONDS = 30;
const LOCK_KEY = 'storage/lock';

const storageOf = (s: SandboxStatus) => s.instances.filter((i) => i.role === 'storage');

describeWithSandbox('storage/lock.test.ts')('storage lock in the coordination table (real storage handler, real Gluster)', () => {
  let sb: Sandbox;
  let ddb: DynamoDBClient;
  let table: string;
  /** The operation whose flow died holding the lock, and when its lock expires (epoch seconds). */
  let dead: { owner: string; expiresAt: number };
  const times: Record<string, number> = {};

  const notes = async (type: string): Promise<SnsNotification[]> => (await sb.notifications()).filter((n) => n.attributes.eventType === type);
  const lockItem = async () => (await ddb.send(new GetItemCommand({ TableName: table, Key: { key: { S: LOCK_KEY } }, ConsistentRead: true }))).Item;
  const until = async (what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  beforeAll(async () => {
    const start = Date.now();
    sb = await startSandbox({
      name: NAME, networkOctet: 90, stateDir, lbPort: 0, handleSignals: false, skipInitialScaleOut: true,
      storageMax: 4, storageDataDiskMiB: 512, storageBootDisks: true, storageLockStaleSeconds: LOCK_STALE_SECONDS,
    });
    times.boot = (Date.now() - start) / 1000;
    ddb = new DynamoDBClient(clientConfig(sb.endpoint));
    table = sb.stack.physicalId('CoordinationTable');
  }, 400_000);

  afterAll(async () => {
    ddb?.destroy();
    await sb?.stop();
    expect(leftovers(`pasbr${NAME}`, stateDir)).toEqual([]);
    console.info(`storage lock e2e times (s): ${JSON.stringify(times)}`);
  }, 200_000);

  test('an expansion whose flow dies after taking the lock leaves the lock held in the table, and nothing else done', async () => {
    // The flow is parked on its first status read: both what would resume it are lost before delivery,
    // the command's end event and the safety-net continuation. The flow is dead. The event is matched
    // by its document (its id is not known yet): two drops, so that a health read's event taken first
    // still leaves one for the expansion's; a drop left over only sends a later read to its safety net.
    const statusEnded = (body: string) => body.includes('"detail-type":"EC2 Command Status-change Notification"') && body.includes('-storage-gluster-status"') && body.includes('"status":"Success"');
    const droppedEvents = [sb.dropNextMessage('storage', statusEnded), sb.dropNextMessage('storage', statusEnded)];
    const lost = sb.dropNextMessage('storage', (body) => body.includes('"pydio-autoscaler/storage-flow"') && body.includes('"flow":"expand"'));
    const answer = await sb.invoke('storage', { volume: VOLUME, sets: 1 });
    expect((answer as { result?: { outcome: string } }).result?.outcome).toBe('accepted');
    const body = await Promise.race([lost, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the expansion never sent a continuation')), 60_000))]);
    const state = (JSON.parse(body) as { state: { operationId: string; step: string; lockHeld: boolean; command?: { id: string } } }).state;
    expect(state).toMatchObject({ step: 'plan', lockHeld: true });
    const within = (p: Promise<string>) => Promise.race([p, new Promise<string>((resolve) => setTimeout(() => resolve(''), 30_000))]);
    const events = await within(droppedEvents[0]!).then(async (first) => (first.includes(state.command?.id ?? '?') ? [first] : [first, await within(droppedEvents[1]!)]));
    expect(events.some((event) => event.includes(`"command-id":"${state.command?.id ?? '?'}"`))).toBe(true);

    const item = await lockItem();
    expect(item?.owner?.S).toBe(state.operationId);
    dead = { owner: state.operationId, expiresAt: Number(item?.expiresAt?.N) };
    expect(dead.expiresAt - Date.now() / 1000).toBeGreaterThan(0);
    expect(dead.expiresAt - Date.now() / 1000).toBeLessThanOrEqual(LOCK_STALE_SECONDS);
    // It died before planning: no plan told, the group untouched.
    expect(await notes('storage.planned')).toEqual([]);
    expect((await sb.status()).groups.find((g) => g.name === sb.storageGroup)?.desired).toBe(2);
  });

  test('while the lock is live, another operation is refused at once naming the holder, and nothing changes', async () => {
    expect(Date.now() / 1000).toBeLessThan(dead.expiresAt);
    const answer = await sb.invoke('storage', { volume: VOLUME, sets: 1 });
    const result = (answer as { result: { outcome: string; reason: string } }).result;
    expect(result.outcome).toBe('refused');
    expect(result.reason).toContain(`another storage operation holds the cluster lock (${dead.owner})`);
    expect((await notes('storage.refused')).map((n) => n.message)).toEqual([expect.stringContaining(`holds the cluster lock (${dead.owner})`)]);
    expect((await lockItem())?.owner?.S).toBe(dead.owner);
    expect((await sb.status()).groups.find((g) => g.name === sb.storageGroup)?.desired).toBe(2);
  });

  test('once the lock expired, the next operation breaks it (ops told whose) and proceeds: pydio-data 2 x 2 on two new members, the lock given back', async () => {
    // Prepare: wait out the dead operation's lock (its TTL from the last renewal).
    await until('the dead operation\'s lock to expire', async () => Date.now() / 1000 > dead.expiresAt + 1, (LOCK_STALE_SECONDS + 10) * 1000);
    const start = Date.now();
    // Act
    const answer = await sb.invoke('storage', { volume: VOLUME, sets: 1 });
    expect((answer as { result: { outcome: string } }).result.outcome).toBe('accepted');
    // Up to 480 s: an expansion on this machine took 60-136 s (expand.test.ts NOTES), and up to 4 min at load 11.
    await until('the expansion to end', async () => (await notes('storage.succeeded')).length + (await notes('storage.failed')).length + (await notes('lifecycle.failed')).length > 0, 480_000);
    times.expansion = (Date.now() - start) / 1000;
    // Assess
    expect((await notes('storage.failed')).map((n) => n.message)).toEqual([]);
    expect((await notes('lifecycle.failed')).map((n) => `${n.subject}: ${n.message}`)).toEqual([]);
    const broken = (await sb.notifications()).filter((n) => n.subject.includes('stale storage lock broken'));
    expect(broken.map((n) => n.subject)).toEqual([expect.stringContaining(`held by ${dead.owner}`)]);
    expect(await notes('storage.succeeded')).toHaveLength(1);
    const s = await sb.status();
    expect(s.groups.find((g) => g.name === sb.storageGroup)?.desired).toBe(4);
    expect(storageOf(s).map((i) => i.lifecycleState)).toEqual(['InService', 'InService', 'InService', 'InService']);
    const via = storageOf(s)[0]!.instanceId;
    expect(/Number of Bricks: (.*)/.exec(await glusterOn(sb.hosts, via, ['volume', 'info', VOLUME]))?.[1]?.trim()).toBe('2 x 2 = 4');
    await until('the lock to be given back', async () => (await lockItem()) === undefined, 30_000);
  }, 600_000);

  test('two invocations racing on an expired lock, each in its own execution environment: exactly one takes it, the other is refused naming the winner', async () => {
    // Prepare: a lock its holder stopped renewing a minute ago, expired since (written only where no lock is, so
    // that a still running operation's lock is never overwritten by the test).
    const now = Math.floor(Date.now() / 1000);
    await ddb.send(new PutItemCommand({
      TableName: table,
      Item: { key: { S: LOCK_KEY }, owner: { S: 'op-killed' }, expiresAt: { N: String(now - 30) }, value: { S: new Date((now - 60) * 1000).toISOString() } },
      ConditionExpression: 'attribute_not_exists(#k)',
      ExpressionAttributeNames: { '#k': 'key' },
    }));
    const before = { refused: (await notes('storage.refused')).length, planned: (await notes('storage.planned')).length };
    const record = (messageId: string) => ({
      messageId,
      receiptHandle: `rh-${messageId}`,
      body: encodeStorageRequest({ action: 'shrink', volume: VOLUME, sets: 0, allowSameZone: false, dryRun: true, reason: `race ${messageId}` }),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'test', ApproximateFirstReceiveTimestamp: String(Date.now()) },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: sb.stack.resources.StorageQueue?.attributes.Arn ?? '',
      awsRegion: 'eu-west-1',
    });
    // Act: two storage messages at once, as two concurrent Lambda environments would take them from the queue.
    const results = await sb.invokeConcurrently('storage', [{ Records: [record('race-a')] }, { Records: [record('race-b')] }]);
    // Assess
    expect(results.map((r) => [r.outcome, (r.result as { batchItemFailures: unknown[] }).batchItemFailures])).toEqual([['success', []], ['success', []]]);
    const broken = (await sb.notifications()).filter((n) => n.subject.includes('stale storage lock broken') && n.subject.includes('op-killed'));
    expect(broken).toHaveLength(1);
    const refused = (await notes('storage.refused')).slice(before.refused);
    expect(refused).toHaveLength(1);
    const winner = /holds the cluster lock \((race-[ab])\)/.exec(refused[0]!.message)?.[1];
    expect(['race-a', 'race-b']).toContain(winner);
    expect(broken[0]!.message).toContain(`${winner} broke it`);
    // The winner goes on (a dry-run shrink plan) and gives the lock back.
    await until('the winner\'s plan', async () => (await notes('storage.planned')).length > before.planned, 60_000);
    expect((await notes('storage.planned')).slice(before.planned).map((n) => n.subject)).toEqual([expect.stringContaining(`dry run: ${VOLUME} shrinks by one replica set`)]);
    await until('the lock to be given back', async () => (await lockItem()) === undefined, 30_000);
  });
});
