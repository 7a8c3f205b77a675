/**
 * The pipeline workflow: one per table, id = pipeline name. Deterministic code only; every side
 * effect is an activity (activities/pipeline-activities.ts).
 *
 *   validate → export (start + await, or adopt) → initial load → loop {
 *     plan the batch after the watermark (writes its manifest) → run the job → advance the watermark
 *   }
 *
 * A failed step is retried with backoff under a new run key; when the retry budget is spent the
 * pipeline stalls (visible in `status`) holding the error and the watermark until `resume`.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
  TimeoutFailure,
} from '@temporalio/workflow';
import type { PipelineActivities } from '../activities/pipeline-activities';
import type { ExportInfo, GapReport, JobOutcome, RunFiles } from '../activities/types';
import { applyDelta, initialWatermark } from '../core/watermark';
import {
  pauseSignal,
  rebackfillUpdate,
  resumeSignal,
  runNowUpdate,
  setIntervalUpdate,
  statusQuery,
  type CycleOutcome,
  type ExportRecord,
  type PipelineInput,
  type PipelineState,
  type PipelineStatus,
  type RebackfillAccepted,
  type Step,
} from './definitions';
import { backoffMs, buildStatus, exportClientToken, newState, pushRun, rebackfillGeneration, runKeyFor } from './state';

/** A job that ended without success (the activity itself succeeded). */
class JobFailed extends Error {
  constructor(readonly outcome: JobOutcome) {
    super(`job ${outcome.runKey} ${outcome.status}: ${outcome.error ?? 'no error message'}`);
    this.name = 'JobFailed';
  }
}

/** patched() id of the cycle changes (interval counted from the cycle's start; no job once paused). */
export const CYCLE_FROM_START_PATCH = 'cycle-from-start';

/** The planner cannot prove every change reached the landing zone (docs/gaps.md). */
class GapsFound extends Error {
  constructor(readonly gaps: GapReport[]) {
    super(gaps[0]?.message ?? 'stream gap');
    this.name = 'GapsFound';
  }
}

/** Failures that mean the config is wrong: the workflow fails instead of retrying. */
const FATAL_TYPES = new Set(['PipelineInvalid', 'ExportMismatch']);

