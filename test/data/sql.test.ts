import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { REPO_ROOT } from '../../core/toolchain';
import { runCli } from '../helpers/cli';
import { stackMoto, type MotoForTest } from '../helpers/moto-server';
import { sparkSubmit } from '../helpers/spark';

/**
 * `ddb-lake sql` reads tables written by the same Spark 3.5 + Hudi 0.15 that Glue 5.0 runs: the
 * fixture writes three commits (insert, note updates, deletes) and prints the rows the table must
 * hold; every query result is compared with that.
 */
const FIXTURE = join(REPO_ROOT, 'test', 'data', 'fixtures', 'write_hudi_fixture.py');
const COLUMNS = [
  'account',
  'create_at',
  'create_year',
  'create_month',
  'create_day',
  'update_at',
  'entity',
  'amount',
  'is_credit',
  'note',
];

type Row = Record<string, unknown>;

interface Lake {
  location: string;
  expected: Row[];
}

let moto: MotoForTest;
let work: string;
const lakes: Record<'plainCow' | 'partitionedMor' | 's3Cow', Lake> = {} as never;

before(async () => {
  moto = await stackMoto();
  work = mkdtempSync(join(tmpdir(), 'ddb-lake-sql-'));
  const s3 = new S3Client({
    endpoint: moto.endpoint,
    region: moto.region,
    forcePathStyle: true,
    credentials: { accessKeyId: 'moto', secretAccessKey: 'moto' },
  });
  await s3.send(new CreateBucketCommand({ Bucket: 'lake' }));
  s3.destroy();
  const specs = {
    plainCow: { path: join(work, 'plain_cow') },
    partitionedMor: {
      path: pathToFileURL(join(work, 'partitioned_mor')).href,
      partitioned: true,
      hiveStyle: true,
      tableType: 'MERGE_ON_READ',
      typedColumns: true,
    },
    s3Cow: { path: 's3://lake/tables/transactions', partitioned: true },
  };
  // One Spark session writes all three tables: its start-up is most of the time.
  const out = await sparkSubmit(FIXTURE, [
    ...Object.values(specs).flatMap((spec) => ['--table', JSON.stringify(spec)]),
    '--s3-endpoint',
    moto.endpoint,
  ]);
  const expected = JSON.parse(out.trim().split('\n').pop()!) as Record<string, Row[]>;
  for (const [name, spec] of Object.entries(specs))
    lakes[name as keyof typeof lakes] = { location: spec.path, expected: expected[spec.path]! };
});

after(async () => {
  await moto?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function sqlJson(location: string, query: string): Promise<Row[]> {
  const r = await runCli(['sql', '--lake', location, query, '--json'], moto.env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Row[];
}

const ORDERED = `select ${COLUMNS.join(', ')} from lake order by account, create_at`;
const project = (rows: Row[], columns = COLUMNS): Row[] =>
  rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c]])));

