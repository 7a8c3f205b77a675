import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue as DynamoAttributeValue,
} from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand } from '@aws-sdk/client-dynamodb-streams';
import { S3Client } from '@aws-sdk/client-s3';
import { awsClientConfig } from '../../core/aws';
import { REPO_ROOT } from '../../core/toolchain';
import { itemDifference, toLambdaItem, type SdkAttributeValue } from '../../lambda/attribute-value';
import { createStreamHandler, encodeBatch, handlerConfig } from '../../lambda/handler';
import { CheckpointStore, type ShardCheckpoint } from '../../stack/poller/checkpoints';
import { LocalEventSourceMapping } from '../../stack/poller/poller';
import { ESM_DEFAULTS } from '../../stack/poller/settings';
import { readPollerStatus } from '../../stack/poller/status';
import { toLambdaRecord } from '../../stack/poller/stream-event';
import { decodeLine } from '../../lambda/encoding';
import {
  createStreamTable,
  ensureBucket,
  getText,
  landedChanges,
  landingFiles,
  latestPerKey,
  listObjects,
  scanTable,
  tempDir,
  testStack,
  uniqueName,
  waitFor,
  type TestStack,
} from './support';
import { FAST_ESM, startTestPoller, type TestPollerOptions } from './test-poller';
import {
  batchWrite,
  keyOfTransaction,
  readWholeStream,
  rng,
  streamArnOf,
  transaction,
  TRANSACTION_KEYS,
  TRANSACTION_KEY_NAMES,
  updateNote,
} from './transactions';

const BUCKET = 'ddb-lake-poller-tests';

