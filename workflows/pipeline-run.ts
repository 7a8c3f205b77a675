/**
 * One run of the pipeline workflow (until continueAsNew): its state and one method per phase.
 * Deterministic code only; every side effect is an activity (activities/pipeline-activities.ts).
 *
 *   validate → export (start + await, or adopt) → initial load → loop {
 *     plan the batch after the watermark (writes its manifest) → run the job → advance the watermark
 *   }
 *
 * A failed step is retried with backoff under a new run key; when the retry budget is spent the
 * pipeline stalls (visible in `status`) holding the error and the watermark until `resume`.
 * The message handlers (pipeline.ts) only call the public methods below.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  workflowInfo,
  type WorkflowInfo,
} from '@temporalio/workflow';
import type { GapReport, RunFiles, ValidateResult } from '../activities/types';
import type { PipelineConfig } from '../core/config';
import { applyDelta, initialWatermark } from '../core/watermark';
import { pipelineActivities } from './activities';
import type {
  CycleOutcome,
  PipelineInput,
  PipelineState,
  PipelineStatus,
  RebackfillAccepted,
  RunKind,
} from './definitions';
import { Control } from './control';
import { exportStep } from './export-step';
import { describeFailure, GapsFound } from './failures';
import { maintenanceDue, maintenanceSpec, newTableTracking, type MaintenanceKind } from './maintenance';
import { JobRecorder } from './job-recorder';
import { buildStatus, exportClientToken, newState, runKeyFor, startRebackfill } from './state';

/** patched() id of the cycle changes (interval counted from the cycle's start; no job once paused). */
export const CYCLE_FROM_START_PATCH = 'cycle-from-start';
/** patched() id of the table's maintenance (compaction and cleaning runs scheduled by the workflow). */
export const TABLE_MAINTENANCE_PATCH = 'table-maintenance';

export class PipelineRun {
  private readonly config: PipelineConfig;
  private readonly info: WorkflowInfo;
  private readonly s: PipelineState;
  private readonly activities: ReturnType<typeof pipelineActivities>;
  private readonly jobs: JobRecorder;
  private readonly control: Control;
  /**
   * Runs recorded before this change replay on the old path (false); new runs record a marker first.
   * New path: the next cycle starts `intervalSeconds` after the previous cycle STARTED (a job longer
   * than the interval is followed at once), and a pause that arrives while planning starts no job.
   */
  private readonly cycleFromStart: boolean;
  /** Runs recorded before table maintenance existed never schedule it (their tables clean themselves). */
  private readonly maintains: boolean;

  // Live state (not carried over continueAsNew: it is rebuilt as the loop runs).
  private cyclesThisRun = 0;
  private cyclesStarted = 0;
  private cyclesFinished = 0;
  private lastOutcome: CycleOutcome | null = null;

  constructor(input: PipelineInput) {
    this.config = input.config;
    this.info = workflowInfo();
    this.s = input.state ?? newState(this.config, this.info.firstExecutionRunId, Date.now());
    this.cycleFromStart = patched(CYCLE_FROM_START_PATCH);
    this.maintains = patched(TABLE_MAINTENANCE_PATCH);
    // States carried over from runs of older code lack these.
    this.s.counters.rebackfills ??= 0;
    this.s.rebackfill ??= 0;
    this.s.lake ??= newTableTracking();
    this.activities = pipelineActivities(this.config);
    this.jobs = new JobRecorder(this.config, this.s, this.activities);
    this.control = new Control(this.config, this.s);
  }

  // ----- message handlers ------------------------------------------------------------------------

  pause(): void {
    this.s.paused = true;
  }

  resume(): void {
    this.s.paused = false;
    if (this.s.stalled) this.control.resumeRequested = true;
  }

