/**
 * The pipeline workflow's logic on the real Temporal dev server, with the real activities over
 * in-memory external parts (test/support/fakes.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { minuteFolder } from '../core/landing';
import type { PipelineConfig } from '../core/config';
import {
  pauseSignal,
  resumeSignal,
  runNowUpdate,
  setIntervalUpdate,
  statusQuery,
  type PipelineStatus,
} from '../workflows/definitions';
import { pipelineWorkflow } from '../workflows/pipeline';
import { createFakes, EXPORT_TIME_MS, testConfig, type Fakes } from './support/fakes';
import { eventually, newTaskQueue, startTemporal, testWorker, withWorker } from './support/temporal';

let env: TestWorkflowEnvironment;

before(async () => {
  env = await startTemporal();
});
after(async () => {
  await env?.teardown();
});

async function start(taskQueue: string, config: PipelineConfig, id = `${config.name}-${taskQueue}`) {
  return env.client.workflow.start(pipelineWorkflow, { taskQueue, workflowId: id, args: [{ config }] });
}

async function status(handle: WorkflowHandle<typeof pipelineWorkflow>): Promise<PipelineStatus> {
  return handle.query(statusQuery);
}

/** Wait until the status satisfies `ok`. */
async function statusWhere(
  handle: WorkflowHandle<typeof pipelineWorkflow>,
  what: string,
  ok: (s: PipelineStatus) => boolean,
  timeoutMs = 20_000,
) {
  return eventually(
    async () => {
      const s = await status(handle);
      return ok(s) ? s : undefined;
    },
    what,
    timeoutMs,
  );
}

const MINUTE = 60_000;
const LANDING = 's3://ddb-lake-local/landing/Transaction/';

/** Start a pipeline and wait for its incremental phase. */
async function startIncremental(tq: string, config: PipelineConfig) {
  const handle = await start(tq, config);
  await statusWhere(handle, 'incremental phase', (s) => s.phase === 'incremental');
  return handle;
}

function runKeysOf(f: Fakes): string[] {
  return [...f.jobs.runs.keys()];
}

