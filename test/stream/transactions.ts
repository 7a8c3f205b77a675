/** The brief's `Transaction` items (account + create_at key, note updated with update_at), and stream helpers. */
import {
  BatchWriteItemCommand,
  UpdateItemCommand,
  type AttributeValue as SdkAttributeValue,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type _Record as SdkStreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';

export const TRANSACTION_KEYS = [
  { name: 'account', type: 'S' as const },
  { name: 'create_at', type: 'S' as const },
];
export const TRANSACTION_KEY_NAMES = TRANSACTION_KEYS.map((k) => k.name);

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];

/** A deterministic pseudo-random generator, so a failing run can be repeated. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function timestamp(ms: number, micros: number): string {
  return new Date(ms).toISOString().replace('Z', `${String(micros).padStart(3, '0')}+0000`);
}

export interface TransactionKey {
  account: string;
  create_at: string;
}

export function transaction(i: number, random: () => number): Record<string, SdkAttributeValue> {
  const account = `${String(100 + (i % 900)).padStart(3, '0')}-${String(Math.floor(random() * 1000)).padStart(3, '0')}-${String(i).padStart(4, '0').slice(-4)}`;
  const created = timestamp(Date.UTC(2023, 6, 30, 16, 49, 47) + i * 137, i % 1000);
  return {
    account: { S: account },
    create_at: { S: created },
    update_at: { S: created },
    entity: { S: `${WORDS[i % WORDS.length]} and ${WORDS[(i * 7) % WORDS.length]}` },
    amount: { N: String(1 + Math.floor(random() * 999)) },
    is_credit: { N: String(i % 2) },
    note: { S: `${WORDS[(i * 3) % WORDS.length]} note ${i}` },
  };
}

export const keyOfTransaction = (item: Record<string, SdkAttributeValue>): TransactionKey => ({
  account: item.account!.S!,
  create_at: item.create_at!.S!,
});

export async function batchWrite(dynamodb: DynamoDBClient, table: string, requests: WriteRequest[]): Promise<void> {
  for (let i = 0; i < requests.length; i += 25) {
    let pending: WriteRequest[] = requests.slice(i, i + 25);
    while (pending.length) {
      const out = await dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
      pending = out.UnprocessedItems?.[table] ?? [];
    }
  }
}

export async function updateNote(
  dynamodb: DynamoDBClient,
  table: string,
  key: TransactionKey,
  note: string,
  updateAt: string,
): Promise<void> {
  await dynamodb.send(
    new UpdateItemCommand({
      TableName: table,
      Key: { account: { S: key.account }, create_at: { S: key.create_at } },
      UpdateExpression: 'SET note = :n, update_at = :u',
      ConditionExpression: 'attribute_exists(account)',
      ExpressionAttributeValues: { ':n': { S: note }, ':u': { S: updateAt } },
    }),
  );
}

/** Runs `tasks` with at most `limit` in flight. */
export async function inParallel<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

export async function streamArnOf(dynamodb: DynamoDBClient, table: string): Promise<string> {
  const arn = (await dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table?.LatestStreamArn;
  if (!arn) throw new Error(`${table} has no stream`);
  return arn;
}

/** Every record in the table's stream (all shards, each from its trim horizon), read directly. */
export async function readWholeStream(streams: DynamoDBStreamsClient, streamArn: string): Promise<SdkStreamRecord[]> {
  const out: SdkStreamRecord[] = [];
  const shards =
    (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))).StreamDescription?.Shards ?? [];
  for (const shard of shards) {
    let iterator = (
      await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shard.ShardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    while (iterator) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      out.push(...(page.Records ?? []));
      if (!page.Records?.length) break; // caught up (an open shard never ends)
      iterator = page.NextShardIterator;
    }
  }
  return out;
}
