import { Context } from '@temporalio/activity';
import { LANDING_RESERVED, minuteFolderStart } from '../core/landing';
import type { JobManifest } from '../core/manifest';
import { chainChecks, listedEnough, listingStartFolder, planBatch, type PlanInput } from '../core/planner';
import type { GapMarkerEntry, LandingAudit } from './landing-audit';
import { cycleFigures } from './pipeline-metrics';
import type { PipelineServices } from './services';
import type {
  GapReport,
  PlanRequest,
  PlanResult,
  PrepareInitialLoadRequest,
  PrepareMaintenanceRequest,
  RunFiles,
} from './types';

/** Write the initial load's manifest; plan each incremental batch after the watermark and prove nothing is missing. */
export function planActivities(services: PipelineServices, clock: { now(): number }) {
  const { lister, audit, manifests, metrics } = services;
  return {
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

    /** Write the manifest of a compaction / cleaning run of the table (docs/table-types.md). */
    async prepareMaintenance(request: PrepareMaintenanceRequest): Promise<RunFiles> {
      const paths = runPaths(request.landingUri, request.pipeline, request.runKey);
      const manifest: JobManifest = {
        version: 1,
        runKey: request.runKey,
        pipeline: request.pipeline,
        kind: 'compaction',
        table: request.table,
        files: [],
        export: null,
        rejectedLocation: '',
        summaryUri: paths.summaryUri,
        compaction: request.compaction,
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
  };
}

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

/** Where a run's manifest, summary and rejected records live (docs/contracts.md). */
export function runPaths(landingUri: string, pipeline: string, runKey: string) {
  const base = landingUri.endsWith('/') ? landingUri : `${landingUri}/`;
  return {
    manifestUri: `${base}${LANDING_RESERVED.manifests}/${pipeline}/${runKey}.json`,
    summaryUri: `${base}${LANDING_RESERVED.manifests}/${pipeline}/${runKey}.summary.json`,
    rejectedLocation: `${base}${LANDING_RESERVED.rejected}/${runKey}/`,
  };
}
