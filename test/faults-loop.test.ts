/**
 * The whole loop on the test stack (its poller, worker, Spark jobs), one pipeline on a table of its
 * own, through the faults and edge cases of issue 7:
 * - items at DynamoDB's 400 KB limit, numbers at the edges of its range, key values with `,` and
 *   `:` (and two items whose Hudi record keys would collide: the ambiguous one is rejected, loudly),
 *   through the export and through the stream into the lake;
 * - malformed, truncated and non-UTF-8 landing lines: rejected with reasons, counted in `status`;
 * - a stream gap (records trimmed before the poller read them): `stalled` with the reason, nothing
 *   after it applied; `ddb-lake rebackfill` → fresh export, reload, incremental → lake equals table;
 * - no secret of the stack's environment in any workflow history, log or run record.
 * Every comparison is per key and per attribute (the lake read by hudi-rs through `ddb-lake sql`).
 */
import { transactionTableInput } from '../tools/generate/transaction-table';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateTableCommand,
  DeleteItemCommand,
  PutItemCommand,
  ScanCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateContinuousBackupsCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { temporal } from '@temporalio/proto';
import type { StatusDocument } from '../client/pipeline-client';
import { minuteFolder } from '../core/landing';
import { canonicalNumber } from '../lambda/encoding';
import { ExactJsonNumber, parseExactJson, type ExactJsonValue } from '../lambda/exact-json';
import { runCli } from './helpers/cli';
import {
  closeTestConnections,
  testDynamoDbClient,
  testEnvironment,
  testS3Client,
  testScratchDir,
  testTemporalClient,
  uniqueName,
} from './helpers/stack';

const dynamodb = testDynamoDbClient();
const s3 = testS3Client();
const BUCKET = 'ddb-lake-local';
const HOLD = 'ddb-lake:fault:hold-stream';
const TRIM = 'ddb-lake:fault:trim-stream';

const table = uniqueName('Faults');
const pipeline = uniqueName('faults');
const landingPrefix = `landing/${table}/`;
let dir: string;
let lakeDir: string;
let tableArn: string;
let firstInitRunKey: string;

type Item = Record<string, AttributeValue>;

// --- Items ------------------------------------------------------------------------------------

/** A string whose DynamoDB size is `bytes` (UTF-8), full of what JSON must escape, multi-byte characters included. */
function bigText(bytes: number): string {
  const unit = 'quote " backslash \\ tab \t nl \n ctrl \u0001 中文 😀 ';
  const unitBytes = Buffer.byteLength(unit);
  let s = unit.repeat(Math.floor(bytes / unitBytes));
  while (Buffer.byteLength(s) < bytes) s += 'x';
  return s;
}

/** DynamoDB item size: attribute names + values (UTF-8), as DynamoDB counts it for S / N. */
function itemBytes(item: Item): number {
  let n = 0;
  for (const [k, v] of Object.entries(item))
    n += Buffer.byteLength(k) + (v.S !== undefined ? Buffer.byteLength(v.S) : v.N !== undefined ? v.N.length : 0);
  return n;
}

function item(account: string, createAt: string, extra: Item = {}): Item {
  return { account: { S: account }, create_at: { S: createAt }, note: { S: `note of ${account}` }, ...extra };
}

/** 400 KB items: 400,000 bytes (DynamoDB's limit is 409,600 bytes including names; moto's check stops at 405,000). */
function atTheLimit(account: string): Item {
  const base = item(account, '2023-07-30T16:49:36.444736+0000', { note: { S: '' } });
  base.note = { S: bigText(400_000 - itemBytes(base)) };
  assert.equal(itemBytes(base), 400_000);
  return base;
}

// --- The lake and the table -------------------------------------------------------------------

/** Key values whose Hudi record key could equal another item's: rejected by design (docs/types.md). */
const ambiguous = (i: Item) => i.account!.S!.includes(',create_at:');