describe('pipeline workflow', () => {
  test('walks validate → export → initial load → incremental and applies every file once', async () => {
    const f = createFakes();
    await withWorker(env, f, async (tq) => {
      f.jobs.durationMs = 1000;
      const handle = await start(tq, testConfig());
      // Watch the phases go by: they only ever move forward, through every phase.
      const seen: string[] = [];
      const s1 = await statusWhere(handle, 'incremental phase', (s) => {
        if (seen.at(-1) !== s.phase) seen.push(s.phase);
        return s.phase === 'incremental';
      });
      const order = ['validating', 'exporting', 'initialLoad', 'incremental'];
      assert.deepEqual(
        [...seen].sort((a, b) => order.indexOf(a) - order.indexOf(b)),
        seen,
        `phases in order: ${seen.join(' → ')}`,
      );
      assert.ok(seen.includes('exporting') && seen.includes('initialLoad'), `saw ${seen.join(' → ')}`);
      f.jobs.durationMs = 200;
      assert.equal(s1.export?.status, 'COMPLETED');
      assert.equal(s1.export?.itemCount, 7269);
      assert.equal(f.exporter.starts.length, 1);
      assert.match(f.exporter.starts[0]!.clientToken, /^ddb-lake-.+-e1$/);
      const init = [...f.jobs.runs.values()][0]!;
      assert.equal(init.job.kind, 'initialLoad');
      assert.match(init.request.runKey, /^transaction-[0-9a-f]{8}-init-a1$/);
      // The watermark starts two minutes before the export's minute.
      assert.equal(s1.watermark?.closedThrough, minuteFolder(EXPORT_TIME_MS - 2 * MINUTE));

      const a = f.landing.add('shard1_1_5.json');
      const b = f.landing.add('shard2_1_3.json');
      const s2 = await statusWhere(handle, 'first batch', (s) => s.counters.filesApplied === 2);
      assert.equal(s2.lastRuns[0]?.status, 'succeeded');
      assert.equal(s2.lastRuns[0]?.files, 2);
      assert.equal(s2.lastRuns[0]?.recordsRead, 20);
      assert.deepEqual(s2.watermark?.openFolders, [{ folder: minuteFolder(f.clock.now()), filesTaken: 2 }]);

      // Empty cycles start no job.
      const jobsBefore = f.jobs.starts;
      await statusWhere(handle, 'empty cycles', (s) => s.counters.emptyCycles >= 2);
      assert.equal(f.jobs.starts, jobsBefore);

      // A file arriving late in the same (still open) folder is taken by the next batch.
      const c = f.landing.add('shard1_6_9.json');
      await statusWhere(handle, 'late file in open folder', (s) => s.counters.filesApplied === 3);

      // Once its close instant has passed, the folder closes without a job.
      f.clock.advance(3 * MINUTE);
      const s3 = await statusWhere(handle, 'folder closed', (s) => s.watermark!.openFolders.length === 0);
      assert.ok(s3.watermark!.closedThrough >= minuteFolder(f.clock.now() - 3 * MINUTE));
      assert.equal(f.jobs.starts, jobsBefore + 1);

      assert.deepEqual(
        f.jobs.appliedFiles().sort(),
        [a, b, c].map((k) => `s3://ddb-lake-local/landing/Transaction/${k}`).sort(),
      );
      assert.deepEqual(f.jobs.overlaps(), []);
      await handle.cancel();
    });
  });

  test('a failed job is retried with backoff under a new run key, then stalls holding the watermark until resume', async () => {
    const f = createFakes();
    await withWorker(env, f, async (tq) => {
      const handle = await startIncremental(
        tq,
        testConfig({ retry: { maxAttempts: 2, initialIntervalSeconds: 1, maxIntervalSeconds: 1 } }),
      );
      const before = await status(handle);
      f.jobs.failNext = 2;
      const a = f.landing.add('shard1_1_5.json');
      const stalled = await statusWhere(handle, 'stalled', (s) => s.stalled !== null);
      assert.equal(stalled.step, 'stalled');
      assert.equal(stalled.stalled!.attempts, 2);
      assert.match(stalled.stalled!.error, /simulated job failure/);
      assert.match(stalled.lastError!.message, /simulated job failure/);
      assert.deepEqual(stalled.watermark, before.watermark, 'the watermark does not move on failure');
      assert.deepEqual(
        stalled.lastRuns.slice(0, 2).map((r) => r.status),
        ['failed', 'failed'],
      );
      const inc = runKeysOf(f).filter((k) => k.includes('-inc-'));
      assert.equal(inc.length, 2);
      assert.match(inc[0]!, /-inc-000001-a1$/);
      assert.match(inc[1]!, /-inc-000001-a2$/);
      const [r1, r2] = inc.map((k) => f.jobs.runs.get(k)!);
      assert.ok(r2!.startedMs - r1!.endedMs! >= 900, 'backoff between attempts');

      // While stalled nothing runs; a file landing meanwhile is not skipped either.
      const b = f.landing.add('shard2_1_2.json');
      await sleep(2500);
      assert.equal(runKeysOf(f).filter((k) => k.includes('-inc-')).length, 2);

      await handle.signal(resumeSignal);
      const done = await statusWhere(handle, 'applied after resume', (s) => s.counters.filesApplied === 2);
      assert.equal(done.stalled, null);
      assert.equal(done.lastRuns[0]!.status, 'succeeded');
      assert.match(done.lastRuns[0]!.runKey, /-inc-000001-a3$/);
      assert.deepEqual(f.jobs.appliedFiles().sort(), [a, b].map((k) => LANDING + k).sort());
      assert.equal(done.counters.jobsFailed, 2);
      await handle.cancel();
    });
  });

  test('pause lets the running job finish and starts no new one until resume', async () => {
    const f = createFakes();
    f.jobs.durationMs = 1500;
    await withWorker(env, f, async (tq) => {
      const handle = await startIncremental(tq, testConfig());
      f.landing.add('shard1_1_5.json');
      await statusWhere(handle, 'job running', (s) => s.currentRun !== null && s.currentRun.kind === 'incremental');
      await handle.signal(pauseSignal);
      const paused = await statusWhere(handle, 'paused', (s) => s.step === 'paused');
      assert.equal(paused.paused, true);
      assert.equal(paused.lastRuns[0]!.status, 'succeeded', 'the running job finished');
      const starts = f.jobs.starts;
      f.landing.add('shard1_6_7.json');
      await sleep(3000);
      assert.equal(f.jobs.starts, starts, 'no job while paused');
      await assert.rejects(
        handle.executeUpdate(runNowUpdate),
        (err: unknown) =>
          err instanceof WorkflowUpdateFailedError &&
          /paused; resume it first/.test(String(((err as Error).cause as Error | undefined)?.message)),
      );

      await handle.signal(resumeSignal);
      const resumed = await statusWhere(handle, 'resumed', (s) => s.counters.filesApplied === 2);
      assert.equal(resumed.paused, false);
      assert.deepEqual(f.jobs.overlaps(), []);
      await handle.cancel();
    });
  });

  test('a pause that arrives while planning starts no job; after resume the batch is planned again under the same run key', async () => {
    const f = createFakes();
    let gate: { opened: Promise<void>; open: () => void; entered: boolean } | null = null;
    const list = f.landing.list.bind(f.landing);
    f.landing.list = async (...args) => {
      if (gate) {
        gate.entered = true;
        await gate.opened;
      }
      return list(...args);
    };
    await withWorker(env, f, async (tq) => {
      const handle = await startIncremental(tq, testConfig());
      let open = () => undefined as void;
      gate = { opened: new Promise<void>((r) => (open = r)), open: () => open(), entered: false };
      f.landing.add('shard1_1_5.json');
      await eventually(async () => (gate!.entered ? true : undefined), 'planning under way');
      await handle.signal(pauseSignal);
      const g = gate;
      gate = null;
      g.open();
      const paused = await statusWhere(handle, 'paused', (st) => st.step === 'paused');
      await sleep(1500);
      assert.deepEqual(
        runKeysOf(f).filter((k) => k.includes('-inc-')),
        [],
        'no job started once paused',
      );
      assert.equal(paused.counters.filesApplied, 0);

      await handle.signal(resumeSignal);
      const done = await statusWhere(handle, 'applied after resume', (st) => st.counters.filesApplied === 1);
      assert.match(done.lastRuns[0]!.runKey, /-inc-000001-a1$/, 'the same run key: nothing was started for it before');
      assert.equal(done.counters.jobsFailed, 0);
      await handle.cancel();
    });
  });

  test('the next cycle starts intervalSeconds after the previous one started: a job longer than the interval is followed at once', async () => {
    const f = createFakes();
    f.jobs.durationMs = 2500;
    await withWorker(env, f, async (tq) => {
      const handle = await startIncremental(tq, testConfig({ schedule: { intervalSeconds: 2 } }));
      f.landing.add('shard1_1_5.json');
      await statusWhere(handle, 'first job running', (st) => st.currentRun?.kind === 'incremental');
      f.landing.add('shard1_6_9.json');
      await statusWhere(handle, 'two batches applied', (st) => st.counters.filesApplied === 2, 30_000);
      const [a, b] = [...f.jobs.runs.values()].filter((r) => r.job.kind === 'incremental');
      assert.ok(
        b!.startedMs - a!.endedMs! < 1500,
        `the second job started ${b!.startedMs - a!.endedMs!} ms after the first ended (interval 2 s)`,
      );
      // No interval timer between the first job's end and the next plan.
      const events = (await handle.fetchHistory()).events ?? [];
      const input = (e: (typeof events)[number]) =>
        Buffer.from(e.activityTaskScheduledEventAttributes?.input?.payloads?.[0]?.data ?? []).toString('utf8');
      const jobScheduled = events.find(
        (e) =>
          e.activityTaskScheduledEventAttributes?.activityType?.name === 'runJob' &&
          input(e).includes(a!.request.runKey),
      )!;
      const jobDone = events.findIndex(
        (e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId) === String(jobScheduled.eventId),
      );
      const nextPlan = events.findIndex(
        (e, i) => i > jobDone && e.activityTaskScheduledEventAttributes?.activityType?.name === 'planIncremental',
      );
      assert.ok(jobDone > 0 && nextPlan > jobDone);
      assert.equal(events.slice(jobDone, nextPlan).filter((e) => e.timerStartedEventAttributes).length, 0);
      await handle.cancel();
    });
  });

  test('runNow runs a cycle at once and answers its outcome; setInterval changes the pause', async () => {
    const f = createFakes();
    await withWorker(env, f, async (tq) => {
      const handle = await startIncremental(tq, testConfig({ schedule: { intervalSeconds: 3600 } }));
      await statusWhere(handle, 'sleeping', (s) => s.step === 'sleep');
      f.landing.add('shard1_1_5.json');
      const t0 = Date.now();
      const outcome = await handle.executeUpdate(runNowUpdate);
      assert.equal(outcome.status, 'succeeded');
      assert.equal(outcome.files, 1);
      assert.match(outcome.runKey!, /-inc-000001-a1$/);
      assert.ok(Date.now() - t0 < 10_000);
      const empty = await handle.executeUpdate(runNowUpdate);
      assert.equal(empty.status, 'empty');

      const s = await status(handle);
      assert.equal(s.intervalSeconds, 3600);
      assert.ok(s.nextCycleAt && Date.parse(s.nextCycleAt) > Date.now() + 3_000_000);
      const changed = await handle.executeUpdate(setIntervalUpdate, { args: [1] });
      assert.deepEqual(changed, { previousSeconds: 3600, intervalSeconds: 1 });
      f.landing.add('shard1_6_7.json');
      await statusWhere(handle, 'next cycle on the new interval', (st) => st.counters.filesApplied === 2, 10_000);
      await assert.rejects(
        handle.executeUpdate(setIntervalUpdate, { args: [0] }),
        (err: unknown) =>
          err instanceof WorkflowUpdateFailedError &&
          /whole number of seconds from 1 to 86400/.test(String(((err as Error).cause as Error | undefined)?.message)),
      );
      assert.equal((await status(handle)).intervalSeconds, 1);
      await handle.cancel();
    });
  });

  test('continueAsNew carries the whole state: watermark, counters, run numbering, pause', async () => {
    const f = createFakes();
    await withWorker(env, f, async (tq) => {
      const handle = await startIncremental(
        tq,
        testConfig({ schedule: { intervalSeconds: 1, continueAsNewAfterCycles: 3 } }),
      );
      const firstRunId = (await handle.describe()).runId;
      const added: string[] = [];
      for (let i = 0; i < 4; i++) {
        added.push(f.landing.add(`shard1_${i}0_${i}9.json`));
        await statusWhere(handle, `file ${i} applied`, (s) => s.counters.filesApplied === i + 1);
      }
      const s = await statusWhere(handle, 'continued as new twice', (st) => st.counters.continuedAsNew >= 2);
      const latest = env.client.workflow.getHandle(handle.workflowId);
      assert.notEqual((await latest.describe()).runId, firstRunId);
      assert.equal(s.counters.filesApplied, 4);
      assert.equal(s.counters.jobsSucceeded, 5); // initial load + 4 batches
      assert.equal(s.lastRuns.length, 5);
      assert.ok(s.workflow.cyclesSinceContinueAsNew < 3);
      assert.deepEqual(s.watermark!.openFolders, [{ folder: minuteFolder(f.clock.now()), filesTaken: 4 }]);
      const inc = runKeysOf(f).filter((k) => k.includes('-inc-'));
      assert.deepEqual(
        inc.map((k) => k.replace(/^.*-inc-/, '')),
        ['000001-a1', '000002-a1', '000003-a1', '000004-a1'],
      );
      assert.equal(new Set(runKeysOf(f).map((k) => k.split('-')[1])).size, 1, 'one generation across runs');
      assert.deepEqual(f.jobs.appliedFiles().sort(), added.map((k) => LANDING + k).sort());

      // A pause survives continueAsNew.
      await latest.signal(pauseSignal);
      await statusWhere(latest, 'paused', (st) => st.step === 'paused');
      await latest.cancel();
    });
  });

  test('late files: an open folder gets more files, a closed folder gets a late one (sweep); batches are capped; nothing is skipped', async () => {
    const f = createFakes();
    await withWorker(env, f, async (tq) => {
      const handle = await startIncremental(
        tq,
        testConfig({
          schedule: { intervalSeconds: 1, maxFilesPerBatch: 2 },
          landing: { location: LANDING, closeAfterSeconds: 120, sweepEveryCycles: 3, sweepMinutes: 30 },
        }),
      );
      const added: string[] = [];
      for (let i = 0; i < 5; i++) added.push(f.landing.add(`shard1_${i}00_${i}99.json`));
      const s1 = await statusWhere(handle, 'five files in capped batches', (s) => s.counters.filesApplied === 5);
      assert.ok(s1.lastRuns.filter((r) => r.kind === 'incremental').every((r) => r.files <= 2));
      const folderM = minuteFolder(f.clock.now());

      f.clock.advance(3 * MINUTE);
      await statusWhere(handle, 'folder M closed', (s) => s.watermark!.closedThrough >= folderM);
      // A writer broke its deadline: a file appears in the closed folder M.
      added.push(f.landing.add('shard9_1_2.json', folderM));
      const s2 = await statusWhere(handle, 'late file swept', (s) => s.counters.lateFilesApplied === 1);
      assert.equal(
        s2.counters.filesApplied,
        6,
        JSON.stringify(
          [...f.jobs.runs.values()].map((r) => [r.request.runKey, r.files]),
          null,
          1,
        ),
      );
      assert.ok(s2.watermark!.sweptAt !== null);
      // Later sweeps do not take it again.
      const applied = f.jobs.appliedFiles().length;
      await statusWhere(handle, 'more sweeps', (s) => s.counters.cycles >= s2.counters.cycles + 6);
      assert.equal(f.jobs.appliedFiles().length, applied);

      const appliedFiles = f.jobs.appliedFiles();
      assert.equal(new Set(appliedFiles).size, appliedFiles.length, 'no file applied twice');
      assert.deepEqual([...appliedFiles].sort(), added.map((k) => LANDING + k).sort());
      assert.deepEqual(f.jobs.overlaps(), []);
      await handle.cancel();
    });
  });

  test('stop (cancel) during a job stops the job and ends the workflow', async () => {
    const f = createFakes();
    f.jobs.durationMs = 60_000;
    await withWorker(env, f, async (tq) => {
      const handle = await start(tq, testConfig());
      const s = await statusWhere(handle, 'initial load running', (st) => st.currentRun?.kind === 'initialLoad');
      await handle.cancel();
      await assert.rejects(handle.result(), /cancel/i);
      const run = f.jobs.runs.get(s.currentRun!.runKey)!;
      assert.equal(run.state.status, 'stopped');
    });
  });

  test('a worker that dies during a job: the next worker picks up the same run instead of starting another', async () => {
    const f = createFakes();
    f.jobs.durationMs = 6000;
    const tq = newTaskQueue();
    const first = await testWorker(env, f, tq);
    const firstRun = first.worker.run();
    const handle = await start(tq, testConfig());
    const s = await statusWhere(handle, 'initial load running', (st) => st.currentRun?.kind === 'initialLoad');
    // The workflow records its current run as it schedules runJob: wait until the job has really started.
    await eventually(async () => (f.jobs.runs.has(s.currentRun!.runKey) ? true : undefined), 'the job started');
    first.worker.shutdown();
    await firstRun;
    await first.connection.close();
    assert.equal(
      f.jobs.runs.get(s.currentRun!.runKey)!.state.status,
      'running',
      'a worker shutdown does not stop the job',
    );

    await withWorker(
      env,
      f,
      async () => {
        await statusWhere(handle, 'incremental', (st) => st.phase === 'incremental', 30_000);
        assert.equal(f.jobs.starts, 1, 'one run started, not two');
        assert.equal(f.jobs.runs.get(s.currentRun!.runKey)!.state.status, 'succeeded');
        await handle.cancel();
      },
      tq,
    );
  });

  test('a table that does not qualify fails the workflow at once with a message naming each fix', async () => {
    const f = createFakes();
    f.inspector.table = { ...f.inspector.table!, pointInTimeRecovery: false, streamViewType: 'KEYS_ONLY' };
    await withWorker(env, f, async (tq) => {
      const handle = await start(tq, testConfig({ keyFields: ['account'] }));
      const err = await handle.result().then(
        () => assert.fail('the workflow should fail'),
        (e: unknown) => e as Error & { cause?: Error },
      );
      const message = String(err.cause?.message);
      assert.match(message, /point-in-time recovery is off for table "Transaction".*update-continuous-backups/);
      assert.match(message, /view type KEYS_ONLY.*NEW_AND_OLD_IMAGES/);
      assert.match(message, /keyFields \[account\] are not the key of table "Transaction" \(\[account, create_at\]\)/);
      assert.equal(f.exporter.starts.length, 0);
    });
  });

  test('a failed export is started again under a new client token', async () => {
    const f = createFakes();
    f.exporter.failTokenSuffixes = ['-e1'];
    await withWorker(env, f, async (tq) => {
      const handle = await startIncremental(tq, testConfig());
      assert.deepEqual(
        f.exporter.starts.map((r) => r.clientToken.replace(/^.*-/, '')),
        ['e1', 'e2'],
      );
      const s = await status(handle);
      assert.match(s.lastError!.message, /export .* failed: S3 access denied/);
      assert.equal(s.export!.status, 'COMPLETED');
      await handle.cancel();
    });
  });

  test('two pipelines on one worker run side by side', async () => {
    const f = createFakes();
    await withWorker(env, f, async (tq) => {
      const a = await start(tq, testConfig({ name: 'alpha' }), 'alpha');
      const b = await start(
        tq,
        testConfig({ name: 'beta', landing: { location: 's3://ddb-lake-local/landing/Beta/' } }),
        'beta',
      );
      await statusWhere(a, 'alpha incremental', (s) => s.phase === 'incremental');
      await statusWhere(b, 'beta incremental', (s) => s.phase === 'incremental');
      assert.deepEqual((await status(a)).pipeline, 'alpha');
      assert.ok(runKeysOf(f).some((k) => k.startsWith('alpha-')) && runKeysOf(f).some((k) => k.startsWith('beta-')));
      await a.cancel();
      await b.cancel();
    });
  });
});

