/**
 * The whole loop on the ONE test stack — its Temporal, moto, stream poller, pipeline worker and
 * real spark-submit jobs — with live writes (the `generateTransactions` library):
 *
 *  1. `status --json` walks validate → export → initial load → incremental cycles, the watermark
 *     and appliedThrough advancing;
 *  2. `pause` during a job: that job finishes, no job starts until `resume`, then the loop goes on;
 *  3. the worker SIGKILLed during an incremental job and restarted with `ddb-lake up`: the retried
 *     runJob adopts the job already running (one run per run key), recovery time reported;
 *  4. the job records (`<state>/jobs/*.json`) show no two jobs of the pipeline overlapped;
 *  5. once the writes stop and the lake has caught up, the lake equals the table key by key;
 *  6. `ddb-lake replay <pipeline>` replays the run's real history cleanly.
 *
 * The run's history is written to .ddb-lake/test-reports/pipeline-loop-history.json; with
 * DDB_LAKE_RECORD_LOOP_FIXTURE=1 also to test/fixtures/pipeline-loop-history.json (the real-run
 * fixture test/replay.test.ts replays). Figures (phase times, recovery, time outside the Spark job
 * per cycle) are printed as `[loop] …` lines.
 */
import { readRunRecords, type RunRecord } from '../../activities/local/run-records';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, GetObjectCommand, HeadBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { temporal as temporalProto, type temporal } from '@temporalio/proto';
import { ensureTransactionTable } from '../../tools/generate/transaction-table';
import { generateTransactions, type GenerateResult } from '../../tools/generate/generator';
import type { StatusDocument } from '../../client/pipeline-client';
import { TASK_QUEUE } from '../../workflows/definitions';
import { readStackInfo } from '../../core/environment';
import { REPO_ROOT, toolchainPaths } from '../../core/toolchain';
import { readBody } from '../../activities/sdk/s3';
import { cycleFigures, formatCycleFigures, type JobTimes } from '../../bench/cycle-figures';
import { runCli, runCliInProcess } from '../helpers/cli';
import { compareLakeWithTable, describeComparison, isEqual } from '../helpers/lake-compare';
import {
  closeTestConnections,
  testDynamoDbClient,
  testEnvironment,
  testS3Client,
  testTemporalClient,
  uniqueName,
} from '../helpers/stack';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const BUCKET = 'ddb-lake-local';
const INTERVAL_SECONDS = 5;
const REPORTS = join(REPO_ROOT, '.ddb-lake', 'test-reports');
const LOOP_FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'pipeline-loop-history.json');
const PHASES = ['validating', 'exporting', 'initialLoad', 'incremental'];

const say = (line: string) => console.log(`[loop] ${line}`);
const ms = (iso: string) => Date.parse(iso);

type JobRecord = RunRecord;

const env = testEnvironment();
const name = uniqueName('loop');
const table = `Loop-${name}`;
const stateDir = env.stateDir;
const lakeLocation = join(stateDir, 'lakes', name);
const configFile = join(stateDir, 'pipelines', `${name}.json`);
const dynamodb = testDynamoDbClient();
const s3 = testS3Client();

let writer: { stop: AbortController; done: Promise<GenerateResult> } | undefined;
let initialKeys = 0;
let config: { derivedColumns: { name: string }[]; keyFields: string[] };
/** Every status document seen, in order. */
const seen: StatusDocument[] = [];

