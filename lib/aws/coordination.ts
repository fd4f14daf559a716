/**
 * The coordination store (CoordinationPort) on a DynamoDB table: partition key
 * `key` (S), TTL attribute `expiresAt` (N, epoch seconds), and `owner` (S) and
 * `value` (S) when set. Low-level client, one request per call; retries are the
 * SDK's (throttling, 5xx). Every condition and read compares `expiresAt` with
 * this adapter's clock, since DynamoDB deletes expired items only later.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { callAws, isAwsError, MAX_ATTEMPTS, MAX_PAGES, type AdapterOptions } from './call';
import type { CoordinationPort, Hold, TakeResult } from '../ports/coordination';
import { AwsCallError } from '../errors';

/** Builds the client once per cold start: region and AWS_ENDPOINT_URL come from the standard environment. */
export function createDynamoDbClient(): DynamoDBClient {
  return new DynamoDBClient({ maxAttempts: MAX_ATTEMPTS });
}

/**
 * "The maximum item size in DynamoDB is 400 KB, which includes both attribute
 * name binary length (UTF-8 length) and attribute value lengths": a value is
 * refused here well below it (names and the other attributes take the rest),
 * with an error naming the key, instead of a ValidationException later.
 */
export const MAX_VALUE_BYTES = 350 * 1024;

type Item = Record<string, AttributeValue>;

/** Placeholders for every attribute name (KEY, OWNER and VALUE are reserved words in expressions). */
const NAMES = { '#k': 'key', '#o': 'owner', '#e': 'expiresAt', '#v': 'value', '#c': 'consumedBy' } as const;
type Name = keyof typeof NAMES;

function names(...used: Name[]): Record<string, string> {
  return Object.fromEntries(used.map((n) => [n, NAMES[n]]));
}

/**
 * Free, expired, or ours: the one condition under which a hold is taken. An
 * item without expiresAt (a permanent record) is never "expired": said
 * explicitly (attribute_exists), not left to how a comparison with a missing
 * attribute evaluates.
 */
const TAKE_CONDITION = 'attribute_not_exists(#k) OR (attribute_exists(#e) AND #e < :now) OR #o = :owner';

export interface CoordinationOptions extends AdapterOptions {
  /** The caller's clock (tests pin it); default the system clock. */
  readonly now?: () => Date;
}

function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

function str(item: Item | undefined, name: string): string | undefined {
  const value = item?.[name];
  return value && 'S' in value && typeof value.S === 'string' ? value.S : undefined;
}

