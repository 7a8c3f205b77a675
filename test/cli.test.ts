/**
 * The `ddb-lake` pipeline commands end to end: the real dev server, a real moto (on a free port), the
 * real activities (table inspector, local exporter, S3 landing lister, S3 manifests) — only the
 * jobs are fake-fast (they read the real manifest and write a real summary to S3).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { runCliInProcess } from './helpers/cli';
import type { StatusDocument } from '../client/pipeline-client';
import { parseS3Uri } from '../core/s3-uri';
import { resolveEnvironment, type StackInfo } from '../core/environment';
import { minuteFolder } from '../core/landing';
import type { JobManifest } from '../core/manifest';
import { REPO_ROOT } from '../core/toolchain';
import { readBody } from '../activities/sdk/s3';
import { createPipelineWorker } from '../worker/worker';
import { FakeJobRunner } from './support/fakes';
import { createBucket, createTransactionTable, startMoto, type Moto } from './support/moto';
import { eventually, startTemporal, testTemporalPort, workflowBundle } from './support/temporal';

let env: TestWorkflowEnvironment;
let moto: Moto;
let worker: { worker: Worker; connection: NativeConnection; run: Promise<void> };
let jobs: FakeJobRunner;
let dir: string;
let savedEnv: NodeJS.ProcessEnv;

async function getText(uri: string): Promise<string> {
  const { bucket, key } = parseS3Uri(uri);
  return (await readBody((await moto.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body)).toString(
    'utf8',
  );
}

/** Run the CLI in-process; capture what it prints. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await runCliInProcess(args);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

async function statusJson(name: string): Promise<StatusDocument> {
  const r = await cli('status', name, '--json');
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as StatusDocument;
}

before(async () => {
  savedEnv = { ...process.env };
  env = await startTemporal();
  moto = await startMoto();
  await createBucket(moto, 'ddb-lake-local');
  await createTransactionTable(moto, { name: 'Transaction' });
  await createTransactionTable(moto, { name: 'NoPitr', pitr: false, stream: 'KEYS_ONLY' });
  const items = Array.from({ length: 40 }, (_, i) => ({
    PutRequest: {
      Item: {
        account: { S: `622-331-${String(i).padStart(4, '0')}` },
        create_at: { S: '2023-07-30T16:49:47.237081+0000' },
        update_at: { S: '2023-07-30T16:49:47.237081+0000' },
        amount: { N: String(i) },
      },
    },
  }));
  for (let i = 0; i < items.length; i += 25)
    await moto.dynamodb.send(new BatchWriteItemCommand({ RequestItems: { Transaction: items.slice(i, i + 25) } }));

  // A state folder whose stack.json names this test's servers, as `ddb-lake up` would write it.
  dir = mkdtempSync(join(tmpdir(), 'ddb-lake-cli-'));
  const stack: StackInfo = {
    stateDir: dir,
    temporal: { address: `127.0.0.1:${testTemporalPort()}`, namespace: 'default', uiUrl: 'http://127.0.0.1:8301' },
    aws: { endpoint: moto.endpoint, region: 'us-east-1' },
    ports: { temporal: testTemporalPort(), temporalUi: 8301, aws: Number(new URL(moto.endpoint).port) },
    services: [],
  };
  writeFileSync(join(dir, 'stack.json'), JSON.stringify(stack));
  process.env.DDB_LAKE_STATE = dir;
  process.env.DDB_LAKE_ENV = 'local';

  jobs = new FakeJobRunner({
    readManifest: async (uri) => JSON.parse(await getText(uri)) as JobManifest,
    writeSummary: async (uri, summary) => {
      const { bucket, key } = parseS3Uri(uri);
      await moto.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(summary) }));
    },
  });
  const w = await createPipelineWorker({
    env: resolveEnvironment(),
    services: { jobRunner: jobs },
    workflowBundle: await workflowBundle(),
    shutdownGraceTime: '1 second',
  });
  worker = { ...w, run: w.worker.run() };
});

after(async () => {
  worker?.worker.shutdown();
  await worker?.run.catch(() => undefined);
  await worker?.connection.close();
  await moto?.stop();
  await env?.teardown();
  process.env = savedEnv;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('ddb-lake pipeline commands (dev server + moto)', () => {
  test('start → status walks to incremental → run-now, set-interval, pause/resume, list, replay, stop', async () => {
    const config = JSON.parse(readFileSync(join(REPO_ROOT, 'configs', 'transaction.json'), 'utf8'));
    config.schedule = { intervalSeconds: 1 };
    config.export.pollIntervalSeconds = 1;
    config.jobs = { initialLoad: { pollIntervalSeconds: 1 }, incremental: { pollIntervalSeconds: 1 } };
    config.lake.location = './lake';
    const file = join(dir, 'transaction.json');
    writeFileSync(file, JSON.stringify(config));

    const started = await cli('start', file, '--json');
    assert.equal(started.code, 0, started.err);
    const s0 = JSON.parse(started.out);
    assert.equal(s0.pipeline, 'transaction');
    assert.equal(s0.workerPolling, true);

    const again = await cli('start', file);
    assert.equal(again.code, 2);
    assert.match(
      again.err,
      /pipeline "transaction" is already running\n {2}→ stop it first with `ddb-lake stop transaction`/,
    );

    const s1 = await eventually(
      async () => {
        const s = await statusJson('transaction');
        return s.phase === 'incremental' && s.counters!.cycles >= 1 ? s : undefined;
      },
      'incremental phase',
      60_000,
    );
    assert.equal(s1.schemaVersion, 1);
    assert.equal(s1.execution.status, 'RUNNING');
    assert.equal(s1.export!.status, 'COMPLETED');
    assert.equal(s1.export!.itemCount, 40);
    assert.match(s1.export!.root!, /^s3:\/\/ddb-lake-local\/export\/Transaction\/AWSDynamoDB\/\d{14}-[0-9a-f]{8}\/$/);
    assert.equal(JSON.parse(await getText(`${s1.export!.root}manifest-summary.json`)).itemCount, 40);
    assert.equal(typeof s1.lagSeconds, 'number');
    const init = s1.lastRuns!.find((r) => r.kind === 'initialLoad')!;
    assert.equal(init.status, 'succeeded');
    const initManifest = JSON.parse(
      await getText(`s3://ddb-lake-local/landing/Transaction/_manifests/transaction/${init.runKey}.json`),
    ) as JobManifest;
    assert.equal(initManifest.kind, 'initialLoad');
    assert.deepEqual(initManifest.export, { root: s1.export!.root, exportTimeMs: Date.parse(s1.export!.exportTime!) });
    assert.deepEqual(initManifest.table.keyFields, ['account', 'create_at']);
    assert.equal(initManifest.table.lakeLocation, `file://${join(dir, 'lake')}`);

    // Files the stream handler would write, then a cycle at once.
    await cli('set-interval', 'transaction', '3600');
    // A cycle already under way may still pick up files; wait until the loop sleeps on the new interval.
    await eventually(async () => ((await statusJson('transaction')).step === 'sleep' ? true : undefined), 'sleeping');
    const folder = minuteFolder(Date.now());
    for (const name of ['shardId-0001_100_109.json', 'shardId-0002_200_201.json', 'shardId-0001_110_119.json'])
      await moto.s3.send(
        new PutObjectCommand({
          Bucket: 'ddb-lake-local',
          Key: `landing/Transaction/${folder}/${name}`,
          Body: '{"account":"a","create_at":"b","_op":"insert","_seq":"1","_ts":1,"_ttl":false}\n',
        }),
      );
    const ran = await cli('run-now', 'transaction', '--json');
    assert.equal(ran.code, 0, ran.err);
    const outcome = JSON.parse(ran.out);
    assert.equal(outcome.status, 'succeeded');
    assert.equal(outcome.files, 3);
    const incManifest = JSON.parse(
      await getText(`s3://ddb-lake-local/landing/Transaction/_manifests/transaction/${outcome.runKey}.json`),
    ) as JobManifest;
    assert.deepEqual(
      incManifest.files.sort(),
      ['shardId-0001_100_109.json', 'shardId-0001_110_119.json', 'shardId-0002_200_201.json'].map(
        (n) => `s3://ddb-lake-local/landing/Transaction/${folder}/${n}`,
      ),
    );
    const s2 = await statusJson('transaction');
    assert.equal(s2.lastRuns![0]!.recordsRead, 30);
    assert.deepEqual(s2.watermark!.openFolders, [{ folder, filesTaken: 3 }]);
    assert.equal(s2.intervalSeconds, 3600);
    assert.match((await cli('run-now', 'transaction')).out, /nothing new to apply/);

    const human = await cli('status', 'transaction');
    assert.match(human.out, /^pipeline transaction \(table Transaction\) — incremental, waiting for the next cycle/);
    assert.match(human.out, new RegExp(`watermark {3}closed through \\S+; open: ${folder} \\(3 files\\)`));
    assert.match(human.out, /export {6}COMPLETED, 40 items/);

    assert.equal((await cli('pause', 'transaction')).code, 0);
    await eventually(async () => ((await statusJson('transaction')).step === 'paused' ? true : undefined), 'paused');
    const refused = await cli('run-now', 'transaction');
    assert.equal(refused.code, 2);
    assert.match(refused.err, /pipeline "transaction" refused: the pipeline is paused; resume it first/);
    assert.equal((await cli('resume', 'transaction')).code, 0);
    assert.equal((await statusJson('transaction')).paused, false);

    const badInterval = await cli('set-interval', 'transaction', '0');
    assert.equal(badInterval.code, 2);
    assert.match(badInterval.err, /not a whole number of seconds from 1 to 86400/);

    const list = JSON.parse((await cli('list', '--json')).out);
    assert.deepEqual(
      list.pipelines
        .filter((p: { pipeline: string }) => p.pipeline === 'transaction')
        .map((p: { status: string; phase: string }) => [p.status, p.phase]),
      [['RUNNING', 'incremental']],
    );

    const replay = await cli('replay', 'transaction');
    assert.equal(replay.code, 0, replay.out + replay.err);
    assert.match(replay.out, /transaction run \S+: \d+ events replay cleanly/);

    const stopped = await cli('stop', 'transaction', '--json');
    assert.equal(stopped.code, 0, stopped.err);
    assert.equal(JSON.parse(stopped.out).status, 'CANCELLED');
    assert.deepEqual(jobs.overlaps(), []);
    const closed = await statusJson('transaction');
    assert.equal(closed.execution.status, 'CANCELLED');
  });

  test('a table that does not qualify: the pipeline fails at once and status says what to fix', async () => {
    const config = JSON.parse(readFileSync(join(REPO_ROOT, 'configs', 'transaction.json'), 'utf8'));
    Object.assign(config, { name: 'no-pitr', table: 'NoPitr' });
    config.landing.location = 's3://ddb-lake-local/landing/NoPitr/';
    config.export.location = 's3://ddb-lake-local/export/NoPitr/';
    const file = join(dir, 'no-pitr.json');
    writeFileSync(file, JSON.stringify(config));
    // `start` checks first and starts nothing …
    const refused = await cli('start', file);
    assert.equal(refused.code, 2);
    assert.match(
      refused.err,
      /^ddb-lake: pipeline "no-pitr" cannot start \(2 problems\):\n {2}- point-in-time recovery is off for table "NoPitr"/,
    );
    assert.match((await cli('status', 'no-pitr')).err, /no pipeline named "no-pitr"/);
    // … and the workflow checks again (a config started with --no-checks, or a table changed since).
    assert.equal((await cli('start', file, '--no-checks')).code, 0);
    const s = await eventually(async () => {
      const st = await statusJson('no-pitr');
      return st.execution.status === 'FAILED' ? st : undefined;
    }, 'failed pipeline');
    assert.match(s.execution.closeReason!, /point-in-time recovery is off for table "NoPitr"/);
    assert.match(s.execution.closeReason!, /view type KEYS_ONLY/);
    const human = await cli('status', 'no-pitr');
    assert.match(human.out, /^pipeline no-pitr: FAILED at .*\n {2}reason: pipeline "no-pitr" cannot start:/);
  });

  test('one-line errors: unknown pipeline, bad config, unreachable Temporal', async () => {
    const unknown = await cli('status', 'nosuch');
    assert.equal(unknown.code, 2);
    assert.equal(
      unknown.err,
      'ddb-lake: no pipeline named "nosuch"\n  → run `ddb-lake list` to see the pipelines, or start one with `ddb-lake start <config.json>`',
    );

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'x', table: 'T' }));
    const badStart = await cli('start', bad);
    assert.equal(badStart.code, 2);
    assert.match(
      badStart.err,
      /bad\.json is not a valid pipeline config \(\d problems\):\n {2}- table: must be a DynamoDB table name[^\n]*\n {2}- export: is required \(object\): add "export": \{ "location": "s3:\/\/my-bucket\/export\/Transaction\/" \}/,
    );

    process.env.DDB_LAKE_ENV = 'aws';
    process.env.TEMPORAL_ADDRESS = '127.0.0.1:5308';
    try {
      const down = await cli('status', 'transaction');
      assert.equal(down.code, 2);
      assert.match(
        down.err,
        /^ddb-lake: cannot reach the Temporal server at 127\.0\.0\.1:5308 .*\n {2}→ check TEMPORAL_ADDRESS/,
      );
    } finally {
      process.env.DDB_LAKE_ENV = 'local';
      delete process.env.TEMPORAL_ADDRESS;
    }
  });
});
