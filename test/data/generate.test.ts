import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DynamoDBClient,
  paginateScan,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { generateTransactions, type GenerateSummary, type WriteLogRecord } from '../../tools/generate/generator';
import { resolveGenerateOptions } from '../../tools/generate/generate-options';
import { OperationPlanner } from '../../tools/generate/operation-planner';
import { SeededRandom } from '../../tools/generate/random';
import {
  FORMATS,
  formatTimestamp,
  MicrosecondClock,
  randomEntity,
  randomNote,
} from '../../tools/generate/transaction-model';
import { ensureTransactionTable } from '../../tools/generate/transaction-table';
import { runCli } from '../helpers/cli';
import { stackMoto, type MotoForTest } from '../helpers/moto-server';

const credentials = { accessKeyId: 'moto', secretAccessKey: 'moto' };

let moto: MotoForTest;
let ddb: DynamoDBClient;
let streams: DynamoDBStreamsClient;
let work: string;

before(async () => {
  moto = await stackMoto();
  ddb = new DynamoDBClient({ endpoint: moto.endpoint, region: moto.region, credentials });
  streams = new DynamoDBStreamsClient({ endpoint: moto.endpoint, region: moto.region, credentials });
  work = mkdtempSync(join(tmpdir(), 'ddb-lake-generate-'));
});

after(async () => {
  ddb?.destroy();
  streams?.destroy();
  await moto?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

type Item = Record<string, AttributeValue>;

async function scanAll(table: string): Promise<Item[]> {
  const items: Item[] = [];
  for await (const page of paginateScan({ client: ddb }, { TableName: table })) items.push(...(page.Items ?? []));
  return items;
}

async function streamRecords(table: string): Promise<StreamRecord[]> {
  const arn = (await ddb.send(new DescribeTableCommand({ TableName: table }))).Table!.LatestStreamArn!;
  const shards = (await streams.send(new DescribeStreamCommand({ StreamArn: arn }))).StreamDescription!.Shards ?? [];
  const records: StreamRecord[] = [];
  for (const shard of shards) {
    let iterator = (
      await streams.send(
        new GetShardIteratorCommand({ StreamArn: arn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }),
      )
    ).ShardIterator;
    while (iterator) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      records.push(...(page.Records ?? []));
      if (!page.Records?.length) break;
      iterator = page.NextShardIterator;
    }
  }
  return records;
}

async function generateCli(args: string[]): Promise<{ summary: GenerateSummary; stderr: string; code: number }> {
  const r = await runCli(['generate', '--json', ...args], moto.env);
  assert.ok(r.stdout.trim().startsWith('{'), `generate printed no JSON summary: ${r.stdout}\n${r.stderr}`);
  return { summary: JSON.parse(r.stdout) as GenerateSummary, stderr: r.stderr, code: r.code };
}

function readLog(file: string): WriteLogRecord[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as WriteLogRecord)
    .sort((a, b) => a.seq - b.seq);
}