function num(item: Item | undefined, name: string): number | undefined {
  const value = item?.[name];
  if (!value || !('N' in value) || typeof value.N !== 'string') return undefined;
  const parsed = Number(value.N);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** An item with an owner and an expiry, as a hold (expired or not); undefined for a plain record. */
function holdOf(item: Item | undefined): Hold | undefined {
  const key = str(item, 'key');
  const owner = str(item, 'owner');
  const expiresAt = num(item, 'expiresAt');
  if (key === undefined || owner === undefined || expiresAt === undefined) return undefined;
  const value = str(item, 'value');
  return { key, owner, expiresAt, ...(value !== undefined ? { value } : {}) };
}

/** Live up to and including its expiresAt second; an item without one never expires. */
function isLive(item: Item | undefined, now: number): boolean {
  if (!item) return false;
  const expiresAt = num(item, 'expiresAt');
  return expiresAt === undefined || expiresAt >= now;
}

/**
 * Coordination writes are NOT suppressed in dry run: the table is the
 * autoscaler's own bookkeeping and changes nothing in the cluster (like the
 * queue's continuations), and a dry-run flow must keep and renew its claim
 * from one delivery to the next, or its second delivery would stop.
 */
export function createCoordinationPort(client: DynamoDBClient, tableName: string, opts: CoordinationOptions): CoordinationPort {
  const clock = opts.now ?? (() => new Date());
  const now = () => epochSeconds(clock());

  function checkValue(key: string, value: string | undefined): void {
    if (value !== undefined && Buffer.byteLength(value, 'utf8') > MAX_VALUE_BYTES) {
      throw new AwsCallError('PutItem', `the value for ${key} is ${Buffer.byteLength(value, 'utf8')} bytes, above ${MAX_VALUE_BYTES} (DynamoDB items are at most 400 KB)`);
    }
  }

  function ttlOf(ttlSeconds: number): number {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) throw new RangeError(`a hold's TTL must be a whole number of seconds >= 1, got ${ttlSeconds}`);
    return ttlSeconds;
  }

  async function take(key: string, owner: string, ttlSeconds: number, value?: string): Promise<TakeResult> {
    checkValue(key, value);
    const at = now();
    const item: Item = { key: { S: key }, owner: { S: owner }, expiresAt: { N: String(at + ttlOf(ttlSeconds)) }, ...(value !== undefined ? { value: { S: value } } : {}) };
    return callAws<TakeResult>(
      'PutItem',
      async () => {
        const output = await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: item,
            ConditionExpression: TAKE_CONDITION,
            ExpressionAttributeNames: names('#k', '#e', '#o'),
            ExpressionAttributeValues: { ':now': { N: String(at) }, ':owner': { S: owner } },
            // The item this write replaced, and on a refusal the item that refused it, read atomically with the write.
            ReturnValues: 'ALL_OLD',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        const old = holdOf(output.Attributes);
        // Replaced: another owner's hold, which the condition let through only because it had expired.
        return old && old.owner !== owner ? { taken: true, replaced: old } : { taken: true };
      },
      (error) => {
        if (!isAwsError(error, 'ConditionalCheckFailedException')) return undefined;
        const refusing = error instanceof ConditionalCheckFailedException ? error.Item : (error as { Item?: Item }).Item;
        const holder = holdOf(refusing);
        return { value: holder ? { taken: false, holder } : { taken: false } };
      },
    );
  }

  async function acquire(key: string, owner: string, ttlSeconds: number, value?: string): Promise<boolean> {
    return (await take(key, owner, ttlSeconds, value)).taken;
  }

  async function getItem(key: string): Promise<Item | undefined> {
    const output = await callAws('GetItem', () => client.send(new GetItemCommand({ TableName: tableName, Key: { key: { S: key } }, ConsistentRead: true })));
    return output.Item;
  }

  async function holder(key: string): Promise<Hold | undefined> {
    const item = await getItem(key);
    return isLive(item, now()) ? holdOf(item) : undefined;
  }

  async function renew(key: string, owner: string, ttlSeconds: number, value?: string): Promise<boolean> {
    checkValue(key, value);
    const at = now();
    return callAws(
      'UpdateItem',
      async () => {
        await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: { key: { S: key } },
            UpdateExpression: value !== undefined ? 'SET #e = :expires, #v = :value' : 'SET #e = :expires',
            // Only its live owner extends a hold: an expired one may already be someone else's to take.
            ConditionExpression: '#o = :owner AND #e >= :now',
            ExpressionAttributeNames: value !== undefined ? names('#e', '#o', '#v') : names('#e', '#o'),
            ExpressionAttributeValues: {
              ':expires': { N: String(at + ttlOf(ttlSeconds)) },
              ':owner': { S: owner },
              ':now': { N: String(at) },
              ...(value !== undefined ? { ':value': { S: value } } : {}),
            },
          }),
        );
        return true;
      },
      (error) => (isAwsError(error, 'ConditionalCheckFailedException') ? { value: false } : undefined),
    );
  }

  async function release(key: string, owner: string): Promise<void> {
    await callAws(
      'DeleteItem',
      async () => {
        await client.send(
          new DeleteItemCommand({
            TableName: tableName,
            Key: { key: { S: key } },
            ConditionExpression: '#o = :owner',
            ExpressionAttributeNames: names('#o'),
            ExpressionAttributeValues: { ':owner': { S: owner } },
          }),
        );
      },
      // Not (or no longer) ours: someone else's hold stays.
      (error) => (isAwsError(error, 'ConditionalCheckFailedException') ? { value: undefined } : undefined),
    );
  }

  async function consume(key: string, by: string): Promise<Hold | undefined> {
    const at = now();
    return callAws(
      'UpdateItem',
      async () => {
        const output = await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: { key: { S: key } },
            UpdateExpression: 'SET #c = :by',
            // A live hold only (an expired one is absent to every reader: its flow died; a plain
            // record is not a hold), not consumed yet or consumed by this same message.
            ConditionExpression: 'attribute_exists(#o) AND #e >= :now AND (attribute_not_exists(#c) OR #c = :by)',
            ExpressionAttributeNames: names('#o', '#e', '#c'),
            ExpressionAttributeValues: { ':now': { N: String(at) }, ':by': { S: by } },
            // "ALL_NEW - Returns all of the attributes of the item, as they appear after the UpdateItem operation" (UpdateItem, ReturnValues).
            ReturnValues: 'ALL_NEW',
          }),
        );
        return holdOf(output.Attributes);
      },
      (error) => (isAwsError(error, 'ConditionalCheckFailedException') ? { value: undefined } : undefined),
    );
  }


  /**
   * A Scan of the whole (small) table, filtered to the prefix's live holds,
   * strongly consistent, page by page: a page stops at 1 MB read (or earlier)
   * and says where to go on (LastEvaluatedKey). Bounded by MAX_PAGES.
   */
  async function holds(prefix: string): Promise<Hold[]> {
    const at = now();
    const found: Hold[] = [];
    let start: Item | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const output = await callAws('Scan', () =>
        client.send(
          new ScanCommand({
            TableName: tableName,
            ConsistentRead: true,
            FilterExpression: 'begins_with(#k, :prefix) AND attribute_exists(#o) AND #e >= :now',
            ExpressionAttributeNames: names('#k', '#o', '#e'),
            ExpressionAttributeValues: { ':prefix': { S: prefix }, ':now': { N: String(at) } },
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      for (const item of output.Items ?? []) {
        const hold = holdOf(item);
        if (hold && hold.key.startsWith(prefix) && hold.expiresAt >= at) found.push(hold);
      }
      start = output.LastEvaluatedKey && Object.keys(output.LastEvaluatedKey).length > 0 ? output.LastEvaluatedKey : undefined;
      if (!start) return found.sort((a, b) => a.key.localeCompare(b.key));
    }
    throw new AwsCallError('Scan', `more than ${MAX_PAGES} pages under ${prefix}: the coordination table is not small any more`);
  }

  async function read(key: string): Promise<string | undefined> {
    const item = await getItem(key);
    return isLive(item, now()) ? str(item, 'value') : undefined;
  }

  async function write(key: string, value: string, ttlSeconds?: number): Promise<void> {
    checkValue(key, value);
    const item: Item = { key: { S: key }, value: { S: value }, ...(ttlSeconds !== undefined ? { expiresAt: { N: String(now() + ttlOf(ttlSeconds)) } } : {}) };
    await callAws('PutItem', async () => {
      await client.send(new PutItemCommand({ TableName: tableName, Item: item }));
    });
  }

  return { acquire, take, holder, renew, release, consume, holds, read, write };
}
