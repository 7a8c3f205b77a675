/**
 * The pipeline workflow's public surface: its input, the state it carries over continueAsNew, its
 * signals, query and updates, and the status it reports. Shared by the workflow and the client.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PipelineConfig } from '../core/config';
import type { Watermark } from '../core/watermark';
import type { MaintenanceKind, MaintenanceRecord, TableTracking } from './maintenance';
import type { GapReport, ValidateResult } from '../activities/types';

export const TASK_QUEUE = 'ddb-lake';
export const WORKFLOW_TYPE = 'pipelineWorkflow';

export type Phase = 'validating' | 'exporting' | 'initialLoad' | 'incremental';

/** What the workflow is doing right now. */
export type Step =
  | 'validate'
  | 'startExport'
  | 'awaitExport'
  | 'prepareInitialLoad'
  | 'plan'
  | 'maintenance'
  | 'job'
  | 'sleep'
  | 'backoff'
  | 'paused'
  | 'stalled';

/** What a job run does: load the export, apply a batch, or compact / clean the table. */
export type RunKind = 'initialLoad' | 'incremental' | 'compaction';

export interface PipelineInput {
  config: PipelineConfig;
  /** Present when the workflow continued as new: everything it had. */
  state?: PipelineState;
}

export interface ExportRecord {
  exportArn: string;
  status: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  exportTimeMs: number | null;
  root: string | null;
  itemCount: number | null;
  failure: string | null;
  adopted: boolean;
}

export interface RunRecord {
  runKey: string;
  kind: RunKind;
  /** `error`: the activity itself failed (no job outcome). */
  status: 'succeeded' | 'failed' | 'stopped' | 'error';
  files: number;
  lateFiles: number;
  startedAt: string;
  finishedAt: string;
  /** Wall time of the job as the workflow saw it (start to end of the runJob activity). */
  durationSeconds: number;
  recordsRead: number | null;
  upserted: number | null;
  deleted: number | null;
  rejected: number | null;
  error: string | null;
  /** Where the run's rejected records are (when it rejected any). Absent in records of older runs. */
  rejectedUri?: string | null;
}

export interface StalledInfo {
  since: string;
  phase: Phase;
  runKey: string | null;
  attempts: number;
  error: string;
  /**
   * Set when the pipeline stalled because it cannot prove it has seen every change (docs/gaps.md):
   * `resume` re-checks (and stalls again while the evidence is there); `rebackfill` recovers.
   */
  gaps?: GapReport[];
}

export interface ErrorRecord {
  at: string;
  phase: Phase;
  runKey: string | null;
  message: string;
}

export interface Counters {
  cycles: number;
  emptyCycles: number;
  jobsSucceeded: number;
  jobsFailed: number;
  failures: number;
  filesApplied: number;
  lateFilesApplied: number;
  recordsRead: number;
  upserted: number;
  deleted: number;
  rejected: number;
  continuedAsNew: number;
  /** Rebackfills done or under way (fresh export, reload, incremental from the new point). */
  rebackfills: number;
  /** Maintenance runs of the table that succeeded (absent in states of older runs). */
  compactions?: number;
  cleans?: number;
}

export interface Backlog {
  files: number;
  oldestLastModifiedMs: number | null;
  more: boolean;
}

/** Everything the workflow carries over continueAsNew. */
export interface PipelineState {
  version: 1;
  /** 8 hex digits from the first run's id: part of every run key, so a restarted pipeline never reuses one. */
  generation: string;
  phase: Phase;
  startedAtMs: number;
  validated: ValidateResult | null;
  export: ExportRecord | null;
  /** Number of the export attempt; part of the export's client token. */
  exportAttempt: number;
  watermark: Watermark | null;
  appliedThroughMs: number | null;
  backlog: Backlog | null;
  /** Number of the next incremental batch. */
  seq: number;
  /** Attempt number for the next run key of the current batch. */
  runAttempt: number;
  /** Failures in a row of the current step. */
  failures: number;
  paused: boolean;
  stalled: StalledInfo | null;
  intervalSeconds: number;
  cyclesSinceSweep: number;
  runs: RunRecord[];
  lastError: ErrorRecord | null;
  counters: Counters;
  /** Number of the current rebackfill (0: the lake comes from the pipeline's first export). Absent in states of older runs. */
  rebackfill?: number;
  /** The Hudi table as the jobs reported it, for its maintenance. Absent in states of older runs. */
  lake?: TableTracking;
}

/** The `status` query's answer. Stable: documented in docs/cli-json.md. */
export interface PipelineStatus {
  schemaVersion: 1;
  pipeline: string;
  table: string;
  phase: Phase;
  step: Step;
  paused: boolean;
  stalled: StalledInfo | null;
  intervalSeconds: number;
  startedAt: string;
  export: {
    exportArn: string;
    status: string;
    exportTime: string | null;
    itemCount: number | null;
    root: string | null;
    adopted: boolean;
  } | null;
  watermark: {
    closedThrough: string;
    openFolders: { folder: string; filesTaken: number }[];
    sweptAt: string | null;
  } | null;
  appliedThrough: string | null;
  backlog: { files: number; oldestLastModified: string | null; more: boolean } | null;
  currentRun: { runKey: string; kind: RunKind; files: number; startedAt: string } | null;
  nextCycleAt: string | null;
  retry: { failures: number; maxAttempts: number; nextAttemptAt: string | null } | null;
  lastRuns: RunRecord[];
  lastError: ErrorRecord | null;
  counters: Counters;
  workflow: { cyclesSinceContinueAsNew: number; historyLength: number };
  /** The Hudi table and its maintenance (docs/table-types.md); null before the first job reported it. */
  lake: {
    type: TableTracking['type'];
    deltaCommitsSinceCompaction: number;
    logBytesSinceCompaction: number;
    commitsSinceClean: number;
    /** The maintenance run the next cycle starts with, if one is due. */
    due: MaintenanceKind | null;
    last: MaintenanceRecord | null;
  } | null;
}

/** What `runNow` answers once the cycle it asked for has ended. */
export interface CycleOutcome {
  status: 'succeeded' | 'empty' | 'failed' | 'paused' | 'stalled';
  runKey: string | null;
  files: number;
  durationSeconds: number;
  error: string | null;
}

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const statusQuery = defineQuery<PipelineStatus>('status');
export const runNowUpdate = defineUpdate<CycleOutcome>('runNow');
/** What `rebackfill` answers once it has been accepted (the work goes on in the workflow). */
export interface RebackfillAccepted {
  /** Number of this rebackfill (1 for the first). */
  rebackfill: number;
  /** The export the lake was loaded from until now. */
  previousExportArn: string | null;
  /** A job that runs now and finishes before the rebackfill begins (at most one writer). */
  waitingForRun: string | null;
}

export const rebackfillUpdate = defineUpdate<RebackfillAccepted>('rebackfill');
export const setIntervalUpdate = defineUpdate<{ previousSeconds: number; intervalSeconds: number }, [number]>(
  'setInterval',
);
