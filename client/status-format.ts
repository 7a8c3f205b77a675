/** Human-readable rendering of `status` and `list` (the JSON forms are documented in docs/cli-json.md). */
import type { StatusDocument } from './pipeline-client';
import type { RunRecord } from '../workflows/definitions';

const STEP_WORDS: Record<string, string> = {
  validate: 'checking the table and buckets',
  startExport: 'starting the export',
  awaitExport: 'waiting for the export',
  prepareInitialLoad: 'writing the initial load manifest',
  plan: 'planning the next batch',
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
  if (s.step === 'backoff' && s.retry?.nextAttemptAt) head += ` (attempt ${s.retry.failures + 1} of ${s.retry.maxAttempts} in ${secondsUntil(s.retry.nextAttemptAt, now)})`;
  if (s.paused && s.step !== 'paused') head += ' — pause requested (the running step finishes first)';
  out.push(head);
  if (s.stalled?.gaps?.length) {
    out.push(`  STALLED since ${s.stalled.since}: a stream gap — the pipeline cannot prove every change reached the lake:`);
    for (const g of s.stalled.gaps) out.push(`    - ${g.kind}: ${indent(g.message, '      ')}`);
    out.push(`    nothing after it is applied: \`ddb-lake rebackfill ${s.pipeline}\` reloads the lake from a fresh export (docs/gaps.md)`);
  } else if (s.stalled) {
    out.push(`  STALLED since ${s.stalled.since} after ${s.stalled.attempts} attempt(s)${s.stalled.runKey ? ` of ${s.stalled.runKey}` : ''}:`);
    out.push(`    ${indent(s.stalled.error, '    ')}`);
    out.push(`    nothing is skipped: fix the cause, then \`ddb-lake resume ${s.pipeline}\``);
  }
  if (s.retryingActivity)
    out.push(
      `  retrying    ${s.retryingActivity.activity}, attempt ${s.retryingActivity.attempt}${s.retryingActivity.lastFailure ? `: ${indent(s.retryingActivity.lastFailure, '              ')}` : ''}`,
    );
  if (s.currentRun) out.push(`  running     ${s.currentRun.runKey} (${s.currentRun.kind}, ${s.currentRun.files} files) since ${s.currentRun.startedAt}`);
  if (s.watermark) {
    const open = s.watermark.openFolders.map((o) => `${o.folder} (${o.filesTaken} file${o.filesTaken === 1 ? '' : 's'})`).join(', ');
    out.push(`  watermark   closed through ${s.watermark.closedThrough}${open ? `; open: ${open}` : ''}`);
  }
  if (s.lagSeconds !== null) {
    const backlog = s.backlog ? `; backlog ${s.backlog.files}${s.backlog.more ? '+' : ''} file(s)` : '';
    out.push(`  lag         ${s.lagSeconds} s (every landing file written before ${s.appliedThrough} is in the lake)${backlog}`);
  }
  if (s.export)
    out.push(`  export      ${s.export.status}${s.export.itemCount !== null ? `, ${s.export.itemCount} items` : ''}${s.export.exportTime ? ` as of ${s.export.exportTime}` : ''}${s.export.adopted ? ' (adopted)' : ''}`);
  out.push(`  interval    ${s.intervalSeconds} s`);
  const c = s.counters;
  if (c)
    out.push(
      `  counters    cycles ${c.cycles} (${c.emptyCycles} empty), jobs ${c.jobsSucceeded} ok / ${c.jobsFailed} failed, files ${c.filesApplied} (${c.lateFilesApplied} late), ` +
        `records ${c.recordsRead} read / ${c.upserted} upserted / ${c.deleted} deleted / ${c.rejected} rejected, continued-as-new ${c.continuedAsNew}` +
        (c.rebackfills ? `, rebackfills ${c.rebackfills}` : ''),
    );
  if (s.lastRuns?.length) {
    out.push('  last runs');
    for (const r of s.lastRuns) out.push(`    ${formatRun(r)}`);
    const rejected = s.lastRuns.find((r) => r.rejected && r.rejectedUri);
    if (rejected) out.push(`  rejected    ${rejected.rejected} record(s) of ${rejected.runKey} set aside with their reasons in ${rejected.rejectedUri}`);
  }
  if (s.lastError) out.push(`  last error  ${s.lastError.at} ${s.lastError.runKey ?? s.lastError.phase}: ${indent(s.lastError.message, '              ')}`);
  out.push(`  workflow    run ${ex.runId}, ${ex.historyLength} history events, started ${ex.startTime}`);
  return out.join('\n');
}

function formatRun(r: RunRecord): string {
  const counts = r.recordsRead === null ? 'no summary' : `${r.recordsRead} read / ${r.upserted} up / ${r.deleted} del / ${r.rejected} rej`;
  const err = r.error ? `  — ${r.error.split('\n')[0]}` : '';
  return `${r.runKey}  ${r.status.padEnd(9)} ${String(r.files).padStart(5)} files${r.lateFiles ? ` (${r.lateFiles} late)` : ''}  ${counts}  ${r.durationSeconds.toFixed(1)} s  ${r.finishedAt}${err}`;
}

export function formatList(rows: { pipeline: string; runId: string; status: string; startTime: string; phase?: string | null }[]): string {
  if (rows.length === 0) return 'no pipelines (start one with `ddb-lake start <config.json>`)';
  const w = Math.max(8, ...rows.map((r) => r.pipeline.length));
  return [
    `${'PIPELINE'.padEnd(w)}  ${'STATUS'.padEnd(10)}  ${'PHASE'.padEnd(12)}  STARTED`,
    ...rows.map((r) => `${r.pipeline.padEnd(w)}  ${r.status.padEnd(10)}  ${(r.phase ?? '-').padEnd(12)}  ${r.startTime}`),
  ].join('\n');
}

function secondsUntil(iso: string, now: number): string {
  return `${Math.max(0, Math.round((Date.parse(iso) - now) / 1000))} s`;
}

function indent(text: string, pad: string): string {
  return text.split('\n').join(`\n${pad}`);
}