describe('table maintenance (docs/table-types.md)', () => {
  test('merge-on-read: a compaction run of its own after N delta commits, between two batches, retried like a step', async () => {
    const f = createFakes();
    await withWorker(env, f, async (tq) => {
      const config = testConfig({
        lake: {
          location: '/tmp/ddb-lake-test-lake',
          tableType: 'MERGE_ON_READ',
          maintenance: { compactAfterDeltaCommits: 2, compactMaxIoMb: 64, retainCommits: 5 },
        },
      });
      const handle = await startIncremental(tq, config);
      const s0 = await status(handle);
      assert.equal(s0.lake?.type, 'MERGE_ON_READ');
      assert.equal(s0.lake?.deltaCommitsSinceCompaction, 0);

      f.landing.add('shard1_1_5.json');
      await statusWhere(handle, 'first batch', (s) => s.counters.filesApplied === 1);
      f.jobs.failNextMaintenance = 1; // the first compaction attempt fails: a counted failure, retried under -a2
      f.landing.add('shard1_6_9.json');
      const done = await statusWhere(handle, 'a compaction', (s) => (s.counters.compactions ?? 0) === 1);
      const keys = runKeysOf(f);
      const cmp = keys.filter((k) => /-cmp-/.test(k));
      assert.deepEqual(
        cmp.map((k) => k.replace(/^transaction-[0-9a-f]{8}-/, '')),
        ['cmp-000001-a1', 'cmp-000001-a2'],
        keys.join(', '),
      );
      // Right after the second delta commit, before any later batch.
      assert.equal(keys.indexOf(cmp[0]!), keys.findIndex((k) => /-inc-000002-a1$/.test(k)) + 1);
      assert.deepEqual(f.jobs.maintenanceRuns.at(-1), { runKey: cmp[1], compact: true, clean: true });
      assert.equal(done.lake?.last?.kind, 'compaction');
      assert.equal(done.lake?.last?.runKey, cmp[1]);
      assert.equal(done.lake?.deltaCommitsSinceCompaction, 0);
      assert.equal(done.lake?.due, null);
      assert.equal(done.counters.failures, 1);
      assert.equal(done.lastRuns[0]?.kind, 'compaction');
      assert.deepEqual(f.jobs.overlaps(), [], 'never two writers');

      // The manifest the run got: kind compaction, the configured bounds.
      const manifest = f.landing.manifest(
        [...f.landing.objects.keys()].find((k) => k.endsWith(`${cmp[1]}.json`) && k.includes('_manifests'))!,
      );
      assert.equal(manifest.kind, 'compaction');
      assert.deepEqual(manifest.compaction, { maxIoMb: 64, compact: true, clean: true, retainCommits: 5 });
      assert.equal(manifest.table.autoClean, false);
    });
  });

  test('copy-on-write: a clean run (no compaction) every N commits', async () => {
    const f = createFakes();
    await withWorker(env, f, async (tq) => {
      const config = testConfig({
        lake: {
          location: '/tmp/ddb-lake-test-lake',
          tableType: 'COPY_ON_WRITE',
          maintenance: { cleanAfterCommits: 2 },
        },
      });
      const handle = await startIncremental(tq, config);
      f.landing.add('shard1_1_5.json');
      await statusWhere(handle, 'first batch', (s) => s.counters.filesApplied === 1);
      f.landing.add('shard1_6_9.json');
      const s = await statusWhere(handle, 'a clean', (st) => (st.counters.cleans ?? 0) === 1);
      assert.equal(s.lake?.type, 'COPY_ON_WRITE');
      assert.equal(s.lake?.last?.kind, 'clean');
      assert.equal(s.counters.compactions ?? 0, 0);
      assert.deepEqual(
        f.jobs.maintenanceRuns.map((r) => [r.compact, r.clean]),
        [[false, true]],
      );
    });
  });
});