  status(): PipelineStatus {
    return buildStatus(this.config, this.s, {
      step: this.control.step,
      currentRun: this.jobs.current,
      nextCycleAtMs: this.control.nextCycleAtMs,
      retryAtMs: this.control.retryAtMs,
      cyclesSinceContinueAsNew: this.cyclesThisRun,
      historyLength: workflowInfo().historyLength,
    });
  }

  checkRunNow(): void {
    const s = this.s;
    if (s.phase !== 'incremental')
      throw new Error(`the pipeline is in its ${s.phase} phase; run-now applies once incremental cycles have begun`);
    if (s.paused) throw new Error('the pipeline is paused; resume it first');
    if (s.stalled) throw new Error(`the pipeline is stalled (${s.stalled.error}); resume it first`);
  }

  async runNow(): Promise<CycleOutcome> {
    const s = this.s;
    const target = this.cyclesStarted + 1;
    this.control.runNowRequested = true;
    await condition(() => this.cyclesFinished >= target || s.paused || s.stalled !== null);
    if (this.cyclesFinished >= target && this.lastOutcome) return this.lastOutcome;
    return {
      status: s.paused ? 'paused' : 'stalled',
      runKey: null,
      files: 0,
      durationSeconds: 0,
      error: s.stalled?.error ?? null,
    };
  }

  checkRebackfill(): void {
    if (this.control.rebackfillRequested) throw new Error('a rebackfill is already under way');
    if (this.s.phase !== 'incremental')
      throw new Error(
        `the pipeline is in its ${this.s.phase} phase: it is loading the lake from ${(this.s.rebackfill ?? 0) > 0 ? 'a fresh export' : 'its export'} already; rebackfill applies once incremental cycles have begun`,
      );
  }

  /** Acted on at the next step boundary: a running job finishes first (never two writers). */
  requestRebackfill(): RebackfillAccepted {
    this.control.rebackfillRequested = true;
    return {
      rebackfill: (this.s.rebackfill ?? 0) + 1,
      previousExportArn: this.s.export?.exportArn ?? null,
      waitingForRun: this.jobs.current?.runKey ?? null,
    };
  }

  setInterval(seconds: number): { previousSeconds: number; intervalSeconds: number } {
    const previousSeconds = this.s.intervalSeconds;
    this.s.intervalSeconds = seconds;
    this.control.intervalVersion++;
    return { previousSeconds, intervalSeconds: seconds };
  }

  // ----- phases ----------------------------------------------------------------------------------

  /** The whole life of the pipeline: returns only through continueAsNew, cancellation or a fatal failure. */
  async run(): Promise<void> {
    const validated = await this.validatePhase();
    // The lake is loaded from an export, then kept up to date; a rebackfill starts over from a new export.
    for (;;) {
      await this.exportPhase(validated);
      await this.initialLoadPhase(validated);
      await this.incrementalPhase(validated);
      this.beginRebackfill();
    }
  }

  private async validatePhase(): Promise<ValidateResult> {
    const s = this.s;
    while (s.phase === 'validating') {
      this.control.step = 'validate';
      try {
        s.validated = await this.activities.quick.validatePipeline(this.config);
        s.phase = 'exporting';
        s.failures = 0;
      } catch (err) {
        // A config the table does not satisfy fails the workflow at once (PipelineInvalid); an
        // unreachable service is retried like any other step.
        await this.control.onFailure(err, null);
      }
    }
    return s.validated!;
  }

  private async exportPhase(validated: ValidateResult): Promise<void> {
    const s = this.s;
    while (s.phase === 'exporting') {
      await this.control.whileUnpaused();
      try {
        await exportStep(this.config, this.s, this.activities.exporting, {
          tableArn: validated.tableArn,
          clientToken: exportClientToken(this.info.firstExecutionRunId, this.s.exportAttempt),
          onStep: (step) => (this.control.step = step),
        });
        s.phase = 'initialLoad';
        s.failures = 0;
      } catch (err) {
        if (s.export?.status === 'FAILED' && !s.export.adopted) s.exportAttempt++;
        await this.control.onFailure(err, null);
      }
    }
  }