/** Every item of the table (rendered keys can collide: that is what the ambiguous items are). */
async function scanTable(): Promise<Item[]> {
  const out: Item[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    out.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/** Hudi's record key of an item (`account:…,create_at:…`). */
const recordKey = (i: Item) => `account:${i.account!.S},create_at:${i.create_at!.S}`;

async function lakeRows(): Promise<Map<string, Map<string, ExactJsonValue>>> {
  const r = await runCli(['sql', '--lake', lakeDir, 'select * from lake', '--json']);
  if (r.code !== 0) throw new Error(`ddb-lake sql failed: ${r.stderr}`);
  const rows = parseExactJson(r.stdout) as ExactJsonValue[];
  const out = new Map<string, Map<string, ExactJsonValue>>();
  for (const row of rows as Map<string, ExactJsonValue>[]) out.set(row.get('_hoodie_record_key') as string, row);
  return out;
}

/** Differences between the table (minus ambiguous keys) and the lake, per key and attribute; [] when equal. */
async function differences(): Promise<string[]> {
  const [items, rows] = [await scanTable(), await lakeRows()];
  const diffs: string[] = [];
  const expected = new Set<string>();
  for (const i of items) {
    if (ambiguous(i)) continue; // never in the lake: its record key may be another item's
    const key = recordKey(i);
    expected.add(key);
    const row = rows.get(key);
    if (row && (row.get('account') !== i.account!.S || row.get('create_at') !== i.create_at!.S)) {
      diffs.push(
        `${key}: the lake row is of another item (${short(row.get('account'))}, ${short(row.get('create_at'))})`,
      );
      continue;
    }
    if (!row) {
      diffs.push(`${key}: missing from the lake`);
      continue;
    }
    for (const [name, v] of Object.entries(i)) {
      const got = row.get(name);
      if (v.S !== undefined && got !== v.S) diffs.push(`${key}.${name}: lake ${short(got)} ≠ table ${short(v.S)}`);
      if (v.N !== undefined) {
        const text = got instanceof ExactJsonNumber ? got.text : typeof got === 'string' ? got : null;
        if (text === null || canonicalNumber(text) !== canonicalNumber(v.N))
          diffs.push(`${key}.${name}: lake ${short(got)} ≠ table ${v.N}`);
      }
    }
    for (const [name, got] of row)
      if (!name.startsWith('_') && got !== null && !(name in i))
        diffs.push(`${key}.${name}: ${short(got)} in the lake, absent in the table`);
  }
  for (const key of rows.keys()) if (!expected.has(key)) diffs.push(`${key}: in the lake, not in the table`);
  return diffs;
}

function short(v: unknown): string {
  const s = v instanceof ExactJsonNumber ? v.text : JSON.stringify(v);
  return s === undefined ? 'undefined' : s.length > 60 ? `${s.slice(0, 60)}…(${s.length})` : s;
}

async function lakeEqualsTable(what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string[];
  for (;;) {
    try {
      last = await differences();
      if (last.length === 0) return;
    } catch (err) {
      last = [String(err)];
    }
    if (Date.now() > deadline)
      assert.fail(
        `${what}: the lake does not equal the table after ${timeoutMs / 1000} s:\n${last.slice(0, 10).join('\n')}`,
      );
    await sleep(3000);
  }
}

async function status(): Promise<StatusDocument> {
  const r = await runCli(['status', pipeline, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as StatusDocument;
}

async function statusWhere(
  what: string,
  ok: (s: StatusDocument) => boolean,
  timeoutMs: number,
): Promise<StatusDocument> {
  const deadline = Date.now() + timeoutMs;
  let s: StatusDocument | undefined;
  for (;;) {
    s = await status();
    if (ok(s)) return s;
    if (s.execution.status !== 'RUNNING')
      assert.fail(`the pipeline ended (${s.execution.status}): ${s.execution.closeReason}`);
    if (Date.now() > deadline)
      assert.fail(
        `timed out waiting for ${what}; status: ${JSON.stringify({ phase: s.phase, step: s.step, stalled: s.stalled, lastError: s.lastError, lastRuns: s.lastRuns?.slice(0, 3) })}`,
      );
    await sleep(2000);
  }
}

async function put(i: Item): Promise<void> {
  await dynamodb.send(new PutItemCommand({ TableName: table, Item: i }));
}

async function s3Keys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((c) => c.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

async function s3Text(key: string): Promise<string> {
  return (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString();
}

// --- The run ----------------------------------------------------------------------------------

before(async () => {
  dir = testScratchDir('faults-loop');
  // The poller creates it when it first captures a table; `start` checks it exists.
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET })).catch(() => undefined);
  lakeDir = join(dir, 'lake');
  const created = await dynamodb.send(new CreateTableCommand(transactionTableInput(table)));
  tableArn = created.TableDescription!.TableArn!;
  await dynamodb.send(
    new UpdateContinuousBackupsCommand({
      TableName: table,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    }),
  );
});

after(async () => {
  await runCli(['stop', pipeline, '--wait', '60']).catch(() => undefined);
  await dynamodb.send(new UntagResourceCommand({ ResourceArn: tableArn, TagKeys: [HOLD] })).catch(() => undefined);
  dynamodb.destroy();
  s3.destroy();
  await closeTestConnections();
});

describe('the whole loop through faults and edge cases (test stack)', () => {
  test('export path: 400 KB items, edge numbers, keys with , and : — the lake equals the table after the initial load', async () => {
    // Into the table before the pipeline starts: they reach the lake through the export.
    await put(atTheLimit('limit-export'));
    await put(
      item('numbers-export', '2023-07-30T16:49:36.444736+0000', {
        n38: { N: '12345678901234567890123456789012345678' },
        big: { N: '1E+125' },
        tiny: { N: '-1E-130' },
        amount: { N: '7' },
      }),
    );
    await put(item('a,b:c', 'd:e,f'));
    await put(item('x', 'y,create_at:z')); // fine: the first key value has no ",create_at:"
    await put(item('x,create_at:y', 'z')); // would be the record key of the item above: rejected
    // Beyond the limit DynamoDB (moto) refuses the item: the limit is real.
    const over = atTheLimit('over');
    over.note = { S: `${over.note!.S}${'x'.repeat(6000)}` };
    await assert.rejects(put(over), /ValidationException|Item size/);

    const config = {
      name: pipeline,
      table,
      export: { location: `s3://${BUCKET}/export/${table}/`, pollIntervalSeconds: 1 },
      landing: { location: `s3://${BUCKET}/${landingPrefix}`, closeAfterSeconds: 60 },
      lake: { location: lakeDir },
      jobs: { initialLoad: { pollIntervalSeconds: 1 }, incremental: { pollIntervalSeconds: 1 } },
      schedule: { intervalSeconds: 2 },
      retry: { maxAttempts: 3, initialIntervalSeconds: 2, maxIntervalSeconds: 5 },
      errors: { maxRejectedShare: 0.5 },
    };
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(config));
    const started = await runCli(['start', file]);
    assert.equal(started.code, 0, started.stderr);
    const again = await runCli(['start', file]);
    assert.equal(again.code, 2);
    assert.equal(
      again.stderr,
      `ddb-lake: pipeline "${pipeline}" is already running\n  → stop it first with \`ddb-lake stop ${pipeline}\`, or give the config another "name"\n`,
    );

    const s = await statusWhere('the incremental phase', (st) => st.phase === 'incremental', 420_000);
    const init = s.lastRuns!.find((r) => r.kind === 'initialLoad')!;
    firstInitRunKey = init.runKey;
    assert.equal(init.status, 'succeeded');
    assert.equal(init.rejected, 1, 'the ambiguous key');
    assert.match(
      init.rejectedUri!,
      new RegExp(`^s3://${BUCKET}/${landingPrefix}_rejected/${pipeline}-[0-9a-f]{8}-init-a1/?$`),
    );
    await lakeEqualsTable('after the initial load', 60_000);
  });

  test('stream path: the same edge cases, bad landing lines rejected with reasons and counted in status', async () => {
    await put(atTheLimit('limit-stream'));
    await put(
      item('numbers-stream', '2023-07-30T16:49:36.444736+0000', {
        n38: { N: '-99999999999999999999999999999999999999' },
        big: { N: '9.9999999999999999999999999999999999999E+125' },
        tiny: { N: '1E-130' },
        amount: { N: '8' },
      }),
    );
    await put(item('q', 'r,create_at:s'));
    await put(item('q,create_at:r', 's')); // ambiguous: rejected by the incremental job
    await put(item('a,b:c', 'd:e,f', { note: { S: 'updated through the stream' } }));
    await dynamodb.send(
      new DeleteItemCommand({ TableName: table, Key: { account: { S: 'x' }, create_at: { S: 'y,create_at:z' } } }),
    );
    // A landing file with a good line, a malformed, a truncated and a non-UTF-8 one (not what our
    // handler writes: what a broken writer or a damaged file could leave).
    const good = (i: number) =>
      `{"account":"by-hand-${i}","create_at":"2023-07-30T16:49:36.444736+0000","note":"written by hand","_op":"insert","_seq":"${i}","_ts":1690735787000,"_ttl":false}\n`;
    const hand = [1, 2, 3, 4, 5, 6];
    const body = Buffer.concat([
      Buffer.from(hand.map(good).join('')),
      Buffer.from('{"account": "broken",\n'),
      Buffer.from('{"account":"cut","create_at":"2023-07-30T16:49:36.444736+0000","_op":"ins\n'),
      Buffer.from('{"account":"latin1-'),
      Buffer.from([0xe9]),
      Buffer.from(
        '","create_at":"2023-07-30T16:49:36.444736+0000","_op":"insert","_seq":"2","_ts":1690735787000,"_ttl":false}\n',
      ),
    ]);
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `${landingPrefix}${minuteFolder(Date.now())}/1_6_0123456789ab.json`,
        Body: body,
      }),
    );
    // The lines written by hand are changes the table does not have: make the table agree.
    for (const i of hand)
      await put({
        account: { S: `by-hand-${i}` },
        create_at: { S: '2023-07-30T16:49:36.444736+0000' },
        note: { S: 'written by hand' },
      });

    await lakeEqualsTable('after the stream changes', 300_000);
    // Each bad line once; each ambiguous item at least once (a change from the minutes before the
    // export is applied again after it, by design: docs/landing.md). Status counts every one.
    const rejected = async () => {
      const out: { reason: string; raw: string }[] = [];
      for (const key of (await s3Keys(`${landingPrefix}_rejected/`)).filter((k) => k.endsWith('.json')))
        for (const line of (await s3Text(key)).split('\n').filter(Boolean))
          out.push(JSON.parse(line) as { reason: string; raw: string });
      return out;
    };
    let lines = await rejected();
    for (let i = 0; i < 30 && lines.filter((r) => r.reason.startsWith('not ')).length < 3; i++) {
      await sleep(2000);
      lines = await rejected();
    }
    const bad = lines.filter((r) => r.reason.startsWith('not '));
    assert.deepEqual(
      bad.map((r) => r.reason.split(':')[0]).sort(),
      ['not JSON', 'not JSON', 'not UTF-8 (byte 19)'],
      'the malformed, the truncated and the non-UTF-8 line',
    );
    assert.ok(
      bad.some((r) => r.raw === '{"account": "broken",') &&
        bad.some((r) => r.raw.startsWith('{"account":"cut"')) &&
        bad.some((r) => r.raw.startsWith('base64:')),
    );
    const keys = lines.filter((r) => r.reason.startsWith("key attribute 'account' contains ',create_at:'"));
    assert.deepEqual(
      [...new Set(keys.map((r) => (JSON.parse(r.raw) as { account: string }).account))].sort(),
      ['S:q,create_at:r', 'S:x,create_at:y'],
      'the ambiguous items, from the export and from the stream',
    );
    assert.equal(lines.length, bad.length + keys.length, 'nothing else rejected');
    const s = await statusWhere(
      'every rejected record counted',
      (st) => st.counters!.rejected === lines.length,
      60_000,
    );
    assert.equal(s.stalled, null);
    const human = await runCli(['status', pipeline]);
    assert.match(human.stdout, new RegExp(` ${lines.length} rejected; `), 'the totals count every rejected record');
    assert.match(
      human.stdout,
      /\n {2}rejected {4}\d+ records? of \S+ set aside with their reasons in s3:\/\/\S+_rejected\//,
    );
  });

  test('a stream gap: stalled with the reason, nothing after it applied; rebackfill → the lake equals the table', async () => {
    // The poller falls behind (it sees nothing new), the changes meanwhile are trimmed: lost to the stream.
    await dynamodb.send(new TagResourceCommand({ ResourceArn: tableArn, Tags: [{ Key: HOLD, Value: '1' }] }));
    await sleep(1500);
    await put(item('lost-insert', '2023-07-30T17:00:00.000000+0000', { amount: { N: '1E+125' } }));
    await put(item('a,b:c', 'd:e,f', { note: { S: 'lost update' } }));
    await dynamodb.send(
      new DeleteItemCommand({ TableName: table, Key: { account: { S: 'q' }, create_at: { S: 'r,create_at:s' } } }),
    );
    await dynamodb.send(new TagResourceCommand({ ResourceArn: tableArn, Tags: [{ Key: TRIM, Value: '1' }] }));
    await put(item('after-gap', '2023-07-30T17:01:00.000000+0000'));
    await dynamodb.send(new UntagResourceCommand({ ResourceArn: tableArn, TagKeys: [HOLD] }));

    const stalled = await statusWhere('stalled on the gap', (s) => s.stalled !== null, 120_000);
    assert.equal(stalled.step, 'stalled');
    assert.equal(stalled.stalled!.gaps![0]!.kind, 'trimmed');
    assert.match(
      stalled.stalled!.error,
      /^cannot prove every change reached the lake: stream records were trimmed \(DynamoDB keeps them 24 h\) before they were read \(shard shardId-\S+, after sequence number \d+\): TrimmedDataAccessException: .*; marker s3:\/\/\S+\/_gaps\/\d{13}-trimmed-[0-9a-f]{12}\.json; nothing after it is applied until `ddb-lake rebackfill \S+` reloads the lake from a fresh export$/,
    );
    const jobsAtStall = stalled.counters!.jobsSucceeded;
    const human = await runCli(['status', pipeline]);
    assert.match(
      human.stdout,
      /STALLED since \S+: a stream gap — the pipeline cannot prove every change reached the lake:\n {4}- trimmed: stream records were trimmed/,
    );
    assert.match(
      human.stdout,
      new RegExp(
        `nothing after it is applied: \`ddb-lake rebackfill ${pipeline}\` reloads the lake from a fresh export`,
      ),
    );

    // The change after the gap lands in the landing zone but is not applied while stalled.
    const afterGapLanded = async () => {
      for (const key of (await s3Keys(landingPrefix)).filter((k) =>
        /\/\d{4}-\d\d-\d\d-\d\d-\d\d\/[^/]+\.json$/.test(k),
      ))
        if ((await s3Text(key)).includes('"after-gap"')) return true;
      return false;
    };
    const deadline = Date.now() + 60_000;
    while (!(await afterGapLanded())) {
      assert.ok(Date.now() < deadline, 'the change after the gap lands');
      await sleep(1000);
    }
    await sleep(6000); // a few cycles: still nothing applied
    const rows = await lakeRows();
    assert.equal(
      rows.has('account:after-gap,create_at:2023-07-30T17:01:00.000000+0000'),
      false,
      'nothing after the gap is applied',
    );
    const still = await status();
    assert.equal(still.counters!.jobsSucceeded, jobsAtStall, 'no job ran while stalled');
    assert.deepEqual(still.watermark, stalled.watermark, 'the watermark does not move');
    assert.equal((await runCli(['run-now', pipeline])).code, 2, 'run-now is refused while stalled');

    const rebackfill = await runCli(['rebackfill', pipeline]);
    assert.equal(rebackfill.code, 0, rebackfill.stderr);
    assert.match(
      rebackfill.stdout,
      new RegExp(
        `^${pipeline}: rebackfill 1 started: a fresh export, the lake reloaded from it in place, then incremental cycles from the new export`,
      ),
    );
    const reloaded = await statusWhere(
      'incremental after the rebackfill',
      (s) => s.phase === 'incremental' && s.counters!.rebackfills === 1 && s.stalled === null,
      420_000,
    );
    assert.notEqual(reloaded.export!.exportArn, stalled.export!.exportArn, 'a fresh export');
    assert.ok(
      Date.parse(reloaded.export!.exportTime!) > Date.parse(stalled.stalled!.since),
      'taken after the gap was found',
    );
    const inits = reloaded.lastRuns!.filter((r) => r.kind === 'initialLoad');
    assert.equal(inits[0]!.status, 'succeeded');
    assert.notEqual(
      inits[0]!.runKey.split('-').at(-3),
      firstInitRunKey.split('-').at(-3),
      'a new generation of run keys',
    );
    await lakeEqualsTable('after the rebackfill', 300_000);

    // And the pipeline goes on from the new export.
    await put(item('after-rebackfill', '2023-07-30T17:02:00.000000+0000', { tiny: { N: '-1E-130' } }));
    await lakeEqualsTable('after a change following the rebackfill', 240_000);
    const done = await status();
    assert.equal(done.stalled, null);
    assert.equal(done.lastRuns![0]!.status, 'succeeded', JSON.stringify(done.lastRuns![0]));
  });

  test("no secret of the stack's environment in any workflow history, log or run record", async () => {
    const secrets = Object.values(JSON.parse(process.env.DDB_LAKE_TEST_SECRETS ?? '{}') as Record<string, string>);
    assert.equal(
      secrets.length,
      5,
      'test/run.ts gives the stack distinctive AWS credentials, a Temporal API key and client key',
    );
    const env = testEnvironment();
    const stack = JSON.parse(readFileSync(join(env.stateDir, 'stack.json'), 'utf8')) as {
      services: { name: string; pid: number }[];
    };
    // The control: the worker really runs with them (so a leak would show).
    const workerPid = stack.services.find((s) => s.name === 'worker')!.pid;
    const environ = readFileSync(`/proc/${workerPid}/environ`, 'latin1');
    for (const secret of secrets) assert.ok(environ.includes(secret), 'the worker has the secret in its environment');

    const found: string[] = [];
    const search = (where: string, data: Buffer) => {
      for (const secret of secrets) {
        // A PEM key is searched by its body line too (a log might hold the key without its armour).
        const core = secret.split('\n').reduce((a, b) => (b.length > a.length ? b : a), '');
        for (const form of [
          secret,
          core,
          Buffer.from(secret).toString('base64').slice(0, 24),
          encodeURIComponent(secret),
        ])
          if (data.includes(form)) found.push(`${where} holds ${core.slice(0, 12)}…`);
      }
    };
    // Every workflow history of the test stack (every run of every pipeline), as stored.
    const client = await testTemporalClient();
    let histories = 0;
    for await (const w of client.workflow.list()) {
      const history = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
      search(
        `history of ${w.workflowId}/${w.runId}`,
        Buffer.from(temporal.api.history.v1.History.encode(history).finish()),
      );
      histories++;
    }
    assert.ok(histories >= 1, `histories read: ${histories}`);
    // Every log of the stack's services, every job's log and run record, every manifest and summary.
    const files = (root: string): string[] =>
      readdirSync(root).flatMap((n) => {
        const p = join(root, n);
        return statSync(p).isDirectory() ? files(p) : [p];
      });
    for (const f of [
      ...files(join(env.stateDir, 'logs')),
      ...files(join(env.stateDir, 'jobs')).filter((f) => /\.(log|json|exit)$/.test(f)),
    ])
      search(f, readFileSync(f));
    for (const key of await s3Keys(`${landingPrefix}_manifests/`)) search(key, Buffer.from(await s3Text(key)));
    assert.ok(
      files(join(env.stateDir, 'jobs')).some((f) => f.endsWith('.log')),
      'job logs were read',
    );
    assert.deepEqual(found, []);
  });
});
