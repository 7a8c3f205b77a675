/**
 * `npm start` in short, through the CLI, on the test stack: `ddb-lake demo` (a first batch, then a
 * few thousand inserts, note updates and deletes while the pipeline runs) must end with verify = equal
 * and a freshness figure for every change. Then `ddb-lake verify` itself on that pipeline:
 *
 *  - equal again without waiting (`--no-wait`), exit 0, the JSON document as docs/cli-json.md says;
 *  - against a tampered copy of the table (`--table`): one item deleted from the copy (an extra lake
 *    row), one added (a missing row), one note and one amount changed (differing values) — exit 1 with
 *    exactly those counts, keys and values;
 *  - against a tampered copy of the lake (`--lake`, a row dropped from a Parquet file): exit 1, that
 *    row missing;
 *  - bad input: exit 2 with a message.
 */
import { transactionTableInput } from '../../tools/generate/transaction-table';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  DeleteItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  waitUntilTableExists,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { REPO_ROOT, toolchainPaths } from '../../core/toolchain';
import type { DemoSummary } from '../../tools/demo/demo';
import type { VerifyReport } from '../../client/verify/verify';
import { runCli } from '../helpers/cli';
import { testDynamoDbClient, testEnvironment, testScratchDir } from '../helpers/stack';

const env = testEnvironment();
const ddb = testDynamoDbClient();

after(() => ddb.destroy());

describe('npm start, short: demo → verify equal; verify finds tampering', { concurrency: false }, () => {
  let demo: DemoSummary;

  test(
    'the demo writes a few thousand changes and ends with the lake equal to the table',
    { timeout: 20 * 60_000 },
    async () => {
      // The demo's `up` finds the test stack through DDB_LAKE_STATE; port variables of the calling shell
      // would ask for another stack.
      const demoEnv = { ...process.env };
      for (const v of ['DDB_LAKE_TEMPORAL_PORT', 'DDB_LAKE_TEMPORAL_UI_PORT', 'DDB_LAKE_AWS_PORT', 'DDB_LAKE_REGION'])
        delete demoEnv[v];
      const r = await runCli(
        [
          'demo',
          '--initial',
          '1000',
          '--duration',
          '40',
          '--rate',
          '50',
          '--update-ratio',
          '0.3',
          '--delete-ratio',
          '0.1',
          '--seed',
          'e2e',
          '--stop-pipeline',
          '--json',
        ],
        demoEnv,
        20 * 60_000,
      );
      assert.equal(r.code, 0, `demo failed (exit ${r.code}):\n${r.stderr.slice(-3000)}\n${r.stdout}`);
      demo = JSON.parse(r.stdout) as DemoSummary;
      console.log(
        `[e2e] ${demo.changes.written} changes (${demo.changes.inserts} ins, ${demo.changes.updates} upd, ${demo.changes.deletes} del); verify ${demo.verify.result}; freshness p50 ${demo.freshness?.p50} s p95 ${demo.freshness?.p95} s; ${demo.durationSeconds} s`,
      );
      assert.equal(demo.verify.result, 'equal');
      assert.equal(demo.verify.items, demo.verify.rows);
      assert.equal(demo.items.initial, 1000);
      assert.ok(demo.changes.written >= 1500, `only ${demo.changes.written} changes`);
      assert.ok(demo.changes.updates > 200 && demo.changes.deletes > 50, 'updates and deletes are part of the run');
      assert.equal(demo.changes.errors, 0);
      assert.equal(demo.items.inTable, 1000 + demo.changes.inserts - demo.changes.deletes);
      assert.ok(demo.verify.catchUp, 'verify waited for the pipeline');
      // Every change was found in a landing file applied by a run, so each has a freshness.
      assert.ok(demo.freshness);
      assert.equal(demo.freshness.measured, demo.changes.written);
      assert.ok(
        demo.freshness.p50 > 0 && demo.freshness.p95 >= demo.freshness.p50 && demo.freshness.max >= demo.freshness.p95,
      );
      assert.equal(demo.pipelineState, 'stopped');
    },
  );

  test(
    'verify --no-wait on the stopped pipeline: equal, exit 0, the documented JSON',
    { timeout: 5 * 60_000 },
    async () => {
      const r = await runCli(['verify', demo.pipeline, '--no-wait', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as VerifyReport;
      assert.equal(report.schemaVersion, 1);
      assert.equal(report.result, 'equal');
      assert.equal(report.catchUp, null);
      assert.equal(report.table.items, demo.items.inTable);
      assert.deepEqual(
        [report.missing.count, report.extra.count, report.differing.count, report.duplicates.count],
        [0, 0, 0, 0],
      );
      const text = await runCli(['verify', demo.pipeline, '--no-wait']);
      assert.equal(text.code, 0);
      assert.match(text.stdout, /EQUAL/);
    },
  );

  test('a tampered copy of the table: extra, missing and differing rows, exit 1', { timeout: 5 * 60_000 }, async () => {
    const copy = `${demo.table}-copy`;
    const items = await copyTable(demo.table, copy);
    const [gone, changedNote, changedAmount] = items;
    const keyOf = (i: Record<string, AttributeValue>) => ({ account: i.account!, create_at: i.create_at! });
    await ddb.send(new DeleteItemCommand({ TableName: copy, Key: keyOf(gone!) }));
    const added = { ...changedNote!, account: { S: '000-000-0000' } };
    await ddb.send(new PutItemCommand({ TableName: copy, Item: added }));
    await ddb.send(
      new UpdateItemCommand({
        TableName: copy,
        Key: keyOf(changedNote!),
        UpdateExpression: 'SET note = :n',
        ExpressionAttributeValues: { ':n': { S: 'Tampered note.' } },
      }),
    );
    await ddb.send(
      new UpdateItemCommand({
        TableName: copy,
        Key: keyOf(changedAmount!),
        UpdateExpression: 'SET amount = :a',
        ExpressionAttributeValues: { ':a': { N: '1000000' } },
      }),
    );

    const r = await runCli(['verify', demo.pipeline, '--table', copy, '--json', '--sample', '5']);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as VerifyReport;
    assert.equal(report.result, 'different');
    const key = (i: Record<string, AttributeValue>) => ({ account: i.account!.S, create_at: i.create_at!.S });
    assert.equal(report.missing.count, 1);
    assert.deepEqual(report.missing.sample, [{ key: key(added) }]);
    assert.equal(report.extra.count, 1);
    assert.deepEqual(report.extra.sample, [{ key: key(gone!) }]);
    assert.equal(report.differing.count, 2);
    assert.deepEqual(report.differing.byAttribute, { amount: 1, note: 1 });
    const byAttribute = Object.fromEntries(report.differing.sample.map((d) => [d.attribute, d]));
    assert.deepEqual(byAttribute.note, {
      key: key(changedNote!),
      attribute: 'note',
      column: 'note',
      table: 'Tampered note.',
      lake: changedNote!.note!.S,
    });
    assert.deepEqual(byAttribute.amount, {
      key: key(changedAmount!),
      attribute: 'amount',
      column: 'amount',
      table: 1000000,
      lake: Number(changedAmount!.amount!.N),
    });
    assert.equal(report.duplicates.count, 0);

    const text = await runCli(['verify', demo.pipeline, '--table', copy]);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /DIFFERENT — 1 missing, 1 extra, 2 differing/);
    assert.match(text.stdout, /note: table "Tampered note\." · lake /);
  });

  test('a tampered copy of the lake: a dropped row is missing, exit 1', { timeout: 5 * 60_000 }, async () => {
    const lake = fileURLToPath(demo.lake);
    const copy = join(testScratchDir('lake-copy'), 'lake');
    cpSync(lake, copy, { recursive: true });
    // Chosen by the original's times (a copy's are the copying order): the newest file is in the
    // latest snapshot; an older version of its file group would not be read at all.
    const newest = join(copy, relative(lake, newestParquet(lake)));
    const dropped = execFileSync(toolchainPaths().python, ['-c', DROP_A_BASE_ONLY_ROW, newest, lake], {
      encoding: 'utf8',
      env: { ...process.env, PYTHONPATH: join(REPO_ROOT, 'python') },
    }).trim();
    const r = await runCli(['verify', demo.pipeline, '--lake', copy, '--json']);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as VerifyReport;
    assert.equal(report.missing.count, 1);
    assert.equal(
      `account:${report.missing.sample[0]!.key.account},create_at:${report.missing.sample[0]!.key.create_at}`,
      dropped,
    );
    assert.deepEqual([report.extra.count, report.differing.count], [0, 0]);
  });

  test('bad input: exit 2 and a message', async () => {
    const unknown = await runCli(['verify', 'no-such-pipeline-here']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no pipeline named "no-such-pipeline-here"/);
    const badFlag = await runCli(['verify', demo.pipeline, '--sample', 'lots']);
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /--sample must be a whole number/);
    const noTable = await runCli(['verify', demo.pipeline, '--table', 'No-Such-Table-xyz']);
    assert.equal(noTable.code, 2);
    assert.match(noTable.stderr, /table No-Such-Table-xyz does not exist/);
  });
});

