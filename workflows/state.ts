/** Pure helpers of the pipeline workflow (deterministic; no I/O). */
import type { PipelineConfig } from '../core/config';
import { openSummary } from '../core/watermark';
import type { Counters, PipelineState, PipelineStatus, RunKind, RunRecord, Step } from './definitions';
import { maintenanceDue, newTableTracking } from './maintenance';

export const MAX_RUN_RECORDS = 10;

export function newState(config: PipelineConfig, firstRunId: string, nowMs: number): PipelineState {
  return {
    version: 1,
    generation: fnv1a32(firstRunId),
    phase: 'validating',
    startedAtMs: nowMs,
    validated: null,
    export: null,
    exportAttempt: 1,
    watermark: null,
    appliedThroughMs: null,
    backlog: null,
    seq: 1,
    runAttempt: 1,
    failures: 0,
    paused: false,
    stalled: null,
    intervalSeconds: config.schedule.intervalSeconds,
    cyclesSinceSweep: 0,
    runs: [],
    lastError: null,
    counters: zeroCounters(),
    lake: newTableTracking(),
  };
}

export function zeroCounters(): Counters {
  return {
    cycles: 0,
    emptyCycles: 0,
    jobsSucceeded: 0,
    jobsFailed: 0,
    failures: 0,
    filesApplied: 0,
    lateFilesApplied: 0,
    recordsRead: 0,
    upserted: 0,
    deleted: 0,
    rejected: 0,
    continuedAsNew: 0,
    rebackfills: 0,
    compactions: 0,
    cleans: 0,
  };
}

/** `<pipeline>-<generation>-init-a<attempt>` / `<pipeline>-<generation>-inc-<seq:6>-a<attempt>`. */
export function runKeyFor(pipeline: string, generation: string, kind: RunKind, seq: number, attempt: number): string {
  if (kind === 'initialLoad') return `${pipeline}-${generation}-init-a${attempt}`;
  const tag = kind === 'compaction' ? 'cmp' : 'inc';
  return `${pipeline}-${generation}-${tag}-${String(seq).padStart(6, '0')}-a${attempt}`;
}

/**
 * The generation tag of a rebackfill: a new one per rebackfill, so its run keys (init and inc) never
 * reuse a key of an earlier load (a start by run key would find the old run).
 */
export function rebackfillGeneration(firstRunId: string, rebackfill: number): string {
  return rebackfill === 0 ? fnv1a32(firstRunId) : fnv1a32(`${firstRunId}/rebackfill/${rebackfill}`);
}

/** Export client token: one per pipeline start and export attempt, so a retried start finds its export. */
export function exportClientToken(firstRunId: string, attempt: number): string {
  return `ddb-lake-${firstRunId}-e${attempt}`;
}

/** Delay before the n-th retry (n ≥ 1), in ms. */
export function backoffMs(retry: PipelineConfig['retry'], failures: number): number {
  const seconds = retry.initialIntervalSeconds * Math.pow(retry.backoffCoefficient, Math.max(0, failures - 1));
  return Math.round(Math.min(seconds, retry.maxIntervalSeconds) * 1000);
}

export function pushRun(runs: RunRecord[], run: RunRecord): RunRecord[] {
  return [run, ...runs].slice(0, MAX_RUN_RECORDS);
}

export interface LiveState {
  step: Step;
  currentRun: PipelineStatus['currentRun'];
  nextCycleAtMs: number | null;
  retryAtMs: number | null;
  cyclesSinceContinueAsNew: number;
  historyLength: number;
}

export function buildStatus(config: PipelineConfig, s: PipelineState, live: LiveState): PipelineStatus {
  const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());
  return {
    schemaVersion: 1,
    pipeline: config.name,
    table: config.table,
    phase: s.phase,
    step: live.step,
    paused: s.paused,
    stalled: s.stalled,
    intervalSeconds: s.intervalSeconds,
    startedAt: iso(s.startedAtMs)!,
    export: s.export
      ? {
          exportArn: s.export.exportArn,
          status: s.export.status,
          exportTime: iso(s.export.exportTimeMs),
          itemCount: s.export.itemCount,
          root: s.export.root,
          adopted: s.export.adopted,
        }
      : null,
    watermark: s.watermark
      ? {
          closedThrough: s.watermark.closedThrough,
          openFolders: openSummary(s.watermark),
          sweptAt: iso(s.watermark.sweptAtMs),
        }
      : null,
    appliedThrough: iso(s.appliedThroughMs),
    backlog: s.backlog
      ? { files: s.backlog.files, oldestLastModified: iso(s.backlog.oldestLastModifiedMs), more: s.backlog.more }
      : null,
    currentRun: live.currentRun,
    nextCycleAt: live.step === 'sleep' ? iso(live.nextCycleAtMs) : null,
    retry:
      s.failures > 0
        ? {
            failures: s.failures,
            maxAttempts: config.retry.maxAttempts,
            nextAttemptAt: live.step === 'backoff' ? iso(live.retryAtMs) : null,
          }
        : null,
    lastRuns: s.runs,
    lastError: s.lastError,
    counters: {
      ...s.counters,
      rebackfills: s.counters.rebackfills ?? 0,
      compactions: s.counters.compactions ?? 0,
      cleans: s.counters.cleans ?? 0,
    },
    workflow: { cyclesSinceContinueAsNew: live.cyclesSinceContinueAsNew, historyLength: live.historyLength },
    lake: s.lake?.type
      ? {
          type: s.lake.type,
          deltaCommitsSinceCompaction: s.lake.deltaCommitsSinceCompaction,
          logBytesSinceCompaction: s.lake.logBytesSinceCompaction,
          commitsSinceClean: s.lake.commitsSinceClean,
          due: maintenanceDue(s.lake, config.lake.maintenance),
          last: s.lake.last,
        }
      : null,
  };
}

/** 32-bit FNV-1a as 8 hex digits: a short, stable tag of a string. */
export function fnv1a32(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** The state of a rebackfill's start: a new generation of run keys, a fresh export, no watermark. */
export function startRebackfill(s: PipelineState, firstRunId: string): void {
  s.rebackfill = (s.rebackfill ?? 0) + 1;
  s.counters.rebackfills++;
  s.generation = rebackfillGeneration(firstRunId, s.rebackfill);
  Object.assign(s, {
    phase: 'exporting',
    export: null,
    exportAttempt: s.exportAttempt + 1,
    watermark: null,
    appliedThroughMs: null,
    backlog: null,
    seq: 1,
    runAttempt: 1,
    failures: 0,
    stalled: null,
    paused: false,
    cyclesSinceSweep: 0,
  } satisfies Partial<PipelineState>);
}
