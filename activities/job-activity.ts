import { CancelledFailure, Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { sleepHeartbeating } from './heartbeat';
import type { JobRef, JobRunState, JobSpec } from './job-runner';
import type { PipelineServices } from './services';
import type { JobOutcome, RunJobRequest } from './types';

/** Run one job to its end through the environment's JobRunner (never two writers per pipeline). */
export function jobActivities({ manifests, jobRunner, metrics }: PipelineServices) {
  return {
    /**
     * Start the job (idempotent by runKey: a retry after a worker crash finds the run already
     * started) and wait for it, heartbeating. Cancellation stops the job. A job that fails is a
     * result, not an activity failure: the workflow decides about retries.
     */
    async runJob(request: RunJobRequest): Promise<JobOutcome> {
      const ctx = Context.current();
      const { runKey, kind, job } = request;
      const digest = await manifests.digest(request.run.manifestUri);
      if (digest !== request.run.manifestSha256)
        throw ApplicationFailure.nonRetryable(
          `manifest ${request.run.manifestUri} is not the one planned for ${runKey}; the batch will be planned again`,
          'ManifestChanged',
        );

      await waitForOtherRuns(request);
      const spec: JobSpec = {
        kind,
        glueJobName: job.glueJobName,
        script: job.script,
        pipeline: request.pipeline,
        ...(job.engine ? { engine: job.engine } : {}),
      };
      let state = await jobRunner.start(spec, { runKey, manifestUri: request.run.manifestUri });
      ctx.log.info('job running', { runKey, runId: state.runId, kind });
      const deadline = Date.parse(state.startedAt) + job.timeoutMinutes * 60_000;
      let timedOut = false;
      // A runner that can tell when a run ends wakes the loop at once (local: ~1-2 s earlier per job).
      const watch = jobRunner.watchForEnd?.(spec, runKey);
      let endSeen = false;
      void watch?.ended.then(() => (endSeen = true));
      try {
        // Check soon after the start, then less often (¼ s, ½ s, 1 s, … up to the poll interval):
        // a short job is seen to end at once, a long one costs few status calls.
        for (let polls = 0; state.status === 'running'; polls++) {
          await sleepHeartbeating(
            ctx,
            metrics,
            Math.min(job.pollIntervalSeconds * 1000, 250 * 2 ** polls),
            { runKey, runId: state.runId },
            endSeen ? undefined : watch?.ended,
          );
          state = await jobRunner.get(spec, runKey);
          if (state.status === 'running' && Date.now() > deadline) {
            timedOut = true;
            await jobRunner.stop(spec, runKey);
            state = await jobRunner.get(spec, runKey);
          }
        }
      } catch (err) {
        // Only a cancellation the workflow asked for stops the job. On a worker shutdown or a
        // heartbeat timeout the job keeps running and the retried activity picks it up by runKey.
        if (
          (err instanceof CancelledFailure || ctx.cancellationSignal.aborted) &&
          ctx.cancellationDetails?.cancelRequested
        ) {
          ctx.log.info('cancelled: stopping the job', { runKey });
          await jobRunner.stop(spec, runKey);
        }
        throw err;
      } finally {
        watch?.close();
      }
      const summary = state.status === 'succeeded' ? await manifests.readSummary(request.run.summaryUri) : null;
      const seconds = state.finishedAt
        ? Math.round((Date.parse(state.finishedAt) - Date.parse(state.startedAt)) / 100) / 10
        : null;
      ctx.log.info('job ended', {
        runKey,
        runId: state.runId,
        status: state.status,
        seconds,
        ...(state.error ? { error: state.error.split('\n')[0] } : {}),
      });
      return {
        runKey,
        runId: state.runId,
        status: state.status === 'succeeded' ? 'succeeded' : state.status === 'stopped' ? 'stopped' : 'failed',
        startedAt: state.startedAt,
        finishedAt: state.finishedAt ?? new Date().toISOString(),
        error: timedOut
          ? `ran longer than ${job.timeoutMinutes} minutes and was stopped`
          : (state.error ?? errorOf(state)),
        logLocation: state.logLocation ?? null,
        counts: summary
          ? {
              recordsRead: summary.recordsRead,
              upserted: summary.upserted,
              deleted: summary.deleted,
              rejected: summary.rejected,
              durationSeconds: summary.durationSeconds,
              commitInstant: summary.commitInstant,
              rejectedUri: summary.rejectedUri ?? null,
              ...pick(summary, [
                'tableType',
                'deltaCommitsSinceCompaction',
                'logBytesSinceCompaction',
                'compactionInstant',
                'fileGroupsCompacted',
                'cleanInstant',
                'filesCleaned',
              ]),
            }
          : null,
      };
    },
  };

  /**
   * Never two writers: a run of this pipeline under another key (an abandoned attempt, or an
   * incremental run still going when a rebackfill's initial load starts) must end first.
   */
  async function waitForOtherRuns(request: RunJobRequest): Promise<void> {
    const ctx = Context.current();
    const ours = new RegExp(`^${escapeRegExp(request.pipeline)}-[0-9a-f]{8}-(init|inc|cmp)-`);
    const jobs: JobRef[] = request.otherJobs
      ? [
          { kind: 'initialLoad', glueJobName: request.otherJobs.initialLoad },
          { kind: 'incremental', glueJobName: request.otherJobs.incremental },
        ]
      : [{ kind: request.kind, glueJobName: request.job.glueJobName }];
    for (;;) {
      const running = (await Promise.all(jobs.map((job) => jobRunner.listRunning(job)))).flat();
      const others = running.filter((r) => r.runKey !== request.runKey && ours.test(r.runKey));
      if (others.length === 0) return;
      ctx.log.warn('waiting for an earlier run of this pipeline to end', { runKeys: others.map((r) => r.runKey) });
      await sleepHeartbeating(ctx, metrics, request.job.pollIntervalSeconds * 1000, {
        waitingFor: others.map((r) => r.runKey),
      });
    }
  }
}

function errorOf(state: JobRunState): string | null {
  if (state.status === 'succeeded' || state.status === 'running') return null;
  return `job ${state.status} without an error message${state.logLocation ? `; see ${state.logLocation}` : ''}`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The fields of `from` that are set (the summary of one kind of run has only some of them). */
function pick<T extends object, K extends keyof T>(from: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (from[k] !== undefined) out[k] = from[k];
  return out;
}
