/**
 * Inputs and outputs of the pipeline activities: what crosses into workflow history, so kept small
 * (no file lists, no config beyond what the activity needs).
 */
import type { JobSummary, ManifestTable } from '../core/manifest';
import type { Watermark, WatermarkDelta } from '../core/watermark';
import type { JobEngine, JobKind } from './job-runner';
import type { ExportStatus } from './exporter';

export interface ValidateResult {
  tableArn: string;
  /** The key fields the lake uses: the config's, or the table's key schema. */
  keyFields: string[];
  streamViewType: string;
  /** The `table` section of every manifest this pipeline writes. */
  manifestTable: ManifestTable;
}

export interface ExportLocation {
  bucket: string;
  prefix: string;
}

export interface StartExportRequest {
  tableArn: string;
  tableName: string;
  location: ExportLocation;
  clientToken: string;
}

export interface AwaitExportRequest {
  exportArn: string;
  location: ExportLocation;
  pollIntervalSeconds: number;
  /** Adopting a user-named export: it must be of this table (and not failed). */
  adoptForTableArn: string | null;
}

export interface ExportInfo {
  exportArn: string;
  status: ExportStatus;
  exportTimeMs: number | null;
  /** `s3://…/AWSDynamoDB/<id>/` once completed. */
  root: string | null;
  itemCount: number | null;
  startTimeMs: number | null;
  endTimeMs: number | null;
  failure: string | null;
}

export interface RunFiles {
  manifestUri: string;
  /** SHA-256 of the manifest as written; the job is only started on exactly this manifest. */
  manifestSha256: string;
  summaryUri: string;
}

export interface PrepareInitialLoadRequest {
  pipeline: string;
  runKey: string;
  landingUri: string;
  table: ManifestTable;
  exportRoot: string;
  exportTimeMs: number;
}

export interface PlanRequest {
  pipeline: string;
  runKey: string;
  landingUri: string;
  table: ManifestTable;
  watermark: Watermark;
  sweep: boolean;
  sweepMinutes: number;
  closeAfterSeconds: number;
  maxFiles: number;
  /**
   * Gap markers detected before this instant are covered by the export the lake was loaded from
   * (its point in time); later ones stop the pipeline (docs/gaps.md). Absent: the export time is unknown, every marker counts.
   */
  gapsFromMs?: number | null;
  /**
   * AWS: the stream Lambda's S3 on-failure destination (`landing.onFailureDestination`) and the
   * table whose stream's discarded batches count (docs/gaps.md "On AWS"); absent or null: the one the
   * worker's deployment names for this pipeline (PipelineServices.streamFailures), if any.
   */
  discardedBatches?: DiscardedBatchesLocation | null;
}

/** The S3 on-failure destination (`s3://<bucket>/`) and the table whose stream's discarded batches count. */
export interface DiscardedBatchesLocation {
  location: string;
  tableArn: string;
}

/** Why the pipeline cannot prove it has seen every change (docs/gaps.md). */
export interface GapReport {
  kind: 'trimmed' | 'shard-gone' | 'discarded' | 'stream-replaced' | 'missing-file' | 'unknown';
  /** One sentence: what is missing and where the evidence is. */
  message: string;
  detectedAt: string | null;
}

export interface PlanResult {
  runKey: string;
  /** Null when the batch is empty (no manifest is written, no job runs). */
  run: RunFiles | null;
  files: number;
  bytes: number;
  sweptFiles: number;
  /** Keys listed (minute-folder files only). */
  listedFiles: number;
  listedAtMs: number;
  delta: WatermarkDelta;
  backlog: { files: number; oldestLastModifiedMs: number | null; more: boolean };
  appliedThroughMs: number | null;
  /** Non-empty: a change may be missing; no job was planned and the watermark must not move. */
  gaps?: GapReport[];
}

/** Write the manifest of a compaction / cleaning run (docs/table-types.md). */
export interface PrepareMaintenanceRequest {
  pipeline: string;
  runKey: string;
  landingUri: string;
  table: ManifestTable;
  compaction: { maxIoMb: number; compact: boolean; clean: boolean; retainCommits: number };
}

export interface JobSpecInput {
  glueJobName: string;
  script: string;
  /** `jobs.incremental.engine` (absent in histories recorded before it existed). */
  engine?: JobEngine;
  timeoutMinutes: number;
  pollIntervalSeconds: number;
}

export interface RunJobRequest {
  pipeline: string;
  runKey: string;
  kind: JobKind;
  job: JobSpecInput;
  run: RunFiles;
  /** Glue job names of both kinds: no run of this pipeline of either kind may overlap (one Hudi writer). */
  otherJobs?: { initialLoad: string; incremental: string };
}

/** The figures of a run's summary the workflow keeps (the table's maintenance is scheduled on the last ones). */
export type JobCounts = Pick<
  JobSummary,
  | 'recordsRead'
  | 'upserted'
  | 'deleted'
  | 'rejected'
  | 'durationSeconds'
  | 'commitInstant'
  | 'rejectedUri'
  | 'tableType'
  | 'deltaCommitsSinceCompaction'
  | 'logBytesSinceCompaction'
  | 'compactionInstant'
  | 'fileGroupsCompacted'
  | 'cleanInstant'
  | 'filesCleaned'
>;

export interface JobOutcome {
  runKey: string;
  runId: string;
  status: 'succeeded' | 'failed' | 'stopped';
  startedAt: string;
  finishedAt: string;
  error: string | null;
  logLocation: string | null;
  /** From the run's summary (docs/contracts.md); null if the run wrote none. */
  counts: JobCounts | null;
}
