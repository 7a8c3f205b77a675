/**
 * Freshness of each change a generator wrote: the time from its write (DynamoDB's acknowledgement) to
 * the completion of the first lake commit that contains it. Measured after the fact from what the
 * pipeline leaves behind — no polling of the lake:
 *
 *   write log (generator) ── landing file holding the change (its lines name key, op and update_at)
 *   ── the first succeeded run whose manifest lists that file (`<landing>/_manifests/<pipeline>/`)
 *   ── its commit (`commitInstant` in the run summary) ── the commit's completion: the time its
 *   `.hoodie/<instant>.commit` (merge-on-read: `.deltacommit`) file was written (the summary's
 *   `finishedAt` once Hudi has archived it).
 *
 * Changes written before the export's point in time are in the initial load's commit.
 * Each freshness is split into parts (docs/freshness.md): stream → landing file, waiting for the job
 * running when it landed, the cycle turnaround (job end seen → batch planned), job start-up
 * (scheduling, JVM, Python), Spark session, reading and planning the batch, Hudi write + commit.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, type _Object } from '@aws-sdk/client-s3';
import { awsClientConfig } from '../../core/aws';
import { parseS3Uri } from '../../core/s3-uri';
import type { PipelineConfig } from '../../core/config';
import type { Environment } from '../../core/environment';
import { LANDING_RESERVED } from '../../core/landing';
import type { JobManifest } from '../../core/manifest';
import type { WriteLogRecord } from '../generate/generator';

export const PARTS = ['landing', 'queue', 'plan', 'startup', 'session', 'batch', 'commit'] as const;
export type Part = (typeof PARTS)[number];

export const PART_LABELS: Record<Part, string> = {
  landing: 'stream batching + landing file (write → file in S3)',
  queue: 'waiting for the job running when the file landed',
  plan: 'cycle turnaround: job end seen, next cycle, listing, manifest',
  startup: 'job start-up: activity, spark-submit, JVM, Python (manifest → job start)',
  session: 'Spark session',
  batch: 'read + decode + plan the batch (incl. tombstones)',
  commit: 'Hudi write and commit (→ commit completed)',
};

export interface RunTiming {
  runKey: string;
  kind: 'initialLoad' | 'incremental';
  files: number;
  recordsRead: number;
  plannedAtMs: number | null;
  /** When the run before it (in commit order) ended: a batch cannot be planned before that. */
  previousFinishedAtMs: number | null;
  startedAtMs: number;
  finishedAtMs: number;
  phases: Record<string, number>;
  commitInstant: string;
  committedAtMs: number;
  /** Where `committedAtMs` comes from. */
  commitTimeFrom: 'timeline' | 'summary';
}

/** A compaction run (with cleaning on merge-on-read) inside the measured window. */
export interface MaintenanceRun {
  runKey: string;
  startedAtMs: number;
  seconds: number;
}

export interface ChangeFreshness {
  seq: number;
  op: WriteLogRecord['op'];
  writtenAtMs: number;
  committedAtMs: number;
  seconds: number;
  runKey: string;
  parts: Partial<Record<Part, number>>;
}

export interface Stats {
  count: number;
  p50: number;
  p95: number;
  max: number;
  mean: number;
}

export interface FreshnessReport {
  changes: number;
  measured: number;
  /** Changes in no landing file a succeeded run applied (0 once the pipeline has caught up). */
  notFound: number;
  seconds: Stats;
  parts: Record<Part, Stats>;
  runs: RunTiming[];
  compactions: MaintenanceRun[];
  perChange: ChangeFreshness[];
}

export interface FreshnessInput {
  env: Environment;
  config: PipelineConfig;
  writes: readonly WriteLogRecord[];
  /** The export's point in time (epoch ms): earlier writes are in the initial load. */
  exportTimeMs: number | null;
}

