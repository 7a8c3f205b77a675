/** GlueJobRunner against a fake Glue (pure logic: run-key lookup, state mapping, capacity, stop). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobRun } from '@aws-sdk/client-glue';
import { GlueJobRunner, type GlueRunsApi } from '../activities/aws/glue-job-runner';
import { JobCapacityError, JobRunNotFoundError, type JobSpec } from '../activities/job-runner';

class FakeGlue implements GlueRunsApi {
  runs: JobRun[] = [];
  maxConcurrentRuns = 1;
  calls: string[] = [];
  pageSize = 2;
  private n = 0;

  async startJobRun(input: { JobName: string; Arguments: Record<string, string> }) {
    this.calls.push('start');
    const running = this.runs.filter(
      (r) => r.JobName === input.JobName && ['STARTING', 'RUNNING', 'STOPPING', 'WAITING'].includes(r.JobRunState!),
    );
    if (running.length >= this.maxConcurrentRuns)
      throw Object.assign(new Error('Concurrent runs exceeded'), { name: 'ConcurrentRunsExceededException' });
    const run: JobRun = {
      Id: `jr_${++this.n}`,
      JobName: input.JobName,
      Arguments: input.Arguments,
      JobRunState: 'STARTING',
      StartedOn: new Date(1_700_000_000_000 + this.n),
    };
    this.runs.unshift(run); // Glue lists newest first
    return { JobRunId: run.Id };
  }
  async getJobRun(input: { JobName: string; RunId: string }) {
    this.calls.push('get');
    return { JobRun: this.runs.find((r) => r.Id === input.RunId && r.JobName === input.JobName) };
  }
  async getJobRuns(input: { JobName: string; NextToken?: string }) {
    this.calls.push('list');
    const all = this.runs.filter((r) => r.JobName === input.JobName);
    const from = Number(input.NextToken ?? 0);
    const next = from + this.pageSize < all.length ? String(from + this.pageSize) : undefined;
    return { JobRuns: all.slice(from, from + this.pageSize), NextToken: next };
  }
  async batchStopJobRun(input: { JobName: string; JobRunIds: string[] }) {
    this.calls.push('stop');
    for (const id of input.JobRunIds) {
      const run = this.runs.find((r) => r.Id === id)!;
      run.JobRunState = 'STOPPED';
      run.CompletedOn = new Date();
    }
    return { Errors: [] };
  }
  set(id: string, patch: Partial<JobRun>) {
    Object.assign(
      this.runs.find((r) => r.Id === id)!,
      patch,
    );
  }
}

const JOB: JobSpec = { kind: 'incremental', glueJobName: 'ddb-lake-incremental', script: 'glue/incremental.py' };
const req = (runKey: string) => ({ runKey, manifestUri: `s3://b/_manifests/p/${runKey}.json` });

describe('GlueJobRunner', () => {
  it('passes the manifest and run key as job arguments', async () => {
    const glue = new FakeGlue();
    const state = await new GlueJobRunner(glue).start(JOB, req('p-inc-000001-a1'));
    assert.equal(state.status, 'running');
    assert.deepEqual(glue.runs[0]!.Arguments, {
      '--manifest': 's3://b/_manifests/p/p-inc-000001-a1.json',
      '--run_key': 'p-inc-000001-a1',
    });
  });

  it('a retried start (a fresh runner, e.g. after a worker restart) finds the run it already started', async () => {
    const glue = new FakeGlue();
    glue.maxConcurrentRuns = 10;
    const first = await new GlueJobRunner(glue).start(JOB, req('k1'));
    for (const other of ['k2', 'k3', 'k4']) await new GlueJobRunner(glue).start(JOB, req(other)); // k1 is on page 2 now
    const again = await new GlueJobRunner(glue).start(JOB, req('k1'));
    assert.equal(again.runId, first.runId);
    assert.equal(glue.runs.length, 4);
  });

  it("maps Glue states and keeps Glue's ErrorMessage as the error text", async () => {
    const glue = new FakeGlue();
    const runner = new GlueJobRunner(glue);
    const { runId } = await runner.start(JOB, req('k'));
    glue.set(runId, { JobRunState: 'RUNNING' });
    assert.equal((await runner.get(JOB, 'k')).status, 'running');
    glue.set(runId, {
      JobRunState: 'FAILED',
      ErrorMessage: 'JobError: manifest s3://b/m.json: table.keyFields is required',
      CompletedOn: new Date(),
    });
    const failed = await new GlueJobRunner(glue).get(JOB, 'k');
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error, 'JobError: manifest s3://b/m.json: table.keyFields is required');
    glue.set(runId, { JobRunState: 'TIMEOUT', ErrorMessage: undefined });
    assert.match((await runner.get(JOB, 'k')).error ?? '', /TIMEOUT/);
    glue.set(runId, { JobRunState: 'SUCCEEDED' });
    assert.equal((await runner.get(JOB, 'k')).status, 'succeeded');
    await assert.rejects(runner.get(JOB, 'nope'), JobRunNotFoundError);
  });

  it('MaxConcurrentRuns reached: a clear retryable error, unless the slot is our own run', async () => {
    const glue = new FakeGlue();
    const runner = new GlueJobRunner(glue);
    await runner.start(JOB, req('busy'));
    await assert.rejects(
      runner.start(JOB, req('next')),
      (err: unknown) => err instanceof JobCapacityError && /MaxConcurrentRuns/.test(err.message),
    );
    // A start racing with itself: the first attempt's run holds the slot and is returned.
    glue.runs.unshift({
      Id: 'jr_race',
      JobName: 'ddb-lake-incremental',
      Arguments: { '--run_key': 'racer' },
      JobRunState: 'RUNNING',
      StartedOn: new Date(),
    });
    const calls = glue.calls.length;
    const found = await new GlueJobRunner(glue).start(JOB, req('racer'));
    assert.equal(found.runId, 'jr_race');
    assert.ok(!glue.calls.slice(calls).includes('start'));
  });

  it('stop stops a running run and waits until it is no longer running; listRunning reads run keys', async () => {
    const glue = new FakeGlue();
    glue.maxConcurrentRuns = 5;
    const runner = new GlueJobRunner(glue, { pollMs: 1 });
    const a = await runner.start(JOB, req('a'));
    await runner.start(JOB, req('b'));
    assert.deepEqual((await runner.listRunning(JOB)).map((r) => r.runKey).sort(), ['a', 'b']);
    await runner.stop(JOB, 'a');
    assert.equal((await runner.get(JOB, 'a')).status, 'stopped');
    assert.equal(glue.runs.find((r) => r.Id === a.runId)!.JobRunState, 'STOPPED');
    await runner.stop(JOB, 'a'); // already stopped: nothing to do
    await runner.stop(JOB, 'never-started');
    assert.deepEqual(
      (await runner.listRunning(JOB)).map((r) => r.runKey),
      ['b'],
    );
  });
});
