/**
 * A self-contained HTML page (inline SVG, no scripts, no external files) of freshness over time: one
 * dot per change at (write time, freshness), p50 / p95 lines, a tick per lake commit, and a table of
 * where the time goes.
 */
import { PART_LABELS, PARTS, type FreshnessReport } from '../tools/freshness/freshness';

export interface ChartMeta {
  title: string;
  settings: Record<string, unknown>;
  load: { atStart: number[]; max1m: number; atEnd: number[] };
  verify: string;
}

const W = 960;
const H = 420;
const M = { left: 56, right: 16, top: 16, bottom: 44 };
const COLORS: Record<string, string> = { insert: '#2b7bb9', update: '#e08a1e', delete: '#c0392b' };

export function renderFreshnessChart(f: FreshnessReport, meta: ChartMeta): string {
  const changes = f.perChange;
  const t0 = changes.length ? Math.min(...changes.map((c) => c.writtenAtMs)) : 0;
  const tMax = changes.length ? Math.max(...changes.map((c) => c.committedAtMs)) : 1;
  const xMax = Math.max(1, (tMax - t0) / 1000);
  const yMax = niceCeil(Math.max(1, f.seconds.max) * 1.05);
  const x = (s: number) => M.left + (s / xMax) * (W - M.left - M.right);
  const y = (s: number) => H - M.bottom - (s / yMax) * (H - M.top - M.bottom);
  const parts: string[] = [];
  // Axes and grid.
  for (let v = 0; v <= yMax + 1e-9; v += tick(yMax)) {
    parts.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/><text x="${M.left - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`,
    );
  }
  for (let v = 0; v <= xMax + 1e-9; v += tick(xMax)) {
    parts.push(
      `<line x1="${x(v)}" x2="${x(v)}" y1="${H - M.bottom}" y2="${H - M.bottom + 4}" stroke="#999"/><text x="${x(v)}" y="${H - M.bottom + 16}" text-anchor="middle">${v}</text>`,
    );
  }
  parts.push(`<text x="${(W + M.left) / 2}" y="${H - 6}" text-anchor="middle">seconds since the first write</text>`);
  parts.push(
    `<text transform="translate(14 ${(H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">freshness, s</text>`,
  );
  // Commits (incremental runs) as ticks on the x axis.
  for (const r of f.runs) {
    const at = (r.committedAtMs - t0) / 1000;
    if (at < 0 || at > xMax) continue;
    parts.push(
      `<line x1="${x(at)}" x2="${x(at)}" y1="${M.top}" y2="${H - M.bottom}" stroke="#d5e8d4" stroke-width="1"><title>${esc(r.runKey)}: ${r.files} files, ${r.recordsRead} records</title></line>`,
    );
  }
  // Changes (subsampled to at most 20,000 dots to keep the page light).
  const step = Math.max(1, Math.ceil(changes.length / 20000));
  for (let i = 0; i < changes.length; i += step) {
    const c = changes[i]!;
    parts.push(
      `<circle cx="${x((c.writtenAtMs - t0) / 1000).toFixed(1)}" cy="${y(c.seconds).toFixed(1)}" r="1.6" fill="${COLORS[c.op] ?? '#555'}" fill-opacity="0.55"/>`,
    );
  }
  for (const [label, v, color] of [
    ['p50', f.seconds.p50, '#333'],
    ['p95', f.seconds.p95, '#b03a2e'],
  ] as const) {
    parts.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}" stroke="${color}" stroke-dasharray="6 4"/><text x="${W - M.right - 4}" y="${y(v) - 4}" text-anchor="end" fill="${color}">${label} ${v} s</text>`,
    );
  }
  parts.push(
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#999"/><line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#999"/>`,
  );
  const legend = Object.entries(COLORS)
    .map(([op, color]) => `<span style="color:${color}">●</span> ${op}`)
    .join(' &nbsp; ');
  const rows = PARTS.map((p) => {
    const s = f.parts[p];
    return `<tr><td>${esc(PART_LABELS[p])}</td><td>${s.p50.toFixed(1)}</td><td>${s.p95.toFixed(1)}</td><td>${s.mean.toFixed(1)}</td></tr>`;
  }).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(meta.title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}svg text{font-size:11px;fill:#555}table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:right}td:first-child,th:first-child{text-align:left}pre{background:#f7f7f7;padding:8px;overflow:auto}</style>
</head><body>
<h2>${esc(meta.title)}</h2>
<p><b>p50 ${f.seconds.p50} s · p95 ${f.seconds.p95} s · max ${f.seconds.max} s</b> over ${f.measured} changes (write → completion of the first lake commit holding it) · verify: ${esc(meta.verify)} · load average ${meta.load.atStart.map((l) => l.toFixed(2)).join(' ')} at start, 1-min max ${meta.load.max1m.toFixed(2)}</p>
<p>${legend} &nbsp; <span style="color:#9c9">|</span> lake commit</p>
<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${parts.join('')}</svg>
<h3>Where the time goes (seconds per change)</h3>
<table><tr><th>part</th><th>p50</th><th>p95</th><th>mean</th></tr>${rows}</table>
<h3>Settings</h3>
<pre>${esc(JSON.stringify(meta.settings, null, 2))}</pre>
</body></html>
`;
}

function tick(max: number): number {
  const raw = max / 8;
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

function niceCeil(v: number): number {
  const t = tick(v);
  return Math.ceil(v / t) * t;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
