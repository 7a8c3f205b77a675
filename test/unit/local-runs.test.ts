/**
 * The local runner's run records without Spark: a run whose process group outlived the worker is
 * found running, listed under its kind, and stopped whole by stopAll; a record from before start
 * tokens had a prefix still names its process.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { JobRef } from '../../activities/job-runner';
import type { RunRecord } from '../../activities/local/run-records';
import { SparkJobRunner } from '../../activities/local/spark-job-runner';
import { processGroupMembers, spawnDetached } from '../../core/process';

const INCREMENTAL: JobRef = { kind: 'incremental', glueJobName: 'x' };
const INITIAL_LOAD: JobRef = { kind: 'initialLoad', glueJobName: 'x' };

test('stopAll stops every run still running; get and listRunning read the records', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ddb-lake-local-runs-'));
  try {
    const jobs = join(dir, 'jobs');
    mkdirSync(jobs, { recursive: true });
    const record = async (runKey: string, legacyToken: boolean): Promise<RunRecord> => {
      const p = await spawnDetached('sh', ['-c', 'sleep 60 & wait'], {
        env: process.env,
        logFile: join(jobs, `${runKey}.log`),
      });
      const r: RunRecord = {
        runKey,
        runId: `local-${runKey}`,
        kind: 'incremental',
        script: '/nowhere.py',
        manifestUri: 'file:///nowhere.json',
        status: 'running',
        startedAt: new Date().toISOString(),
        pid: p.pid,
        procStart: legacyToken ? p.token!.replace(/^linux:/, '') : p.token,
        logFile: join(jobs, `${runKey}.log`),
      };
      writeFileSync(join(jobs, `${runKey}.json`), JSON.stringify(r));
      return r;
    };
    const a = await record('p-1-inc-000001-a1', false);
    const b = await record('p-1-inc-000002-a1', true);
    const runner = new SparkJobRunner({ stateDir: dir });
    assert.equal((await runner.get(INCREMENTAL, a.runKey)).status, 'running');
    assert.equal((await runner.get(INCREMENTAL, b.runKey)).status, 'running', 'a bare start time still names it');
    assert.deepEqual((await runner.listRunning(INCREMENTAL)).map((s) => s.runKey).sort(), [a.runKey, b.runKey]);
    assert.deepEqual(await runner.listRunning(INITIAL_LOAD), []);

    assert.deepEqual((await runner.stopAll()).sort(), [a.runKey, b.runKey]);
    for (const r of [a, b]) {
      assert.deepEqual(processGroupMembers(r.pid!), [], `nothing of ${r.runKey}'s group runs on`);
      assert.equal((await runner.get(INCREMENTAL, r.runKey)).status, 'stopped');
      assert.equal((JSON.parse(readFileSync(join(jobs, `${r.runKey}.json`), 'utf8')) as RunRecord).status, 'stopped');
    }
    assert.deepEqual(await runner.stopAll(), [], 'nothing left to stop');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
