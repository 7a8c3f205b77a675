/**
 * Every misuse ends in one line that names the fix (and an exit code that is not 0), never a stack
 * trace: configs that are not JSON or miss fields, tables that do not qualify, buckets that do not
 * exist, pipelines that do not exist, Temporal or the AWS endpoint out of reach. Against the test
 * stack's moto and Temporal; nothing here starts a pipeline.
 */
import { transactionTableInput } from '../tools/generate/transaction-table';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateTableCommand, UpdateContinuousBackupsCommand, type StreamViewType } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { StackInfo } from '../core/environment';
import { runCli, runCliInProcess } from './helpers/cli';
import { testDynamoDbClient, testEnvironment, testS3Client, testScratchDir, uniqueName } from './helpers/stack';

const dynamodb = testDynamoDbClient();
const s3 = testS3Client();
const BUCKET = 'ddb-lake-bad-input';
let dir: string;

/** The CLI in-process, as a user runs it; what it prints, its exit code. */
async function cli(
  env: Record<string, string | undefined>,
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  const r = await runCliInProcess(args, env);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

/** One line naming the problem, then `→ <fix>`; exit code 2; no stack trace. */
function assertOneLine(r: { code: number; err: string }, message: RegExp, hint?: RegExp): void {
  assert.equal(r.code, 2, r.err);
  const lines = r.err.split('\n');
  assert.match(lines[0]!, /^ddb-lake: /);
  assert.match(lines[0]!, message);
  if (hint) assert.match(lines[1] ?? '', hint);
  assert.ok(lines.length <= 2, `at most the message and its hint:\n${r.err}`);
  assert.doesNotMatch(r.err, /\n\s+at .+:\d+:\d+/, 'no stack trace');
}

async function table(name: string, opts: { pitr: boolean; stream: StreamViewType | null }): Promise<void> {
  await dynamodb.send(new CreateTableCommand(transactionTableInput(name, opts.stream)));
  if (opts.pitr)
    await dynamodb.send(
      new UpdateContinuousBackupsCommand({
        TableName: name,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    );
}

function config(name: string, tableName: string, over: Record<string, unknown> = {}): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      name,
      table: tableName,
      export: { location: `s3://${BUCKET}/export/${tableName}/` },
      landing: { location: `s3://${BUCKET}/landing/${tableName}/` },
      lake: { location: join(dir, 'lake', name) },
      ...over,
    }),
  );
  return file;
}

before(async () => {
  dir = testScratchDir('bad-input');
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET })).catch(() => undefined);
});
after(() => {
  dynamodb.destroy();
  s3.destroy();
});

