/**
 * What the chaos run checks after the fact, from the evidence the product leaves: the local runner's
 * job records (`<state>/jobs/<run key>.json`: no batch run twice as a new job, no two jobs at once),
 * the rejected records (`<landing>/_rejected/<run key>/`) and the landing files themselves.
 */
import { readRunRecords, type RunRecord } from '../../activities/local/run-records';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { parseS3Uri } from '../../core/s3-uri';

/** What the audit reads of the local runner's run records (activities/local/spark-job-runner.ts). */
export type JobRecord = Pick<RunRecord, 'runKey' | 'runId' | 'kind' | 'startedAt' | 'finishedAt' | 'error'> & {
  status: string;
  summary?: { rejected?: number };
};

export interface JobAudit {
  jobs: number;
  succeeded: number;
  failed: number;
  /** Attempts of a batch started although an earlier attempt of it had succeeded (a batch run twice). */
  duplicateRuns: string[];
  /** Pairs of jobs of the pipeline that ran at the same time. */
  overlaps: string[];
  /** Failed runs with their error (the killed Spark jobs among them). */
  failures: { runKey: string; error: string }[];
}

export function readJobRecords(stateDir: string, pipeline: string): JobRecord[] {
  return readRunRecords(stateDir, pipeline);
}

/** Run key without its attempt: `<pipeline>-<gen>-inc-000042-a2` → `<pipeline>-<gen>-inc-000042`. */
export function batchOf(runKey: string): string {
  return runKey.replace(/-a\d+$/, '');
}

function attemptOf(runKey: string): number {
  return Number(/-a(\d+)$/.exec(runKey)?.[1] ?? 1);
}

export function auditJobs(records: JobRecord[]): JobAudit {
  const audit: JobAudit = {
    jobs: records.length,
    succeeded: 0,
    failed: 0,
    duplicateRuns: [],
    overlaps: [],
    failures: [],
  };
  const byBatch = new Map<string, JobRecord[]>();
  for (const r of records) {
    if (r.status === 'succeeded') audit.succeeded++;
    else if (r.status === 'failed' || r.status === 'stopped') {
      audit.failed++;
      audit.failures.push({ runKey: r.runKey, error: (r.error ?? '').split('\n')[0]!.slice(0, 160) });
    }
    const list = byBatch.get(batchOf(r.runKey)) ?? [];
    list.push(r);
    byBatch.set(batchOf(r.runKey), list);
  }
  for (const attempts of byBatch.values()) {
    attempts.sort((a, b) => attemptOf(a.runKey) - attemptOf(b.runKey));
    const firstSuccess = attempts.findIndex((a) => a.status === 'succeeded');
    if (firstSuccess >= 0)
      for (const later of attempts.slice(firstSuccess + 1))
        audit.duplicateRuns.push(`${later.runKey} after ${attempts[firstSuccess]!.runKey} succeeded`);
  }
  // Sorted by start: a job overlaps when it starts before every earlier one has finished.
  let latest: JobRecord | undefined;
  for (const r of records) {
    if (latest) {
      const end = latest.finishedAt ? Date.parse(latest.finishedAt) : Number.POSITIVE_INFINITY;
      if (Date.parse(r.startedAt) < end)
        audit.overlaps.push(
          `${r.runKey} (from ${r.startedAt}) overlaps ${latest.runKey} (until ${latest.finishedAt ?? 'still running'})`,
        );
    }
    const rEnd = r.finishedAt ? Date.parse(r.finishedAt) : Number.POSITIVE_INFINITY;
    const lEnd = latest?.finishedAt
      ? Date.parse(latest.finishedAt)
      : latest
        ? Number.POSITIVE_INFINITY
        : Number.NEGATIVE_INFINITY;
    if (!latest || rEnd > lEnd) latest = r;
  }
  return audit;
}

async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<{ key: string }[]> {
  const out: { key: string }[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) out.push({ key: o.Key! });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

async function text(s3: S3Client, bucket: string, key: string): Promise<string> {
  return (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
}

function prefixOf(landingUri: string): { bucket: string; prefix: string } {
  const { bucket, key } = parseS3Uri(landingUri);
  return { bucket, prefix: key === '' || key.endsWith('/') ? key : `${key}/` };
}

/** Rejected record lines under `<landing>/_rejected/<run key>/` of the given (succeeded) runs. */
export async function rejectedLines(
  s3: S3Client,
  landingUri: string,
  runKeys: readonly string[],
): Promise<{ total: number; reasons: Record<string, number> }> {
  const { bucket, prefix } = prefixOf(landingUri);
  const reasons: Record<string, number> = {};
  let total = 0;
  for (const runKey of runKeys)
    for (const { key } of await listKeys(s3, bucket, `${prefix}_rejected/${runKey}/`)) {
      if (!key.endsWith('.json')) continue;
      for (const line of (await text(s3, bucket, key)).split('\n').filter((l) => l.trim())) {
        total++;
        const reason = String((JSON.parse(line) as { reason?: string }).reason ?? '?').split(':')[0]!;
        reasons[reason] = (reasons[reason] ?? 0) + 1;
      }
    }
  return { total, reasons };
}

/** Distinct stream records (by sequence number) in the landing files that are TTL removes. */
export async function landedTtlRemoves(s3: S3Client, landingUri: string): Promise<number> {
  const { bucket, prefix } = prefixOf(landingUri);
  const seqs = new Set<string>();
  for (const { key } of await listKeys(s3, bucket, prefix)) {
    if (!/^\d{4}-\d{2}-\d{2}-\d{2}-\d{2}\/[^/]+\.json$/.test(key.slice(prefix.length))) continue;
    for (const line of (await text(s3, bucket, key)).split('\n'))
      if (line.includes('"_ttl":true')) seqs.add(/"_seq":"(\d+)"/.exec(line)?.[1] ?? line);
  }
  return seqs.size;
}
