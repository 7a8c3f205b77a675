/**
 * The table's maintenance, owned by the workflow (docs/table-types.md): merge-on-read tables are
 * compacted (and cleaned) once enough delta commits or log bytes piled up since the last
 * compaction; copy-on-write tables are cleaned every so many commits. The figures come from the
 * jobs' own summaries (read off the Hudi timeline). Deterministic (workflow code); no I/O.
 */
import type { JobCounts } from '../activities/types';
import type { PipelineConfig } from '../core/config';

export type MaintenanceKind = 'compaction' | 'clean';

export interface MaintenanceRecord {
  runKey: string;
  kind: MaintenanceKind;
  finishedAt: string;
  fileGroupsCompacted: number | null;
  filesCleaned: number | null;
}

/** What the workflow knows of its Hudi table, carried over continueAsNew. */
export interface TableTracking {
  /** As the last job reported it (an existing table keeps its type until a reload); null before the first. */
  type: 'COPY_ON_WRITE' | 'MERGE_ON_READ' | null;
  deltaCommitsSinceCompaction: number;
  logBytesSinceCompaction: number;
  commitsSinceClean: number;
  /** Number of the next maintenance run (part of its run key). */
  seq: number;
  /** Attempt number of the next maintenance run key. */
  attempt: number;
  last: MaintenanceRecord | null;
}

export function newTableTracking(): TableTracking {
  return {
    type: null,
    deltaCommitsSinceCompaction: 0,
    logBytesSinceCompaction: 0,
    commitsSinceClean: 0,
    seq: 1,
    attempt: 1,
    last: null,
  };
}

/** A job of this kind succeeded with these figures: what the table looks like now. */
export function trackRun(
  t: TableTracking,
  kind: 'initialLoad' | 'incremental' | 'compaction',
  c: JobCounts | null,
): void {
  if (c?.tableType) t.type = c.tableType;
  if (kind === 'initialLoad') {
    // A new (or reloaded) table: nothing to compact or clean yet.
    Object.assign(t, { deltaCommitsSinceCompaction: 0, logBytesSinceCompaction: 0, commitsSinceClean: 0 });
    return;
  }
  if (kind === 'compaction') {
    Object.assign(t, { deltaCommitsSinceCompaction: 0, logBytesSinceCompaction: 0, commitsSinceClean: 0 });
    return;
  }
  if (c?.deltaCommitsSinceCompaction !== undefined) t.deltaCommitsSinceCompaction = c.deltaCommitsSinceCompaction;
  if (c?.logBytesSinceCompaction !== undefined) t.logBytesSinceCompaction = c.logBytesSinceCompaction;
  if (c?.commitInstant) t.commitsSinceClean++;
}

/** The maintenance the table needs now, if any. */
export function maintenanceDue(t: TableTracking, m: PipelineConfig['lake']['maintenance']): MaintenanceKind | null {
  if (t.type === 'MERGE_ON_READ')
    return t.deltaCommitsSinceCompaction >= m.compactAfterDeltaCommits ||
      t.logBytesSinceCompaction >= m.compactAfterLogMb * 1024 * 1024
      ? 'compaction'
      : null;
  if (t.type === 'COPY_ON_WRITE') return t.commitsSinceClean >= m.cleanAfterCommits ? 'clean' : null;
  return null;
}

/** The `compaction` block of the run's manifest. A compaction also cleans; a clean does not compact. */
export function maintenanceSpec(kind: MaintenanceKind, m: PipelineConfig['lake']['maintenance']) {
  return { maxIoMb: m.compactMaxIoMb, compact: kind === 'compaction', clean: true, retainCommits: m.retainCommits };
}