describe('bad input: one line that names the fix', () => {
  test('a config that is not JSON, or misses fields, or has a wrong one', async () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"name": "x", "table": ');
    assertOneLine(
      await cli({}, 'start', broken),
      /broken\.json is not valid JSON \(.*\)$/,
      /→ fix the JSON syntax at that position/,
    );
    const missing = join(dir, 'missing.json');
    writeFileSync(
      missing,
      JSON.stringify({
        name: 'x',
        table: 'Transaction',
        export: { location: 's3://my-bucket/e/' },
        landing: { location: 's3://my-bucket/l/' },
      }),
    );
    assertOneLine(
      await cli({}, 'start', missing),
      /missing\.json is not a valid pipeline config: lake: is required \(object\): add "lake": \{ "location": "s3:\/\/my-bucket\/lake\/transactions" \}$/,
      /→ docs\/config\.md lists every field/,
    );
    const wrong = join(dir, 'wrong.json');
    writeFileSync(
      wrong,
      JSON.stringify({
        name: 'x',
        table: 'Transaction',
        export: { location: 's3://my-bucket/e/' },
        landing: { location: 's3://my-bucket/l/' },
        lake: { location: '/tmp/x' },
        schedule: { intervalSeconds: 0 },
      }),
    );
    assertOneLine(
      await cli({}, 'start', wrong),
      /wrong\.json is not a valid pipeline config: schedule\.intervalSeconds: .*>=1/,
    );
    assertOneLine(
      await cli({}, 'start', join(dir, 'nope.json')),
      /cannot read config file .*nope\.json: ENOENT$/,
      /→ pass the path of a pipeline config JSON file/,
    );
  });

  test('tables that do not qualify, buckets that do not exist: start checks before it starts anything', async () => {
    const missingTable = uniqueName('NoSuchTable');
    assertOneLine(
      await cli({}, 'start', config('p-missing', missingTable)),
      new RegExp(`table "${missingTable}" does not exist: create it, or fix "table" in the config$`),
    );

    const noPitr = uniqueName('NoPitr');
    await table(noPitr, { pitr: false, stream: 'NEW_AND_OLD_IMAGES' });
    assertOneLine(
      await cli({}, 'start', config('p-nopitr', noPitr)),
      new RegExp(
        `point-in-time recovery is off for table "${noPitr}" \\(the export needs it\\): turn it on with \`aws dynamodb update-continuous-backups --table-name ${noPitr} --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true\`$`,
      ),
    );

    const noStream = uniqueName('NoStream');
    await table(noStream, { pitr: true, stream: null });
    assertOneLine(
      await cli({}, 'start', config('p-nostream', noStream)),
      new RegExp(
        `table "${noStream}" has no stream: enable one with new images, \`aws dynamodb update-table --table-name ${noStream} --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES\`$`,
      ),
    );

    const keysOnly = uniqueName('KeysOnly');
    await table(keysOnly, { pitr: true, stream: 'KEYS_ONLY' });
    assertOneLine(
      await cli({}, 'start', config('p-keysonly', keysOnly)),
      new RegExp(
        `the stream of table "${keysOnly}" has view type KEYS_ONLY, which carries no new images: disable the stream and enable it again with StreamViewType=NEW_AND_OLD_IMAGES \\(or NEW_IMAGE\\)$`,
      ),
    );

    const good = uniqueName('Qualifies');
    await table(good, { pitr: true, stream: 'NEW_AND_OLD_IMAGES' });
    const noBucket = config('p-nobucket', good, { export: { location: 's3://ddb-lake-no-such-bucket/export/' } });
    assertOneLine(
      await cli({}, 'start', noBucket),
      /export\.location: bucket ddb-lake-no-such-bucket does not exist: create the bucket or fix "export\.location"$/,
    );
    const wrongKeys = config('p-keys', good, { keyFields: ['account'] });
    assertOneLine(
      await cli({}, 'start', wrongKeys),
      /keyFields \[account\] are not the key of table .* \(\[account, create_at\]\): remove "keyFields" from the config or set it to the table's key$/,
    );

    // Several problems: one line each, under one heading.
    const both = await cli(
      {},
      'start',
      config('p-both', noPitr, { landing: { location: 's3://ddb-lake-no-such-bucket/l/' } }),
    );
    assert.equal(both.code, 2);
    assert.match(
      both.err,
      /^ddb-lake: pipeline "p-both" cannot start \(2 problems\):\n {2}- point-in-time recovery is off[^\n]*\n {2}- landing\.location: bucket ddb-lake-no-such-bucket does not exist[^\n]*\n {2}→ fix each problem above/,
    );
    // None of them was started.
    for (const name of ['p-missing', 'p-nopitr', 'p-nostream', 'p-keysonly', 'p-nobucket', 'p-both'])
      assertOneLine(await cli({}, 'status', name), new RegExp(`no pipeline named "${name}"$`), /→ run `ddb-lake list`/);
  });

  test('every command on a pipeline that does not exist', async () => {
    const name = uniqueName('ghost');
    for (const args of [
      ['status', name],
      ['pause', name],
      ['resume', name],
      ['run-now', name],
      ['set-interval', name, '30'],
      ['stop', name],
      ['rebackfill', name],
      ['replay', name],
    ])
      assertOneLine(
        await cli({}, ...args),
        new RegExp(`no pipeline named "${name}"$`),
        /→ run `ddb-lake list` to see the pipelines, or start one with `ddb-lake start <config.json>`/,
      );
    assertOneLine(
      await cli({}, 'status', 'Not A Name'),
      /"Not A Name" is not a pipeline name$/,
      /→ pipeline names are 1-100 characters/,
    );
  });

  test('Temporal or the AWS endpoint out of reach, or no stack at all', async () => {
    const env = testEnvironment();
    // A stack whose servers are gone (ports nothing listens on).
    const dead = testScratchDir('dead-stack');
    const info: StackInfo = {
      stateDir: dead,
      temporal: { address: '127.0.0.1:1', namespace: 'default', uiUrl: 'http://127.0.0.1:2' },
      aws: { endpoint: 'http://127.0.0.1:3', region: env.aws.region },
      ports: { temporal: 1, temporalUi: 2, aws: 3 },
      services: [],
    };
    writeFileSync(join(dead, 'stack.json'), JSON.stringify(info));
    const at = { DDB_LAKE_STATE: dead };
    for (const args of [['status', 'x'], ['list'], ['stop', 'x'], ['rebackfill', 'x']])
      assertOneLine(
        await cli(at, ...args),
        /cannot reach the Temporal server at 127\.0\.0\.1:1 \(.+\)$/,
        /→ start the local stack with `ddb-lake up`/,
      );
    const good = uniqueName('Reach');
    await table(good, { pitr: true, stream: 'NEW_AND_OLD_IMAGES' });
    const file = config('p-reach', good);
    assertOneLine(
      await cli(at, 'start', file),
      /cannot reach the local stack's AWS endpoint \(moto\) at http:\/\/127\.0\.0\.1:3 \(ECONNREFUSED\): the table and buckets cannot be checked$/,
      /→ start the local stack with `ddb-lake up`/,
    );
    assertOneLine(await cli(at, 'start', file, '--no-checks'), /cannot reach the Temporal server at 127\.0\.0\.1:1/);
    // The worker cannot start without Temporal: it says so and exits non-zero.
    const worker = await runCli(['worker'], { ...process.env, DDB_LAKE_STATE: dead }, 60_000);
    assert.equal(worker.code, 2, worker.stderr);
    assert.match(
      worker.stderr,
      /^ddb-lake: cannot reach the Temporal server at 127\.0\.0\.1:1 \(.+\)\n {2}→ start the local stack with `ddb-lake up`\n$/m,
    );
    assert.doesNotMatch(worker.stderr, /\n\s+at .+:\d+:\d+/);

    const none = join(dir, 'no-stack');
    mkdirSync(none, { recursive: true });
    assertOneLine(
      await cli({ DDB_LAKE_STATE: none }, 'status', 'x'),
      /the local stack is not running \(no .*no-stack\/stack\.json\)$/,
      /→ start it with `ddb-lake up`/,
    );
    assertOneLine(
      await cli({ DDB_LAKE_ENV: 'mars' }, 'status', 'x'),
      /DDB_LAKE_ENV=mars is not valid$/,
      /→ set DDB_LAKE_ENV to local \(default\) or aws/,
    );
  });
});
