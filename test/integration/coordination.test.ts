/**
 * The coordination store (lib/aws/coordination.ts) against DynamoDB as the
 * sandbox emulates it: moto behind the control-plane front, the table created
 * as the stack declares it (key `key`, TTL on expiresAt). What the product
 * relies on is checked here on the real wire: one conditional write takes a
 * hold, two breakers racing on a stale lock leave exactly one owner, expiry is
 * the caller's clock (moto, like AWS for up to days, still returns expired
 * items), a permanent record is never taken, a Scan is read page by page.
 */
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { createCoordinationPort } from '../../lib/aws/coordination';
import type { CoordinationPort } from '../../lib/ports/coordination';
import { SCAN_PAGE_ITEMS } from '../sandbox/control-plane/strict-forward';
import type { MotoServer } from '../sandbox/control-plane/moto';
import { startHarness, startMoto, type Harness } from './control-plane/harness';

jest.setTimeout(120_000);

const TABLE = 'pydio-autoscaler-it-coordination';
const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as never;

let moto: MotoServer;
let h: Harness;
let raw: DynamoDBClient;
/** The callers' clock: advanced by the tests (DynamoDB compares expiresAt with the :now each caller sends). */
let clock = new Date('2026-11-21T10:00:00Z');

/** A caller of its own (its own client and connection), as another Lambda would be. */
function caller(): CoordinationPort {
  return createCoordinationPort(new DynamoDBClient({ ...h.config, maxAttempts: 1 }), TABLE, { dryRun: false, log: quiet, now: () => clock });
}

function later(seconds: number): void {
  clock = new Date(clock.getTime() + seconds * 1000);
}

beforeAll(async () => {
  moto = await startMoto();
  h = await startHarness(moto);
  raw = new DynamoDBClient(h.config);
  await raw.send(new CreateTableCommand({
    TableName: TABLE,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'key', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'key', KeyType: 'HASH' }],
  }));
  await raw.send(new UpdateTimeToLiveCommand({ TableName: TABLE, TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } }));
});

afterAll(async () => {
  await h?.cp.stop();
  await moto?.stop();
});

test('a stale lock with two breakers racing: exactly one owns it (and names the hold it broke), the other is refused naming the winner - 20 rounds', async () => {
  for (let round = 0; round < 20; round += 1) {
    const key = `storage/lock-race-${round}`;
    // Prepare: a dead operation's lock, expired a second ago.
    expect(await caller().acquire(key, 'op-dead', 60, 'then')).toBe(true);
    later(61);
    // Act: two operations break it at once.
    const [a, b] = await Promise.all([caller().take(key, 'op-a', 60, 'a'), caller().take(key, 'op-b', 60, 'b')]);
    // Assess
    const winners = [a, b].filter((r) => r.taken);
    expect(winners).toHaveLength(1);
    const winner = a.taken ? 'op-a' : 'op-b';
    expect(winners[0]).toEqual({ taken: true, replaced: expect.objectContaining({ owner: 'op-dead' }) });
    expect([a, b].find((r) => !r.taken)).toEqual({ taken: false, holder: expect.objectContaining({ key, owner: winner }) });
    expect((await caller().holder(key))?.owner).toBe(winner);
  }
});

test('ten callers taking a free key at once: exactly one holds it', async () => {
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => caller().acquire('lifecycle/i-0123456789abcdef0/launch', `msg-${i}`, 900)));
  expect(results.filter(Boolean)).toHaveLength(1);
});

test('a live hold is respected until its last second, then taken; its owner re-takes it meanwhile (a re-delivery)', async () => {
  const key = 'storage/lock-fresh';
  const [holder, other] = [caller(), caller()];
  expect(await holder.acquire(key, 'op-1', 30)).toBe(true);
  later(30);
  expect(await other.take(key, 'op-2', 30)).toEqual({ taken: false, holder: expect.objectContaining({ owner: 'op-1' }) });
  expect(await holder.acquire(key, 'op-1', 30)).toBe(true);
  later(31);
  expect(await other.take(key, 'op-2', 30)).toEqual({ taken: true, replaced: expect.objectContaining({ owner: 'op-1' }) });
});

test('moto keeps an expired item, as AWS does until its TTL process deletes it (typically within two days): it is read back, and read as absent', async () => {
  const key = 'lifecycle/i-00000000000000001/terminate';
  expect(await caller().acquire(key, 'msg-1', 10)).toBe(true);
  later(3600);
  const item = await raw.send(new GetItemCommand({ TableName: TABLE, Key: { key: { S: key } }, ConsistentRead: true }));
  expect(item.Item?.owner).toEqual({ S: 'msg-1' });
  expect(await caller().holder(key)).toBeUndefined();
  expect(await caller().holds('lifecycle/i-00000000000000001/')).toEqual([]);
});

test('renew: only by the live owner; release: only by the owner', async () => {
  const key = 'storage/lifecycle/i-00000000000000002/launch';
  const port = caller();
  expect(await port.acquire(key, 'op-1', 60)).toBe(true);
  expect(await port.renew(key, 'op-2', 60)).toBe(false);
  expect(await port.renew(key, 'op-1', 60, 'v2')).toBe(true);
  expect(await port.holder(key)).toEqual({ key, owner: 'op-1', expiresAt: Math.floor(clock.getTime() / 1000) + 60, value: 'v2' });
  await port.release(key, 'op-2');
  expect((await port.holder(key))?.owner).toBe('op-1');
  later(61);
  expect(await port.renew(key, 'op-1', 60)).toBe(false);
  await port.release(key, 'op-1');
  expect(await raw.send(new GetItemCommand({ TableName: TABLE, Key: { key: { S: key } }, ConsistentRead: true }))).not.toHaveProperty('Item');
});

