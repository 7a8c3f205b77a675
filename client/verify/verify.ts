/**
 * `ddb-lake verify` as a library (the command, the demo, the freshness bench and the tests use it):
 * wait until the pipeline has caught up with the table as of the moment verify started, then compare
 * the table with the lake snapshot (./compare.ts). The rules are in docs/verify.md.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { awsClientConfig } from '../../core/aws';
import type { Environment } from '../../core/environment';
import { UserError } from '../../core/errors';
import type { PipelineClient, StatusDocument } from '../pipeline-client';
import { compareTableWithLake, type Comparison } from './compare';
import { landingProgressFor, type LandingProgress } from './landing-progress';

/** Exit code when verify could not decide (not caught up in time, pipeline stalled / paused / stopped). */
export const EXIT_INCONCLUSIVE = 3;

export interface VerifyOptions {
  pipeline: string;
  /** Longest wait for the pipeline to catch up, seconds. */
  timeoutSeconds: number;
  /** Rows listed per category. */
  sample: number;
  /** Parallel Scan segments. */
  segments: number;
  /** Compare at once, without waiting for the pipeline. */
  wait: boolean;
  /** Compare with this lake instead of the pipeline's (e.g. a copy). */
  lake?: string;
  /** Compare with this table instead of the pipeline's (e.g. a restored copy). */
  table?: string;
  /** AWS: seconds without a new landing file that count as "the stream has landed". */
  quietSeconds: number;
  onProgress?: (p: CatchUpProgress) => void;
}

export interface CatchUpProgress {
  elapsedSeconds: number;
  timeoutSeconds: number;
  phase: string | null;
  landing: string;
  lake: string;
}

/** What the wait established (docs/verify.md, "caught up"). */
export interface CatchUp {
  /** T: verify started; the table as of T is what the lake must equal. */
  startedAt: string;
  /** Every stream record written before T was in the landing zone at this instant. */
  landedAt: string;
  /** The pipeline's appliedThrough when it was found at or past `landedAt`. */
  appliedThrough: string;
  /** The lake commit the pipeline had made by then (its last run's key). */
  lastRunKey: string | null;
  waitSeconds: number;
  method: LandingProgress['method'];
}

/** The `verify --json` document (docs/cli-json.md). */
export interface VerifyReport {
  schemaVersion: 1;
  pipeline: string;
  result: 'equal' | 'different';
  equal: boolean;
  table: Comparison['table'];
  lake: Comparison['lake'];
  catchUp: CatchUp | null;
  missing: Comparison['missing'];
  extra: Comparison['extra'];
  differing: Comparison['differing'];
  duplicates: Comparison['duplicates'];
  /** The stream delivered changes made after T while verify ran (local only; null: cannot tell). */
  tableChangedWhileVerifying: boolean | null;
  /** Seconds of the comparison itself (the join and counts, after the Scan and the lake read). */
  compareSeconds: number;
  durationSeconds: number;
}

/**
 * Verify at the end of a run of writes (the demo, the freshness bench, the chaos run): wait for the
 * pipeline to catch up (60 s without a new landing file on AWS), a 4-segment Scan, 5 samples per
 * category. `progress` gets "waiting N s · landing · lake".
 */
export function verifyAfterWrites(
  env: Environment,
  client: PipelineClient,
  pipeline: string,
  timeoutSeconds: number,
  progress: (line: string) => void,
): Promise<VerifyReport> {
  return verifyPipeline(env, client, {
    pipeline,
    timeoutSeconds,
    sample: 5,
    segments: 4,
    wait: true,
    quietSeconds: 60,
    onProgress: (p) => progress(`waiting ${Math.round(p.elapsedSeconds)} s · ${p.landing} · ${p.lake}`),
  });
}

export async function verifyPipeline(
  env: Environment,
  client: PipelineClient,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const started = Date.now();
  const config = await client.config(options.pipeline);
  const table = options.table ?? config.table;
  const lake = options.lake ?? config.lake.location;
  await assertTableExists(env, table);
  const progress = landingProgressFor(env, config.table, config.landing.location, options.quietSeconds);
  try {
    const catchUp = options.wait ? await waitForCatchUp(client, progress, started, options) : null;
    const comparison = await compareTableWithLake(env, {
      table,
      lake,
      keyFields: config.keyFields ?? [],
      derivedColumns: config.derivedColumns,
      segments: options.segments,
      sample: options.sample,
    });
    const changed = catchUp && table === config.table ? await progress.changedSince(started).catch(() => null) : null;
    return {
      schemaVersion: 1,
      pipeline: options.pipeline,
      result: comparison.equal ? 'equal' : 'different',
      equal: comparison.equal,
      table: comparison.table,
      lake: comparison.lake,
      catchUp,
      missing: comparison.missing,
      extra: comparison.extra,
      differing: comparison.differing,
      duplicates: comparison.duplicates,
      tableChangedWhileVerifying: changed,
      compareSeconds: comparison.compareSeconds,
      durationSeconds: round((Date.now() - started) / 1000),
    };
  } finally {
    progress.close();
  }
}

