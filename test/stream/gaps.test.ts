/**
 * The local event source mapping records what it could not deliver (docs/gaps.md) against the test
 * stack's moto: records trimmed before they were read (moto's fault tags, stack/moto/moto_patches/),
 * a checkpoint older than the oldest record left, a batch discarded after its retries, a stream that
 * was replaced. And it writes the chain link of every batch it lands.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  PutItemCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateTableCommand,
  DescribeTableCommand,
} from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { awsClientConfig } from '../../core/aws';
import { parseLinkName, type GapMarker } from '../../core/landing';
import {
  createStreamTable,
  ensureBucket,
  getText,
  landedChanges,
  listObjects,
  tempDir,
  testStack,
  uniqueName,
  waitFor,
  type TestStack,
} from './support';
import { startTestPoller, type TestPollerOptions } from './test-poller';
import { readWholeStream, streamArnOf } from './transactions';

const BUCKET = 'ddb-lake-gap-tests';
const HOLD = 'ddb-lake:fault:hold-stream';
const TRIM = 'ddb-lake:fault:trim-stream';

describe('stream gaps seen by the local event source mapping', () => {
  let stack: TestStack;
  before(async () => {
    stack = await testStack();
    await ensureBucket(stack.s3, BUCKET);
  });
  after(async () => stack?.close());

  const startPoller = (table: string, options?: TestPollerOptions) => startTestPoller(stack, BUCKET, table, options);

  async function put(table: string, id: string) {
    await stack.dynamodb.send(new PutItemCommand({ TableName: table, Item: { id: { S: id }, v: { N: '1' } } }));
  }
  async function tableArn(table: string) {
    return (await stack.dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table!.TableArn!;
  }
  async function markers(prefix: string): Promise<{ key: string; marker: GapMarker }[]> {
    const keys = await listObjects(stack.s3, BUCKET, `${prefix}_gaps/`);
    return Promise.all(
      keys.map(async (key) => ({ key, marker: JSON.parse(await getText(stack.s3, BUCKET, key)) as GapMarker })),
    );
  }
  const ids = async (prefix: string) => (await landedChanges(stack.s3, BUCKET, prefix)).map((c) => c.item.id!.S).sort();

  it('records trimmed before they were read: a marker, then the poller goes on from the oldest record left; every batch has its chain link', async () => {
    const table = uniqueName('trim');
    await createStreamTable(stack.dynamodb, table, [{ name: 'id', type: 'S' }]);
    const arn = await tableArn(table);
    const p = startPoller(table);
    try {
      for (const id of ['a1', 'a2', 'a3']) await put(table, id);
      await waitFor('the first records', async () => p.delivered() === 3, 30_000, 50);
      // The reader falls behind (it sees nothing new), the changes meanwhile are trimmed.
      await stack.dynamodb.send(new TagResourceCommand({ ResourceArn: arn, Tags: [{ Key: HOLD, Value: '1' }] }));
      await sleep(300);
      for (const id of ['lost1', 'lost2', 'lost3', 'lost4']) await put(table, id);
      await stack.dynamodb.send(new TagResourceCommand({ ResourceArn: arn, Tags: [{ Key: TRIM, Value: '1' }] }));
      for (const id of ['b1', 'b2']) await put(table, id);
      await stack.dynamodb.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: [HOLD] }));
      await waitFor('the records after the trim', async () => p.delivered() === 5, 30_000, 50);

      const found = await markers(p.prefix);
      assert.equal(found.length, 1, found.map((m) => m.key).join(', '));
      const { key, marker } = found[0]!;
      assert.match(key, new RegExp(`^${p.prefix}_gaps/\\d{13}-trimmed-[0-9a-f]{12}\\.json$`));
      const stream = await readWholeStream(stack.streams, await streamArnOf(stack.dynamodb, table));
      assert.equal(marker.kind, 'trimmed');
      assert.equal(marker.table, table);
      assert.match(marker.shardId!, /^shardId-/);
      assert.equal(
        marker.afterSequenceNumber,
        String(BigInt(stream[0]!.dynamodb!.SequenceNumber!) - 5n),
        'after the third record (a1..a3), before the trimmed ones',
      );
      assert.match(marker.reason, /^TrimmedDataAccessException: /);
      assert.deepEqual(
        await ids(p.prefix),
        ['a1', 'a2', 'a3', 'b1', 'b2'],
        'the trimmed records are gone; the rest arrived',
      );
      assert.ok(p.logs.some((l) => /were trimmed before they were read; recording a gap/.test(String(l.message))));

      // Chain links: the first batch starts the shard, each later one names the batch before it.
      const links = (await listObjects(stack.s3, BUCKET, p.prefix))
        .filter((k) => k.includes('.link.'))
        .map((k) => parseLinkName(k.split('/').pop()!)!);
      const files = (await listObjects(stack.s3, BUCKET, p.prefix))
        .filter((k) => /\/\d{4}-\d\d-\d\d-\d\d-\d\d\/.*\.json$/.test(k))
        .map((k) =>
          k
            .split('/')
            .pop()!
            .replace(/\.json$/, ''),
        );
      assert.deepEqual(links.map((l) => l.batch).sort(), [...files].sort(), 'one link per landed file');
      const byBatch = new Map(links.map((l) => [l.batch, l]));
      const ordered = [...files].sort((a, b) => (BigInt(a.split('_')[0]!) < BigInt(b.split('_')[0]!) ? -1 : 1));
      assert.equal(byBatch.get(ordered[0]!)!.previous, 'start');
      for (let i = 1; i < ordered.length; i++)
        assert.equal(byBatch.get(ordered[i]!)!.previous, ordered[i - 1], `link of ${ordered[i]}`);
    } finally {
      await p.stop();
      await stack.dynamodb.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: [HOLD] })).catch(() => undefined);
    }
  });

  it('a checkpoint older than the oldest record left (the poller was down): a marker at start-up', async () => {
    const table = uniqueName('down');
    await createStreamTable(stack.dynamodb, table, [{ name: 'id', type: 'S' }]);
    const arn = await tableArn(table);
    const esmDir = tempDir('ddb-lake-esm-down-');
    const first = startPoller(table, { esmDir });
    await put(table, 'x1');
    await waitFor('the first record', async () => first.delivered() === 1, 30_000, 50);
    await first.stop();
    for (const id of ['gone1', 'gone2']) await put(table, id);
    await stack.dynamodb.send(new TagResourceCommand({ ResourceArn: arn, Tags: [{ Key: TRIM, Value: '1' }] }));
    await put(table, 'x2');
    const second = startPoller(table, { esmDir });
    try {
      await waitFor('the record after the trim', async () => second.delivered() === 1, 30_000, 50);
      const found = await markers(second.prefix);
      assert.equal(found.length, 1);
      assert.equal(found[0]!.marker.kind, 'trimmed');
      assert.match(found[0]!.marker.reason, /GetShardIterator|sequence number \d+ is before the oldest record/);
      assert.deepEqual(await ids(second.prefix), ['x1', 'x2']);
    } finally {
      await second.stop();
    }
  });

  it('a batch given up after its retries is recorded as a gap, not skipped silently', async () => {
    const table = uniqueName('discard');
    await createStreamTable(stack.dynamodb, table, [{ name: 'id', type: 'S' }]);
    const broken = new S3Client(awsClientConfig(stack.env));
    broken.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as { Key?: string }).Key ?? '';
        if (context.commandName === 'PutObjectCommand' && key.includes('/_batches/'))
          throw Object.assign(new Error('injected S3 outage'), { name: 'InjectedFailure' });
        return next(args);
      },
      { step: 'initialize', name: 'broken' },
    );
    const p = startPoller(table, { s3: broken, settings: { maxRetryAttempts: 1, bisectBatchOnFunctionError: false } });
    try {
      await put(table, 'd1');
      const found = await waitFor(
        'a discard marker',
        async () => {
          const m = await markers(p.prefix);
          return m.length > 0 ? m : undefined;
        },
        30_000,
        100,
      );
      assert.equal(found[0]!.marker.kind, 'discarded');
      assert.match(found[0]!.marker.firstSequenceNumber!, /^\d+$/);
      assert.match(found[0]!.marker.reason, /given up after 1 retries .*; the event is kept in /);
    } finally {
      await p.stop();
      broken.destroy();
    }
  });

  // A timeout: a poller whose stop() never returns (a discovery racing stop) fails here, not hangs.
  it(
    'a stream that is replaced (disabled, then enabled again): changes in between are in no stream',
    { timeout: 120_000 },
    async () => {
      const table = uniqueName('replaced');
      await createStreamTable(stack.dynamodb, table, [{ name: 'id', type: 'S' }]);
      const p = startPoller(table);
      try {
        await put(table, 'r1');
        await waitFor('the first record', async () => (await ids(p.prefix)).length === 1, 30_000, 100);
        await stack.dynamodb.send(
          new UpdateTableCommand({ TableName: table, StreamSpecification: { StreamEnabled: false } }),
        );
        await put(table, 'unstreamed');
        await stack.dynamodb.send(
          new UpdateTableCommand({
            TableName: table,
            StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
          }),
        );
        await put(table, 'r2');
        const found = await waitFor(
          'a stream-replaced marker',
          async () => {
            const m = await markers(p.prefix);
            return m.some((x) => x.marker.kind === 'stream-replaced') ? m : undefined;
          },
          30_000,
          100,
        );
        assert.match(
          found.find((x) => x.marker.kind === 'stream-replaced')!.marker.reason,
          /changes made while no stream was enabled are in no stream/,
        );
      } finally {
        await p.stop();
      }
    },
  );
});
