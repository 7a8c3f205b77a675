/**
 * The local job runner with a real spark-submit (PySpark 3.5 + Hudi 0.15 from the toolchain cache):
 * a tiny initial load succeeds with its summary, a failing job reports its Python error text, a
 * second start of a run key returns the first run, and a run started by a process that has since
 * exited (a restarted worker) is found and polled by a fresh runner.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { haveSparkToolchain } from './helpers/spark';
import { SparkJobRunner } from '../activities/local/spark-job-runner';
import { errorFromLog } from '../activities/local/run-records';
import type { JobRunState, JobSpec } from '../activities/job-runner';
import { processGroupMembers } from '../core/process';
import { REPO_ROOT } from '../core/toolchain';

const BRIEF = [
  '{"Item":{"account":{"S":"602-943-1702"},"create_at":{"S":"2023-07-30T16:49:36.444736+0000"},"entity":{"S":"James, Lopez and Welch"},"note":{"S":"Be Mrs small will organization everybody sign."},"update_at":{"S":"2023-07-30T16:49:36.444736+0000"},"amount":{"N":"282"},"is_credit":{"N":"1"}}}',
  '{"Item":{"account":{"S":"729-692-8634"},"create_at":{"S":"2023-07-30T16:49:19.238896+0000"},"entity":{"S":"Pena, Harrison and Cummings"},"note":{"S":"On common speak cultural day protect."},"update_at":{"S":"2023-07-30T16:49:19.238896+0000"},"amount":{"N":"518"},"is_credit":{"N":"1"}}}',
];
// Loopback ports of this test (driver tries 5205-5206, block manager 5207-5208).
const PORTS = {
  driver: Number(process.env.DDB_LAKE_TEST_SPARK_PORT ?? 5205),
  blockManager: Number(process.env.DDB_LAKE_TEST_SPARK_PORT ?? 5205) + 2,
  maxRetries: 1,
};
const INITIAL_LOAD: JobSpec = { kind: 'initialLoad', glueJobName: 'x', script: 'glue/initial_load.py' };
const script = (path: string, kind: JobSpec['kind'] = 'incremental'): JobSpec => ({
  kind,
  glueJobName: 'x',
  script: path,
});

function writeExport(root: string): void {
  mkdirSync(join(root, 'data'), { recursive: true });
  writeFileSync(join(root, 'data', 'abc.json.gz'), gzipSync(BRIEF.join('\n') + '\n'));
  writeFileSync(
    join(root, 'manifest-files.json'),
    JSON.stringify({ itemCount: BRIEF.length, dataFileS3Key: 'p/AWSDynamoDB/x/data/abc.json.gz' }) + '\n',
  );
  writeFileSync(
    join(root, 'manifest-summary.json'),
    JSON.stringify({ itemCount: BRIEF.length, outputFormat: 'DYNAMODB_JSON', exportType: 'FULL_EXPORT' }),
  );
}

function writeManifest(dir: string, runKey: string, table: Record<string, unknown>, exportRoot: string): string {
  const file = join(dir, `${runKey}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      version: 1,
      runKey,
      pipeline: 't',
      kind: 'initialLoad',
      table,
      files: [],
      export: { root: `file://${exportRoot}`, exportTimeMs: 1690735800000 },
      rejectedLocation: `file://${dir}/_rejected/${runKey}`,
      summaryUri: `file://${dir}/${runKey}.summary.json`,
    }),
  );
  return `file://${file}`;
}

async function waitDone(runner: SparkJobRunner, runKey: string, timeoutMs = 240_000): Promise<JobRunState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await runner.get(INITIAL_LOAD, runKey);
    if (state.status !== 'running') return state;
    if (Date.now() > deadline) throw new Error(`${runKey} still running after ${timeoutMs} ms`);
    await sleep(500);
  }
}

describe(
  'SparkJobRunner (real spark-submit)',
  { skip: haveSparkToolchain() ? false : 'toolchain not installed (ddb-lake setup)' },
  () => {
    let dir: string;
    let table: Record<string, unknown>;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'ddb-lake-runner-'));
      writeExport(join(dir, 'export'));
      table = {
        lakeLocation: `file://${dir}/lake/transactions`,
        tableName: 'transactions',
        keyFields: ['account', 'create_at'],
        orderingField: 'update_at',
        derivedColumns: [{ name: 'create_year', from: 'create_at', part: 'year' }],
        partitionFields: ['create_year'],
        types: { numbers: 'auto', columns: {} },
        maxRejectedShare: 0,
        glueDatabase: null,
      };
    });
    after(async () => {
      // Leave nothing running, whatever failed above.
      const runner = new SparkJobRunner({ stateDir: join(dir, 'state') });
      for (const key of ['il-ok', 'il-bad', 'boom', 'il-restart', 'sleepy'])
        await runner.stop(INITIAL_LOAD, key).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    });

    it('runs the initial load, reports its summary, and refuses a second start of the same run key', async () => {
      const runner = new SparkJobRunner({ stateDir: join(dir, 'state'), ports: PORTS });
      const manifest = writeManifest(dir, 'il-ok', table, join(dir, 'export'));
      const request = { runKey: 'il-ok', manifestUri: manifest };
      const started = Date.now();
      const first = await runner.start(INITIAL_LOAD, request);
      assert.equal(first.status, 'running');
      const again = await runner.start(INITIAL_LOAD, request);
      assert.equal(again.runId, first.runId);
      const done = await waitDone(runner, 'il-ok');
      const seconds = (Date.now() - started) / 1000;
      assert.equal(done.status, 'succeeded', done.error);
      assert.equal(done.summary?.upserted, 2);
      assert.equal(done.summary?.status, 'succeeded');
      assert.match(done.summary?.commitInstant ?? '', /^\d{17}$/);
      const log = readFileSync(done.logLocation!, 'utf8').trimEnd().split('\n');
      assert.match(log[log.length - 1]!, /^DDB_LAKE_SUMMARY \{/);
      assert.ok(existsSync(join(dir, 'il-ok.summary.json')));
      const after = await runner.start(INITIAL_LOAD, request);
      assert.equal(after.runId, first.runId);
      assert.equal(after.status, 'succeeded');
      console.log(`# initial load of 2 items through spark-submit: ${seconds.toFixed(1)} s wall`);
    });

    it("reports the job's own error text when it fails", async () => {
      const runner = new SparkJobRunner({ stateDir: join(dir, 'state'), ports: PORTS });
      const manifest = writeManifest(dir, 'il-bad', { ...table, keyFields: [] }, join(dir, 'export'));
      await runner.start(INITIAL_LOAD, { runKey: 'il-bad', manifestUri: manifest });
      const done = await waitDone(runner, 'il-bad');
      assert.equal(done.status, 'failed');
      assert.match(done.error ?? '', /table\.keyFields must list 1 or more distinct attribute names/);
      assert.equal(done.summary?.status, 'failed');

      const boomPy = join(dir, 'boom.py');
      writeFileSync(boomPy, 'def f():\n    raise ValueError("boom 42: the input is wrong")\nf()\n');
      await runner.start(script(boomPy), { runKey: 'boom', manifestUri: manifest });
      const boom = await waitDone(runner, 'boom');
      assert.equal(boom.status, 'failed');
      assert.equal(boom.error, 'ValueError: boom 42: the input is wrong');
    });

    it('finds a run started by a worker that has exited, and stop ends the process group', async () => {
      const manifest = writeManifest(dir, 'il-restart', table, join(dir, 'export'));
      // Another Node process starts the run and exits at once (a worker that died).
      const module = resolve(REPO_ROOT, 'dist', 'activities', 'local', 'spark-job-runner.js');
      const code = `const { SparkJobRunner } = require(${JSON.stringify(module)});
      new SparkJobRunner({ stateDir: ${JSON.stringify(join(dir, 'state'))}, ports: ${JSON.stringify(PORTS)} })
        .start(${JSON.stringify(INITIAL_LOAD)}, { runKey: 'il-restart', manifestUri: ${JSON.stringify(manifest)} })
        .then((s) => { console.log(s.runId); process.exit(0); });`;
      const runId = execFileSync(process.execPath, ['-e', code], { encoding: 'utf8' }).trim();
      const fresh = new SparkJobRunner({ stateDir: join(dir, 'state') });
      assert.equal((await fresh.get(INITIAL_LOAD, 'il-restart')).runId, runId);
      const done = await waitDone(fresh, 'il-restart');
      assert.equal(done.status, 'succeeded', done.error);
      assert.equal(done.summary?.upserted, 2);

      const sleepy = join(dir, 'sleepy.py');
      writeFileSync(sleepy, 'import time\ntime.sleep(120)\n');
      const runner = new SparkJobRunner({ stateDir: join(dir, 'state') });
      const s = await runner.start(script(sleepy), { runKey: 'sleepy', manifestUri: manifest });
      assert.equal((await runner.listRunning(script(sleepy))).map((r) => r.runKey).includes('sleepy'), true);
      assert.equal((await runner.listRunning(INITIAL_LOAD)).map((r) => r.runKey).includes('sleepy'), false);
      await sleep(1500);
      await runner.stop(script(sleepy), 'sleepy');
      const stopped = await runner.get(script(sleepy), 'sleepy');
      assert.equal(stopped.status, 'stopped');
      assert.equal(stopped.runId, s.runId);
      const record = JSON.parse(readFileSync(join(dir, 'state', 'jobs', 'sleepy.json'), 'utf8')) as { pid: number };
      // Nothing of the group runs on (an orphaned JVM may linger as a zombie until init reaps it).
      assert.deepEqual(processGroupMembers(record.pid), []);
    });
  },
);

describe('errorFromLog', () => {
  it('takes the exception line after the last Python traceback', () => {
    const log = [
      '26/11/27 WARN x',
      'Traceback (most recent call last):',
      '  File "a.py", line 1',
      '    f()',
      'ddb_lake_glue.errors.JobError: manifest m: bad',
      '26/11/27 WARN after',
    ];
    assert.equal(errorFromLog(log), 'ddb_lake_glue.errors.JobError: manifest m: bad');
  });
  it('falls back to a JVM exception line, then to the last lines', () => {
    assert.equal(
      errorFromLog(['x', 'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space', '\tat a.b(c)']),
      'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space',
    );
    assert.equal(errorFromLog(['one', '', 'two']), 'one\ntwo');
  });
});