describe('local event source mapping against moto', () => {
  let stack: TestStack;
  before(async () => {
    stack = await testStack();
    await ensureBucket(stack.s3, BUCKET);
  });
  after(async () => stack?.close());

  const startPoller = (table: string, options?: TestPollerOptions) => startTestPoller(stack, BUCKET, table, options);

  it("captures inserts, note updates and deletes of the brief's transactions; the latest line per key equals the table", async () => {
    const table = uniqueName('txn');
    await createStreamTable(stack.dynamodb, table, TRANSACTION_KEYS);
    const p = startPoller(table);
    try {
      const random = rng(7);
      const items = Array.from({ length: 40 }, (_, i) => transaction(i, random));
      await batchWrite(
        stack.dynamodb,
        table,
        items.map((Item) => ({ PutRequest: { Item } })),
      );
      for (const item of items.slice(0, 15))
        await updateNote(
          stack.dynamodb,
          table,
          keyOfTransaction(item),
          'changed note',
          '2023-07-31T00:00:00.000000+0000',
        );
      for (const item of items.slice(10, 18))
        await stack.dynamodb.send(
          new DeleteItemCommand({ TableName: table, Key: { account: item.account!, create_at: item.create_at! } }),
        );
      const records = await p.caughtUp(await streamArnOf(stack.dynamodb, table));
      assert.equal(records.length, 40 + 15 + 8);

      const changes = await landedChanges(stack.s3, BUCKET, p.prefix);
      assert.equal(changes.length, records.length, 'one line per stream record');
      assert.deepEqual(changes.map((c) => c.seq).sort(), records.map((r) => r.dynamodb!.SequenceNumber!).sort());
      assert.deepEqual(count(changes.map((c) => c.op)), { insert: 40, modify: 15, remove: 8 });
      const removed = changes.find((c) => c.op === 'remove')!;
      assert.ok(removed.item.note && removed.item.amount, 'a remove carries the old image (NEW_AND_OLD_IMAGES)');
      const modified = changes.find((c) => c.op === 'modify')!;
      assert.equal(modified.item.note!.S, 'changed note');
      assert.equal(
        modified.item.amount!.N,
        items.find((i) => i.account!.S === modified.item.account!.S && i.create_at!.S === modified.item.create_at!.S)!
          .amount!.N,
      );
      for (const c of changes)
        assert.equal(c.ts % 1000, 0, 'Lambda delivers ApproximateCreationDateTime in whole seconds');

      await assertLatestEqualsTable(table, changes);
      const status = p.poller.status().tables[table]!;
      assert.equal(status.shards[0]!.deliveredRecords, records.length);
      assert.equal(status.shards[0]!.recordsBehind, 0);
      assert.equal(status.shards[0]!.secondsBehind, 0);
    } finally {
      await p.stop();
    }
    const written = readPollerStatus(p.esmDir)!;
    assert.ok(written.stoppedAt, 'the last status says the poller stopped');
    assert.equal(written.tables[table]!.shards[0]!.deliveredRecords, 40 + 15 + 8);
  });

  it('round-trips every DynamoDB type from moto through the stream, the handler and the file', async () => {
    const table = uniqueName('types');
    await createStreamTable(stack.dynamodb, table, [
      { name: 'k', type: 'B' },
      { name: 'n', type: 'N' },
    ]);
    const bytes = (...b: number[]) => Uint8Array.from(b);
    const item: Record<string, DynamoAttributeValue> = {
      k: { B: bytes(0, 1, 255) },
      n: { N: '12345678901234567890123456789012345678' },
      s: { S: 'quotes " backslash \\ newline \n 中文 😀' },
      emptyString: { S: '' },
      big: { N: '1E+125' },
      tiny: { N: '-1E-130' },
      dot: { N: '.5' },
      plus: { N: '+7' },
      zeros: { N: '00012.50' },
      yes: { BOOL: true },
      nothing: { NULL: true },
      bin: { B: bytes(0, 0, 0, 200) },
      emptyBin: { B: bytes() },
      ss: { SS: ['x', 'y'] },
      ns: { NS: ['1', '2.5', '-3E+10'] },
      bs: { BS: [bytes(1), bytes(2, 3)] },
      m: {
        M: {
          inner: { M: { b: { B: bytes(9) }, l: { L: [{ BS: [bytes(4)] }, { N: '0.1' }, { NULL: true }] } } },
          _u: { S: 'u' },
        },
      },
      l: { L: [{ S: 'a' }, { L: [{ B: bytes(5) }] }, { M: {} }, { SS: ['q'] }] },
      _private: { S: 'escaped' },
      __double: { N: '2' },
    };
    await stack.dynamodb.send(new PutItemCommand({ TableName: table, Item: item }));
    await stack.dynamodb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { k: item.k!, n: item.n! },
        UpdateExpression: 'SET extra = :b, m.#inner.added = :bs',
        ExpressionAttributeNames: { '#inner': 'inner' },
        ExpressionAttributeValues: { ':b': { B: bytes(42) }, ':bs': { BS: [bytes(43)] } },
      }),
    );
    const p = startPoller(table);
    try {
      await p.caughtUp(await streamArnOf(stack.dynamodb, table));
      const changes = await landedChanges(stack.s3, BUCKET, p.prefix);
      assert.deepEqual(
        changes.map((c) => c.op),
        ['insert', 'modify'],
      );
      const inserted = changes[0]!.item;
      assert.equal(itemDifference(inserted, toLambdaItem(item as Record<string, SdkAttributeValue>)), undefined);
      assert.equal(inserted.k!.B, 'AAH/', 'binary key: base64 of the bytes, encoded once (moto patch)');
      assert.equal(inserted.n!.N, '12345678901234567890123456789012345678', '38 digits, textually');
      assert.deepEqual([inserted.dot!.N, inserted.plus!.N, inserted.zeros!.N], ['0.5', '7', '12.50']);
      const stored = (
        await stack.dynamodb.send(new GetItemCommand({ TableName: table, Key: { k: item.k!, n: item.n! } }))
      ).Item!;
      assert.equal(
        itemDifference(changes[1]!.item, toLambdaItem(stored as Record<string, SdkAttributeValue>)),
        undefined,
        'the modify line equals the stored item',
      );
      assert.equal(changes[1]!.item.extra!.B, 'Kg==');
    } finally {
      await p.stop();
    }
  });

  it('hands the handler the records in the exact shape Lambda delivers', async () => {
    const table = uniqueName('shape');
    await createStreamTable(stack.dynamodb, table, [{ name: 'id', type: 'S' }]);
    await stack.dynamodb.send(
      new PutItemCommand({
        TableName: table,
        Item: { id: { S: 'a' }, b: { B: Uint8Array.from([1, 2]) }, n: { N: '1.50' } },
      }),
    );
    const arn = await streamArnOf(stack.dynamodb, table);
    const [raw] = await readWholeStream(stack.streams, arn);
    const record = toLambdaRecord(raw!, arn);
    assert.deepEqual(Object.keys(record).sort(), [
      'awsRegion',
      'dynamodb',
      'eventID',
      'eventName',
      'eventSource',
      'eventSourceARN',
      'eventVersion',
    ]);
    assert.equal(record.eventSourceARN, arn);
    assert.equal(record.eventSource, 'aws:dynamodb');
    assert.equal(record.eventName, 'INSERT');
    const d = record.dynamodb!;
    assert.ok(
      Number.isInteger(d.ApproximateCreationDateTime) &&
        Math.abs(d.ApproximateCreationDateTime! - Date.now() / 1000) < 120,
      'epoch seconds',
    );
    assert.deepEqual(d.Keys, { id: { S: 'a' } });
    assert.deepEqual(d.NewImage, { id: { S: 'a' }, b: { B: 'AQI=' }, n: { N: '1.50' } });
    assert.match(d.SequenceNumber!, /^\d+$/);
    assert.equal(d.StreamViewType, 'NEW_AND_OLD_IMAGES');
    assert.equal(typeof d.SizeBytes, 'number');
    assert.doesNotThrow(() => JSON.stringify(record), 'plain JSON, as Lambda passes it');
  });

  it('a poison record among real stream records lands in _dead/ while its neighbours are written', async () => {
    const table = uniqueName('poison');
    await createStreamTable(stack.dynamodb, table, [{ name: 'id', type: 'S' }]);
    for (let i = 0; i < 5; i++)
      await stack.dynamodb.send(
        new PutItemCommand({ TableName: table, Item: { id: { S: `r${i}` }, v: { N: String(i) } } }),
      );
    const arn = await streamArnOf(stack.dynamodb, table);
    const records = (await readWholeStream(stack.streams, arn)).map((r) => toLambdaRecord(r, arn));
    records[3]!.dynamodb!.NewImage!.v = { N: 'NaN' };
    const prefix = `${table}/`;
    const handler = createStreamHandler(handlerConfig({ landing: `s3://${BUCKET}/${prefix}`, maxWriteSeconds: 10 }), {
      s3: stack.s3,
      log: () => undefined,
    });
    assert.deepEqual(await handler({ Records: records }), { batchItemFailures: [] });
    const id = encodeBatch(records).id;
    const lines = (await landingFiles(stack.s3, BUCKET, prefix)).flatMap((f) =>
      f.body.trim().split('\n').map(decodeLine),
    );
    assert.deepEqual(
      lines.map((l) => l.item.id!.S),
      ['r0', 'r1', 'r2', 'r4'],
    );
    const dead = JSON.parse(await getText(stack.s3, BUCKET, `${prefix}_dead/${id}.json`));
    assert.equal(dead.record.eventID, records[3]!.eventID);
    assert.match(dead.reason, /N value "NaN"/);
  });

  it('retries a batch whose write failed and leaves exactly one file for it', async () => {
    const table = uniqueName('retry');
    await createStreamTable(stack.dynamodb, table, [{ name: 'id', type: 'S' }]);
    let failures = 2;
    const flaky = new S3Client(awsClientConfig(stack.env));
    flaky.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as { Key?: string }).Key ?? '';
        if (context.commandName === 'PutObjectCommand' && /\/\d{4}-\d\d-\d\d-\d\d-\d\d\//.test(key) && failures-- > 0)
          throw Object.assign(new Error('injected S3 outage'), { name: 'InjectedFailure' });
        return next(args);
      },
      { step: 'initialize', name: 'flaky' },
    );
    await batchWrite(
      stack.dynamodb,
      table,
      Array.from({ length: 30 }, (_, i) => ({ PutRequest: { Item: { id: { S: `i${i}` } } } })),
    );
    const p = startPoller(table, { s3: flaky, settings: { batchSize: 100, batchWindowSeconds: 0.5 } });
    try {
      const records = await p.caughtUp(await streamArnOf(stack.dynamodb, table));
      const files = await landingFiles(stack.s3, BUCKET, p.prefix);
      assert.equal(files.length, 1, files.map((f) => f.key).join(', '));
      assert.equal(files[0]!.body.trim().split('\n').length, records.length);
      const claims = await listObjects(stack.s3, BUCKET, `${p.prefix}_batches/`);
      assert.equal(claims.length, 1);
      assert.ok(p.poller.status().tables[table]!.shards[0]!.retries >= 2);
      assert.ok(p.logs.some((l) => l.level === 'warn' && /retry 2 of 30 records/.test(String(l.message))));
    } finally {
      await p.stop();
      flaky.destroy();
    }
  });

  it('resumes from its checkpoint after a SIGKILL: nothing lost, at most the last batch delivered twice', async () => {
    const table = uniqueName('kill');
    await createStreamTable(stack.dynamodb, table, [{ name: 'id', type: 'S' }]);
    const total = 1500;
    const batchSize = 20;
    await batchWrite(
      stack.dynamodb,
      table,
      Array.from({ length: total }, (_, i) => ({ PutRequest: { Item: { id: { S: `k${i}` }, v: { N: String(i) } } } })),
    );
    const arn = await streamArnOf(stack.dynamodb, table);
    const all = await readWholeStream(stack.streams, arn);
    assert.equal(all.length, total);
    const esmDir = tempDir('ddb-lake-esm-kill-');
    const prefix = `${table}/`;
    const args = [
      'poller',
      '--table',
      table,
      '--landing',
      `s3://${BUCKET}/${prefix}`,
      '--esm-dir',
      esmDir,
      '--batch-size',
      String(batchSize),
      '--batch-window',
      '0.1',
      '--poll-interval',
      '50',
    ];
    const checkpointFile = new CheckpointStore(join(esmDir, 'checkpoints')).path(arn, await shardIdOf(arn));
    const readCheckpoint = () =>
      existsSync(checkpointFile) ? (JSON.parse(readFileSync(checkpointFile, 'utf8')) as ShardCheckpoint) : undefined;
    const position = (seq?: string) => (seq ? all.findIndex((r) => r.dynamodb!.SequenceNumber === seq) + 1 : 0);

    const first = runCli(args, stack.childEnv);
    await waitFor(
      'the first poller to deliver some batches',
      async () => position(readCheckpoint()?.sequenceNumber) >= 200,
      60_000,
      10,
    );
    first.kill('SIGKILL');
    await exited(first);
    const atKill = position(readCheckpoint()?.sequenceNumber);
    assert.ok(atKill < total, `killed mid-stream (checkpoint at record ${atKill} of ${total})`);

    const second = runCli(args, stack.childEnv);
    await waitFor(
      'the restarted poller to deliver everything',
      async () => position(readCheckpoint()?.sequenceNumber) === total,
      60_000,
      50,
    );
    second.kill('SIGTERM');
    assert.equal(await exited(second), 0, 'a SIGTERM ends the poller cleanly');

    const changes = await landedChanges(stack.s3, BUCKET, prefix);
    const seen = new Map<string, number>();
    for (const c of changes) seen.set(c.seq, (seen.get(c.seq) ?? 0) + 1);
    const missing = all.filter((r) => !seen.has(r.dynamodb!.SequenceNumber!));
    assert.equal(missing.length, 0, 'nothing lost');
    const duplicated = all.map((r, i) => ({ i, n: seen.get(r.dynamodb!.SequenceNumber!)! })).filter((x) => x.n > 1);
    assert.ok(
      duplicated.length <= batchSize,
      `${duplicated.length} records delivered twice; at most one batch (${batchSize}) may be`,
    );
    assert.ok(
      duplicated.every((d) => d.n === 2 && d.i >= atKill && d.i < atKill + batchSize),
      'duplicates only from the batch in flight at the kill',
    );
    const files = await landingFiles(stack.s3, BUCKET, prefix);
    assert.equal(new Set(files.map((f) => f.key.split('/').pop())).size, files.length, 'no batch file twice');
    const status = readPollerStatus(esmDir)!;
    assert.ok(status.stoppedAt);
  });

  it('keeps a child shard waiting until its parent is finished', async () => {
    // moto has one shard per stream, so shard lineage is driven by a scripted stream (pure logic).
    const table = uniqueName('lineage');
    const arn = `arn:aws:dynamodb:us-east-1:123456789012:table/${table}/stream/2026-01-01T00:00:00.000`;
    const record = (seq: string, id: string) => ({
      eventID: `e${seq}`,
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      dynamodb: {
        ApproximateCreationDateTime: new Date(),
        SequenceNumber: seq,
        Keys: { id: { S: id } },
        NewImage: { id: { S: id } },
        SizeBytes: 10,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
    const shardRecords: Record<string, ReturnType<typeof record>[]> = {
      parent: [record('100', 'p1'), record('101', 'p2')],
      child: [record('200', 'c1')],
    };
    let parentReads = 0;
    const calls: string[] = [];
    const fakeStreams = {
      async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
        const name = command.constructor.name;
        const input = command.input;
        if (name === 'DescribeStreamCommand') {
          // Two pages, child first, to exercise pagination and ordering.
          if (!input.ExclusiveStartShardId)
            return {
              StreamDescription: {
                Shards: [{ ShardId: 'child', ParentShardId: 'parent' }],
                LastEvaluatedShardId: 'child',
              },
            };
          return { StreamDescription: { Shards: [{ ShardId: 'parent' }] } };
        }
        if (name === 'GetShardIteratorCommand')
          return { ShardIterator: `${input.ShardId}|${input.ShardIteratorType}|${input.SequenceNumber ?? ''}` };
        if (name === 'GetRecordsCommand') {
          const shard = String(input.ShardIterator).split('|')[0]!;
          calls.push(shard);
          if (shard === 'parent') {
            parentReads++;
            // The parent is closed: its records, then no next iterator.
            return parentReads === 1
              ? { Records: shardRecords.parent, NextShardIterator: 'parent|after|101' }
              : { Records: [] };
          }
          const done = String(input.ShardIterator).includes('after');
          return { Records: done ? [] : shardRecords.child, NextShardIterator: 'child|after|200' };
        }
        throw new Error(`unexpected ${name}`);
      },
    };
    const fakeDynamodb = {
      async send(command: { constructor: { name: string } }) {
        if (command.constructor.name === 'DescribeTableCommand')
          return {
            Table: {
              LatestStreamArn: arn,
              StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
            },
          };
        throw new Error(`unexpected ${command.constructor.name}`);
      },
    };
    const esmDir = tempDir('ddb-lake-esm-lineage-');
    const poller = new LocalEventSourceMapping(
      {
        settings: { ...ESM_DEFAULTS, ...FAST_ESM },
        esmDir,
        tables: [table],
        landingOverrides: { [table]: `s3://${BUCKET}/${table}/` },
        region: 'us-east-1',
      },
      { dynamodb: fakeDynamodb as never, streams: fakeStreams as never, s3: stack.s3 },
    );
    const done = poller.run();
    try {
      await waitFor(
        'the child shard to be delivered',
        async () => poller.status().tables[table]?.shards.find((s) => s.shardId === 'child')?.checkpoint === '200',
        20_000,
        50,
      );
    } finally {
      poller.stop();
      await done;
    }
    assert.equal(
      calls.indexOf('child') > calls.lastIndexOf('parent'),
      true,
      `child read only after the parent ended: ${calls.join(',')}`,
    );
    const store = new CheckpointStore(join(esmDir, 'checkpoints'));
    const parentCheckpoint = (await store.read(arn, 'parent'))!;
    assert.match(
      parentCheckpoint.batch!,
      /^100_101_[0-9a-f]{12}$/,
      'the last delivered batch, for the chain link of the next one',
    );
    assert.deepEqual(
      { ...parentCheckpoint, updatedAt: undefined, batch: undefined },
      {
        streamArn: arn,
        shardId: 'parent',
        sequenceNumber: '101',
        finished: true,
        updatedAt: undefined,
        batch: undefined,
      },
    );
    const lines = (await landedChanges(stack.s3, BUCKET, `${table}/`)).sort((a, b) =>
      Number(BigInt(a.seq) - BigInt(b.seq)),
    );
    assert.deepEqual(
      lines.map((l) => l.item.id!.S),
      ['p1', 'p2', 'c1'],
    );
  });

  it('rejects bad options and mappings with messages naming them', () => {
    const esmDir = tempDir('ddb-lake-esm-bad-');
    const cli = (...args: string[]) =>
      spawnSync(
        process.execPath,
        ['--no-warnings', join(REPO_ROOT, 'bin', 'ddb-lake.js'), 'poller', '--esm-dir', esmDir, ...args],
        { env: stack.childEnv, encoding: 'utf8' },
      );
    let r = cli('--batch-size', '0');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--batch-size must be a whole number from 1 to 10000 \(got 0\)/);
    r = cli('--batch-window', 'soon');
    assert.match(r.stderr, /--batch-window soon is not a number/);
    r = cli('--max-write-seconds', '60', '--function-timeout', '30');
    assert.match(r.stderr, /--function-timeout \(30\) must be greater than --max-write-seconds \(60\)/);
    r = cli('--landing', 's3://bucket/x/');
    assert.match(r.stderr, /--landing needs exactly one --table/);
    mkdirSync(esmDir, { recursive: true });
    writeFileSync(join(esmDir, 'mappings.json'), JSON.stringify({ orders: 'bucket/orders' }));
    r = cli('--table', 'orders');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /mappings\.json: the landing of table orders=bucket\/orders is not an S3 location/);
    writeFileSync(join(esmDir, 'mappings.json'), '{"orders": ');
    r = cli('--table', 'orders');
    assert.match(r.stderr, /mappings\.json is not valid JSON/);
  });

  async function assertLatestEqualsTable(table: string, changes: Awaited<ReturnType<typeof landedChanges>>) {
    const latest = latestPerKey(changes, TRANSACTION_KEY_NAMES);
    const items = await scanTable(stack.dynamodb, table, TRANSACTION_KEY_NAMES);
    for (const [key, change] of latest) {
      if (change.op === 'remove') assert.equal(items.has(key), false, `${key} was removed`);
      else assert.equal(itemDifference(change.item, items.get(key) ?? {}), undefined, key);
    }
    assert.equal([...latest.values()].filter((c) => c.op !== 'remove').length, items.size);
  }

  async function shardIdOf(arn: string): Promise<string> {
    return (await stack.streams.send(new DescribeStreamCommand({ StreamArn: arn }))).StreamDescription!.Shards![0]!
      .ShardId!;
  }
});

function count(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

function runCli(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, ['--no-warnings', join(REPO_ROOT, 'bin', 'ddb-lake.js'), ...args], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr.setEncoding('utf8');
  let err = '';
  child.stderr.on('data', (d: string) => (err += d));
  child.once('exit', (code, signal) => {
    if (code && code !== 0) console.error(`poller exited ${code} ${signal ?? ''}: ${err}`);
  });
  return child;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
