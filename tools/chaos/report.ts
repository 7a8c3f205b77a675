/** What a chaos run found, and the one table it prints (bench/chaos.ts, test/chaos.test.ts). */
import type { JobAudit } from './audit';
import type { ChaosCheck } from './checks';
import type { FaultOutcome } from './faults';
import { FAULT_KINDS, type FaultKind, type PlannedFault } from './schedule';

/** What a chaos run found (bench/chaos.ts writes it to bench/out/chaos-<time>.json). */
export interface ChaosResult {
  seed: string;
  settings: Record<string, unknown>;
  pipeline: string;
  table: string;
  planned: PlannedFault[];
  faults: FaultOutcome[];
  faultCounts: Record<FaultKind, { injected: number; recovered: number }>;
  writes: {
    written: number;
    inserts: number;
    updates: number;
    deletes: number;
    ttlRemoves: number;
    errors: number;
    handLanded: number;
    ratePerSecond: number;
  };
  verify: {
    result: string;
    items: number;
    rows: number;
    missing: number;
    extra: number;
    differing: number;
    duplicates: number;
    sample: unknown;
  };
  quarantined: { status: number; rejectedLines: number; reasons: Record<string, number>; injected: number };
  jobs: JobAudit;
  ttlLanded: number;
  checks: ChaosCheck[];
  ok: boolean;
  seconds: { total: number; writes: number; catchUpAndVerify: number };
  load: { atStart: number[]; max1m: number; atEnd: number[]; cores: number };
}

export function formatChaosTable(r: ChaosResult): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const s = r.settings as {
    rate: number;
    durationSeconds: number;
    each: number;
    intervalSeconds: number;
    sweepEveryCycles: number;
    ttlRate: number;
    initial: number;
  };
  const out: string[] = [];
  out.push(`ddb-lake chaos — ${r.ok ? 'PASS' : 'FAIL'} — seed ${JSON.stringify(r.seed)}, pipeline ${r.pipeline}`);
  out.push(
    `  settings   ${s.rate} writes/s for ${s.durationSeconds} s (+${s.ttlRate} TTL removes/s), each fault ×${s.each}, first batch ${n(s.initial)}, interval ${s.intervalSeconds} s, sweep every ${s.sweepEveryCycles} cycles`,
  );
  out.push(
    `  took       ${r.seconds.total} s: writes ${r.seconds.writes} s, catch-up + verify ${r.seconds.catchUpAndVerify} s`,
  );
  out.push(
    `  load       ${r.load.atStart.map((x) => x.toFixed(2)).join(' ')} at start, 1-min max ${r.load.max1m.toFixed(2)}, ${r.load.atEnd.map((x) => x.toFixed(2)).join(' ')} at end (${r.load.cores} cores)`,
  );
  out.push(
    `  changes    ${n(r.writes.written)} written (${n(r.writes.inserts)} inserts, ${n(r.writes.updates)} note updates, ${n(r.writes.deletes)} deletes, ${n(r.writes.ttlRemoves)} TTL removes) + ${n(r.writes.handLanded)} landed by hand; table ${n(r.verify.items)} items, lake ${n(r.verify.rows)} rows`,
  );
  out.push('');
  out.push(`  ${'fault'.padEnd(20)} ${'injected'.padStart(8)} ${'recovered'.padStart(9)}`);
  for (const k of FAULT_KINDS) {
    const c = r.faultCounts[k];
    if (c.injected || r.planned.some((p) => p.kind === k))
      out.push(`  ${k.padEnd(20)} ${String(c.injected).padStart(8)} ${String(c.recovered).padStart(9)}`);
  }
  out.push('');
  out.push(`  ${'check'.padEnd(58)} ${'value'.padStart(7)} ${'expected'.padStart(8)}   ok`);
  for (const c of r.checks)
    out.push(
      `  ${c.name.padEnd(58)} ${String(c.value).padStart(7)} ${String(c.expected).padStart(8)}   ${c.ok ? 'yes' : 'NO'}`,
    );
  out.push('');
  out.push(
    `  jobs       ${r.jobs.jobs} runs: ${r.jobs.succeeded} succeeded, ${r.jobs.failed} failed${r.jobs.failures.length ? ` (${r.jobs.failures.map((f) => `${f.runKey.split('-').slice(-2).join('-')}: ${f.error.slice(0, 70)}`).join('; ')})` : ''}`,
  );
  if (Object.keys(r.quarantined.reasons).length)
    out.push(
      `  rejected   ${Object.entries(r.quarantined.reasons)
        .map(([k, v]) => `${k} ×${v}`)
        .join(', ')}`,
    );
  for (const d of r.jobs.duplicateRuns) out.push(`  DUPLICATE  ${d}`);
  for (const d of r.jobs.overlaps) out.push(`  OVERLAP    ${d}`);
  return `${out.join('\n')}\n`;
}

/** One line per fault: when, what, how it recovered. */
export function formatFaultLog(r: ChaosResult): string {
  return (
    r.faults
      .map(
        (f, i) =>
          `  ${String(i + 1).padStart(2)}. ${f.startedAt.slice(11, 19)} ${f.kind} (${f.seconds} s)${f.recovered ? '' : ' NOT RECOVERED'}: ${f.detail}`,
      )
      .join('\n') + '\n'
  );
}