export async function measureFreshness(input: FreshnessInput): Promise<FreshnessReport> {
  const s3 = new S3Client(awsClientConfig(input.env));
  try {
    const { runs, compactions } = await readRuns(s3, input);
    const ordered = [...runs.values()].sort((a, b) => a.timing.committedAtMs - b.timing.committedAtMs);
    ordered.forEach((r, i) => (r.timing.previousFinishedAtMs = i > 0 ? ordered[i - 1]!.timing.finishedAtMs : null));
    const firstRunOfFile = new Map<string, RunTiming>();
    for (const run of [...runs.values()].sort((a, b) => a.timing.committedAtMs - b.timing.committedAtMs)) {
      for (const file of run.manifestFiles) if (!firstRunOfFile.has(file)) firstRunOfFile.set(file, run.timing);
    }
    // Which landing file holds each change; only files some run applied are read.
    const landing = await readLandingFiles(s3, [...firstRunOfFile.keys()]);
    const fileOfChange = new Map<string, { file: string; lastModifiedMs: number }>();
    for (const f of landing) {
      for (const id of f.changes) {
        const known = fileOfChange.get(id);
        const run = firstRunOfFile.get(f.uri)!;
        if (!known || firstRunOfFile.get(known.file)!.committedAtMs > run.committedAtMs)
          fileOfChange.set(id, { file: f.uri, lastModifiedMs: f.lastModifiedMs });
      }
    }
    const initial = [...runs.values()].find((r) => r.timing.kind === 'initialLoad')?.timing;
    const perChange: ChangeFreshness[] = [];
    let notFound = 0;
    for (const w of input.writes) {
      if (input.exportTimeMs !== null && w.writtenAtMs < input.exportTimeMs && initial) {
        perChange.push({
          seq: w.seq,
          op: w.op,
          writtenAtMs: w.writtenAtMs,
          committedAtMs: initial.committedAtMs,
          seconds: (initial.committedAtMs - w.writtenAtMs) / 1000,
          runKey: initial.runKey,
          parts: {},
        });
        continue;
      }
      const where = fileOfChange.get(changeId(w.op, w.account, w.create_at, w.update_at));
      if (!where) {
        notFound++;
        continue;
      }
      const run = firstRunOfFile.get(where.file)!;
      perChange.push({
        seq: w.seq,
        op: w.op,
        writtenAtMs: w.writtenAtMs,
        committedAtMs: run.committedAtMs,
        seconds: (run.committedAtMs - w.writtenAtMs) / 1000,
        runKey: run.runKey,
        parts: splitParts(w.writtenAtMs, where.lastModifiedMs, run),
      });
    }
    const parts = {} as Record<Part, Stats>;
    for (const p of PARTS)
      parts[p] = stats(perChange.map((c) => c.parts[p]).filter((x): x is number => x !== undefined));
    return {
      changes: input.writes.length,
      measured: perChange.length,
      notFound,
      seconds: stats(perChange.map((c) => c.seconds)),
      parts,
      runs: [...runs.values()].map((r) => r.timing).sort((a, b) => a.committedAtMs - b.committedAtMs),
      compactions: compactions.sort((a, b) => a.startedAtMs - b.startedAtMs),
      perChange,
    };
  } finally {
    s3.destroy();
  }
}

/** Identity of a change in both the write log and a landing line. */
export function changeId(op: string, account: string, createAt: string, updateAt: string): string {
  if (op === 'insert') return `i|${account}|${createAt}`;
  if (op === 'delete' || op === 'remove') return `d|${account}|${createAt}`;
  return `u|${account}|${createAt}|${updateAt}`;
}

function splitParts(writtenAtMs: number, landedAtMs: number, run: RunTiming): Partial<Record<Part, number>> {
  const s = (ms: number) => Math.max(0, ms) / 1000;
  const phase = (name: string) => run.phases[name] ?? 0;
  const session = phase('session');
  // Everything between the session and Hudi's write: reading, decoding, planning, the ordering check.
  const batch =
    phase('read') +
    phase('plan') +
    phase('tombstones') +
    phase('ordering check') +
    phase('versions') +
    phase('pending compaction');
  const parts: Partial<Record<Part, number>> = { landing: s(landedAtMs - writtenAtMs) };
  if (run.plannedAtMs !== null) {
    // Landed while the previous job ran: it waited for that job, then for the turnaround to the next plan.
    const turnaroundFrom = Math.max(landedAtMs, run.previousFinishedAtMs ?? landedAtMs);
    parts.queue = s(Math.min(run.plannedAtMs, turnaroundFrom) - landedAtMs);
    parts.plan = s(run.plannedAtMs - turnaroundFrom);
    parts.startup = s(run.startedAtMs - run.plannedAtMs);
  }
  parts.session = session;
  parts.batch = batch;
  parts.commit = s(run.committedAtMs - run.startedAtMs - (session + batch) * 1000);
  return parts;
}

