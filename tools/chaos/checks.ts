/** What a chaos run must show to pass: each a number and the number it must be. */
import type { StatusDocument } from '../../client/pipeline-client';
import type { VerifyReport } from '../../client/verify/verify';
import type { JobAudit } from './audit';
import type { FaultOutcome } from './faults';
import { FAULT_KINDS, type FaultKind } from './schedule';

export interface ChaosCheck {
  name: string;
  value: number;
  expected: number;
  ok: boolean;
}

export interface ChaosEvidence {
  /** The kinds the run was to inject, each at least `each` times. */
  kinds: readonly FaultKind[];
  each: number;
  faults: FaultOutcome[];
  report: VerifyReport;
  /** The pipeline's status at the end. */
  final: StatusDocument;
  /** Rejected lines stored by succeeded runs. */
  rejectedLines: number;
  jobs: JobAudit;
  writeErrors: number;
  ttlRemoves: number;
  /** TTL removes that reached the landing zone marked as TTL. */
  ttlLanded: number;
}

export function chaosChecks(e: ChaosEvidence): {
  faultCounts: Record<FaultKind, { injected: number; recovered: number }>;
  injectedBad: number;
  checks: ChaosCheck[];
} {
  const faultCounts = Object.fromEntries(
    FAULT_KINDS.map((k) => [
      k,
      {
        injected: e.faults.filter((f) => f.kind === k).length,
        recovered: e.faults.filter((f) => f.kind === k && f.recovered).length,
      },
    ]),
  ) as Record<FaultKind, { injected: number; recovered: number }>;
  const injectedBad = e.faults.reduce((n, f) => n + (f.badLines ?? 0), 0);
  const check = (name: string, value: number, expected: number): ChaosCheck => ({
    name,
    value,
    expected,
    ok: value === expected,
  });
  const { report, final, jobs } = e;
  const checks: ChaosCheck[] = [
    ...e.kinds.map((k) => ({
      name: `faults: ${k} injected ≥ ${e.each}`,
      value: faultCounts[k].injected,
      expected: e.each,
      ok: faultCounts[k].injected >= e.each,
    })),
    check('faults recovered', e.faults.filter((f) => f.recovered).length, e.faults.length),
    check('missing rows (in the table, not the lake)', report.missing.count, 0),
    check('extra rows (in the lake, not the table)', report.extra.count, 0),
    check('stale rows (values differ)', report.differing.count, 0),
    check('keys held twice by the lake', report.duplicates.count, 0),
    check('records quarantined (status counters)', final.counters?.rejected ?? -1, injectedBad),
    check('rejected lines stored by succeeded runs', e.rejectedLines, injectedBad),
    check('duplicate job runs (a batch run again after it succeeded)', jobs.duplicateRuns.length, 0),
    check('overlapping jobs', jobs.overlaps.length, 0),
    check('write errors', e.writeErrors, 0),
    check('TTL removes landed as TTL (_ttl true)', e.ttlLanded, e.ttlRemoves),
    check('pipeline stalled at the end', final.stalled ? 1 : 0, 0),
  ];
  return { faultCounts, injectedBad, checks };
}