  private async initialLoadPhase(validated: ValidateResult): Promise<void> {
    const s = this.s;
    while (s.phase === 'initialLoad') {
      await this.control.whileUnpaused();
      const runKey = runKeyFor(this.config.name, s.generation, 'initialLoad', 0, s.runAttempt);
      try {
        const exp = s.export!;
        this.control.step = 'prepareInitialLoad';
        const run = await this.activities.quick.prepareInitialLoad({
          pipeline: this.config.name,
          runKey,
          landingUri: this.config.landing.location,
          table: validated.manifestTable,
          exportRoot: exp.root!,
          exportTimeMs: exp.exportTimeMs!,
        });
        await this.runJob(runKey, 'initialLoad', run, 0, 0);
        s.watermark = initialWatermark(exp.exportTimeMs!);
        s.appliedThroughMs = exp.exportTimeMs;
        s.phase = 'incremental';
        s.failures = 0;
        s.runAttempt = 1;
      } catch (err) {
        s.runAttempt++;
        await this.control.onFailure(err, runKey);
      }
    }
  }

  /** The incremental cycles; returns only when a rebackfill was asked for (between two steps). */
  private async incrementalPhase(validated: ValidateResult): Promise<void> {
    const s = this.s;
    for (;;) {
      await this.control.whileUnpaused();
      if (this.control.rebackfillRequested) return;
      const due = this.maintains ? maintenanceDue(s.lake!, this.config.lake.maintenance) : null;
      if (due) {
        // Between two batches, never beside one: the table has one writer (docs/table-types.md).
        await this.maintenanceStep(validated, due);
        continue;
      }
      this.cyclesStarted++;
      this.control.runNowRequested = false;
      const startedMs = Date.now();
      const runKey = runKeyFor(this.config.name, s.generation, 'incremental', s.seq, s.runAttempt);
      try {
        this.lastOutcome = await this.incrementalCycle(validated, runKey, startedMs);
        s.failures = 0;
      } catch (err) {
        this.cyclesFinished++;
        this.cyclesThisRun++;
        if (err instanceof GapsFound) {
          await this.stallOnGaps(err.gaps, runKey);
          continue;
        }
        s.runAttempt++;
        const durationSeconds = (Date.now() - startedMs) / 1000;
        this.lastOutcome = { status: 'failed', runKey, files: 0, durationSeconds, error: describeFailure(err) };
        await this.control.onFailure(err, runKey);
        continue;
      }
      this.cyclesFinished++;
      this.cyclesThisRun++;
      if (this.lastOutcome.status !== 'paused') s.counters.cycles++;
      if (!this.control.rebackfillRequested && this.timeToContinueAsNew() && allHandlersFinished()) {
        s.counters.continuedAsNew++;
        // A query that reaches this run after it closed is answered from its final state: keep that consistent with the counter.
        this.cyclesThisRun = 0;
        await continueAsNew<(input: PipelineInput) => Promise<void>>({ config: this.config, state: s });
      }
      await this.control.untilNextCycle(this.cycleFromStart ? startedMs : Date.now());
    }
  }

  private timeToContinueAsNew(): boolean {
    return this.cyclesThisRun >= this.config.schedule.continueAsNewAfterCycles || workflowInfo().continueAsNewSuggested;
  }