/**
 * Caught up with T (= `startedMs`): (1) the landing zone holds every stream record written before T
 * (`LandingProgress`, at instant L), and (2) the pipeline's `appliedThrough` — every landing file
 * written before it is in the lake — is at or past L.
 */
export async function waitForCatchUp(
  client: PipelineClient,
  progress: LandingProgress,
  startedMs: number,
  options: Pick<VerifyOptions, 'pipeline' | 'timeoutSeconds' | 'onProgress'>,
): Promise<CatchUp> {
  const deadline = startedMs + options.timeoutSeconds * 1000;
  let landedAtMs: number | null = null;
  const last: { status?: StatusDocument; landing: string } = { landing: '' };
  for (;;) {
    const status = await client.statusPatiently(options.pipeline);
    if (status.execution.status !== 'RUNNING')
      throw new UserError(
        `pipeline "${options.pipeline}" is not running (${status.execution.status}): it cannot catch up`,
        'compare the lake as it is with `--no-wait`, or start the pipeline again',
        EXIT_INCONCLUSIVE,
      );
    if (status.stalled)
      throw new UserError(
        `pipeline "${options.pipeline}" is stalled: ${status.stalled.error}`,
        `fix the cause and \`ddb-lake resume ${options.pipeline}\`, then verify`,
        EXIT_INCONCLUSIVE,
      );
    if (status.paused)
      throw new UserError(
        `pipeline "${options.pipeline}" is paused: it cannot catch up`,
        `\`ddb-lake resume ${options.pipeline}\`, or compare as it is with \`--no-wait\``,
        EXIT_INCONCLUSIVE,
      );
    if (landedAtMs === null) {
      const check = await progress.check(startedMs);
      if (check.fatal)
        throw new UserError(
          check.fatal,
          "the pipeline config's landing.location must be where the stream handler writes",
          EXIT_INCONCLUSIVE,
        );
      landedAtMs = check.landedAtMs;
      last.landing = check.detail;
    }
    const applied = status.appliedThrough ? Date.parse(status.appliedThrough) : null;
    last.status = status;
    if (landedAtMs !== null && status.phase === 'incremental' && applied !== null && applied >= landedAtMs) {
      return {
        startedAt: iso(startedMs),
        landedAt: iso(landedAtMs),
        appliedThrough: status.appliedThrough!,
        lastRunKey: status.lastRuns?.[0]?.runKey ?? null,
        waitSeconds: round((Date.now() - startedMs) / 1000),
        method: progress.method,
      };
    }
    const lakeLine =
      status.phase !== 'incremental'
        ? `pipeline: ${status.phase} phase`
        : landedAtMs === null
          ? `lake: applied through ${clock(status.appliedThrough)}`
          : `lake: applied through ${clock(status.appliedThrough)}, needs ${clock(iso(landedAtMs))}${status.step === 'job' ? ' (job running)' : ''}`;
    options.onProgress?.({
      elapsedSeconds: (Date.now() - startedMs) / 1000,
      timeoutSeconds: options.timeoutSeconds,
      phase: status.phase ?? null,
      landing: last.landing,
      lake: lakeLine,
    });
    if (Date.now() >= deadline) {
      const what = landedAtMs === null ? last.landing : lakeLine;
      throw new UserError(
        `pipeline "${options.pipeline}" did not catch up within ${options.timeoutSeconds} s (${what})`,
        `wait longer with --timeout, or check \`ddb-lake status ${options.pipeline}\``,
        EXIT_INCONCLUSIVE,
      );
    }
    await sleep(1000);
  }
}

/** A missing table is bad input (exit 2), not something to wait for. */
async function assertTableExists(env: Environment, table: string): Promise<void> {
  const ddb = new DynamoDBClient(awsClientConfig(env));
  try {
    await ddb.send(new DescribeTableCommand({ TableName: table }));
  } catch (err) {
    if (err instanceof ResourceNotFoundException)
      throw new UserError(
        `table ${table} does not exist`,
        'check the table name (the pipeline config\'s "table", or --table)',
      );
    throw err;
  } finally {
    ddb.destroy();
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function clock(isoTime: string | null | undefined): string {
  return isoTime ? isoTime.slice(11, 19) : '—';
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