describe('ddb-lake sql over Hudi tables written by Spark 3.5 + Hudi 0.15', () => {
  test('copy-on-write, not partitioned, local folder: the rows after insert, update and delete commits', async () => {
    const { location, expected } = lakes.plainCow;
    assert.equal(expected.length, 32, 'the fixture deletes 8 of its 40 rows');
    assert.deepEqual(await sqlJson(location, ORDERED), project(expected));
  });

  test('merge-on-read, hive-style partitions, file:// URI, double/boolean/decimal/binary columns', async () => {
    const { location, expected } = lakes.partitionedMor;
    const typed = [...COLUMNS, 'ratio', 'flag', 'price', 'raw'];
    const rows = await sqlJson(location, `select ${typed.join(', ')} from lake order by account, create_at`);
    const want: Row[] = project(expected, typed).map((r) => ({
      ...r,
      raw: Buffer.from(String(r.raw), 'hex').toString('base64'),
    }));
    assert.deepEqual(rows, want);
    assert.equal(typeof rows[0]!.price, 'string', 'decimals stay exact (as strings)');
  });

  test('copy-on-write, partitioned, on S3 (moto) through hudi-rs storage options', async () => {
    const { location, expected } = lakes.s3Cow;
    assert.deepEqual(await sqlJson(location, ORDERED), project(expected));
    const perDay = await sqlJson(location, 'select create_day, count(*) as n from transactions group by 1 order by 1');
    const want = new Map<string, number>();
    for (const r of expected) want.set(String(r.create_day), (want.get(String(r.create_day)) ?? 0) + 1);
    assert.deepEqual(
      perDay,
      [...want].sort().map(([create_day, n]) => ({ create_day, n })),
    );
  });

  test("the view is also named after the Hudi table; Hudi's record key is the brief's id", async () => {
    const { location, expected } = lakes.plainCow;
    const rows = await sqlJson(
      location,
      'select _hoodie_record_key as id, account, create_at from transactions order by account, create_at',
    );
    assert.equal(rows.length, expected.length);
    for (const r of rows) assert.equal(r.id, `account:${r.account},create_at:${r.create_at}`);
  });

  test('--csv prints a header and quotes values holding commas', async () => {
    const { location, expected } = lakes.plainCow;
    const r = await runCli(
      ['sql', '--lake', location, 'select account, entity, amount from lake order by account', '--csv'],
      moto.env,
    );
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'account,entity,amount');
    assert.equal(lines.length, expected.length + 1);
    assert.ok(lines.some((l) => l.includes('"Brown, Christian and Becker"')));
  });

  test('the default output is a readable table with a row count and the snapshot it read', async () => {
    const { location } = lakes.plainCow;
    const r = await runCli(
      ['sql', '--lake', location, 'select is_credit, count(*) as n from lake group by 1 order by 1'],
      moto.env,
    );
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^is_credit \| +n$/);
    assert.match(lines[1]!, /^-+\+-+$/);
    assert.equal(lines.length, 5);
    // The footer is the last line of stdout (one stream: it never lands beside the last row).
    assert.match(lines[4]!, /^2 rows · lake snapshot \d{17} of transactions \/ lake \(COPY_ON_WRITE, 32 rows\)$/);
    assert.equal(r.stderr, '');
  });
});

describe('ddb-lake sql errors are one line', () => {
  const oneLineError = async (args: string[], message: RegExp) => {
    const r = await runCli(['sql', ...args], moto.env);
    assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /Traceback|at .*\.js:\d+/);
    return r;
  };

  test('bad SQL', async () => {
    const r = await oneLineError(
      ['--lake', lakes.plainCow.location, 'selec * from lake'],
      /^ddb-lake: Parser Error: syntax error at or near "selec"/,
    );
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  test('an unknown table names the views there are', async () => {
    await oneLineError(
      ['--lake', lakes.plainCow.location, 'select * from orders'],
      /Table with name orders does not exist.*views are transactions and lake/,
    );
  });

  test('no lake at a local path', async () => {
    await oneLineError(
      ['--lake', join(work, 'missing'), 'select 1'],
      /no lake at .*missing \(the folder does not exist\)/,
    );
  });

  test('a folder that is not a Hudi table', async () => {
    await oneLineError(['--lake', work, 'select 1'], /is not a Hudi table \(no \.hoodie\/hoodie\.properties\)/);
  });

  test('no lake at an S3 location, and no bucket', async () => {
    await oneLineError(
      ['--lake', 's3://lake/tables/nothing', 'select 1'],
      /no lake at s3:\/\/lake\/tables\/nothing \(no \.hoodie\/hoodie\.properties there\)/,
    );
    await oneLineError(['--lake', 's3://no-such-bucket/x', 'select 1'], /bucket no-such-bucket does not exist/);
  });

  test('flags: no lake named, both named, both formats, an unknown pipeline', async () => {
    await oneLineError(['select 1'], /say which lake to query\n.*--pipeline <name> or --lake <location>/);
    await oneLineError(['--lake', 'x', '--pipeline', 'p', 'select 1'], /--pipeline and --lake exclude each other/);
    await oneLineError(['--lake', 'x', '--json', '--csv', 'select 1'], /--json and --csv exclude each other/);
    await oneLineError(
      ['--pipeline', 'no-such-pipeline', 'select 1'],
      /no pipeline named "no-such-pipeline"\n.*ddb-lake list/,
    );
    await oneLineError(['--lake', 'http://example.com/x', 'select 1'], /unsupported scheme/);
  });
});
