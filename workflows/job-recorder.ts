/**
 * Runs one job through the runJob activity and records it: the current run for `status`, the run
 * record and the counters of the pipeline state. Deterministic (workflow code).
 */
import { isCancellation } from '@temporalio/workflow';
import type { JobOutcome, RunFiles } from '../activities/types';
import type { PipelineConfig } from '../core/config';
import type { pipelineActivities } from './activities';
import type { PipelineState, PipelineStatus, RunKind, RunRecord } from './definitions';
import { describeFailure, JobFailed } from './failures';
import { trackRun } from './maintenance';
import { pushRun } from './state';

export class JobRecorder {
  /** The job running now, for `status`. */
  current: PipelineStatus['currentRun'] = null;
  /** What the last succeeded run compacted and cleaned (maintenance runs report these). */
  lastMaintenanceFigures: { fileGroupsCompacted: number | null; filesCleaned: number | null } = {
    fileGroupsCompacted: null,
    filesCleaned: null,
  };

  constructor(
    private readonly config: PipelineConfig,
    private readonly s: PipelineState,
    private readonly activities: ReturnType<typeof pipelineActivities>,
  ) {}

  /** Run the job to its end and record it; throws JobFailed unless it succeeded. */
  async run(runKey: string, kind: RunKind, run: RunFiles, files: number, lateFiles: number): Promise<void> {
    const { config, s } = this;
    const startedMs = Date.now();
    const startedAt = new Date(startedMs).toISOString();
    this.current = { runKey, kind, files, startedAt };
    // A compaction runs on the incremental job (same script, same one-run-per-pipeline slot).
    const jobKind = kind === 'initialLoad' ? 'initialLoad' : 'incremental';
    const spec = config.jobs[jobKind];
    const runJob = jobKind === 'initialLoad' ? this.activities.runInitialJob : this.activities.runIncrementalJob;
    const record = (fields: Pick<RunRecord, 'status' | 'error'> & Partial<RunRecord>): RunRecord => ({
      runKey,
      kind,
      files,
      lateFiles,
      startedAt,
      finishedAt: new Date().toISOString(),
      durationSeconds: (Date.now() - startedMs) / 1000,
      recordsRead: null,
      upserted: null,
      deleted: null,
      rejected: null,
      ...fields,
    });
    let outcome: JobOutcome;
    try {
      outcome = await runJob({
        pipeline: config.name,
        runKey,
        kind: jobKind,
        job: spec,
        run,
        otherJobs: {
          initialLoad: config.jobs.initialLoad.glueJobName,
          incremental: config.jobs.incremental.glueJobName,
        },
      });
    } catch (err) {
      if (!isCancellation(err)) s.runs = pushRun(s.runs, record({ status: 'error', error: describeFailure(err) }));
      throw err;
    } finally {
      this.current = null;
    }
    const c = outcome.counts;
    s.runs = pushRun(
      s.runs,
      record({
        status: outcome.status,
        error: outcome.error,
        recordsRead: c?.recordsRead ?? null,
        upserted: c?.upserted ?? null,
        deleted: c?.deleted ?? null,
        rejected: c?.rejected ?? null,
        ...(c?.rejectedUri ? { rejectedUri: c.rejectedUri } : {}),
      }),
    );
    if (outcome.status !== 'succeeded') {
      s.counters.jobsFailed++;
      throw new JobFailed(outcome);
    }
    s.counters.jobsSucceeded++;
    if (s.lake) trackRun(s.lake, kind, c);
    this.lastMaintenanceFigures = {
      fileGroupsCompacted: c?.fileGroupsCompacted ?? null,
      filesCleaned: c?.filesCleaned ?? null,
    };
    if (c) {
      s.counters.recordsRead += c.recordsRead;
      s.counters.upserted += c.upserted;
      s.counters.deleted += c.deleted;
      s.counters.rejected += c.rejected;
    }
  }
}
