import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createCoordinationPort, createDynamoDbClient, MAX_VALUE_BYTES } from '../../../lib/aws/coordination';
import { AwsCallError } from '../../../lib/errors';
import { awsError, recordingLog } from './helpers';

const ddb = mockClient(DynamoDBClient);
const TABLE = 'pydio-autoscaler-prod-coordination';
/** 2026-11-21T10:00:00Z */
const NOW = 1795255200;

function port(dryRun = false) {
  return createCoordinationPort(new DynamoDBClient({ region: 'eu-west-1' }), TABLE, { dryRun, log: recordingLog(), now: () => new Date(NOW * 1000) });
}

function conditionFailed(item?: Record<string, unknown>): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 }, ...(item ? { Item: item as never } : {}) });
}

const hold = (key: string, owner: string, expiresAt: number, value?: string) => ({
  key: { S: key }, owner: { S: owner }, expiresAt: { N: String(expiresAt) }, ...(value !== undefined ? { value: { S: value } } : {}),
});

beforeEach(() => ddb.reset());

describe('take / acquire: one conditional PutItem', () => {
  it('writes the hold with its expiry, on condition free, expired or ours, asking for the item it replaces or that refused it', async () => {
    // Prepare
    ddb.on(PutItemCommand).resolves({});
    // Act
    const result = await port().take('storage/lock', 'op-1', 3600, '2026-11-21T10:00:00.000Z');
    // Assess
    expect(result).toEqual({ taken: true });
    expect(ddb.commandCalls(PutItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Item: hold('storage/lock', 'op-1', NOW + 3600, '2026-11-21T10:00:00.000Z'),
      ConditionExpression: 'attribute_not_exists(#k) OR (attribute_exists(#e) AND #e < :now) OR #o = :owner',
      ExpressionAttributeNames: { '#k': 'key', '#e': 'expiresAt', '#o': 'owner' },
      ExpressionAttributeValues: { ':now': { N: String(NOW) }, ':owner': { S: 'op-1' } },
      ReturnValues: 'ALL_OLD',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('names the expired hold of another owner that the write replaced (a stale lock broken)', async () => {
    ddb.on(PutItemCommand).resolves({ Attributes: hold('storage/lock', 'op-dead', NOW - 5, '2026-11-21T08:59:55.000Z') });
    await expect(port().take('storage/lock', 'op-1', 3600)).resolves.toEqual({
      taken: true,
      replaced: { key: 'storage/lock', owner: 'op-dead', expiresAt: NOW - 5, value: '2026-11-21T08:59:55.000Z' },
    });
  });

  it('replacing its own hold (a re-delivery) breaks nothing', async () => {
    ddb.on(PutItemCommand).resolves({ Attributes: hold('lifecycle/i-1/launch', 'msg-1', NOW + 100) });
    await expect(port().take('lifecycle/i-1/launch', 'msg-1', 900)).resolves.toEqual({ taken: true });
  });

  it('reads ConditionalCheckFailedException as refused, naming the live holder from the item returned with it', async () => {
    ddb.on(PutItemCommand).rejects(conditionFailed(hold('storage/lock', 'op-other', NOW + 60)));
    await expect(port().take('storage/lock', 'op-1', 3600)).resolves.toEqual({ taken: false, holder: { key: 'storage/lock', owner: 'op-other', expiresAt: NOW + 60 } });
    await expect(port().acquire('storage/lock', 'op-1', 3600)).resolves.toBe(false);
  });

  it('refused by a permanent record (no owner, no expiry): no holder', async () => {
    ddb.on(PutItemCommand).rejects(conditionFailed({ key: { S: 'storage/bootstrap' }, value: { S: '{}' } }));
    await expect(port().take('storage/bootstrap', 'op-1', 900)).resolves.toEqual({ taken: false });
  });

  it('wraps any other failure', async () => {
    ddb.on(PutItemCommand).rejects(awsError('ResourceNotFoundException', 'Requested resource not found'));
    await expect(port().acquire('k', 'o', 10)).rejects.toThrow(/PutItem: ResourceNotFoundException/);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a TTL of %p seconds before calling DynamoDB', async (ttl) => {
    await expect(port().take('k', 'o', ttl)).rejects.toThrow(/TTL must be a whole number of seconds >= 1/);
    expect(ddb.calls()).toHaveLength(0);
  });

  it(`refuses a value above ${MAX_VALUE_BYTES} bytes (items are at most 400 KB) naming the key, before calling DynamoDB`, async () => {
    await expect(port().take('watch/state', 'o', 10, 'x'.repeat(MAX_VALUE_BYTES + 1))).rejects.toThrow(/the value for watch\/state is \d+ bytes, above/);
    await expect(port().write('watch/state', 'é'.repeat(MAX_VALUE_BYTES / 2 + 1))).rejects.toThrow(AwsCallError);
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('holder / read: strongly consistent GetItem, expired read as absent', () => {
  it.each([
    ['a live hold', hold('k', 'o', NOW + 1, 'v'), { key: 'k', owner: 'o', expiresAt: NOW + 1, value: 'v' }],
    ['a hold in its last second', hold('k', 'o', NOW), { key: 'k', owner: 'o', expiresAt: NOW }],
    ['an expired hold DynamoDB has not deleted yet', hold('k', 'o', NOW - 1), undefined],
    ['a plain record', { key: { S: 'k' }, value: { S: 'v' } }, undefined],
    ['nothing', undefined, undefined],
  ])('holder of %s', async (_what, item, expected) => {
    ddb.on(GetItemCommand).resolves(item ? { Item: item } : {});
    await expect(port().holder('k')).resolves.toEqual(expected);
    expect(ddb.commandCalls(GetItemCommand)[0]!.args[0].input).toEqual({ TableName: TABLE, Key: { key: { S: 'k' } }, ConsistentRead: true });
  });

  it.each([
    ['a permanent record', { key: { S: 'k' }, value: { S: 'v' } }, 'v'],
    ['a record with a TTL, live', { key: { S: 'k' }, value: { S: 'v' }, expiresAt: { N: String(NOW + 10) } }, 'v'],
    ['a record with a TTL, expired', { key: { S: 'k' }, value: { S: 'v' }, expiresAt: { N: String(NOW - 10) } }, undefined],
    ['nothing', undefined, undefined],
  ])('read of %s', async (_what, item, expected) => {
    ddb.on(GetItemCommand).resolves(item ? { Item: item } : {});
    await expect(port().read('k')).resolves.toBe(expected);
  });
});

describe('renew: UpdateItem on condition owner and not expired', () => {
  it('extends the hold and replaces its value', async () => {
    ddb.on(UpdateItemCommand).resolves({});
    await expect(port().renew('storage/lock', 'op-1', 60, 'now')).resolves.toBe(true);
    expect(ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: { key: { S: 'storage/lock' } },
      UpdateExpression: 'SET #e = :expires, #v = :value',
      ConditionExpression: '#o = :owner AND #e >= :now',
      ExpressionAttributeNames: { '#e': 'expiresAt', '#o': 'owner', '#v': 'value' },
      ExpressionAttributeValues: { ':expires': { N: String(NOW + 60) }, ':owner': { S: 'op-1' }, ':now': { N: String(NOW) }, ':value': { S: 'now' } },
    });
  });

  it('false when the hold is someone else\'s or expired', async () => {
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    await expect(port().renew('k', 'o', 60)).resolves.toBe(false);
    expect(ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input.UpdateExpression).toBe('SET #e = :expires');
  });
});

describe('release: DeleteItem on condition owner', () => {
  it('deletes its own hold', async () => {
    ddb.on(DeleteItemCommand).resolves({});
    await port().release('storage/lock', 'op-1');
    expect(ddb.commandCalls(DeleteItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: { key: { S: 'storage/lock' } },
      ConditionExpression: '#o = :owner',
      ExpressionAttributeNames: { '#o': 'owner' },
      ExpressionAttributeValues: { ':owner': { S: 'op-1' } },
    });
  });

  it('leaves another owner\'s hold alone without an error', async () => {
    ddb.on(DeleteItemCommand).rejects(conditionFailed());
    await expect(port().release('k', 'o')).resolves.toBeUndefined();
  });

  it('wraps other failures', async () => {
    ddb.on(DeleteItemCommand).rejects(awsError('ProvisionedThroughputExceededException', 'slow down'));
    await expect(port().release('k', 'o')).rejects.toThrow(AwsCallError);
  });
});

describe('holds: a paginated, strongly consistent Scan filtered to the prefix\'s live holds', () => {
  it('follows LastEvaluatedKey to the last page (a page may end at 1 MB, or early, even empty)', async () => {
    ddb.on(ScanCommand)
      .resolvesOnce({ Items: [hold('lifecycle/i-2/launch', 'b', NOW + 5)], LastEvaluatedKey: { key: { S: 'lifecycle/i-2/launch' } } })
      .resolvesOnce({ Items: [], LastEvaluatedKey: { key: { S: 'storage/lock' } } })
      .resolvesOnce({ Items: [hold('lifecycle/i-1/launch', 'a', NOW + 5)] });
    await expect(port().holds('lifecycle/')).resolves.toEqual([
      { key: 'lifecycle/i-1/launch', owner: 'a', expiresAt: NOW + 5 },
      { key: 'lifecycle/i-2/launch', owner: 'b', expiresAt: NOW + 5 },
    ]);
    const inputs = ddb.commandCalls(ScanCommand).map((c) => c.args[0].input);
    expect(inputs[0]).toEqual({
      TableName: TABLE,
      ConsistentRead: true,
      FilterExpression: 'begins_with(#k, :prefix) AND attribute_exists(#o) AND #e >= :now',
      ExpressionAttributeNames: { '#k': 'key', '#o': 'owner', '#e': 'expiresAt' },
      ExpressionAttributeValues: { ':prefix': { S: 'lifecycle/' }, ':now': { N: String(NOW) } },
    });
    expect(inputs.map((i) => i.ExclusiveStartKey)).toEqual([undefined, { key: { S: 'lifecycle/i-2/launch' } }, { key: { S: 'storage/lock' } }]);
  });

  it('fails loudly past its page bound instead of looping', async () => {
    ddb.on(ScanCommand).resolves({ Items: [], LastEvaluatedKey: { key: { S: 'x' } } });
    await expect(port().holds('lifecycle/')).rejects.toThrow(/more than 100 pages/);
  });
});

describe('write: an unconditional PutItem of a plain record', () => {
  it.each([
    ['with a TTL', 600, { key: { S: 'watch/state' }, value: { S: '{}' }, expiresAt: { N: String(NOW + 600) } }],
    ['without one: permanent', undefined, { key: { S: 'watch/state' }, value: { S: '{}' } }],
  ])('%s', async (_what, ttl, item) => {
    ddb.on(PutItemCommand).resolves({});
    await port().write('watch/state', '{}', ttl);
    expect(ddb.commandCalls(PutItemCommand)[0]!.args[0].input).toEqual({ TableName: TABLE, Item: item });
  });
});

it('sends its writes in dry run too: the table is the autoscaler\'s own bookkeeping, and a dry-run flow keeps its claim', async () => {
  ddb.on(PutItemCommand).resolves({});
  ddb.on(DeleteItemCommand).resolves({});
  const coordination = port(true);
  await expect(coordination.acquire('k', 'o', 10)).resolves.toBe(true);
  await coordination.release('k', 'o');
  expect(ddb.commandCalls(PutItemCommand)).toHaveLength(1);
  expect(ddb.commandCalls(DeleteItemCommand)).toHaveLength(1);
});

it('createDynamoDbClient retries up to 5 attempts (the SDK\'s own retries)', async () => {
  await expect(createDynamoDbClient().config.maxAttempts()).resolves.toBe(5);
});
