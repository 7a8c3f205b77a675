/** Human-readable rendering of `status` and `list` (the JSON forms are documented in docs/cli-json.md). */
import type { EngineStatus } from '../activities/local/warm-engines';
import type { StatusDocument } from './pipeline-client';
import type { RunRecord } from '../workflows/definitions';

const STEP_WORDS: Record<string, string> = {
  validate: 'checking the table and buckets',
  startExport: 'starting the export',
  awaitExport: 'waiting for the export',
  prepareInitialLoad: 'writing the initial load manifest',
  plan: 'planning the next batch',
  maintenance: 'writing the maintenance manifest',
  job: 'running a job',
  sleep: 'waiting for the next cycle',
  backoff: 'waiting to retry',
  paused: 'paused',
  stalled: 'STALLED',
};

export function formatStatus(s: StatusDocument, now = Date.now()): string {
  const out: string[] = [];
  const ex = s.execution;
  if (ex.status !== 'RUNNING') {
    out.push(`pipeline ${s.pipeline}: ${ex.status} at ${ex.closeTime ?? '?'} (started ${ex.startTime})`);
    if (ex.closeReason) out.push(`  reason: ${indent(ex.closeReason, '  ')}`);
    return out.join('\n');
  }
  let head = `pipeline ${s.pipeline} (table ${s.table}) — ${s.phase}, ${STEP_WORDS[s.step ?? ''] ?? s.step}`;
  if (s.step === 'sleep' && s.nextCycleAt) head += ` (next in ${secondsUntil(s.nextCycleAt, now)})`;
  if (s.step === 'backoff' && s.retry?.nextAttemptAt)
    head += ` (attempt ${s.retry.failures + 1} of ${s.retry.maxAttempts} in ${secondsUntil(s.retry.nextAttemptAt, now)})`;
  if (s.paused && s.step !== 'paused') head += ' — pause requested (the running step finishes first)';
  out.push(head);
  if (s.stalled?.gaps?.length) {
    out.push(
      `  STALLED since ${s.stalled.since}: a stream gap — the pipeline cannot prove every change reached the lake:`,
    );
    for (const g of s.stalled.gaps) out.push(`    - ${g.kind}: ${indent(g.message, '      ')}`);
    out.push(
      `    nothing after it is applied: \`ddb-lake rebackfill ${s.pipeline}\` reloads the lake from a fresh export (docs/gaps.md)`,
    );
  } else if (s.stalled) {
    out.push(
      `  STALLED since ${s.stalled.since} after ${s.stalled.attempts} attempt(s)${s.stalled.runKey ? ` of ${s.stalled.runKey}` : ''}:`,
    );
    out.push(`    ${indent(s.stalled.error, '    ')}`);
    out.push(`    nothing is skipped: fix the cause, then \`ddb-lake resume ${s.pipeline}\``);
  }
  if (s.retryingActivity)
    out.push(
      `  retrying    ${s.retryingActivity.activity}, attempt ${s.retryingActivity.attempt}${s.retryingActivity.lastFailure ? `: ${indent(s.retryingActivity.lastFailure, '              ')}` : ''}`,
    );
  if (s.currentRun)
    out.push(
      `  running     ${s.currentRun.runKey} (${runWords(s.currentRun.kind, s.currentRun.files)}) ` +
        `for ${secondsSince(s.currentRun.startedAt, now)}, since ${isoSeconds(s.currentRun.startedAt)}`,
    );
  if (s.watermark) {
    const open = s.watermark.openFolders
      .map((o) => `${o.folder} (${o.filesTaken} file${o.filesTaken === 1 ? '' : 's'})`)
      .join(', ');
    out.push(`  watermark   closed through ${s.watermark.closedThrough}${open ? `; open: ${open}` : ''}`);
  }
  if (s.lagSeconds !== null) {
    const backlog = s.backlog
      ? `; backlog ${s.backlog.files}${s.backlog.more ? '+' : ''} file${s.backlog.files === 1 && !s.backlog.more ? '' : 's'}`
      : '';
    out.push(
      `  lag         ${s.lagSeconds} s (every landing file written before ${isoSeconds(s.appliedThrough!)} is in the lake)${backlog}`,
    );
  }
  if (s.export)
    out.push(
      `  export      ${s.export.status}${s.export.itemCount !== null ? `, ${s.export.itemCount} items` : ''}${s.export.exportTime ? ` as of ${isoSeconds(s.export.exportTime)}` : ''}${s.export.adopted ? ' (adopted)' : ''}`,
    );
  if (s.lake) out.push(`  lake        ${lakeLine(s.lake)}`);
  out.push(`  interval    ${s.intervalSeconds} s`);
  const c = s.counters;
  if (c) {
    out.push(
      `  totals      ${c.cycles} cycles (${c.emptyCycles} empty), ${c.jobsSucceeded} jobs ok, ${c.jobsFailed} failed, ${plural(c.failures, 'failure')}; ${plural(c.filesApplied, 'file')} applied (${c.lateFilesApplied} late)`,
    );
    out.push(
      `              records ${c.recordsRead} read, ${c.upserted} upserted, ${c.deleted} deleted, ${c.rejected} rejected; continued as new ${c.continuedAsNew}×${c.rebackfills ? `; rebackfills ${c.rebackfills}` : ''}${c.compactions || c.cleans ? `; ${plural(c.compactions ?? 0, 'compaction')}, ${plural(c.cleans ?? 0, 'clean')}` : ''}`,
    );
  }
  if (s.lastRuns?.length) {
    out.push('  last runs   newest first: input, records read / upserted / deleted / rejected, wall time, end');
    for (const line of formatRuns(s.lastRuns)) out.push(`    ${line}`);
    const rejected = s.lastRuns.find((r) => r.rejected && r.rejectedUri);
    if (rejected)
      out.push(
        `  rejected    ${plural(rejected.rejected!, 'record')} of ${rejected.runKey} set aside with their reasons in ${rejected.rejectedUri}`,
      );
  }
  if (s.lastError)
    out.push(
      `  last error  ${isoSeconds(s.lastError.at)} ${s.lastError.runKey ?? s.lastError.phase}: ${indent(s.lastError.message, '              ')}`,
    );
  out.push(`  workflow    run ${ex.runId}, ${ex.historyLength} history events, started ${isoSeconds(ex.startTime)}`);
  return out.join('\n');
}

