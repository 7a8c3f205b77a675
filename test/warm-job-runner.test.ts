/**
 * The warm engine with a real Spark session (PySpark 3.5 + Hudi 0.15 from the toolchain cache):
 * batches run one after another in one engine, a failing batch reports its error and leaves the
 * engine serving, a batch in flight when the engine is killed fails at once (and the next batch
 * gets a new engine), a batch the engine had not taken yet is handed to a new engine under the same
 * run key, and a queued batch can be withdrawn without touching the engine.
 *
 * A batch is held "in flight" deterministically by a manifest that is a named pipe: the engine
 * blocks reading it until the test writes to it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { haveSparkToolchain } from './helpers/spark';
import type { JobRunState, JobSpec } from '../activities/job-runner';
import { WarmJobRunner } from '../activities/local/warm-job-runner';
import { isGroupRunning, signalGroup } from '../core/process';

const PORT = Number(process.env.DDB_LAKE_TEST_SPARK_PORT ?? 5205) + 10;
const PORTS = { driver: PORT, blockManager: PORT + 2, maxRetries: 1 };
const PIPELINE = 'warmtest';
const JOB: JobSpec = { kind: 'incremental', glueJobName: 'x', script: 'glue/incremental.py', pipeline: PIPELINE };

const key = (seq: number, attempt = 1) => `${PIPELINE}-0000beef-inc-${String(seq).padStart(6, '0')}-a${attempt}`;

describe(
  'WarmJobRunner (real Spark)',
  { skip: haveSparkToolchain() ? false : 'toolchain not installed (ddb-lake setup)' },
  () => {
    let dir: string;
    let runner: WarmJobRunner;

    /** An incremental manifest with no files: the job reads the lake's state and commits nothing. */
    function manifest(runKey: string, table: Record<string, unknown> = {}): string {
      const file = join(dir, `${runKey}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          version: 1,
          runKey,
          pipeline: PIPELINE,
          kind: 'incremental',
          table: {
            lakeLocation: `file://${dir}/lake/t`,
            tableName: 't',
            keyFields: ['id'],
            types: { numbers: 'auto', columns: {} },
            ...table,
          },
          files: [],
          rejectedLocation: `file://${dir}/_rejected/${runKey}`,
          summaryUri: `file://${dir}/${runKey}.summary.json`,
        }),
      );
      return `file://${file}`;
    }

    /** A manifest the engine blocks on: a named pipe nobody writes to. */
    function heldManifest(runKey: string): string {
      const fifo = join(dir, `${runKey}.fifo`);
      execFileSync('mkfifo', [fifo]);
      return `file://${fifo}`;
    }

    async function waitDone(runKey: string, timeoutMs = 180_000): Promise<JobRunState> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const state = await runner.get(JOB, runKey);
        if (state.status !== 'running') return state;
        if (Date.now() > deadline) throw new Error(`${runKey} still running after ${timeoutMs} ms`);
        await sleep(200);
      }
    }

    async function waitTaken(runKey: string, timeoutMs = 180_000): Promise<void> {
      const active = join(runner.engines.engineDir(PIPELINE), 'active');
      const deadline = Date.now() + timeoutMs;
      while (!(existsSync(active) && readdirSync(active).includes(`${runKey}.json`))) {
        if (Date.now() > deadline) throw new Error(`the engine did not take ${runKey} in ${timeoutMs} ms`);
        await sleep(100);
      }
    }

    const enginePid = () => runner.engines.record(PIPELINE)?.pid;

    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'ddb-lake-warm-'));
      runner = new WarmJobRunner({ stateDir: join(dir, 'state'), ports: PORTS });
    });
    after(async () => {
      await runner.stopAll().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    });

    it('runs batches one after another in one engine; a failing batch reports its error and the engine serves on', async () => {
      const started = Date.now();
      const first = await runner.start(JOB, { runKey: key(1), manifestUri: manifest(key(1)) });
      assert.equal((await runner.start(JOB, { runKey: key(1), manifestUri: manifest(key(1)) })).runId, first.runId);
      const done1 = await waitDone(key(1));
      assert.equal(done1.status, 'succeeded', done1.error);
      assert.equal(done1.summary?.status, 'succeeded');
      const cold = (Date.now() - started) / 1000;
      const pid = enginePid();
      assert.ok(pid !== undefined);

      const t2 = Date.now();
      await runner.start(JOB, { runKey: key(2), manifestUri: manifest(key(2)) });
      const done2 = await waitDone(key(2));
      assert.equal(done2.status, 'succeeded', done2.error);
      const warm = (Date.now() - t2) / 1000;
      assert.equal(enginePid(), pid, 'the second batch ran in the same engine');
      assert.ok(existsSync(join(dir, `${key(2)}.summary.json`)), 'the summary is written where the manifest says');

      await runner.start(JOB, { runKey: key(3), manifestUri: manifest(key(3), { keyFields: [] }) });
      const bad = await waitDone(key(3));
      assert.equal(bad.status, 'failed');
      assert.match(bad.error ?? '', /table\.keyFields must list 1 or more distinct attribute names/);
      assert.equal(enginePid(), pid, 'a failed batch does not cost the engine');
      assert.deepEqual(await runner.listRunning(JOB), []);
      console.log(`# empty batch: ${cold.toFixed(1)} s with the engine's start, ${warm.toFixed(2)} s warm`);
    });

    it('a batch in flight when the engine is killed fails at once; the next batch gets a new engine', async () => {
      const before = enginePid()!;
      const held = heldManifest(key(4));
      await runner.start(JOB, { runKey: key(4), manifestUri: held });
      await waitTaken(key(4));
      assert.equal((await runner.listRunning(JOB)).map((r) => r.runKey).join(), key(4));
      signalGroup(before, 'SIGKILL');
      const killedAt = Date.now();
      const failed = await waitDone(key(4), 30_000);
      assert.equal(failed.status, 'failed');
      assert.match(failed.error ?? '', /warm engine of warmtest .* ended during this batch/);
      console.log(`# engine killed mid-batch: seen failed after ${((Date.now() - killedAt) / 1000).toFixed(1)} s`);

      await runner.start(JOB, { runKey: key(4, 2), manifestUri: manifest(key(4, 2)) });
      const retried = await waitDone(key(4, 2));
      assert.equal(retried.status, 'succeeded', retried.error);
      assert.notEqual(enginePid(), before, 'a new engine');
    });

    it('a queued batch can be withdrawn; one the dead engine never took goes to a new engine under the same key', async () => {
      const held = heldManifest(key(5));
      await runner.start(JOB, { runKey: key(5), manifestUri: held });
      await waitTaken(key(5));
      const busy = enginePid()!;

      await runner.start(JOB, { runKey: key(6), manifestUri: manifest(key(6)) });
      await runner.stop(JOB, key(6));
      assert.equal((await runner.get(JOB, key(6))).status, 'stopped');
      assert.ok(isGroupRunning(busy), 'withdrawing a queued batch leaves the engine alone');

      await runner.start(JOB, { runKey: key(7), manifestUri: manifest(key(7)) });
      signalGroup(busy, 'SIGKILL');
      assert.equal((await waitDone(key(5), 30_000)).status, 'failed');
      const moved = await waitDone(key(7));
      assert.equal(moved.status, 'succeeded', moved.error);
      assert.notEqual(enginePid(), busy);
    });
  },
);