describe('ddb-lake generate against moto', () => {
  test('--create-table creates the table as the pipeline needs it, and is harmless when run again', async () => {
    const first = await runCli(
      ['generate', '--table', 'CreateMe', '--create-table', '--count', '1', '--quiet'],
      moto.env,
    );
    assert.equal(first.code, 0, first.stderr);
    const second = await runCli(['generate', '--table', 'CreateMe', '--create-table', '--count', '1'], moto.env);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /using table CreateMe/);
    const t = (await ddb.send(new DescribeTableCommand({ TableName: 'CreateMe' }))).Table!;
    assert.equal(t.BillingModeSummary?.BillingMode, 'PAY_PER_REQUEST');
    assert.deepEqual(t.StreamSpecification, { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    assert.deepEqual(
      t.KeySchema?.map((k) => `${k.AttributeName}:${k.KeyType}`),
      ['account:HASH', 'create_at:RANGE'],
    );
    const backups = await ddb.send(new DescribeContinuousBackupsCommand({ TableName: 'CreateMe' }));
    assert.equal(
      backups.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus,
      'ENABLED',
    );
    assert.equal((await scanAll('CreateMe')).length, 2);
  });

  test("items follow the brief's formats; updates change only note and update_at (checked on the stream's old and new images)", async () => {
    const log = join(work, 'formats.jsonl');
    const { summary, code } = await generateCli([
      '--table',
      'Formats',
      '--create-table',
      '--count',
      '400',
      '--update-ratio',
      '0.3',
      '--delete-ratio',
      '0.1',
      '--seed',
      'formats',
      '--log',
      log,
    ]);
    assert.equal(code, 0);
    assert.equal(summary.errors, 0, JSON.stringify(summary.errorsByKind));
    assert.equal(summary.written, 400);
    assert.equal(summary.inserts + summary.updates + summary.deletes, 400);
    assert.ok(summary.updates > 60 && summary.deletes > 15, `expected updates and deletes: ${JSON.stringify(summary)}`);

    const items = await scanAll('Formats');
    assert.equal(items.length, summary.inserts - summary.deletes);
    for (const item of items) {
      assert.deepEqual(Object.keys(item).sort(), [
        'account',
        'amount',
        'create_at',
        'entity',
        'is_credit',
        'note',
        'update_at',
      ]);
      assert.match(item.account!.S!, FORMATS.account);
      assert.match(item.create_at!.S!, FORMATS.timestamp);
      assert.match(item.update_at!.S!, FORMATS.timestamp);
      assert.ok(item.update_at!.S! >= item.create_at!.S!, 'update_at is never before create_at');
      assert.match(item.entity!.S!, FORMATS.entity);
      assert.match(item.note!.S!, FORMATS.note);
      assert.match(item.amount!.N!, /^[1-9]\d{0,2}$/);
      assert.match(item.is_credit!.N!, /^[01]$/);
    }
    // create_at is the write time: within this test run, not a made-up date.
    const now = formatTimestamp(BigInt(Date.now()) * 1000n);
    const earliest = formatTimestamp(BigInt(Date.now() - 600_000) * 1000n);
    for (const item of items) assert.ok(item.create_at!.S! > earliest && item.create_at!.S! <= now);

    const records = await streamRecords('Formats');
    const byEvent = (e: string) => records.filter((r) => r.eventName === e);
    assert.equal(byEvent('INSERT').length, summary.inserts);
    assert.equal(byEvent('MODIFY').length, summary.updates);
    assert.equal(byEvent('REMOVE').length, summary.deletes);
    for (const r of byEvent('INSERT'))
      assert.equal(
        r.dynamodb!.NewImage!.update_at!.S,
        r.dynamodb!.NewImage!.create_at!.S,
        'insert: update_at = create_at',
      );
    for (const r of byEvent('MODIFY')) {
      const oldImage = r.dynamodb!.OldImage!;
      const newImage = r.dynamodb!.NewImage!;
      const changed = Object.keys({ ...oldImage, ...newImage }).filter(
        (k) => JSON.stringify(oldImage[k]) !== JSON.stringify(newImage[k]),
      );
      assert.ok(
        changed.every((k) => k === 'note' || k === 'update_at'),
        `an update changed ${changed.join(', ')}`,
      );
      assert.ok(changed.includes('update_at'), 'every update moves update_at');
      assert.ok(newImage.update_at!.S! > oldImage.update_at!.S!, 'update_at only grows');
    }

    const lines = readLog(log);
    assert.equal(lines.length, 400);
    assert.deepEqual(
      lines.map((l) => l.seq),
      [...Array(400).keys()],
    );
    for (const l of lines) {
      assert.deepEqual(Object.keys(l).sort(), ['account', 'create_at', 'op', 'seq', 'update_at', 'writtenAtMs']);
      assert.ok(Number.isInteger(l.writtenAtMs) && l.writtenAtMs > Date.now() - 600_000);
      if (l.op === 'insert') assert.equal(l.update_at, l.create_at);
      else assert.ok(l.update_at > l.create_at);
    }
  });

  test('a run of inserts without a rate (the initial batch) goes through BatchWriteItem, same model', async () => {
    const log = join(work, 'batch.jsonl');
    const { summary, code } = await generateCli([
      '--table',
      'Batch',
      '--create-table',
      '--count',
      '610',
      '--seed',
      'batch',
      '--log',
      log,
    ]);
    assert.equal(code, 0);
    assert.equal(summary.batchWrites, true);
    assert.deepEqual([summary.written, summary.inserts, summary.errors], [610, 610, 0]);
    const items = await scanAll('Batch');
    assert.equal(items.length, 610);
    for (const item of items) {
      assert.match(item.account!.S!, FORMATS.account);
      assert.match(item.create_at!.S!, FORMATS.timestamp);
      assert.equal(item.update_at!.S, item.create_at!.S);
      assert.match(item.entity!.S!, FORMATS.entity);
      assert.match(item.note!.S!, FORMATS.note);
    }
    const lines = readLog(log);
    assert.deepEqual(
      lines.map((l) => l.seq),
      [...Array(610).keys()],
    );
    assert.equal(new Set(lines.map((l) => l.create_at)).size, 610, 'every insert has its own create_at');
    assert.equal((await streamRecords('Batch')).filter((r) => r.eventName === 'INSERT').length, 610);
    // The same seed through single writes gives the same items.
    const single = await generateCli([
      '--table',
      'BatchSingle',
      '--create-table',
      '--count',
      '610',
      '--seed',
      'batch',
      '--single-writes',
    ]);
    assert.equal(single.summary.batchWrites, false);
    const values = async (table: string) =>
      (await scanAll(table)).map((i) => [i.account!.S, i.entity!.S, i.amount!.N, i.note!.S].join('|')).sort();
    assert.deepEqual(await values('BatchSingle'), await values('Batch'));
  });

  test('the same seed gives the same operations and values; another seed does not', async () => {
    const run = async (table: string, seed: string) => {
      const log = join(work, `${table}.jsonl`);
      const { summary } = await generateCli([
        '--table',
        table,
        '--create-table',
        '--count',
        '300',
        '--update-ratio',
        '0.3',
        '--delete-ratio',
        '0.1',
        '--seed',
        seed,
        '--log',
        log,
        '--concurrency',
        '8',
      ]);
      assert.equal(summary.errors, 0);
      const ops = readLog(log).map((l) => `${l.seq}:${l.op}:${l.account}`);
      const values = (await scanAll(table))
        .map((i) => [i.account!.S, i.entity!.S, i.amount!.N, i.is_credit!.N, i.note!.S].join('|'))
        .sort();
      return { summary, ops, values };
    };
    const a = await run('SeedA', 'same-seed');
    const b = await run('SeedB', 'same-seed');
    const c = await run('SeedC', 'other-seed');
    assert.equal(a.summary.seed, 'same-seed');
    assert.deepEqual(b.ops, a.ops);
    assert.deepEqual(b.values, a.values);
    assert.deepEqual(
      [b.summary.inserts, b.summary.updates, b.summary.deletes],
      [a.summary.inserts, a.summary.updates, a.summary.deletes],
    );
    assert.notDeepEqual(c.ops, a.ops);
    assert.notDeepEqual(c.values, a.values);
  });

  test('--delete-ratio deletes about that share of the writes, and the table holds inserts minus deletes', async () => {
    const { summary } = await generateCli([
      '--table',
      'Deletes',
      '--create-table',
      '--count',
      '1000',
      '--delete-ratio',
      '0.25',
      '--seed',
      'd',
    ]);
    assert.equal(summary.errors, 0);
    // Binomial(1000, 0.25): mean 250, sd 13.7; the bounds are > 5 sd away.
    assert.ok(summary.deletes > 180 && summary.deletes < 320, `deletes ${summary.deletes}`);
    assert.equal(summary.updates, 0);
    assert.equal((await scanAll('Deletes')).length, summary.inserts - summary.deletes);
  });

  test('--rate with --duration holds the rate and stops on time', async () => {
    const { summary } = await generateCli([
      '--table',
      'Rate',
      '--create-table',
      '--rate',
      '50',
      '--duration',
      '3',
      '--quiet',
    ]);
    assert.equal(summary.stoppedBy, 'duration');
    assert.ok(
      summary.written >= 140 && summary.written <= 152,
      `written ${summary.written} in ${summary.durationSeconds} s`,
    );
    assert.ok(summary.durationSeconds >= 2.9 && summary.durationSeconds < 4, `took ${summary.durationSeconds} s`);
  });

  test('the library keeps going from existing items and stops when its signal aborts', async () => {
    const table = 'Library';
    await ensureTransactionTable(ddb, table);
    const first = await generateTransactions(ddb, { table, count: 50, seed: 'lib' });
    assert.equal(first.liveKeys.length, 50);
    const abort = new AbortController();
    const seen: WriteLogRecord[] = [];
    setTimeout(() => abort.abort(), 1500);
    const second = await generateTransactions(ddb, {
      table,
      rate: 40,
      durationSeconds: 60,
      updateRatio: 1,
      existingKeys: first.liveKeys,
      signal: abort.signal,
      onWrite: (r) => seen.push(r),
    });
    assert.equal(second.stoppedBy, 'signal');
    assert.ok(second.written > 20 && second.written < 120, `written ${second.written}`);
    assert.equal(second.inserts, 0, 'with update ratio 1 and existing items, every write is an update');
    assert.equal(second.errors, 0);
    const known = new Set(first.liveKeys.map((k) => `${k.account}|${k.create_at}`));
    assert.ok(seen.every((r) => r.op === 'update' && known.has(`${r.account}|${r.create_at}`)));
  });

  test('a missing table is a clear error', async () => {
    const r = await runCli(['generate', '--table', 'NoSuchTable', '--count', '1'], moto.env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /table NoSuchTable does not exist\n.*--create-table/);
  });

  test('an unreachable DynamoDB is a clear error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ddb-lake-nostack-'));
    try {
      const stack = {
        stateDir: dir,
        temporal: { address: '127.0.0.1:1', namespace: 'default', uiUrl: '' },
        aws: { endpoint: 'http://127.0.0.1:5409', region: 'us-east-1' },
        services: [],
      };
      writeFileSync(join(dir, 'stack.json'), JSON.stringify(stack));
      const r = await runCli(['generate', '--count', '1'], { ...moto.env, DDB_LAKE_STATE: dir });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /cannot reach DynamoDB/);
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ddb-lake generate flag validation', () => {
  const cases: [string[], RegExp][] = [
    [[], /--count <writes> or --duration <seconds> is required/],
    [['--count', '10', '--rate', '-5'], /--rate must be a positive number of writes per second \(got -5\)/],
    [['--count', '10', '--rate', '0'], /--rate must be a positive number/],
    [['--count', 'ten'], /--count must be a number \(got "ten"\)/],
    [['--count', '2.5'], /--count must be a whole number of writes, at least 1/],
    [['--count', '0'], /--count must be a whole number of writes, at least 1 \(got 0\)/],
    [['--duration', '-1'], /--duration must be a positive number of seconds/],
    [['--count', '10', '--delete-ratio', '1.5'], /--delete-ratio must be between 0 and 1 \(got 1.5\)/],
    [['--count', '10', '--update-ratio', '-0.1'], /--update-ratio must be between 0 and 1/],
    [
      ['--count', '10', '--update-ratio', '0.7', '--delete-ratio', '0.5'],
      /--update-ratio 0.7 plus --delete-ratio 0.5 is more than 1/,
    ],
    [['--count', '10', '--concurrency', '0'], /--concurrency must be a whole number from 1 to 256/],
    [['--count', '10', '--table', 'x'], /table name "x" is not valid/],
    [['--initial-batch', '--count', '5'], /--initial-batch already sets the count/],
    [['--count', '10', '--seed', ''], /--seed must not be empty/],
  ];
  for (const [args, message] of cases) {
    test(`generate ${args.join(' ') || '(no flags)'}`, async () => {
      // No stack needed: flags are checked before anything is contacted.
      const r = await runCli(['generate', ...args], { ...process.env, DDB_LAKE_STATE: '/nonexistent' });
      assert.equal(r.code, 2);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /^ddb-lake: /);
    });
  }
});

