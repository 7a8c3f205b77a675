/**
 * moto fix 4 (stack/moto/moto_patches/): Scan pages resume at their ExclusiveStartKey from a cached
 * order. Through the test stack's moto: a paged, segmented Scan returns every item exactly once, in
 * moto's key order within each segment, also while items are written and deleted between pages.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  PutItemCommand,
  ScanCommand,
  waitUntilTableExists,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { testDynamoDbClient, uniqueName } from '../helpers/stack';

const ddb = testDynamoDbClient();
after(() => ddb.destroy());

test('paged and segmented Scans see every item once, with writes between pages', { timeout: 120_000 }, async () => {
  const table = uniqueName('scan');
  await ddb.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'h', AttributeType: 'S' },
        { AttributeName: 'r', AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: 'h', KeyType: 'HASH' },
        { AttributeName: 'r', KeyType: 'RANGE' },
      ],
    }),
  );
  await waitUntilTableExists({ client: ddb, maxWaitTime: 60 }, { TableName: table });
  const keys = new Set<string>();
  const put: { PutRequest: { Item: Record<string, AttributeValue> } }[] = [];
  for (let h = 0; h < 60; h++)
    for (let r = 0; r < 20; r++) {
      // Numbers sort by value (2 < 10), not as text: the cached order must keep moto's order.
      put.push({ PutRequest: { Item: { h: { S: `h${h}` }, r: { N: String(r * 5) }, pad: { S: 'x'.repeat(50) } } } });
      keys.add(`h${h}|${r * 5}`);
    }
  for (let i = 0; i < put.length; i += 25)
    await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: put.slice(i, i + 25) } }));

  const scanAll = async (segments: number, limit: number, between?: (page: number) => Promise<void>) => {
    const seen: string[] = [];
    for (let segment = 0; segment < segments; segment++) {
      let start: Record<string, AttributeValue> | undefined;
      let page = 0;
      do {
        const out = await ddb.send(
          new ScanCommand({
            TableName: table,
            Limit: limit,
            ExclusiveStartKey: start,
            Segment: segments > 1 ? segment : undefined,
            TotalSegments: segments > 1 ? segments : undefined,
          }),
        );
        const got = (out.Items ?? []).map((i) => `${i.h!.S}|${i.r!.N}`);
        // Within a page and across pages of a segment: ascending (hash, then range by number).
        seen.push(...got);
        start = out.LastEvaluatedKey;
        await between?.(page++);
      } while (start);
    }
    return seen;
  };

  const whole = await scanAll(1, 37);
  assert.equal(whole.length, keys.size);
  assert.deepEqual(new Set(whole), keys);
  const byHash = new Map<string, number[]>();
  for (const k of whole) {
    const [h, r] = k.split('|');
    byHash.set(h!, [...(byHash.get(h!) ?? []), Number(r)]);
  }
  for (const rs of byHash.values())
    assert.deepEqual(
      rs,
      [...rs].sort((a, b) => a - b),
      'range keys in numeric order within a hash key',
    );

  const segmented = await scanAll(3, 50);
  assert.equal(segmented.length, keys.size, 'every item once across the segments');
  assert.deepEqual(new Set(segmented), keys);

  // Writes between pages (a new version of the order each time): items that exist throughout are all seen once.
  const stable = new Set([...keys].filter((k) => !k.startsWith('h5|')));
  const withWrites = await scanAll(1, 40, async (page) => {
    await ddb.send(new PutItemCommand({ TableName: table, Item: { h: { S: `new${page}` }, r: { N: '1' } } }));
    if (page < 20)
      await ddb.send(new DeleteItemCommand({ TableName: table, Key: { h: { S: 'h5' }, r: { N: String(page * 5) } } }));
  });
  const counts = new Map<string, number>();
  for (const k of withWrites) counts.set(k, (counts.get(k) ?? 0) + 1);
  for (const k of stable) assert.equal(counts.get(k), 1, `${k} seen ${counts.get(k) ?? 0} times`);
  assert.ok(
    [...counts.values()].every((n) => n === 1),
    'no item twice',
  );
});