  private async incrementalCycle(validated: ValidateResult, runKey: string, startedMs: number): Promise<CycleOutcome> {
    const s = this.s;
    const config = this.config;
    const sweep = s.cyclesSinceSweep + 1 >= config.landing.sweepEveryCycles;
    this.control.step = 'plan';
    const plan = await this.activities.quick.planIncremental({
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
      // AWS: where Lambda records the stream batches it discarded (else the deployment's own setting).
      discardedBatches: config.landing.onFailureDestination
        ? { location: config.landing.onFailureDestination, tableArn: validated.tableArn }
        : null,
    });
    s.backlog = plan.backlog;
    if (plan.gaps && plan.gaps.length > 0) throw new GapsFound(plan.gaps);
    if (plan.run && s.paused && this.cycleFromStart) {
      // Paused while planning: no job starts. The watermark stays; the next cycle plans again (same run key).
      return {
        status: 'paused',
        runKey: null,
        files: 0,
        durationSeconds: (Date.now() - startedMs) / 1000,
        error: null,
      };
    }
    if (plan.run) await this.runJob(runKey, 'incremental', plan.run, plan.files, plan.sweptFiles);
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

  /** Compact (merge-on-read) or clean (copy-on-write) the table: a run of its own, retried like any step. */
  private async maintenanceStep(validated: ValidateResult, kind: MaintenanceKind): Promise<void> {
    const s = this.s;
    const lake = s.lake!;
    const runKey = runKeyFor(this.config.name, s.generation, 'compaction', lake.seq, lake.attempt);
    try {
      this.control.step = 'maintenance';
      const run = await this.activities.quick.prepareMaintenance({
        pipeline: this.config.name,
        runKey,
        landingUri: this.config.landing.location,
        table: validated.manifestTable,
        compaction: maintenanceSpec(kind, this.config.lake.maintenance),
      });
      await this.runJob(runKey, 'compaction', run, 0, 0);
      const c = s.runs[0]!;
      lake.last = { runKey, kind, finishedAt: c.finishedAt, ...this.jobs.lastMaintenanceFigures };
      lake.seq++;
      lake.attempt = 1;
      s.failures = 0;
      if (kind === 'compaction') s.counters.compactions = (s.counters.compactions ?? 0) + 1;
      else s.counters.cleans = (s.counters.cleans ?? 0) + 1;
    } catch (err) {
      lake.attempt++;
      await this.control.onFailure(err, runKey);
    }
  }

  /**
   * Start over from a fresh export (docs/gaps.md): a new generation of run keys, export, reload of
   * the lake in place by the initial load, the watermark from the new export. Nothing runs now: the
   * previous step has ended.
   */
  private beginRebackfill(): void {
    const s = this.s;
    this.control.rebackfillRequested = false;
    log.info('rebackfill', { rebackfill: (s.rebackfill ?? 0) + 1, previousExport: s.export?.exportArn ?? null });
    startRebackfill(s, this.info.firstExecutionRunId);
  }

  // ----- steps shared by the phases --------------------------------------------------------------

  /** Run one job to its end and record it; throws JobFailed unless it succeeded. */
  private async runJob(runKey: string, kind: RunKind, run: RunFiles, files: number, lateFiles: number): Promise<void> {
    this.control.step = 'job';
    await this.jobs.run(runKey, kind, run, files, lateFiles);
  }

  /** Stop on a gap until `resume` (re-check) or `rebackfill`; the watermark does not move. */
  private async stallOnGaps(gaps: GapReport[], runKey: string): Promise<void> {
    const s = this.s;
    const more = gaps.length > 1 ? ` (and ${gaps.length - 1} more)` : '';
    const message = `cannot prove every change reached the lake: ${gaps[0]!.message}${more}; nothing after it is applied until \`ddb-lake rebackfill ${this.config.name}\` reloads the lake from a fresh export`;
    s.lastError = { at: new Date().toISOString(), phase: s.phase, runKey, message };
    const since = new Date().toISOString();
    s.stalled = { since, phase: s.phase, runKey, attempts: 0, error: message, gaps: gaps.slice(0, 10) };
    this.lastOutcome = { status: 'stalled', runKey: null, files: 0, durationSeconds: 0, error: message };
    log.warn('stream gap', { runKey, gaps: gaps.length, first: gaps[0]!.message });
    await this.control.stallUntilResumed();
  }
}