async function cli(...args: string[]) {
  const r = await runCliInProcess(args);
  assert.equal(r.code, 0, `ddb-lake ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function status(): Promise<StatusDocument> {
  const s = JSON.parse(await cli('status', name, '--json')) as StatusDocument;
  seen.push(s);
  return s;
}

/** Poll `status --json` until `ok` holds (every `everyMs`); fail with the last status after `timeoutMs`. */
async function until(
  what: string,
  ok: (s: StatusDocument) => boolean,
  timeoutMs: number,
  everyMs = 500,
): Promise<StatusDocument> {
  const deadline = Date.now() + timeoutMs;
  let last: StatusDocument | undefined;
  while (Date.now() < deadline) {
    last = await status();
    if (last.execution.status !== 'RUNNING')
      assert.fail(`${what}: the pipeline is ${last.execution.status}: ${last.execution.closeReason}`);
    if (last.stalled) assert.fail(`${what}: the pipeline stalled: ${last.stalled.error}`);
    if (ok(last)) return last;
    await sleep(everyMs);
  }
  assert.fail(
    `${what}: not reached within ${timeoutMs / 1000} s; last status: phase ${last?.phase}, step ${last?.step}, lastError ${JSON.stringify(last?.lastError)}`,
  );
}

function jobRecords(): JobRecord[] {
  return readRunRecords(stateDir, name);
}

async function history(): Promise<HistoryEvent[]> {
  const client = await testTemporalClient();
  return (await client.workflow.getHandle(name).fetchHistory()).events ?? [];
}

/** Landing lines written for the table so far (one per stream record). */
async function landedRecords(): Promise<number> {
  let lines = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `landing/${table}/`, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      if (!/\/\d{4}-\d{2}-\d{2}-\d{2}-\d{2}\/[^/]+\.json$/.test(o.Key!)) continue;
      const body = (
        await readBody((await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: o.Key! }))).Body)
      ).toString('utf8');
      lines += body.split('\n').filter((l) => l.trim()).length;
    }
    token = page.NextContinuationToken;
  } while (token);
  return lines;
}

before(async () => {
  // The stack's worker was just started with the stack: wait until it polls (it bundles the workflows first).
  const client = await testTemporalClient();
  await waitFor(
    'the stack worker polling',
    async () => {
      const q = await client.workflowService.describeTaskQueue({
        namespace: env.temporal.namespace,
        taskQueue: { name: TASK_QUEUE },
        taskQueueType: temporalProto.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      return (q.pollers ?? []).length > 0 ? true : undefined;
    },
    60_000,
    500,
  );
  // The stack's poller creates the bucket too; a test must not depend on when it does.
  await s3
    .send(new HeadBucketCommand({ Bucket: BUCKET }))
    .catch(() => s3.send(new CreateBucketCommand({ Bucket: BUCKET })));
  await ensureTransactionTable(dynamodb, table);
  const initial = await generateTransactions(dynamodb, { table, count: 400, seed: `${name}-initial` });
  assert.equal(initial.errors, 0);
  initialKeys = initial.written;

  const base = JSON.parse(readFileSync(join(REPO_ROOT, 'configs', 'transaction.json'), 'utf8'));
  const c = {
    ...base,
    name,
    table,
    export: { ...base.export, location: `s3://${BUCKET}/export/${table}/` },
    landing: { ...base.landing, location: `s3://${BUCKET}/landing/${table}/` },
    lake: { ...base.lake, location: lakeLocation },
    schedule: { ...base.schedule, intervalSeconds: INTERVAL_SECONDS },
  };
  config = c;
  mkdirSync(join(stateDir, 'pipelines'), { recursive: true });
  writeFileSync(configFile, `${JSON.stringify(c, null, 2)}\n`);

  // Live writes from before the export until the end of the kill step: inserts, note updates, deletes.
  const stop = new AbortController();
  writer = {
    stop,
    done: generateTransactions(dynamodb, {
      table,
      durationSeconds: 900,
      rate: 8,
      updateRatio: 0.3,
      deleteRatio: 0.05,
      seed: `${name}-live`,
      existingKeys: initial.liveKeys,
      signal: stop.signal,
    }),
  };
});

after(async () => {
  writer?.stop.abort();
  await writer?.done.catch(() => undefined);
  await runCliInProcess(['stop', name, '--wait', '30']).catch(() => undefined);
  await closeTestConnections();
});