/** The table's items copied into a new table without a stream (the pipeline never sees it). */
async function copyTable(from: string, to: string): Promise<Record<string, AttributeValue>[]> {
  await ddb.send(new CreateTableCommand(transactionTableInput(to, null)));
  await waitUntilTableExists({ client: ddb, maxWaitTime: 60 }, { TableName: to });
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await ddb.send(new ScanCommand({ TableName: from, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  for (const item of items) await ddb.send(new PutItemCommand({ TableName: to, Item: item }));
  return items;
}

function newestParquet(dir: string): string {
  let best: { path: string; mtime: number } | undefined;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.parquet') && (!best || statSync(p).mtimeMs > best.mtime))
        best = { path: p, mtime: statSync(p).mtimeMs };
    }
  };
  walk(dir);
  if (!best) throw new Error(`no Parquet file in ${dir}`);
  return best.path;
}

/** Rewrites a Parquet file without its first row; prints that row's record key. */
/**
 * Drops from a base file the first row no later log block changed (on merge-on-read a row of a base
 * file may live on in a log block: dropping it there would not lose it), and prints its key.
 */
const DROP_A_BASE_ONLY_ROW = `
import sys, pyarrow.parquet as pq
from lake_reader import read_snapshot
path, lake = sys.argv[1], sys.argv[2]
snapshot = read_snapshot(lake).data
latest = dict(zip(snapshot.column("_hoodie_record_key").to_pylist(), snapshot.column("_hoodie_commit_time").to_pylist()))
t = pq.read_table(path)
keys, times = t.column("_hoodie_record_key").to_pylist(), t.column("_hoodie_commit_time").to_pylist()
i = next(i for i, (k, c) in enumerate(zip(keys, times)) if latest.get(k) == c)
print(keys[i])
pq.write_table(t.take([j for j in range(len(keys)) if j != i]), path)
`;

void env;
