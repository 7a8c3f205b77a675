/**
 * The parts of the brief's scenario that the demo, the freshness benchmark and the end-to-end test
 * share: a fresh Transaction table, a pipeline config for it in the state folder, starting the pipeline
 * and waiting for its phases, and the live status line.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { awsClientConfig } from '../../core/aws';
import { parseS3Uri } from '../../core/s3-uri';
import { parsePipelineConfig, type PipelineConfig } from '../../core/config';
import type { Environment, LocalEnvironment } from '../../core/environment';
import { UserError } from '../../core/errors';
import { REPO_ROOT } from '../../core/toolchain';
import type { Phase } from '../../workflows/definitions';
import type { PipelineClient, StatusDocument } from '../../client/pipeline-client';
import { ensureTransactionTable } from '../generate/transaction-table';

/**
 * Pipeline settings tuned for freshness on a laptop (bench/freshness measures them; docs/freshness.md).
 * The brief's config (configs/transaction.json) keeps its own values.
 */
export const FRESH_SCHEDULE = { intervalSeconds: 2 } as const;

/** A name unique to this run, e.g. `demo-20261127-130501`: table, pipeline and lake never collide with an earlier run. */
export function runName(prefix: string, now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${prefix}-${t}`.toLowerCase();
}

export interface ScenarioNames {
  /** Pipeline name (workflow id). */
  pipeline: string;
  /** DynamoDB table, e.g. `Transaction-demo-20261127-130501`. */
  table: string;
}

export function scenarioNames(prefix: string, now = new Date()): ScenarioNames {
  const pipeline = runName(prefix, now);
  return { pipeline, table: `Transaction-${pipeline}` };
}

/**
 * The brief's pipeline config (configs/transaction.json) for another table: its landing where the local
 * poller writes that table's changes, its lake in the state folder. Written to `<state>/configs/` so the
 * user can read and reuse it; returns the parsed config.
 */
export function scenarioConfig(
  env: LocalEnvironment,
  names: ScenarioNames,
  schedule: Partial<PipelineConfig['schedule']> = FRESH_SCHEDULE,
  landing: Partial<Omit<PipelineConfig['landing'], 'location'>> = {},
): { config: PipelineConfig; file: string } {
  const raw = JSON.parse(readFileSync(join(REPO_ROOT, 'configs', 'transaction.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  raw.name = names.pipeline;
  raw.table = names.table;
  raw.export = { ...(raw.export as object), location: `s3://ddb-lake-local/export/${names.table}/` };
  raw.landing = { ...(raw.landing as object), ...landing, location: `s3://ddb-lake-local/landing/${names.table}/` };
  raw.lake = { location: join(env.stateDir, 'lake', names.pipeline), tableName: names.pipeline.replace(/-/g, '_') };
  raw.schedule = { ...(raw.schedule as object), ...schedule };
  const dir = join(env.stateDir, 'configs');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${names.pipeline}.json`);
  writeFileSync(file, `${JSON.stringify(raw, null, 2)}\n`);
  return { config: parsePipelineConfig(raw, file, dir), file };
}

/** The table (PITR, NEW_AND_OLD_IMAGES stream) and the bucket the export and the landing zone use. */
export async function prepareTableAndBuckets(env: Environment, config: PipelineConfig): Promise<void> {
  const ddb = new DynamoDBClient(awsClientConfig(env));
  const s3 = new S3Client(awsClientConfig(env));
  try {
    await ensureTransactionTable(ddb, config.table);
    for (const uri of new Set([config.export.location, config.landing.location].map((u) => parseS3Uri(u).bucket))) {
      try {
        await s3.send(new CreateBucketCommand({ Bucket: uri }));
      } catch (err) {
        const name = (err as Error).name;
        if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
      }
    }
  } finally {
    ddb.destroy();
    s3.destroy();
  }
}

const PHASES: Phase[] = ['validating', 'exporting', 'initialLoad', 'incremental'];

/** Wait until the pipeline reaches `phase` (the first incremental cycle has been planned, for `incremental`). */
export async function waitForPhase(
  client: PipelineClient,
  pipeline: string,
  phase: Phase,
  options: { timeoutSeconds: number; signal?: AbortSignal; onStatus?: (s: StatusDocument) => void },
): Promise<StatusDocument> {
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  for (;;) {
    const s = await client.statusPatiently(pipeline);
    options.onStatus?.(s);
    if (s.execution.status !== 'RUNNING')
      throw new UserError(
        `pipeline ${pipeline} ended (${s.execution.status})${s.execution.closeReason ? `: ${s.execution.closeReason}` : ''}`,
      );
    if (s.stalled)
      throw new UserError(`pipeline ${pipeline} stalled: ${s.stalled.error}`, `see \`ddb-lake status ${pipeline}\``);
    if (s.phase && PHASES.indexOf(s.phase) >= PHASES.indexOf(phase)) return s;
    if (Date.now() > deadline)
      throw new UserError(
        `pipeline ${pipeline} did not reach its ${phase} phase within ${options.timeoutSeconds} s (it is ${s.phase ?? '?'})`,
      );
    if (options.signal?.aborted) throw new UserError('interrupted');
    await sleep(1000);
  }
}

/** `phase · watermark · lag · applied` — the pipeline half of the demo's live status line. */
export function pipelineLine(s: StatusDocument | undefined): string {
  if (!s) return 'pipeline: starting';
  if (s.execution.status !== 'RUNNING') return `pipeline: ${s.execution.status}`;
  const step = s.stalled ? 'STALLED' : s.paused ? 'paused' : s.step === 'job' ? 'job running' : (s.step ?? '');
  const parts = [`${s.phase ?? '?'} (${step})`];
  if (s.watermark)
    parts.push(
      `watermark ${s.watermark.closedThrough}${s.watermark.openFolders.length ? ` +${s.watermark.openFolders.length} open` : ''}`,
    );
  if (s.lagSeconds !== null && s.lagSeconds !== undefined) parts.push(`lag ${s.lagSeconds.toFixed(0)} s`);
  if (s.counters)
    parts.push(
      `applied ${s.counters.recordsRead.toLocaleString('en-US')} changes in ${s.counters.jobsSucceeded} job(s)`,
    );
  return parts.join(' · ');
}