describe('the pipeline loop on the test stack, with real Spark jobs and live writes', { timeout: 12 * 60_000 }, () => {
  // Each step builds on the one before: once one fails, the rest are skipped, not failed again.
  let failed: string | undefined;
  const step = (title: string, fn: () => Promise<void>): void =>
    void test(title, async (t) => {
      if (failed) return t.skip(`an earlier step failed: ${failed}`);
      try {
        await fn();
      } catch (err) {
        failed = title;
        throw err;
      }
    });
  let t0 = 0;
  let pausedAt = 0;
  let resumedAt = 0;
  let killedRunKey = '';

  step(
    'start; status --json walks validate → export → initial load → incremental, the watermark advancing',
    async () => {
      t0 = Date.now();
      const started = JSON.parse(await cli('start', configFile, '--json'));
      assert.equal(started.workerPolling, true, 'the stack worker polls the task queue');

      const first = await until('first status', () => true, 10_000);
      assert.ok(PHASES.includes(first.phase!));
      const init = await until('the initial load', (s) => s.phase === 'incremental', 240_000, 250);
      say(
        `initial load done ${((Date.now() - t0) / 1000).toFixed(1)} s after start: ${JSON.stringify(init.lastRuns?.[0])}`,
      );
      // Three incremental jobs, each leaving a later appliedThrough behind.
      const jobsBefore = init.counters!.jobsSucceeded;
      await until('three incremental jobs', (s) => s.counters!.jobsSucceeded >= jobsBefore + 3, 240_000, 1000);

      // Phases only ever move forward, and every one was gone through (the history shows the steps).
      const phases = seen.map((s) => s.phase!).filter((p, i, all) => i === 0 || p !== all[i - 1]);
      for (let i = 1; i < phases.length; i++)
        assert.ok(PHASES.indexOf(phases[i]!) > PHASES.indexOf(phases[i - 1]!), `phases went ${phases.join(' → ')}`);
      assert.equal(phases.at(-1), 'incremental');
      const activities = (await history()).flatMap((e) =>
        e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType!.name!] : [],
      );
      const order = ['validatePipeline', 'startExport', 'prepareInitialLoad', 'runJob', 'planIncremental', 'runJob'];
      let at = 0;
      for (const a of activities) if (a === order[at]) at++;
      assert.equal(
        at,
        order.length,
        `activities in order ${order.join(' → ')}; the history has ${activities.join(', ')}`,
      );

      // The watermark: appliedThrough rises with the jobs, closedThrough never goes back.
      const byJobs = new Map<number, StatusDocument>();
      // (The watermark moves in the same workflow task that counts the job: any status after job n shows it.)
      for (const s of seen) if (s.phase === 'incremental') byJobs.set(s.counters!.jobsSucceeded, s);
      const points = [...byJobs.values()].filter((s) => s.appliedThrough);
      const applied = points.map((s) => ms(s.appliedThrough!));
      const increases = applied.filter((t, i) => i > 0 && t > applied[i - 1]!).length;
      assert.ok(
        increases >= 2,
        `appliedThrough rose ${increases} times over ${points.length} job cycles: ${points.map((s) => s.appliedThrough).join(', ')}`,
      );
      for (let i = 1; i < points.length; i++)
        assert.ok(points[i]!.watermark!.closedThrough >= points[i - 1]!.watermark!.closedThrough);
      say(
        `watermark after each job: ${points.map((s) => `${s.watermark!.closedThrough}+${s.watermark!.openFolders.map((o) => `${o.folder.slice(-5)}:${o.filesTaken}`).join(',')}`).join(' | ')}`,
      );
    },
  );

  step('pause during a job: the job finishes, no job starts until resume; resume continues', async () => {
    const running = await until(
      'an incremental job running',
      (s) => s.step === 'job' && s.currentRun?.kind === 'incremental',
      120_000,
      250,
    );
    pausedAt = Date.now();
    await cli('pause', name);
    const paused = await until('paused', (s) => s.step === 'paused', 120_000, 500);
    const effectiveAt = Date.now();
    assert.equal(paused.paused, true);
    const finished = paused.lastRuns!.find((r) => r.runKey === running.currentRun!.runKey);
    assert.equal(finished?.status, 'succeeded', 'the job running at the pause finished');
    const jobsAtPause = paused.counters!.jobsSucceeded;

    // Longer than a cycle: nothing may start.
    await sleep((INTERVAL_SECONDS + 5) * 1000);
    const still = await status();
    assert.equal(still.step, 'paused');
    assert.equal(still.counters!.jobsSucceeded, jobsAtPause);
    assert.equal(still.currentRun, null);
    const startedWhilePaused = jobRecords().filter((j) => ms(j.startedAt) > effectiveAt);
    assert.deepEqual(
      startedWhilePaused.map((j) => j.runKey),
      [],
      'no job started while paused',
    );

    resumedAt = Date.now();
    await cli('resume', name);
    await until(
      'a job after resume',
      (s) => s.counters!.jobsSucceeded > jobsAtPause || (s.step === 'job' && s.currentRun !== null),
      120_000,
      500,
    );
    assert.ok(
      jobRecords().some((j) => ms(j.startedAt) > resumedAt),
      'a job started after resume',
    );

    // From the history: after the pause signal no runJob was scheduled until the resume signal;
    // at most the one job already scheduled completed in between (pause stops new jobs within a cycle).
    const events = await history();
    const signal = (n: string) =>
      events.findIndex(
        (e, i) => e.workflowExecutionSignaledEventAttributes?.signalName === n && (n === 'pause' || i > 0),
      );
    const pauseIdx = signal('pause');
    const resumeIdx = events.findIndex(
      (e, i) => i > pauseIdx && e.workflowExecutionSignaledEventAttributes?.signalName === 'resume',
    );
    assert.ok(pauseIdx > 0 && resumeIdx > pauseIdx);
    const between = events.slice(pauseIdx, resumeIdx);
    const scheduled = between.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runJob');
    assert.equal(scheduled.length, 0, 'no runJob scheduled between pause and resume');
    say(
      `pause: sent ${((effectiveAt - pausedAt) / 1000).toFixed(1)} s before the loop showed "paused" (the running job ${running.currentRun!.runKey} finished first)`,
    );
  });

  step(
    'worker SIGKILLed during an incremental job, restarted by `ddb-lake up`: the job is adopted, not started again',
    async () => {
      const s = await until(
        'an incremental job running for 2 s',
        (st) =>
          st.step === 'job' && st.currentRun?.kind === 'incremental' && Date.now() - ms(st.currentRun.startedAt) > 2000,
        180_000,
        250,
      );
      killedRunKey = s.currentRun!.runKey;
      const record = () => jobRecords().find((j) => j.runKey === killedRunKey);
      const before = await waitFor(
        'the job record running',
        () => (record()?.status === 'running' && record()?.pid ? record() : undefined),
        30_000,
      );
      const worker = readStackInfo(stateDir)!.services.find((x) => x.name === 'worker');
      assert.ok(worker, 'the test stack runs a worker');
      const killedAt = Date.now();
      process.kill(worker.pid, 'SIGKILL');
      await waitFor('the worker gone', () => (alive(worker.pid) ? undefined : true), 10_000);
      assert.equal(record()!.status, 'running', 'the kill landed while the job ran');
      assert.ok(
        !existsSync(join(stateDir, 'jobs', `${killedRunKey}.exit`)),
        'the job had not ended when the worker died',
      );

      const up = await runCli(['up'], { ...process.env, DDB_LAKE_STATE: stateDir });
      assert.equal(up.code, 0, up.stderr + up.stdout);
      assert.match(up.stdout, /worker: started \(pid \d+\)/);
      const restartedAt = Date.now();
      const newWorker = readStackInfo(stateDir)!.services.find((x) => x.name === 'worker')!;
      assert.notEqual(newWorker.pid, worker.pid);

      // Until the workflow has recorded the run. While no worker has the workflow cached, a status
      // query may time out: expected here, and how long it lasts is reported.
      let statusBackAt = 0;
      await waitFor(
        'the killed-time run recorded',
        async () => {
          const r = await runCliInProcess(['status', name, '--json']);
          if (r.code !== 0) return undefined;
          statusBackAt ||= Date.now();
          return (JSON.parse(r.stdout) as StatusDocument).lastRuns?.some((x) => x.runKey === killedRunKey)
            ? true
            : undefined;
        },
        120_000,
        250,
      );
      const done = await until(
        'the killed-time run recorded',
        (st) => st.lastRuns!.some((r) => r.runKey === killedRunKey),
        180_000,
        500,
      );
      const after = record()!;
      const run = done.lastRuns!.find((r) => r.runKey === killedRunKey)!;
      assert.equal(run.status, 'succeeded');
      assert.equal(after.status, 'succeeded');
      assert.equal(after.runId, before.runId, 'the same run, not a new one');
      assert.equal(done.lastRuns!.filter((r) => r.runKey === killedRunKey).length, 1, 'one run record for the run key');
      // No second attempt of the batch (…-a2) was started: the job was not counted as failed.
      const batch = killedRunKey.replace(/-a\d+$/, '-a');
      assert.deepEqual(
        jobRecords()
          .filter((j) => j.runKey.startsWith(batch))
          .map((j) => j.runKey),
        [killedRunKey],
      );
      assert.equal(done.counters!.jobsFailed, 0);

      // The history: one runJob scheduled for the run key, completed on attempt ≥ 2 with that run's id.
      const events = await history();
      const scheduled = events.filter(
        (e) =>
          e.activityTaskScheduledEventAttributes?.activityType?.name === 'runJob' &&
          payload(e.activityTaskScheduledEventAttributes.input).includes(`"runKey":"${killedRunKey}"`),
      );
      assert.equal(scheduled.length, 1);
      const sid = String(scheduled[0]!.eventId);
      const started = events.find((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === sid)!;
      const completed = events.find((e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId) === sid)!;
      assert.ok(
        (started.activityTaskStartedEventAttributes!.attempt ?? 0) >= 2,
        'the activity was retried after the kill',
      );
      assert.match(started.activityTaskStartedEventAttributes!.lastFailure?.message ?? '', /heartbeat timeout/i);
      // The started event of a retried activity carries its last attempt's start time.
      const retriedAt = eventMs(started);
      assert.equal(JSON.parse(payload(completed.activityTaskCompletedEventAttributes!.result)).runId, before.runId);

      const jobEnd = ms(after.finishedAt!);
      const seenEnd = ms(run.finishedAt);
      say(
        `worker kill: killed ${((killedAt - ms(before.startedAt)) / 1000).toFixed(1)} s into ${killedRunKey}; \`up\` restarted the worker in ${((restartedAt - killedAt) / 1000).toFixed(1)} s; ` +
          `runJob attempt ${started.activityTaskStartedEventAttributes!.attempt} started ${((retriedAt - killedAt) / 1000).toFixed(1)} s after the kill (heartbeat timeout 15 s); ` +
          `the job ended ${((jobEnd - killedAt) / 1000).toFixed(1)} s after the kill, the workflow saw it ${((seenEnd - jobEnd) / 1000).toFixed(1)} s later` +
          (statusBackAt
            ? `; \`status\` answered again ${((statusBackAt - killedAt) / 1000).toFixed(1)} s after the kill`
            : ''),
      );
      assert.ok(retriedAt - killedAt < 40_000, `recovery took ${(retriedAt - killedAt) / 1000} s`);
      assert.ok(seenEnd - Math.max(jobEnd, killedAt) < 45_000, 'the workflow saw the end of the job promptly');
    },
  );

  step(
    'no two jobs overlapped; once the writes stop and the lake caught up, it equals the table key by key',
    async () => {
      writer!.stop.abort();
      const live = await writer!.done;
      assert.equal(live.errors, 0, JSON.stringify(live.errorsByKind));
      const writes = initialKeys + live.written;
      say(
        `writes: ${initialKeys} initial + ${live.written} live (${live.inserts} inserts, ${live.updates} updates, ${live.deletes} deletes) at ${live.ratePerSecond.toFixed(1)}/s`,
      );
      const landedAt = await waitFor(
        'every write landed',
        async () => ((await landedRecords()) >= writes ? Date.now() : undefined),
        90_000,
        2000,
      );
      const caughtUp = await until(
        'appliedThrough past the last landing file',
        (s) => s.appliedThrough !== null && ms(s.appliedThrough!) >= landedAt && s.step !== 'job',
        180_000,
        1000,
      );
      say(
        `caught up ${((Date.now() - landedAt) / 1000).toFixed(1)} s after the last landing file; lag ${caughtUp.lagSeconds} s`,
      );

      const jobs = jobRecords();
      assert.ok(jobs.length >= 6, `${jobs.length} jobs`);
      for (const j of jobs) assert.ok(j.finishedAt && j.status === 'succeeded', `${j.runKey} ${j.status}`);
      for (let i = 1; i < jobs.length; i++)
        assert.ok(
          ms(jobs[i]!.startedAt) >= ms(jobs[i - 1]!.finishedAt!),
          `${jobs[i - 1]!.runKey} (until ${jobs[i - 1]!.finishedAt}) overlaps ${jobs[i]!.runKey} (from ${jobs[i]!.startedAt})`,
        );

      const comparison = await compareLakeWithTable({
        dynamodb,
        table,
        keyFields: config.keyFields,
        lakeLocation,
        derivedColumns: config.derivedColumns.map((d) => d.name),
      });
      say(describeComparison(comparison));
      assert.ok(isEqual(comparison), describeComparison(comparison));

      // Time outside the Spark job per cycle, from the history and the job records.
      const times: JobTimes = new Map(
        jobs.map((j) => [
          j.runKey,
          { startedMs: ms(j.startedAt), finishedMs: ms(j.finishedAt!), exitedMs: exitedAt(j.runKey) },
        ]),
      );
      const figures = cycleFigures(await history(), times);
      for (const line of formatCycleFigures(figures.filter((f) => f.runKey !== killedRunKey))) say(line);
      say(`status at the end:\n${(await cli('status', name)).replace(/^/gm, '    ')}`);
    },
  );

  step(
    '`ddb-lake replay` replays the real run cleanly; its history is kept as a report (and the fixture when asked)',
    async () => {
      const stopped = JSON.parse(await cli('stop', name, '--json'));
      assert.equal(stopped.status, 'CANCELLED');
      const replay = await runCliInProcess(['replay', name]);
      assert.equal(replay.code, 0, replay.stdout + replay.stderr);
      assert.match(replay.stdout, new RegExp(`${name} run \\S+: \\d+ events replay cleanly`));

      const json = execFileSync(
        toolchainPaths().temporalCli,
        [
          'workflow',
          'show',
          '--workflow-id',
          name,
          '--output',
          'json',
          '--address',
          env.temporal.address,
          '--namespace',
          env.temporal.namespace,
        ],
        {
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      mkdirSync(REPORTS, { recursive: true });
      writeFileSync(join(REPORTS, 'pipeline-loop-history.json'), json);
      if (process.env.DDB_LAKE_RECORD_LOOP_FIXTURE === '1') {
        writeFileSync(LOOP_FIXTURE, json.endsWith('\n') ? json : `${json}\n`);
        say(`recorded ${LOOP_FIXTURE}`);
      }
      const replayFile = await runCliInProcess(['replay', '--history', join(REPORTS, 'pipeline-loop-history.json')]);
      assert.equal(replayFile.code, 0, replayFile.stdout + replayFile.stderr);
    },
  );
});

function eventMs(e: HistoryEvent): number {
  return Number(e.eventTime!.seconds) * 1000 + Math.round((e.eventTime!.nanos ?? 0) / 1e6);
}

function payload(p: temporal.api.common.v1.IPayloads | null | undefined): string {
  const data = p?.payloads?.[0]?.data;
  return data ? Buffer.from(data).toString('utf8') : '';
}

/** When the job's process had exited: its exit file's time (written by the runner's wrapper shell). */
function exitedAt(runKey: string): number | undefined {
  const file = join(stateDir, 'jobs', `${runKey}.exit`);
  return existsSync(file) ? statSync(file).mtimeMs : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    await sleep(everyMs);
  }
  assert.fail(`${what}: not within ${timeoutMs / 1000} s`);
}
