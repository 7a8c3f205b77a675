import { Context, CancelledFailure } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { parseS3Uri } from '../core/aws';
import type { PipelineConfig } from '../core/config';
import { LANDING_RESERVED } from '../core/landing';
import { manifestTable, type JobManifest } from '../core/manifest';
import { listedEnough, listingStartFolder, planBatch } from '../core/planner';
import { exportRoot, type ExportState } from './exporter';
import type { JobRunState } from './job-runner';
import type { PipelineServices } from './services';
import type {
  AwaitExportRequest,
  ExportInfo,
  JobOutcome,
  PlanRequest,
  PlanResult,
  PrepareInitialLoadRequest,
  RunFiles,
  RunJobRequest,
  StartExportRequest,
  ValidateResult,
} from './types';
import { tableKeyFields, tableProblems } from './validation';

/**
 * The pipeline's activities: the only code of the pipeline that touches AWS or Spark. Each is
 * idempotent (a retry finds what the earlier attempt did) and each long wait heartbeats.
 */
export function createPipelineActivities(services: PipelineServices, clock: { now(): number } = Date) {
  const { inspector, exporter, lister, manifests, jobRunner } = services;

  return {
    /** The table exists, PITR is on, the stream carries new images, the buckets are reachable. */
    async validatePipeline(config: PipelineConfig): Promise<ValidateResult> {
      const table = await inspector.describeTable(config.table);
      const buckets = [
        { field: 'export.location', problem: await inspector.bucketProblem(config.export.location) },
        { field: 'landing.location', problem: await inspector.bucketProblem(config.landing.location) },
      ];
      if (config.lake.location.startsWith('s3://'))
        buckets.push({ field: 'lake.location', problem: await inspector.bucketProblem(config.lake.location) });
      const problems = tableProblems(config, table, buckets);
      if (problems.length > 0 || !table)
        throw ApplicationFailure.create({
          message: `pipeline "${config.name}" cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
          type: 'PipelineInvalid',
          nonRetryable: true,
        });
      const keyFields = config.keyFields ?? tableKeyFields(table);
      return { tableArn: table.tableArn, keyFields, streamViewType: table.streamViewType!, manifestTable: manifestTable(config, keyFields) };
    },

    /** Start the export, idempotently by client token. */
    async startExport(request: StartExportRequest): Promise<ExportInfo> {
      try {
        const ctx = Context.current();
        const state = await exporter.start(
          { tableArn: request.tableArn, tableName: request.tableName, ...request.location, clientToken: request.clientToken },
          (detail) => {
            ctx.heartbeat(detail);
            // The local export runs inside this call: a cancelled pipeline stops the scan (a retry starts afresh).
            if (ctx.cancellationSignal.aborted) throw new CancelledFailure('export cancelled');
          },
        );
        return exportInfo(state);
      } catch (err) {
        if (err instanceof CancelledFailure) throw err;
        throw exportFailure(err);
      }
    },

    /** Wait (heartbeating) until the export is no longer in progress. */
    async awaitExport(request: AwaitExportRequest): Promise<ExportInfo> {
      const ctx = Context.current();
      for (;;) {
        let state: ExportState;
        try {
          state = await exporter.describe(request.exportArn, request.location);
        } catch (err) {
          throw exportFailure(err);
        }
        if (request.adoptForTableArn && state.tableArn && state.tableArn !== request.adoptForTableArn)
          throw ApplicationFailure.nonRetryable(
            `export.existingExportArn ${request.exportArn} is an export of ${state.tableArn}, not of ${request.adoptForTableArn}: name an export of this table or remove the field`,
            'ExportMismatch',
          );
        if (request.adoptForTableArn && state.status === 'FAILED')
          throw ApplicationFailure.nonRetryable(
            `export.existingExportArn ${request.exportArn} failed (${state.failure ?? 'no reason given'}): remove the field to let the pipeline export the table itself`,
            'ExportMismatch',
          );
        if (state.status !== 'IN_PROGRESS') return exportInfo(state);
        await sleepHeartbeating(ctx, request.pollIntervalSeconds * 1000, `export ${state.exportArn} in progress`);
      }
    },

    /** Write the initial load's manifest. */
    async prepareInitialLoad(request: PrepareInitialLoadRequest): Promise<RunFiles> {
      const paths = runPaths(request.landingUri, request.pipeline, request.runKey);
      const manifest: JobManifest = {
        version: 1,
        runKey: request.runKey,
        pipeline: request.pipeline,
        kind: 'initialLoad',
        table: request.table,
        files: [],
        export: { root: request.exportRoot, exportTimeMs: request.exportTimeMs },
        rejectedLocation: paths.rejectedLocation,
        summaryUri: paths.summaryUri,
      };
      const manifestSha256 = await manifests.write(paths.manifestUri, manifest);
      return { manifestUri: paths.manifestUri, manifestSha256, summaryUri: paths.summaryUri };
    },

    /** List the landing zone after the watermark, plan the next batch, write its manifest. */
    async planIncremental(request: PlanRequest): Promise<PlanResult> {
      const ctx = Context.current();
      const closeAfterMs = request.closeAfterSeconds * 1000;
      const listedAtMs = clock.now();
      const listing = await lister.list(request.landingUri, listingStartFolder(request.watermark, request.sweep, request.sweepMinutes), (files) => {
        ctx.heartbeat(`listed ${files.length} files`);
        return listedEnough(request.watermark, files, { sweep: request.sweep, closeAfterMs, maxFiles: request.maxFiles });
      });
      const plan = planBatch({
        watermark: request.watermark,
        files: listing.files,
        listedAtMs,
        complete: listing.complete,
        sweep: request.sweep,
        closeAfterMs,
        maxFiles: request.maxFiles,
      });
      let run: RunFiles | null = null;
      if (plan.take.length > 0) {
        const paths = runPaths(request.landingUri, request.pipeline, request.runKey);
        const base = request.landingUri.endsWith('/') ? request.landingUri : `${request.landingUri}/`;
        const manifest: JobManifest = {
          version: 1,
          runKey: request.runKey,
          pipeline: request.pipeline,
          kind: 'incremental',
          table: request.table,
          files: plan.take.map((f) => `${base}${f.folder}/${f.name}`),
          export: null,
          rejectedLocation: paths.rejectedLocation,
          summaryUri: paths.summaryUri,
        };
        const manifestSha256 = await manifests.write(paths.manifestUri, manifest);
        run = { manifestUri: paths.manifestUri, manifestSha256, summaryUri: paths.summaryUri };
      }
      return {
        runKey: request.runKey,
        run,
        files: plan.take.length,
        bytes: plan.take.reduce((n, f) => n + f.size, 0),
        sweptFiles: plan.sweptFiles,
        listedFiles: listing.files.length,
        listedAtMs,
        delta: plan.delta,
        backlog: plan.backlog,
        appliedThroughMs: plan.appliedThroughMs,
      };
    },

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
        throw ApplicationFailure.nonRetryable(`manifest ${request.run.manifestUri} is not the one planned for ${runKey}; the batch will be planned again`, 'ManifestChanged');

      await waitForOtherRuns(request);
      let state = await jobRunner.start({ runKey, kind, glueJobName: job.glueJobName, script: job.script, manifestUri: request.run.manifestUri });
      ctx.log.info('job running', { runKey, runId: state.runId, kind });
      const deadline = Date.parse(state.startedAt) + job.timeoutMinutes * 60_000;
      let timedOut = false;
      // A runner that can tell when a run ends wakes the loop at once (local: ~1-2 s earlier per job).
      const watch = jobRunner.watchForEnd?.(runKey);
      let endSeen = false;
      void watch?.ended.then(() => (endSeen = true));
      try {
        // Check soon after the start, then less often (¼ s, ½ s, 1 s, … up to the poll interval):
        // a short job is seen to end at once, a long one costs few status calls.
        for (let polls = 0; state.status === 'running'; polls++) {
          await sleepHeartbeating(ctx, Math.min(job.pollIntervalSeconds * 1000, 250 * 2 ** polls), { runKey, runId: state.runId }, endSeen ? undefined : watch?.ended);
          state = await jobRunner.get(runKey, kind, job.glueJobName);
          if (state.status === 'running' && Date.now() > deadline) {
            timedOut = true;
            await jobRunner.stop(runKey, kind, job.glueJobName);
            state = await jobRunner.get(runKey, kind, job.glueJobName);
          }
        }
      } catch (err) {
        // Only a cancellation the workflow asked for stops the job. On a worker shutdown or a
        // heartbeat timeout the job keeps running and the retried activity picks it up by runKey.
        if ((err instanceof CancelledFailure || ctx.cancellationSignal.aborted) && ctx.cancellationDetails?.cancelRequested) {
          ctx.log.info('cancelled: stopping the job', { runKey });
          await jobRunner.stop(runKey, kind, job.glueJobName);
        }
        throw err;
      } finally {
        watch?.close();
      }
      const summary = state.status === 'succeeded' ? await manifests.readSummary(request.run.summaryUri) : null;
      const seconds = state.finishedAt ? Math.round((Date.parse(state.finishedAt) - Date.parse(state.startedAt)) / 100) / 10 : null;
      ctx.log.info('job ended', { runKey, runId: state.runId, status: state.status, seconds, ...(state.error ? { error: state.error.split('\n')[0] } : {}) });
      return {
        runKey,
        runId: state.runId,
        status: state.status === 'succeeded' ? 'succeeded' : state.status === 'stopped' ? 'stopped' : 'failed',
        startedAt: state.startedAt,
        finishedAt: state.finishedAt ?? new Date().toISOString(),
        error: timedOut ? `ran longer than ${job.timeoutMinutes} minutes and was stopped` : (state.error ?? errorOf(state)),
        logLocation: state.logLocation ?? null,
        counts: summary
          ? {
              recordsRead: summary.recordsRead,
              upserted: summary.upserted,
              deleted: summary.deleted,
              rejected: summary.rejected,
              durationSeconds: summary.durationSeconds,
              commitInstant: summary.commitInstant,
            }
          : null,
      };
    },
  };

  /** Never two writers: a run of this pipeline under another key (an abandoned attempt) must end first. */
  async function waitForOtherRuns(request: RunJobRequest): Promise<void> {
    const ctx = Context.current();
    const ours = new RegExp(`^${escapeRegExp(request.pipeline)}-[0-9a-f]{8}-(init|inc)-`);
    for (;;) {
      const others = (await jobRunner.listRunning(request.kind, request.job.glueJobName)).filter(
        (r) => r.runKey !== request.runKey && ours.test(r.runKey),
      );
      if (others.length === 0) return;
      ctx.log.warn('waiting for an earlier run of this pipeline to end', { runKeys: others.map((r) => r.runKey) });
      await sleepHeartbeating(ctx, request.job.pollIntervalSeconds * 1000, { waitingFor: others.map((r) => r.runKey) });
    }
  }
}

export type PipelineActivities = ReturnType<typeof createPipelineActivities>;

/** Longest gap between two heartbeats of a waiting activity; the workflow's heartbeat timeouts are 3-6× this. */
export const HEARTBEAT_EVERY_MS = 5_000;

/**
 * Sleep (cancellable) while heartbeating at least every HEARTBEAT_EVERY_MS, so a long poll interval
 * (a job's or an export's, up to an hour) never outlasts the heartbeat timeout, and a dead worker is
 * noticed within that timeout whatever the interval. `wake` ends the sleep early.
 */
async function sleepHeartbeating(ctx: Context, ms: number, details: unknown, wake?: Promise<void>): Promise<void> {
  const end = Date.now() + ms;
  let woken = false;
  void wake?.then(() => (woken = true));
  ctx.heartbeat(details);
  for (let left = ms; left > 0 && !woken; left = end - Date.now()) {
    const nap = ctx.sleep(Math.min(left, HEARTBEAT_EVERY_MS));
    if (wake) {
      nap.catch(() => undefined); // when `wake` wins, a later cancellation must not go unhandled
      await Promise.race([nap, wake]);
    } else await nap;
    ctx.heartbeat(details);
  }
}

/** Where a run's manifest, summary and rejected records live (docs/contracts.md). */
export function runPaths(landingUri: string, pipeline: string, runKey: string) {
  const base = landingUri.endsWith('/') ? landingUri : `${landingUri}/`;
  return {
    manifestUri: `${base}${LANDING_RESERVED.manifests}/${pipeline}/${runKey}.json`,
    summaryUri: `${base}${LANDING_RESERVED.manifests}/${pipeline}/${runKey}.summary.json`,
    rejectedLocation: `${base}${LANDING_RESERVED.rejected}/${runKey}/`,
  };
}

/** `s3://bucket/prefix/` → the bucket and the prefix without its trailing slash. */
export function exportLocation(uri: string): { bucket: string; prefix: string } {
  const { bucket, key } = parseS3Uri(uri);
  return { bucket, prefix: key.replace(/\/+$/, '') };
}

function exportInfo(state: ExportState): ExportInfo {
  return {
    exportArn: state.exportArn,
    status: state.status,
    exportTimeMs: state.exportTimeMs,
    root: exportRoot(state),
    itemCount: state.itemCount,
    startTimeMs: state.startTimeMs,
    endTimeMs: state.endTimeMs,
    failure: state.failure,
  };
}

/** Export errors a retry cannot fix become non-retryable failures that say what to do. */
function exportFailure(err: unknown): unknown {
  const name = (err as { name?: string })?.name ?? '';
  const message = (err as Error)?.message ?? String(err);
  const fixes: Record<string, string> = {
    PointInTimeRecoveryUnavailableException: 'turn on point-in-time recovery for the table',
    TableNotFoundException: 'check "table" in the config',
    ExportNotFoundException: 'check export.existingExportArn (and export.location for a local export)',
    ExportConflictException: 'an export with this client token but other settings exists; start the pipeline under a new name',
    InvalidExportTimeException: 'the export time is outside the point-in-time recovery window',
    AccessDeniedException: 'grant the worker dynamodb:ExportTableToPointInTime and s3:PutObject on export.location',
  };
  if (fixes[name]) return ApplicationFailure.nonRetryable(`${name}: ${message} — ${fixes[name]}`, name);
  return err;
}

function errorOf(state: JobRunState): string | null {
  if (state.status === 'succeeded' || state.status === 'running') return null;
  return `job ${state.status} without an error message${state.logLocation ? `; see ${state.logLocation}` : ''}`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