describe('the Transaction model (pure logic)', () => {
  test('timestamps look like 2023-07-27T22:14:26.066612+0000 and the clock never repeats', () => {
    assert.equal(formatTimestamp(1690496066066612n), '2023-07-27T22:14:26.066612+0000');
    const clock = new MicrosecondClock();
    const stamps = Array.from({ length: 2000 }, () => clock.nowTimestamp());
    assert.equal(new Set(stamps).size, stamps.length);
    assert.deepEqual([...stamps].sort(), stamps);
  });

  test("entities and notes follow the brief's styles", () => {
    const rng = new SeededRandom('styles');
    const entities = Array.from({ length: 3000 }, () => randomEntity(rng));
    for (const e of entities) assert.match(e, FORMATS.entity);
    assert.ok(entities.some((e) => / and Sons$/.test(e)));
    assert.ok(entities.some((e) => /^[A-Z][a-z]+-[A-Z][a-z]+$/.test(e)));
    assert.ok(entities.some((e) => /^[A-Z][a-z]+, [A-Z][a-z]+ and [A-Z][a-z]+$/.test(e)));
    for (let i = 0; i < 3000; i++) assert.match(randomNote(rng), FORMATS.note);
  });

  test('batch writes only for runs of inserts without a rate', () => {
    assert.equal(resolveGenerateOptions({ table: 'T_x', count: 5 }).batchWrites, true);
    assert.equal(resolveGenerateOptions({ table: 'T_x', count: 5, rate: 10 }).batchWrites, false);
    assert.equal(resolveGenerateOptions({ table: 'T_x', count: 5, updateRatio: 0.1 }).batchWrites, false);
    assert.throws(
      () => resolveGenerateOptions({ table: 'T_x', count: 5, deleteRatio: 0.1, batchWrites: true }),
      /batch writes are only for runs of inserts without a rate/,
    );
  });

  test('the planner decides from the seed only', () => {
    const plan = (seed: string) => {
      const p = new OperationPlanner(seed, 0.3, 0.2);
      return Array.from({ length: 500 }, () => {
        const op = p.next();
        return `${op.kind}:${op.item.account}:${op.kind === 'update' ? op.note : ''}`;
      });
    };
    assert.deepEqual(plan('x'), plan('x'));
    assert.notDeepEqual(plan('x'), plan('y'));
    const kinds = plan('x').map((s) => s.split(':')[0]);
    assert.equal(kinds[0], 'insert', 'nothing to update or delete before the first insert');
  });
});
