/** The local runner's end watch (SparkJobRunner.watchForEnd): runJob sees a job's end at once, not at its next poll. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SparkJobRunner } from '../../activities/local/spark-job-runner';
import type { JobRef } from '../../activities/job-runner';

const JOB: JobRef = { kind: 'incremental', glueJobName: 'ddb-lake-incremental' };

const settled = (p: Promise<void>, ms: number) => Promise.race([p.then(() => true), sleep(ms, false)]);

test('watchForEnd settles when the run’s exit file appears, not for other files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ddb-lake-watch-'));
  try {
    const runner = new SparkJobRunner({ stateDir: dir });
    const watch = runner.watchForEnd(JOB, 'p-1-inc-000001-a1');
    writeFileSync(join(dir, 'jobs', 'p-1-inc-000002-a1.exit'), '0\n');
    writeFileSync(join(dir, 'jobs', 'p-1-inc-000001-a1.json'), '{}');
    assert.equal(await settled(watch.ended, 300), false, 'other files do not end the watch');
    const t0 = Date.now();
    // As the wrapper shell writes it: a temporary file renamed into place.
    writeFileSync(join(dir, 'jobs', 'p-1-inc-000001-a1.exit.tmp'), '0\n');
    renameSync(join(dir, 'jobs', 'p-1-inc-000001-a1.exit.tmp'), join(dir, 'jobs', 'p-1-inc-000001-a1.exit'));
    assert.equal(await settled(watch.ended, 2000), true);
    assert.ok(Date.now() - t0 < 1000);
    watch.close();

    // A run that ended before the watch began: settled at once.
    const again = runner.watchForEnd(JOB, 'p-1-inc-000001-a1');
    assert.equal(await settled(again.ended, 100), true);
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('watchForEnd on a folder that cannot be watched never settles (the caller polls)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ddb-lake-watch-'));
  try {
    mkdirSync(join(dir, 'x'));
    writeFileSync(join(dir, 'x', 'jobs'), 'a file, not a folder');
    const watch = new SparkJobRunner({ stateDir: join(dir, 'x') }).watchForEnd(JOB, 'r-1');
    assert.equal(await settled(watch.ended, 200), false);
    watch.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