export function stats(values: number[]): Stats {
  if (values.length === 0) return { count: 0, p50: 0, p95: 0, max: 0, mean: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
  const r = (x: number) => Math.round(x * 10) / 10;
  return {
    count: values.length,
    p50: r(pct(0.5)),
    p95: r(pct(0.95)),
    max: r(sorted[sorted.length - 1]!),
    mean: r(values.reduce((a, b) => a + b, 0) / values.length),
  };
}

interface RunInfo {
  runKey: string;
  timing: RunTiming;
  manifestFiles: string[];
}

/** Every succeeded run of the pipeline, from its manifests and summaries (compactions apart). */
async function readRuns(
  s3: S3Client,
  input: FreshnessInput,
): Promise<{ runs: Map<string, RunInfo>; compactions: MaintenanceRun[] }> {
  const { bucket, key } = parseS3Uri(input.config.landing.location);
  const prefix = `${key}${LANDING_RESERVED.manifests}/${input.config.name}/`;
  const objects = await listAll(s3, bucket, prefix);
  const byName = new Map(objects.map((o) => [o.Key!.slice(prefix.length), o]));
  const runs = new Map<string, RunInfo>();
  const compactions: MaintenanceRun[] = [];
  const lake = input.config.lake.location;
  const summaries = [...byName.keys()].filter((n) => n.endsWith('.summary.json'));
  await parallel(summaries, 16, async (name) => {
    const runKey = name.slice(0, -'.summary.json'.length);
    const manifestObject = byName.get(`${runKey}.json`);
    if (!manifestObject) return;
    const summary = JSON.parse(await getText(s3, bucket, `${prefix}${name}`)) as {
      status: string;
      kind: 'initialLoad' | 'incremental' | 'compaction';
      commitInstant: string | null;
      startedAt: string;
      finishedAt: string;
      recordsRead: number;
      phases?: Record<string, number>;
    };
    if (summary.status === 'succeeded' && summary.kind === 'compaction') {
      const startedAtMs = Date.parse(summary.startedAt);
      compactions.push({ runKey, startedAtMs, seconds: (Date.parse(summary.finishedAt) - startedAtMs) / 1000 });
      return;
    }
    if (summary.status !== 'succeeded' || !summary.commitInstant) return;
    const manifest = JSON.parse(await getText(s3, bucket, `${prefix}${runKey}.json`)) as JobManifest;
    const committed = await commitCompletedAtMs(s3, lake, summary.commitInstant);
    runs.set(runKey, {
      runKey,
      manifestFiles: manifest.files,
      timing: {
        runKey,
        kind: summary.kind === 'initialLoad' ? 'initialLoad' : 'incremental',
        files: manifest.files.length,
        recordsRead: summary.recordsRead,
        plannedAtMs: manifestObject.LastModified?.getTime() ?? null,
        previousFinishedAtMs: null,
        startedAtMs: Date.parse(summary.startedAt),
        finishedAtMs: Date.parse(summary.finishedAt),
        phases: summary.phases ?? {},
        commitInstant: summary.commitInstant,
        committedAtMs: committed ?? Date.parse(summary.finishedAt),
        commitTimeFrom: committed !== null ? 'timeline' : 'summary',
      },
    });
  });
  return { runs, compactions };
}

/** Completed instants: a copy-on-write commit, a merge-on-read delta commit (docs/table-types.md). */
const COMMIT_SUFFIXES = ['commit', 'deltacommit'];

/** When the commit's `.hoodie/<instant>.(delta)commit` was written; null once it is archived. */
async function commitCompletedAtMs(s3: S3Client, lake: string, instant: string): Promise<number | null> {
  for (const suffix of COMMIT_SUFFIXES) {
    if (lake.startsWith('s3://')) {
      const { bucket, key } = parseS3Uri(`${lake}/.hoodie/${instant}.${suffix}`);
      try {
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        if (head.LastModified) return head.LastModified.getTime();
      } catch {
        /* not this kind of instant, or archived */
      }
      continue;
    }
    const file = join(lake.startsWith('file://') ? fileURLToPath(lake) : lake, '.hoodie', `${instant}.${suffix}`);
    if (existsSync(file)) return statSync(file).mtimeMs;
  }
  return null;
}

interface LandingFile {
  uri: string;
  lastModifiedMs: number;
  changes: string[];
}

async function readLandingFiles(s3: S3Client, uris: string[]): Promise<LandingFile[]> {
  const out: LandingFile[] = [];
  await parallel(uris, 16, async (uri) => {
    const { bucket, key } = parseS3Uri(uri);
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const text = await res.Body!.transformToString('utf8');
    const changes: string[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as Record<string, unknown>;
      changes.push(changeId(String(r._op), String(r.account), String(r.create_at), String(r.update_at)));
    }
    out.push({ uri, lastModifiedMs: res.LastModified?.getTime() ?? 0, changes });
  });
  return out;
}

async function listAll(s3: S3Client, bucket: string, prefix: string): Promise<_Object[]> {
  const out: _Object[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    out.push(...(page.Contents ?? []));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

async function getText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return res.Body!.transformToString('utf8');
}

async function parallel<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** The write log a generator appended (`--log`), one JSON line per write. */
export function readWriteLog(file: string): WriteLogRecord[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as WriteLogRecord);
}