export async function pipelineWorkflow(input: PipelineInput): Promise<void> {
  const { config } = input;
  const info = workflowInfo();
  const s: PipelineState = input.state ?? newState(config, info.firstExecutionRunId, Date.now());
  // Runs recorded before this change replay on the old path (false); new runs record a marker first.
  // New path: the next cycle starts `intervalSeconds` after the previous cycle STARTED (a job longer
  // than the interval is followed at once), and a pause that arrives while planning starts no job.
  const cycleFromStart = patched(CYCLE_FROM_START_PATCH);
  // States carried over from runs of older code lack these.
  s.counters.rebackfills ??= 0;
  s.rebackfill ??= 0;

  const retry = { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds' } as const;
  // Heartbeat timeouts bound how long a killed worker's activity stays unnoticed: the activities
  // heartbeat at least every 5 s while they wait (pipeline-activities.ts), so a restarted worker picks
  // the step up ~15-30 s after the old one died. Timeouts are not part of replay: changing them is safe.
  const quick = proxyActivities<PipelineActivities>({
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { ...retry, maximumAttempts: 5 },
  });
  const exporting = proxyActivities<PipelineActivities>({
    startToCloseTimeout: '48 hours',
    heartbeatTimeout: '2 minutes',
    retry: { ...retry, maximumAttempts: 10 },
  });
  const jobActivity = (timeoutMinutes: number) =>
    proxyActivities<PipelineActivities>({
      startToCloseTimeout: `${timeoutMinutes + 30} minutes`,
      heartbeatTimeout: '15 seconds',
      // A cancelled pipeline waits for its job to be stopped before it ends.
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      retry: { ...retry, maximumAttempts: 10 },
    }).runJob;
  const runInitialJob = jobActivity(config.jobs.initialLoad.timeoutMinutes);
  const runIncrementalJob = jobActivity(config.jobs.incremental.timeoutMinutes);

  // Live state (not carried over continueAsNew: it is rebuilt as the loop runs).
  let step: Step = 'validate';
  let currentRun: PipelineStatus['currentRun'] = null;
  let nextCycleAtMs: number | null = null;
  let retryAtMs: number | null = null;
  let cyclesThisRun = 0;
  let cyclesStarted = 0;
  let cyclesFinished = 0;
  let lastOutcome: CycleOutcome | null = null;
  let runNowRequested = false;
  let resumeRequested = false;
  let rebackfillRequested = false;
  let intervalVersion = 0;

  setHandler(pauseSignal, () => {
    s.paused = true;
  });
  setHandler(resumeSignal, () => {
    s.paused = false;
    if (s.stalled) resumeRequested = true;
  });
  setHandler(statusQuery, () =>
    buildStatus(config, s, {
      step,
      currentRun,
      nextCycleAtMs,
      retryAtMs,
      cyclesSinceContinueAsNew: cyclesThisRun,
      historyLength: workflowInfo().historyLength,
    }),
  );
  setHandler(
    runNowUpdate,
    async (): Promise<CycleOutcome> => {
      const target = cyclesStarted + 1;
      runNowRequested = true;
      await condition(() => cyclesFinished >= target || s.paused || s.stalled !== null);
      if (cyclesFinished >= target && lastOutcome) return lastOutcome;
      return {
        status: s.paused ? 'paused' : 'stalled',
        runKey: null,
        files: 0,
        durationSeconds: 0,
        error: s.stalled?.error ?? null,
      };
    },
    {
      validator: () => {
        if (s.phase !== 'incremental')
          throw new Error(
            `the pipeline is in its ${s.phase} phase; run-now applies once incremental cycles have begun`,
          );
        if (s.paused) throw new Error('the pipeline is paused; resume it first');
        if (s.stalled) throw new Error(`the pipeline is stalled (${s.stalled.error}); resume it first`);
      },
    },
  );
  setHandler(
    rebackfillUpdate,
    (): RebackfillAccepted => {
      // Acted on at the next step boundary: a running job finishes first (never two writers).
      rebackfillRequested = true;
      return {
        rebackfill: (s.rebackfill ?? 0) + 1,
        previousExportArn: s.export?.exportArn ?? null,
        waitingForRun: currentRun?.runKey ?? null,
      };
    },
    {
      validator: () => {
        if (rebackfillRequested) throw new Error('a rebackfill is already under way');
        if (s.phase !== 'incremental')
          throw new Error(
            `the pipeline is in its ${s.phase} phase: it is loading the lake from ${(s.rebackfill ?? 0) > 0 ? 'a fresh export' : 'its export'} already; rebackfill applies once incremental cycles have begun`,
          );
      },
    },
  );
  setHandler(
    setIntervalUpdate,
    (seconds: number) => {
      const previousSeconds = s.intervalSeconds;
      s.intervalSeconds = seconds;
      intervalVersion++;
      return { previousSeconds, intervalSeconds: seconds };
    },
    {
      validator: (seconds: number) => {
        if (!Number.isInteger(seconds) || seconds < 1 || seconds > 86400)
          throw new Error(`the interval must be a whole number of seconds from 1 to 86400, not ${String(seconds)}`);
      },
    },
  );

  while (s.phase === 'validating') {
    step = 'validate';
    try {
      s.validated = await quick.validatePipeline(config);
      s.phase = 'exporting';
      s.failures = 0;
    } catch (err) {
      // A config the table does not satisfy fails the workflow at once (PipelineInvalid); an
      // unreachable service is retried like any other step.
      await onFailure(err, null);
    }
  }
  const validated = s.validated!;

  // The lake is loaded from an export, then kept up to date; a rebackfill starts over from a new export.
  for (;;) {
    while (s.phase === 'exporting') {
      await whileUnpaused();
      try {
        await exportStep();
        s.phase = 'initialLoad';
        s.failures = 0;
      } catch (err) {
        if (s.export?.status === 'FAILED' && !s.export.adopted) s.exportAttempt++;
        await onFailure(err, null);
      }
    }

    while (s.phase === 'initialLoad') {
      await whileUnpaused();
      const runKey = runKeyFor(config.name, s.generation, 'initialLoad', 0, s.runAttempt);
      try {
        const exp = s.export!;
        step = 'prepareInitialLoad';
        const run = await quick.prepareInitialLoad({
          pipeline: config.name,
          runKey,
          landingUri: config.landing.location,
          table: validated.manifestTable,
          exportRoot: exp.root!,
          exportTimeMs: exp.exportTimeMs!,
        });
        await runJob(runKey, 'initialLoad', run, 0, 0);
        s.watermark = initialWatermark(exp.exportTimeMs!);
        s.appliedThroughMs = exp.exportTimeMs;
        s.phase = 'incremental';
        s.failures = 0;
        s.runAttempt = 1;
      } catch (err) {
        s.runAttempt++;
        await onFailure(err, runKey);
      }
    }

    await incrementalLoop();
    beginRebackfill();
  }

  /** The incremental cycles; returns only when a rebackfill was asked for (between two steps). */
  async function incrementalLoop(): Promise<void> {
    for (;;) {
      await whileUnpaused();
      if (rebackfillRequested) return;
      cyclesStarted++;
      runNowRequested = false;
      const startedMs = Date.now();
      const runKey = runKeyFor(config.name, s.generation, 'incremental', s.seq, s.runAttempt);
      try {
        lastOutcome = await incrementalCycle(runKey, startedMs);
        s.failures = 0;
      } catch (err) {
        if (err instanceof GapsFound) {
          cyclesFinished++;
          cyclesThisRun++;
          await stallOnGaps(err.gaps, runKey);
          continue;
        }
        s.runAttempt++;
        lastOutcome = {
          status: 'failed',
          runKey,
          files: 0,
          durationSeconds: (Date.now() - startedMs) / 1000,
          error: describeFailure(err),
        };
        cyclesFinished++;
        cyclesThisRun++;
        await onFailure(err, runKey);
        continue;
      }
      cyclesFinished++;
      cyclesThisRun++;
      if (lastOutcome.status !== 'paused') s.counters.cycles++;
      if (
        !rebackfillRequested &&
        (cyclesThisRun >= config.schedule.continueAsNewAfterCycles || workflowInfo().continueAsNewSuggested) &&
        allHandlersFinished()
      ) {
        s.counters.continuedAsNew++;
        // A query that reaches this run after it closed is answered from its final state: keep that consistent with the counter.
        cyclesThisRun = 0;
        await continueAsNew<typeof pipelineWorkflow>({ config, state: s });
      }
      await untilNextCycle(cycleFromStart ? startedMs : Date.now());
    }
  }

  /**
   * Start over from a fresh export (docs/gaps.md): a new generation of run keys, export, reload of
   * the lake in place by the initial load, the watermark from the new export. Nothing runs now: the
   * previous step has ended.
   */
  function beginRebackfill(): void {
    rebackfillRequested = false;
    s.rebackfill = (s.rebackfill ?? 0) + 1;
    s.counters.rebackfills++;
    log.info('rebackfill', { rebackfill: s.rebackfill, previousExport: s.export?.exportArn ?? null });
    s.generation = rebackfillGeneration(info.firstExecutionRunId, s.rebackfill);
    s.phase = 'exporting';
    s.export = null;
    s.exportAttempt++;
    s.watermark = null;
    s.appliedThroughMs = null;
    s.backlog = null;
    s.seq = 1;
    s.runAttempt = 1;
    s.failures = 0;
    s.stalled = null;
    s.paused = false;
    s.cyclesSinceSweep = 0;
  }

  /** Stop on a gap until `resume` (re-check) or `rebackfill`; the watermark does not move. */
  async function stallOnGaps(gaps: GapReport[], runKey: string): Promise<void> {
    const more = gaps.length > 1 ? ` (and ${gaps.length - 1} more)` : '';
    const message = `cannot prove every change reached the lake: ${gaps[0]!.message}${more}; nothing after it is applied until \`ddb-lake rebackfill ${config.name}\` reloads the lake from a fresh export`;
    s.lastError = { at: new Date().toISOString(), phase: s.phase, runKey, message };
    s.stalled = {
      since: new Date().toISOString(),
      phase: s.phase,
      runKey,
      attempts: 0,
      error: message,
      gaps: gaps.slice(0, 10),
    };
    lastOutcome = { status: 'stalled', runKey: null, files: 0, durationSeconds: 0, error: message };
    log.warn('stream gap', { runKey, gaps: gaps.length, first: gaps[0]!.message });
    step = 'stalled';
    resumeRequested = false;
    await condition(() => resumeRequested || rebackfillRequested);
    resumeRequested = false;
    s.stalled = null;
  }

  async function exportStep(): Promise<void> {
    const location = exportLocationOf(config.export.location);
    // A rebackfill always takes a fresh export (the adopted one is what it replaces).
    const adopt = s.rebackfill ? null : (config.export.existingExportArn ?? null);
    if (!s.export || s.export.status === 'FAILED') {
      let result: ExportInfo;
      if (adopt) {
        step = 'awaitExport';
        result = await exporting.awaitExport({
          exportArn: adopt,
          location,
          pollIntervalSeconds: config.export.pollIntervalSeconds,
          adoptForTableArn: validated.tableArn,
        });
      } else {
        step = 'startExport';
        result = await exporting.startExport({
          tableArn: validated.tableArn,
          tableName: config.table,
          location,
          clientToken: exportClientToken(info.firstExecutionRunId, s.exportAttempt),
        });
      }
      s.export = exportRecord(result, adopt !== null);
    }
    if (s.export.status === 'IN_PROGRESS') {
      step = 'awaitExport';
      const result = await exporting.awaitExport({
        exportArn: s.export.exportArn,
        location,
        pollIntervalSeconds: config.export.pollIntervalSeconds,
        adoptForTableArn: s.export.adopted ? validated.tableArn : null,
      });
      s.export = exportRecord(result, s.export.adopted);
    }
    if (s.export.status === 'FAILED')
      throw new Error(`export ${s.export.exportArn} failed: ${s.export.failure ?? 'no reason given'}`);
    if (s.export.exportTimeMs === null || s.export.root === null)
      throw new Error(`export ${s.export.exportArn} completed without an export time or manifest`);
  }

  async function incrementalCycle(runKey: string, startedMs: number): Promise<CycleOutcome> {
    const sweep = s.cyclesSinceSweep + 1 >= config.landing.sweepEveryCycles;
    step = 'plan';
    const plan = await quick.planIncremental({
      pipeline: config.name,
      runKey,
      landingUri: config.landing.location,
      table: validated.manifestTable,
      watermark: s.watermark!,
      sweep,
      sweepMinutes: config.landing.sweepMinutes,
      closeAfterSeconds: config.landing.closeAfterSeconds,
      maxFiles: config.schedule.maxFilesPerBatch,
      gapsFromMs: s.export?.exportTimeMs ?? null,
    });
    s.backlog = plan.backlog;
    if (plan.gaps && plan.gaps.length > 0) throw new GapsFound(plan.gaps);
    if (plan.run && s.paused && cycleFromStart) {
      // Paused while planning: no job starts. The watermark stays; the next cycle plans again (same run key).
      return {
        status: 'paused',
        runKey: null,
        files: 0,
        durationSeconds: (Date.now() - startedMs) / 1000,
        error: null,
      };
    }
    if (plan.run) await runJob(runKey, 'incremental', plan.run, plan.files, plan.sweptFiles);
    // Only now, with the batch applied (or nothing to apply), does the watermark move.
    s.watermark = applyDelta(s.watermark!, plan.delta);
    if (plan.appliedThroughMs !== null) s.appliedThroughMs = plan.appliedThroughMs;
    s.cyclesSinceSweep = sweep && plan.delta.sweptAtMs !== null ? 0 : s.cyclesSinceSweep + 1;
    const durationSeconds = (Date.now() - startedMs) / 1000;
    if (!plan.run) {
      s.counters.emptyCycles++;
      return { status: 'empty', runKey: null, files: 0, durationSeconds, error: null };
    }
    s.seq++;
    s.runAttempt = 1;
    s.counters.filesApplied += plan.files;
    s.counters.lateFilesApplied += plan.sweptFiles;
    return { status: 'succeeded', runKey, files: plan.files, durationSeconds, error: null };
  }

  /** Run one job to its end and record it; throws JobFailed unless it succeeded. */
  async function runJob(
    runKey: string,
    kind: 'initialLoad' | 'incremental',
    run: RunFiles,
    files: number,
    lateFiles: number,
  ): Promise<void> {
    step = 'job';
    const startedMs = Date.now();
    currentRun = { runKey, kind, files, startedAt: new Date(startedMs).toISOString() };
    const spec = kind === 'initialLoad' ? config.jobs.initialLoad : config.jobs.incremental;
    let outcome: JobOutcome;
    try {
      outcome = await (kind === 'initialLoad' ? runInitialJob : runIncrementalJob)({
        pipeline: config.name,
        runKey,
        kind,
        job: spec,
        run,
        otherJobs: {
          initialLoad: config.jobs.initialLoad.glueJobName,
          incremental: config.jobs.incremental.glueJobName,
        },
      });
    } catch (err) {
      if (!isCancellation(err)) {
        s.runs = pushRun(s.runs, {
          runKey,
          kind,
          status: 'error',
          files,
          lateFiles,
          startedAt: currentRun.startedAt,
          finishedAt: new Date().toISOString(),
          durationSeconds: (Date.now() - startedMs) / 1000,
          recordsRead: null,
          upserted: null,
          deleted: null,
          rejected: null,
          error: describeFailure(err),
        });
      }
      throw err;
    } finally {
      currentRun = null;
    }
    const c = outcome.counts;
    s.runs = pushRun(s.runs, {
      runKey,
      kind,
      status: outcome.status,
      files,
      lateFiles,
      startedAt: new Date(startedMs).toISOString(),
      finishedAt: new Date().toISOString(),
      durationSeconds: (Date.now() - startedMs) / 1000,
      recordsRead: c?.recordsRead ?? null,
      upserted: c?.upserted ?? null,
      deleted: c?.deleted ?? null,
      rejected: c?.rejected ?? null,
      error: outcome.error,
      ...(c?.rejectedUri ? { rejectedUri: c.rejectedUri } : {}),
    });
    if (outcome.status !== 'succeeded') {
      s.counters.jobsFailed++;
      throw new JobFailed(outcome);
    }
    s.counters.jobsSucceeded++;
    if (c) {
      s.counters.recordsRead += c.recordsRead;
      s.counters.upserted += c.upserted;
      s.counters.deleted += c.deleted;
      s.counters.rejected += c.rejected;
    }
  }

  /** Count a failure; back off, or stall until `resume` once the budget is spent. Nothing is skipped. */
  async function onFailure(err: unknown, runKey: string | null): Promise<void> {
    if (isCancellation(err)) throw err;
    const message = describeFailure(err);
    const root = rootFailure(err);
    if (root instanceof ApplicationFailure && root.type && FATAL_TYPES.has(root.type))
      throw ApplicationFailure.nonRetryable(message, root.type);
    s.failures++;
    s.counters.failures++;
    s.lastError = { at: new Date().toISOString(), phase: s.phase, runKey, message };
    log.warn('pipeline step failed', { phase: s.phase, runKey, failures: s.failures, message });
    const hopeless = root instanceof ApplicationFailure && root.nonRetryable;
    if (s.failures >= config.retry.maxAttempts || hopeless) {
      s.stalled = { since: new Date().toISOString(), phase: s.phase, runKey, attempts: s.failures, error: message };
      step = 'stalled';
      resumeRequested = false;
      await condition(() => resumeRequested || rebackfillRequested);
      resumeRequested = false;
      s.stalled = null;
      s.failures = 0;
      return;
    }
    step = 'backoff';
    const delay = backoffMs(config.retry, s.failures);
    retryAtMs = Date.now() + delay;
    await condition(() => runNowRequested || rebackfillRequested, delay);
    retryAtMs = null;
  }

  async function whileUnpaused(): Promise<void> {
    if (!s.paused) return;
    step = 'paused';
    await condition(() => !s.paused || rebackfillRequested);
  }

  /**
   * Wait until `intervalSeconds` after `fromMs` (the cycle's start; the end on the old path); no
   * timer at all when that time has passed. `runNow`, `pause` and a new interval cut it short.
   */
  async function untilNextCycle(fromMs: number): Promise<void> {
    step = 'sleep';
    for (;;) {
      nextCycleAtMs = fromMs + s.intervalSeconds * 1000;
      const remaining = nextCycleAtMs - Date.now();
      if (remaining <= 0 || runNowRequested || s.paused || rebackfillRequested) break;
      const version = intervalVersion;
      const woken = await condition(
        () => runNowRequested || s.paused || rebackfillRequested || intervalVersion !== version,
        remaining,
      );
      if (!woken) break;
    }
    nextCycleAtMs = null;
  }
}

function exportRecord(e: ExportInfo, adopted: boolean): ExportRecord {
  return {
    exportArn: e.exportArn,
    status: e.status,
    exportTimeMs: e.exportTimeMs,
    root: e.root,
    itemCount: e.itemCount,
    failure: e.failure,
    adopted,
  };
}

/** `s3://bucket/prefix/` → bucket and prefix without a trailing slash (no node modules in workflow code). */
function exportLocationOf(uri: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw ApplicationFailure.nonRetryable(`export.location ${uri} is not an S3 URI`, 'PipelineInvalid');
  return { bucket: m[1]!, prefix: m[2]!.replace(/\/+$/, '') };
}

function rootFailure(err: unknown): unknown {
  return err instanceof ActivityFailure && err.cause ? err.cause : err;
}

/** One readable sentence for a failure (the activity's own message, not the SDK's wrapper). */
export function describeFailure(err: unknown): string {
  if (err instanceof JobFailed) return err.message;
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    if (cause instanceof TimeoutFailure)
      return `activity ${err.activityType} timed out (${cause.timeoutType ?? 'timeout'})`;
    if (cause) return cause.message;
    return `activity ${err.activityType} failed`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
