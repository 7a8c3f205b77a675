/** Human-readable rendering of a verify result (the JSON form is documented in docs/cli-json.md). */
import type { KeyValues } from './compare';
import type { VerifyReport } from './verify';

export function formatVerifyReport(r: VerifyReport): string {
  const out: string[] = [];
  const verdict = r.equal
    ? `EQUAL — the lake holds exactly the table's ${r.table.items} item(s)`
    : `DIFFERENT — ${r.missing.count} missing, ${r.extra.count} extra, ${r.differing.count} differing row(s)${r.duplicates.count ? `, ${r.duplicates.count} duplicated key(s)` : ''}`;
  out.push(`verify ${r.pipeline}: ${verdict}`);
  out.push(
    `  table   ${r.table.name}: ${r.table.items} items (parallel Scan, ${r.table.segments} segments, ${r.table.scanSeconds} s)`,
  );
  out.push(
    `  lake    ${r.lake.location}: ${r.lake.rows} rows at commit ${r.lake.commitInstant}${r.lake.runKey ? ` (${r.lake.runKey})` : ''}`,
  );
  if (r.catchUp)
    out.push(
      `  caught up with the table as of ${r.catchUp.startedAt}: stream landed by ${r.catchUp.landedAt}, lake applied through ${r.catchUp.appliedThrough} (waited ${r.catchUp.waitSeconds} s)`,
    );
  else out.push('  compared the lake as it is (no wait for the pipeline)');
  if (r.missing.count) {
    out.push(`  missing from the lake: ${r.missing.count}`);
    for (const m of r.missing.sample)
      out.push(`    ${key(m.key)}${m.reason ? ` — the jobs reject it: ${m.reason}` : ''}`);
  }
  if (r.extra.count) {
    out.push(`  extra in the lake (not in the table): ${r.extra.count}`);
    for (const m of r.extra.sample) out.push(`    ${key(m.key)}`);
  }
  if (r.differing.count) {
    const by = Object.entries(r.differing.byAttribute)
      .map(([a, n]) => `${a} ${n}`)
      .join(', ');
    out.push(`  rows with different values: ${r.differing.count}${by ? ` (by attribute: ${by})` : ''}`);
    for (const d of r.differing.sample)
      out.push(
        `    ${key(d.key)} ${d.attribute}: table ${value(d.table)} · lake ${value(d.lake)}${d.note ? ` (${d.note})` : ''}`,
      );
  }
  if (r.duplicates.count) {
    out.push(`  keys held more than once by the lake: ${r.duplicates.count} (${r.duplicates.rows} rows)`);
    for (const d of r.duplicates.sample) out.push(`    ${key(d.key)} ×${d.copies}`);
  }
  if (r.tableChangedWhileVerifying && !r.equal)
    out.push(
      '  note: the table changed while verify ran; the differences may be those changes — verify again once writes stop',
    );
  out.push(`  took ${r.durationSeconds} s`);
  return `${out.join('\n')}\n`;
}

function key(k: KeyValues): string {
  return Object.entries(k)
    .map(([a, v]) => `${a}=${value(v)}`)
    .join(' ');
}

function value(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}