/** One aligned line per run; a run's error (first line) follows its line. */
function formatRuns(runs: RunRecord[]): string[] {
  const rows = runs.map((r) => [
    r.runKey,
    r.status,
    r.kind === 'initialLoad'
      ? 'export'
      : r.kind === 'compaction'
        ? 'table'
        : `${plural(r.files, 'file')}${r.lateFiles ? ` (${r.lateFiles} late)` : ''}`,
    r.recordsRead === null ? 'no summary' : `${r.recordsRead} / ${r.upserted} / ${r.deleted} / ${r.rejected}`,
    `${r.durationSeconds.toFixed(1)} s`,
    isoSeconds(r.finishedAt),
  ]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const right = new Set([4]);
  return runs.flatMap((r, n) => {
    const line = rows[n]!.map((cell, i) => (right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
    return r.error ? [line, `  ${r.error.split('\n')[0]}`] : [line];
  });
}

function runWords(kind: RunRecord['kind'], files: number): string {
  if (kind === 'initialLoad') return 'initial load of the export';
  if (kind === 'compaction') return 'compacting / cleaning the table';
  return `incremental, ${plural(files, 'file')}`;
}

/** The Hudi table: its type, what piled up since its last maintenance, what is due. */
function lakeLine(lake: NonNullable<StatusDocument['lake']>): string {
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  const since =
    lake.type === 'MERGE_ON_READ'
      ? `${plural(lake.deltaCommitsSinceCompaction, 'delta commit')} (${mb(lake.logBytesSinceCompaction)} of logs) since the last compaction`
      : `${plural(lake.commitsSinceClean, 'commit')} since the last clean`;
  const last = lake.last ? `; last ${lake.last.kind} ${lake.last.runKey} at ${isoSeconds(lake.last.finishedAt)}` : '';
  const due = lake.due ? `; ${lake.due} due before the next batch` : '';
  return `${lake.type === 'MERGE_ON_READ' ? 'merge-on-read' : 'copy-on-write'}, ${since}${last}${due}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** ISO-8601 to the second (the milliseconds only clutter a status). */
function isoSeconds(iso: string): string {
  return iso.replace(/\.\d+Z$/, 'Z');
}

function secondsSince(iso: string, now: number): string {
  return `${Math.max(0, Math.round((now - Date.parse(iso)) / 1000))} s`;
}

export function formatList(
  rows: { pipeline: string; runId: string; status: string; startTime: string; phase?: string | null }[],
): string {
  if (rows.length === 0) return 'no pipelines (start one with `ddb-lake start <config.json>`)';
  const w = Math.max(8, ...rows.map((r) => r.pipeline.length));
  return [
    `${'PIPELINE'.padEnd(w)}  ${'STATUS'.padEnd(10)}  ${'PHASE'.padEnd(12)}  STARTED`,
    ...rows.map(
      (r) => `${r.pipeline.padEnd(w)}  ${r.status.padEnd(10)}  ${(r.phase ?? '-').padEnd(12)}  ${r.startTime}`,
    ),
  ].join('\n');
}

function secondsUntil(iso: string, now: number): string {
  return `${Math.max(0, Math.round((Date.parse(iso) - now) / 1000))} s`;
}

function indent(text: string, pad: string): string {
  return text.split('\n').join(`\n${pad}`);
}

/** One warm engine: `engine <pipeline> ready|starting pid … idle|running <run key> …`. */
export function engineLine(e: EngineStatus): string {
  const work = e.busyWith ? `running ${e.busyWith}` : 'idle';
  return `engine ${e.pipeline}  ${e.ready ? 'ready' : 'starting'}  pid ${e.pid}  ${work}${e.queued ? `, ${e.queued} queued` : ''}  since ${e.startedAt}  log ${e.logFile}`;
}