test('consume: of two messages racing for a parked flow exactly one gets it; the same message gets it again; the holder\'s take parks it anew; an expired one is nobody\'s - 10 rounds', async () => {
  for (let round = 0; round < 10; round += 1) {
    const key = `lifecycle/command/cmd-${round}`;
    expect(await caller().acquire(key, 'flow-1', 60, `state-${round}`)).toBe(true);
    // Act: the event and the safety net at once, each from its own caller
    const [event, net] = await Promise.all([caller().consume(key, 'evt'), caller().consume(key, 'net')]);
    // Assess
    const winners = [event, net].filter((x) => x !== undefined);
    expect(winners).toEqual([{ key, owner: 'flow-1', expiresAt: Math.floor(clock.getTime() / 1000) + 60, value: `state-${round}` }]);
    const winner = event ? 'evt' : 'net';
    expect((await caller().consume(key, winner))?.value).toBe(`state-${round}`);
    expect(await caller().consume(key, winner === 'evt' ? 'net' : 'evt')).toBeUndefined();
    // Parked again by its owner (the flow waits on the same command): consumable again, once
    expect(await caller().acquire(key, 'flow-1', 60, `again-${round}`)).toBe(true);
    expect((await caller().consume(key, 'net-2'))?.value).toBe(`again-${round}`);
    expect(await caller().consume(key, 'evt')).toBeUndefined();
  }
  const expired = 'lifecycle/command/cmd-expired';
  await caller().acquire(expired, 'flow-1', 10, 'old');
  later(11);
  expect(await caller().consume(expired, 'evt')).toBeUndefined();
  await caller().write('lifecycle/command/plain', 'not a hold', 600);
  expect(await caller().consume('lifecycle/command/plain', 'evt')).toBeUndefined();
  expect(await caller().consume('lifecycle/command/absent', 'evt')).toBeUndefined();
});

test('a record written without a TTL is permanent: nobody takes it, however late, and it reads back', async () => {
  const port = caller();
  await port.write('storage/bootstrap-it', '{"createdBy":"op-1"}');
  later(10 * 365 * 86400);
  expect(await port.take('storage/bootstrap-it', 'op-2', 900)).toEqual({ taken: false });
  expect(await port.read('storage/bootstrap-it')).toBe('{"createdBy":"op-1"}');
  expect(await port.holder('storage/bootstrap-it')).toBeUndefined();
});

test(`holds reads the whole prefix through pages: the front gives a Scan without Limit pages of ${SCAN_PAGE_ITEMS} items, as AWS may end a page early`, async () => {
  // Prepare: 7 live holds under the prefix, 2 expired ones, and other keys around them.
  const port = caller();
  for (let i = 0; i < 2; i += 1) await port.acquire(`watch-it/expired-${i}`, 'o', 10);
  later(11);
  for (let i = 0; i < 7; i += 1) await port.acquire(`watch-it/live-${i}`, `o-${i}`, 600);
  await raw.send(new PutItemCommand({ TableName: TABLE, Item: { key: { S: 'watch-it-not/x' }, owner: { S: 'o' }, expiresAt: { N: '9999999999' } } }));
  // Act
  const holds = await port.holds('watch-it/');
  const firstPage = await raw.send(new ScanCommand({ TableName: TABLE, ConsistentRead: true }));
  // Assess
  expect(holds.map((x) => x.key)).toEqual(Array.from({ length: 7 }, (_, i) => `watch-it/live-${i}`));
  expect(firstPage.Items).toHaveLength(SCAN_PAGE_ITEMS);
  expect(firstPage.LastEvaluatedKey).toBeDefined();
});

test('a failed condition is ConditionalCheckFailedException, HTTP 400, with the item when asked; a reserved word unescaped is a ValidationException', async () => {
  await caller().acquire('storage/lock-shape', 'op-1', 60);
  const refused = await raw
    .send(new PutItemCommand({ TableName: TABLE, Item: { key: { S: 'storage/lock-shape' } }, ConditionExpression: 'attribute_not_exists(#k)', ExpressionAttributeNames: { '#k': 'key' }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }))
    .catch((error: unknown) => error as { name: string; $metadata: { httpStatusCode: number }; Item?: Record<string, unknown> });
  expect(refused).toMatchObject({ name: 'ConditionalCheckFailedException', $metadata: { httpStatusCode: 400 }, Item: { owner: { S: 'op-1' } } });
  await expect(raw.send(new PutItemCommand({ TableName: TABLE, Item: { key: { S: 'x' } }, ConditionExpression: 'attribute_not_exists(key)' }))).rejects.toMatchObject({ name: 'ValidationException' });
});

test('an item above 400 KB is refused by DynamoDB (ValidationException), and by the adapter before it sends one', async () => {
  await expect(raw.send(new PutItemCommand({ TableName: TABLE, Item: { key: { S: 'big' }, value: { S: 'x'.repeat(401 * 1024) } } }))).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('Item size has exceeded the maximum allowed size') });
  await expect(caller().write('big', 'x'.repeat(401 * 1024))).rejects.toThrow(/above .* \(DynamoDB items are at most 400 KB\)/);
});
