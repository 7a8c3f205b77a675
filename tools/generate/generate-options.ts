import { UserError } from '../../core/errors';
import { randomSeed } from './random';
import type { TransactionKey } from './transaction-model';

/** What `generate` is asked to do (checked by resolveGenerateOptions) and what it reports. */
export interface GenerateOptions {
  table: string;
  /** Stop after this many writes (attempted; failed writes count too). */
  count?: number;
  /** Stop after this many seconds. With `count` too, whichever comes first. */
  durationSeconds?: number;
  /** Target writes per second; undefined = as fast as `concurrency` allows. */
  rate?: number;
  /** Share of writes that update an existing item's note (0..1). Default 0. */
  updateRatio?: number;
  /** Share of writes that delete an existing item (0..1). Default 0. */
  deleteRatio?: number;
  /** Same seed, same sequence of operations and values. Default: a random seed (reported). */
  seed?: string;
  /** Writes in flight at once. Default 8 (moto saturates at about that). */
  concurrency?: number;
  /**
   * Write inserts 25 at a time with BatchWriteItem. Only for runs of inserts without a rate (the
   * initial batch); default: on for exactly those runs.
   */
  batchWrites?: boolean;
  /** Items already in the table that updates and deletes may target (e.g. a first batch). */
  existingKeys?: readonly TransactionKey[];
  /** Append one JSON line per successful write (see WriteLogRecord). */
  logFile?: string;
  /** Stops planning new writes; the ones in flight finish. */
  signal?: AbortSignal;
  onProgress?: (progress: GenerateProgress) => void;
  progressIntervalMs?: number;
  /** Called after every successful write (the benchmark uses it in-process). */
  onWrite?: (record: WriteLogRecord) => void;
}

export type WriteOp = 'insert' | 'update' | 'delete';

/**
 * One line of `--log`. create_at / update_at are the item's values; for a delete, update_at is the
 * time the delete was sent. writtenAtMs is when DynamoDB acknowledged the write (epoch ms).
 */
export interface WriteLogRecord {
  seq: number;
  op: WriteOp;
  account: string;
  create_at: string;
  update_at: string;
  writtenAtMs: number;
}

/** Writes planned, done and failed so far. */
export interface WriteCounts {
  planned: number;
  written: number;
  inserts: number;
  updates: number;
  deletes: number;
  errors: number;
}

export interface GenerateProgress extends WriteCounts {
  elapsedSeconds: number;
  /** Writes per second over the last progress interval. */
  currentRate: number;
  /** Writes per second since the start. */
  averageRate: number;
}

export interface GenerateSummary extends WriteCounts {
  table: string;
  seed: string;
  targetRate: number | null;
  concurrency: number;
  /** Inserts went 25 per BatchWriteItem (latency is then per batch). */
  batchWrites: boolean;
  updateRatio: number;
  deleteRatio: number;
  stoppedBy: 'count' | 'duration' | 'signal';
  /** Failed writes by error name, with one example message each. */
  errorsByKind: Record<string, { count: number; example: string }>;
  durationSeconds: number;
  /** Successful writes per second over the whole run. */
  ratePerSecond: number;
  /** Round trip of a successful write, milliseconds. */
  latencyMs: { p50: number; p95: number; max: number };
}

export interface GenerateResult extends GenerateSummary {
  /** Keys of the items this run leaves in the table (its inserts plus existingKeys, minus deletes). */
  liveKeys: TransactionKey[];
}

/** Options after validation, with defaults applied. */
export interface ResolvedGenerateOptions {
  table: string;
  count?: number;
  durationSeconds?: number;
  rate?: number;
  updateRatio: number;
  deleteRatio: number;
  seed: string;
  concurrency: number;
  batchWrites: boolean;
}

export const DEFAULT_CONCURRENCY = 8;

/** Checks the options a caller (CLI flags, demo, benchmark) passes; messages say what to fix. */
export function resolveGenerateOptions(options: GenerateOptions): ResolvedGenerateOptions {
  const { count, durationSeconds, rate } = options;
  const updateRatio = options.updateRatio ?? 0;
  const deleteRatio = options.deleteRatio ?? 0;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(options.table))
    throw new UserError(`table name "${options.table}" is not valid`, 'use 3-255 characters of A-Z a-z 0-9 _ - .');
  if (count !== undefined && !(Number.isInteger(count) && count >= 1))
    throw new UserError(`--count must be a whole number of writes, at least 1 (got ${count})`);
  if (durationSeconds !== undefined && !(Number.isFinite(durationSeconds) && durationSeconds > 0))
    throw new UserError(`--duration must be a positive number of seconds (got ${durationSeconds})`);
  if (rate !== undefined && !(Number.isFinite(rate) && rate > 0))
    throw new UserError(
      `--rate must be a positive number of writes per second (got ${rate})`,
      'leave --rate out to write as fast as --concurrency allows',
    );
  for (const [flag, value] of [
    ['--update-ratio', updateRatio],
    ['--delete-ratio', deleteRatio],
  ] as const) {
    if (!(Number.isFinite(value) && value >= 0 && value <= 1))
      throw new UserError(`${flag} must be between 0 and 1 (got ${value})`, `e.g. ${flag} 0.2 for 20% of the writes`);
  }
  if (updateRatio + deleteRatio > 1)
    throw new UserError(
      `--update-ratio ${updateRatio} plus --delete-ratio ${deleteRatio} is more than 1`,
      'the rest of the writes are inserts; keep the two ratios at 1 or less together',
    );
  if (!(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 256))
    throw new UserError(`--concurrency must be a whole number from 1 to 256 (got ${concurrency})`);
  if (options.seed !== undefined && options.seed.length === 0) throw new UserError('--seed must not be empty');
  const insertsOnlyAtFullSpeed = rate === undefined && updateRatio === 0 && deleteRatio === 0;
  if (options.batchWrites && !insertsOnlyAtFullSpeed)
    throw new UserError(
      'batch writes are only for runs of inserts without a rate',
      'leave out the rate and the update and delete ratios',
    );
  if (count === undefined && durationSeconds === undefined)
    throw new UserError(
      'say how much to write: --count <writes> or --duration <seconds> is required',
      'e.g. --count 7269, or --rate 100 --duration 300',
    );
  return {
    table: options.table,
    count,
    durationSeconds,
    rate,
    updateRatio,
    deleteRatio,
    seed: options.seed ?? randomSeed(),
    concurrency,
    batchWrites: options.batchWrites ?? insertsOnlyAtFullSpeed,
  };
}
