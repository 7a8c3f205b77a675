import { Context, CancelledFailure } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { PipelineConfig } from '../core/config';
import { LANDING_RESERVED, minuteFolderStart } from '../core/landing';
import { manifestTable, type JobManifest } from '../core/manifest';
import { chainChecks, listedEnough, listingStartFolder, planBatch, type PlanInput } from '../core/planner';
import { exportRoot, type ExportState } from './exporter';
import { failureForWorkflow } from './failure-boundary';
import type { JobRef, JobRunState, JobSpec } from './job-runner';
import type { GapMarkerEntry, LandingAudit } from './landing-audit';
import { cycleFigures, type PipelineMetrics } from './pipeline-metrics';
import type { PipelineServices } from './services';
import type {
  AwaitExportRequest,
  ExportInfo,
  GapReport,
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
 * idempotent (a retry finds what the earlier attempt did) and each long wait heartbeats. A network
 * failure reaching AWS becomes one sentence that names the fix (shown in `status` while the activity
 * retries, and as the step's error once it gave up).
 */
export function createPipelineActivities(
  services: PipelineServices,
  clock: { now(): number } = Date,
): PipelineActivities {
  const activities = pipelineActivities(services, clock);
  const explained = {} as PipelineActivities;
  for (const [name, fn] of Object.entries(activities) as [
    keyof PipelineActivities,
    (...args: unknown[]) => Promise<unknown>,
  ][])
    (explained as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw failureForWorkflow(err, services.unreachable);
      }
    };
  return explained;
}

function pipelineActivities(services: PipelineServices, clock: { now(): number }) {
  const { inspector, exporter, lister, audit, manifests, jobRunner, metrics } = services;

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
      return {
        tableArn: table.tableArn,
        keyFields,
        streamViewType: table.streamViewType!,
        manifestTable: manifestTable(config, keyFields),
      };
    },

    /** Start the export, idempotently by client token. */
    async startExport(request: StartExportRequest): Promise<ExportInfo> {
      try {
        const ctx = Context.current();
        const state = await exporter.start(
          {
            tableArn: request.tableArn,
            tableName: request.tableName,
            ...request.location,
            clientToken: request.clientToken,
          },
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
        await sleepHeartbeating(
          ctx,
          metrics,
          request.pollIntervalSeconds * 1000,
          `export ${state.exportArn} in progress`,
        );
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

    /**
     * List the landing zone after the watermark, plan the next batch, prove nothing is missing
     * (docs/gaps.md), write its manifest. A gap plans no job: the workflow stalls on it.
     */
    async planIncremental(request: PlanRequest): Promise<PlanResult> {
      const ctx = Context.current();
      const closeAfterMs = request.closeAfterSeconds * 1000;
      const listedAtMs = clock.now();
      const listing = await lister.list(
        request.landingUri,
        listingStartFolder(request.watermark, request.sweep, request.sweepMinutes),
        (files) => {
          ctx.heartbeat(`listed ${files.length} files`);
          return listedEnough(request.watermark, files, {
            sweep: request.sweep,
            closeAfterMs,
            maxFiles: request.maxFiles,
          });
        },
      );
      const input: PlanInput = {
        watermark: request.watermark,
        files: listing.files,
        listedAtMs,
        complete: listing.complete,
        sweep: request.sweep,
        closeAfterMs,
        maxFiles: request.maxFiles,
      };
      let plan = planBatch(input);
      const gaps = (await audit.gapMarkers(request.landingUri, request.gapsFromMs ?? 0)).map(markerReport);
      const discarded = request.discardedBatches ?? services.streamFailures?.(request.pipeline);
      if (discarded)
        gaps.push(
          ...(await audit.discardedBatches(discarded.location, discarded.tableArn, request.gapsFromMs ?? 0)).map(
            markerReport,
          ),
        );
      const chain = await checkChain(audit, request.landingUri, input, listing.links ?? [], plan.take);
      gaps.push(...chain.gaps);
      if (chain.hold.length > 0) plan = planBatch({ ...input, hold: chain.hold });
      metrics.cycle(request.pipeline, cycleFigures(listedAtMs, plan.take, plan.backlog));
      if (gaps.length > 0) {
        return {
          runKey: request.runKey,
          run: null,
          files: 0,
          bytes: 0,
          sweptFiles: 0,
          listedFiles: listing.files.length,
          listedAtMs,
          delta: { closedThrough: request.watermark.closedThrough, taken: {}, sweptAtMs: null, lateTaken: null },
          backlog: {
            files: plan.take.length + plan.backlog.files,
            oldestLastModifiedMs: plan.backlog.oldestLastModifiedMs,
            more: plan.backlog.more,
          },
          appliedThroughMs: null,
          gaps,
        };
      }
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
          // gapsFromMs is the point in time of the export the lake was loaded from (PlanRequest).
          ...(request.gapsFromMs != null ? { loadedExportTimeMs: request.gapsFromMs } : {}),
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
        gaps: [],
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
        throw ApplicationFailure.nonRetryable(
          `manifest ${request.run.manifestUri} is not the one planned for ${runKey}; the batch will be planned again`,
          'ManifestChanged',
        );

      await waitForOtherRuns(request);
      const spec: JobSpec = { kind, glueJobName: job.glueJobName, script: job.script };
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
    const ours = new RegExp(`^${escapeRegExp(request.pipeline)}-[0-9a-f]{8}-(init|inc)-`);
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

export type PipelineActivities = ReturnType<typeof pipelineActivities>;

/**
 * The chain checks of docs/gaps.md against the landing zone: every taken file's predecessor on its
 * shard must exist (or be a dead-letter-only batch), and a file a chain link announces must appear
 * within `closeAfter` after its folder closed. Until then its folder is held open.
 */
async function checkChain(
  audit: LandingAudit,
  landingUri: string,
  input: PlanInput,
  links: Parameters<typeof chainChecks>[2],
  take: PlanInput['files'],
): Promise<{ gaps: GapReport[]; hold: string[] }> {
  const checks = chainChecks(input.watermark, input.files, links, take);
  const gaps: GapReport[] = [];
  const hold = new Set<string>();
  const at = new Date(input.listedAtMs).toISOString();
  for (const link of checks.orphanLinks) {
    const here = `${link.folder}/${link.batch}.json`;
    const claimed = await audit.claimedKey(landingUri, link.batch);
    // The claim names another key: the batch was landed (or is being landed) again elsewhere.
    if (claimed !== null && claimed !== here) continue;
    if (input.listedAtMs >= minuteFolderStart(link.folder) + 2 * input.closeAfterMs)
      gaps.push({
        kind: 'missing-file',
        message: `landing file ${landingUri}${here} (batch ${link.batch} of shard ${link.shardId}) is missing: its chain link${claimed ? ' and claim name it' : ' names it'}, but the file is not there (deleted, or its writer died and never retried)`,
        detectedAt: at,
      });
    else hold.add(link.folder);
  }
  for (const v of checks.previousToVerify) {
    const claimed = await audit.claimedKey(landingUri, v.previous);
    const present =
      claimed !== null
        ? await audit.exists(landingUri, claimed)
        : await audit.exists(landingUri, `${LANDING_RESERVED.deadLetter}/${v.previous}.json`);
    if (present) continue;
    gaps.push({
      kind: 'missing-file',
      message:
        `the batch before ${landingUri}${v.folder}/${v.batch}.json on shard ${v.shardId} (${v.previous}) is not in the landing zone: ` +
        (claimed
          ? `its claim names ${landingUri}${claimed}, which does not exist`
          : 'it has no claim and no dead letters') +
        ' (deleted before it was applied)',
      detectedAt: at,
    });
  }
  return { gaps, hold: [...hold] };
}

const GAP_LEADS: Record<string, string> = {
  trimmed: 'stream records were trimmed (DynamoDB keeps them 24 h) before they were read',
  'shard-gone': 'a stream shard vanished before it was read to its end',
  discarded: 'a stream batch was discarded after its retries',
  'stream-replaced': "the table's stream was replaced; changes made while no stream was on are in no stream",
};

function markerReport(entry: GapMarkerEntry): GapReport {
  const m = entry.marker;
  const detectedAt = new Date(entry.detectedAtMs).toISOString();
  if (!m)
    return {
      kind: 'unknown',
      message: entry.evidence
        ? `${entry.evidence} ${entry.key} (not a record of a DynamoDB stream batch: treated as a gap)`
        : `gap marker ${entry.key} (not a ddb-lake marker: treated as a gap)`,
      detectedAt,
    };
  const where = [
    m.shardId && `shard ${m.shardId}`,
    m.afterSequenceNumber && `after sequence number ${m.afterSequenceNumber}`,
    m.firstSequenceNumber && `records ${m.firstSequenceNumber}…${m.lastSequenceNumber ?? ''}`,
  ]
    .filter(Boolean)
    .join(', ');
  const kind =
    (['trimmed', 'shard-gone', 'discarded', 'stream-replaced'] as const).find((k) => k === m.kind) ?? 'unknown';
  return {
    kind,
    message: `${GAP_LEADS[m.kind] ?? m.kind}${where ? ` (${where})` : ''}: ${m.reason}; ${entry.evidence ?? 'marker'} ${entry.key}`,
    detectedAt: m.detectedAt ?? detectedAt,
  };
}

/** Longest gap between two heartbeats of a waiting activity; the workflow's heartbeat timeouts are 3-6× this. */
export const HEARTBEAT_EVERY_MS = 5_000;

/**
 * Sleep (cancellable) while heartbeating at least every HEARTBEAT_EVERY_MS, so a long poll interval
 * (a job's or an export's, up to an hour) never outlasts the heartbeat timeout, and a dead worker is
 * noticed within that timeout whatever the interval. `wake` ends the sleep early. Each heartbeat is
 * also the pipeline's metrics heartbeat (the workflow id is the pipeline's name): a long export or
 * job is work, not a stall.
 */
async function sleepHeartbeating(
  ctx: Context,
  metrics: PipelineMetrics,
  ms: number,
  details: unknown,
  wake?: Promise<void>,
): Promise<void> {
  const end = Date.now() + ms;
  let woken = false;
  void wake?.then(() => (woken = true));
  const beat = () => {
    ctx.heartbeat(details);
    const pipeline = ctx.info.workflowExecution?.workflowId;
    if (pipeline) metrics.heartbeat(pipeline);
  };
  beat();
  for (let left = ms; left > 0 && !woken; left = end - Date.now()) {
    const nap = ctx.sleep(Math.min(left, HEARTBEAT_EVERY_MS));
    if (wake) {
      nap.catch(() => undefined); // when `wake` wins, a later cancellation must not go unhandled
      await Promise.race([nap, wake]);
    } else await nap;
    beat();
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
    ExportConflictException:
      'an export with this client token but other settings exists; start the pipeline under a new name',
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
