/**
 * The must-show of issue 3: 10,000 changes (inserts, note updates, deletes) on moto, captured by the
 * poller while they happen, produce minute files whose latest version per key equals the table,
 * compared key by key.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WriteRequest } from '@aws-sdk/client-dynamodb';
import { isMinuteFolder } from '../../core/landing';
import { itemDifference } from '../../lambda/attribute-value';
import { LocalEventSourceMapping } from '../../stack/poller/poller';
import { ESM_DEFAULTS } from '../../stack/poller/settings';
import {
  createStreamTable,
  ensureBucket,
  tempDir,
  landedChanges,
  latestPerKey,
  listObjects,
  scanTable,
  testStack,
  uniqueName,
  waitFor,
  type TestStack,
} from './support';
import {
  batchWrite,
  inParallel,
  keyOfTransaction,
  readWholeStream,
  rng,
  streamArnOf,
  transaction,
  TRANSACTION_KEYS,
  TRANSACTION_KEY_NAMES,
  updateNote,
  type TransactionKey,
} from './transactions';

const BUCKET = 'ddb-lake-10k-tests';

describe('10,000 changes', () => {
  let stack: TestStack;
  before(async () => {
    stack = await testStack();
    await ensureBucket(stack.s3, BUCKET);
  });
  after(async () => stack?.close());

  it(
    'land as minute files whose latest version per key equals the table, key by key',
    { timeout: 600_000 },
    async () => {
      const table = uniqueName('txn10k');
      await createStreamTable(stack.dynamodb, table, TRANSACTION_KEYS);
      const prefix = `${table}/`;
      const poller = new LocalEventSourceMapping(
        {
          settings: {
            ...ESM_DEFAULTS,
            batchSize: 100,
            batchWindowSeconds: 1,
            pollIntervalMs: 100,
            discoverIntervalSeconds: 1,
            statusIntervalSeconds: 1,
          },
          esmDir: tempDir('ddb-lake-esm-10k-'),
          tables: [table],
          landingOverrides: { [table]: `s3://${BUCKET}/${prefix}` },
          region: stack.env.aws.region,
        },
        { dynamodb: stack.dynamodb, streams: stack.streams, s3: stack.s3 },
      );
      const running = poller.run();
      const started = Date.now();
      const random = rng(20231130);
      const live: TransactionKey[] = [];
      let inserts = 0;
      let updates = 0;
      let deletes = 0;
      try {
        // Ten rounds of 500 inserts, 350 note updates and 150 deletes, while the poller runs.
        for (let round = 0; round < 10; round++) {
          const items = Array.from({ length: 500 }, () => transaction(inserts++, random));
          await inParallel(
            chunks(
              items.map((Item): WriteRequest => ({ PutRequest: { Item } })),
              25,
            ),
            4,
            (chunk) => batchWrite(stack.dynamodb, table, chunk),
          );
          live.push(...items.map(keyOfTransaction));

          const toUpdate = pick(live, 350, random);
          await inParallel(toUpdate, 8, async (key) => {
            await updateNote(
              stack.dynamodb,
              table,
              key,
              `updated in round ${round} #${updates++}`,
              `2023-08-01T00:00:${String(round).padStart(2, '0')}.000000+0000`,
            );
          });

          const toDelete = new Set(pick(live, 150, random));
          const deleteRequests = [...toDelete].map((k): WriteRequest => ({
            DeleteRequest: {
              Key: { account: { S: k.account }, create_at: { S: k.create_at } },
            },
          }));
          await inParallel(chunks(deleteRequests, 25), 4, (chunk) => batchWrite(stack.dynamodb, table, chunk));
          deletes += toDelete.size;
          for (let i = live.length - 1; i >= 0; i--) if (toDelete.has(live[i]!)) live.splice(i, 1);
        }
        const writeSeconds = (Date.now() - started) / 1000;
        assert.equal(inserts + updates + deletes, 10_000);

        await waitFor(
          'the poller to deliver 10,000 records',
          async () => (poller.status().tables[table]?.shards[0]?.deliveredRecords ?? 0) >= 10_000,
          180_000,
          100,
        );
        const lagSeconds = (Date.now() - started) / 1000 - writeSeconds;
        const stream = await readWholeStream(stack.streams, await streamArnOf(stack.dynamodb, table));
        assert.equal(stream.length, 10_000, 'moto wrote one stream record per change');
        assert.equal(
          poller.status().tables[table]!.shards[0]!.checkpoint,
          stream[stream.length - 1]!.dynamodb!.SequenceNumber,
          'checkpoint at the last record',
        );

        const changes = await landedChanges(stack.s3, BUCKET, prefix);
        const files = new Set(changes.map((c) => c.file));
        assert.equal(changes.length, 10_000, 'one line per change');
        assert.equal(new Set(changes.map((c) => c.seq)).size, 10_000, 'no change lost, none twice');
        for (const f of files) assert.ok(isMinuteFolder(f.slice(prefix.length).split('/')[0]!), f);
        assert.deepEqual(await listObjects(stack.s3, BUCKET, `${prefix}_dead/`), [], 'no dead letters');
        const ops = { insert: 0, modify: 0, remove: 0 };
        for (const c of changes) ops[c.op]++;
        assert.deepEqual(ops, { insert: inserts, modify: updates, remove: deletes });

        const latest = latestPerKey(changes, TRANSACTION_KEY_NAMES);
        const items = await scanTable(stack.dynamodb, table, TRANSACTION_KEY_NAMES);
        assert.equal(items.size, live.length);
        let compared = 0;
        for (const [key, change] of latest) {
          if (change.op === 'remove') {
            assert.equal(items.has(key), false, `${key}: removed in the files but present in the table`);
            continue;
          }
          const item = items.get(key);
          assert.ok(item, `${key}: present in the files but not in the table`);
          assert.equal(itemDifference(change.item, item), undefined, key);
          compared++;
        }
        assert.equal(compared, items.size, 'every row of the table has its latest version in the files');
        console.log(
          `# 10,000 changes (${inserts} inserts, ${updates} updates, ${deletes} deletes) written in ${writeSeconds.toFixed(1)} s; ` +
            `${files.size} files in ${new Set([...files].map((f) => f.split('/')[1])).size} minute folders; ` +
            `poller done ${lagSeconds.toFixed(1)} s after the last write; ${compared} rows equal key by key, ${latest.size - compared} keys removed`,
        );
      } finally {
        poller.stop();
        await running;
      }
    },
  );
});

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** `n` distinct elements of `from`, chosen by `random`. */
function pick<T>(from: T[], n: number, random: () => number): T[] {
  const chosen = new Set<number>();
  while (chosen.size < Math.min(n, from.length)) chosen.add(Math.floor(random() * from.length));
  return [...chosen].map((i) => from[i]!);
}
