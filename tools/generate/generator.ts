import { createWriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { UserError } from '../../core/errors';
import { SeededRandom, randomSeed } from './random';
import { assertTransactionKeySchema, describeTable } from './transaction-table';
import {
  MicrosecondClock,
  randomNote,
  randomTransactionValues,
  type TransactionKey,
  type TransactionValues,
} from './transaction-model';

/**
 * The brief's data-ingest script: writes Transaction items to DynamoDB at a steady rate — inserts,
 * updates that change only `note` and `update_at`, and (optionally) deletes. The sequence of
 * operations and every value except the time-derived fields follow from the seed alone.
 */
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

export interface GenerateProgress {
  elapsedSeconds: number;
  planned: number;
  written: number;
  inserts: number;
  updates: number;
  deletes: number;
  errors: number;
  /** Writes per second over the last progress interval. */
  currentRate: number;
  /** Writes per second since the start. */
  averageRate: number;
}

export interface GenerateSummary {
  table: string;
  seed: string;
  targetRate: number | null;
  concurrency: number;
  /** Inserts went 25 per BatchWriteItem (latency is then per batch). */
  batchWrites: boolean;
  updateRatio: number;
  deleteRatio: number;
  stoppedBy: 'count' | 'duration' | 'signal';
  planned: number;
  written: number;
  inserts: number;
  updates: number;
  deletes: number;
  errors: number;
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

/** An item the run knows about; create_at is set when its insert is sent (it is the write time). */
interface ItemHandle {
  account: string;
  create_at?: string;
  /** Settles after the last operation planned for this item; the next one waits for it. */
  tail: Promise<void>;
  insertFailed: boolean;
}

type InsertOp = { seq: number; kind: 'insert'; item: ItemHandle; values: TransactionValues };
type PlannedOp =
  | InsertOp
  | { seq: number; kind: 'update'; item: ItemHandle; note: string }
  | { seq: number; kind: 'delete'; item: ItemHandle };

/** BatchWriteItem's limit. */
const BATCH_SIZE = 25;

function transactionItem(values: TransactionValues, at: string): Record<string, AttributeValue> {
  return {
    account: { S: values.account },
    create_at: { S: at },
    update_at: { S: at },
    entity: { S: values.entity },
    amount: { N: String(values.amount) },
    is_credit: { N: String(values.is_credit) },
    note: { S: values.note },
  };
}

/**
 * Decides the operations, one after another, from the seed only (never from timing), so a seed
 * always gives the same sequence. Items are kept in an array with swap-remove for O(1) deletes.
 */
export class OperationPlanner {
  private readonly rng: SeededRandom;
  private readonly live: ItemHandle[];
  private seq = 0;

  constructor(
    seed: string,
    private readonly updateRatio: number,
    private readonly deleteRatio: number,
    existing: readonly TransactionKey[] = [],
  ) {
    this.rng = new SeededRandom(seed);
    this.live = existing.map((k) => ({
      account: k.account,
      create_at: k.create_at,
      tail: Promise.resolve(),
      insertFailed: false,
    }));
  }

  next(): PlannedOp {
    const seq = this.seq++;
    const roll = this.rng.next();
    if (this.live.length > 0 && roll < this.deleteRatio) {
      const index = this.rng.int(0, this.live.length - 1);
      const item = this.live[index]!;
      this.live[index] = this.live[this.live.length - 1]!;
      this.live.pop();
      return { seq, kind: 'delete', item };
    }
    if (this.live.length > 0 && roll < this.deleteRatio + this.updateRatio) {
      const item = this.live[this.rng.int(0, this.live.length - 1)]!;
      return { seq, kind: 'update', item, note: randomNote(this.rng) };
    }
    const values = randomTransactionValues(this.rng);
    const item: ItemHandle = { account: values.account, tail: Promise.resolve(), insertFailed: false };
    this.live.push(item);
    return { seq, kind: 'insert', item, values };
  }

  liveKeys(): TransactionKey[] {
    return this.live
      .filter((i) => i.create_at !== undefined && !i.insertFailed)
      .map((i) => ({ account: i.account, create_at: i.create_at! }));
  }
}

/** Errors after which no further write can succeed: stop early instead of failing every write. */
const FATAL_ERRORS = new Set([
  'ResourceNotFoundException',
  'UnrecognizedClientException',
  'AccessDeniedException',
  'ECONNREFUSED',
]);

/** Writes Transaction items as `options` say; resolves when done, with what happened. */
export async function generateTransactions(client: DynamoDBClient, options: GenerateOptions): Promise<GenerateResult> {
  const o = resolveGenerateOptions(options);
  const description = await describeTable(client, o.table).catch((err) => {
    throw unreachableError(err);
  });
  if (!description)
    throw new UserError(
      `table ${o.table} does not exist`,
      'pass --create-table to create it (or --table to name another)',
    );
  assertTransactionKeySchema(o.table, description);

  const planner = new OperationPlanner(o.seed, o.updateRatio, o.deleteRatio, options.existingKeys);
  const clock = new MicrosecondClock();
  const log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  const stats = { planned: 0, written: 0, inserts: 0, updates: 0, deletes: 0, errors: 0 };
  const errorsByKind: GenerateSummary['errorsByKind'] = {};
  const latencies: number[] = [];
  let fatal: { name: string; message: string } | undefined;

  const succeeded = (op: PlannedOp, record: WriteLogRecord, latencyMs: number) => {
    latencies.push(latencyMs);
    stats.written++;
    if (op.kind === 'insert') stats.inserts++;
    else if (op.kind === 'update') stats.updates++;
    else stats.deletes++;
    log?.write(`${JSON.stringify(record)}\n`);
    options.onWrite?.(record);
  };
  const failed = (op: PlannedOp, err: unknown) => {
    if (op.kind === 'insert') op.item.insertFailed = true;
    const name = errorName(err);
    const message = err instanceof Error ? err.message : String(err);
    stats.errors++;
    const kind = (errorsByKind[name] ??= { count: 0, example: message });
    kind.count++;
    if (FATAL_ERRORS.has(name)) fatal ??= { name, message };
  };

  const write = async (op: PlannedOp): Promise<void> => {
    const { item } = op;
    const sentAt = performance.now();
    try {
      if (op.kind === 'insert') {
        const at = clock.nowTimestamp();
        item.create_at = at;
        await client.send(
          new PutItemCommand({
            TableName: o.table,
            Item: transactionItem(op.values, at),
            // An insert must stay an insert (a stream INSERT), never overwrite another item.
            ConditionExpression: 'attribute_not_exists(account)',
          }),
        );
        succeeded(
          op,
          { seq: op.seq, op: 'insert', account: item.account, create_at: at, update_at: at, writtenAtMs: Date.now() },
          performance.now() - sentAt,
        );
        return;
      }
      if (item.insertFailed || item.create_at === undefined)
        throw namedError('SkippedAfterFailedInsert', `the insert of ${item.account} failed`);
      const key = { account: { S: item.account }, create_at: { S: item.create_at } };
      const at = clock.nowTimestamp();
      if (op.kind === 'update') {
        await client.send(
          new UpdateItemCommand({
            TableName: o.table,
            Key: key,
            UpdateExpression: 'SET note = :note, update_at = :at',
            ConditionExpression: 'attribute_exists(account)',
            ExpressionAttributeValues: { ':note': { S: op.note }, ':at': { S: at } },
          }),
        );
      } else {
        await client.send(
          new DeleteItemCommand({ TableName: o.table, Key: key, ConditionExpression: 'attribute_exists(account)' }),
        );
      }
      succeeded(
        op,
        {
          seq: op.seq,
          op: op.kind,
          account: item.account,
          create_at: item.create_at,
          update_at: at,
          writtenAtMs: Date.now(),
        },
        performance.now() - sentAt,
      );
    } catch (err) {
      failed(op, err);
    }
  };

  /**
   * Batch mode (inserts only, no rate): up to 25 inserts per BatchWriteItem, about 9x the rate of
   * single puts against moto. BatchWriteItem takes no condition, but create_at comes from a clock
   * that never repeats, so an insert cannot overwrite another item of this run.
   */
  const writeBatch = async (ops: InsertOp[]): Promise<void> => {
    const sentAt = performance.now();
    const byKey = new Map<string, InsertOp>();
    let requests: WriteRequest[] = ops.map((op) => {
      const at = clock.nowTimestamp();
      op.item.create_at = at;
      byKey.set(`${op.item.account}|${at}`, op);
      return { PutRequest: { Item: transactionItem(op.values, at) } };
    });
    try {
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.min(2000, 50 * 2 ** attempt));
        const result = await client.send(new BatchWriteItemCommand({ RequestItems: { [o.table]: requests } }));
        const unprocessed = result.UnprocessedItems?.[o.table] ?? [];
        const left = new Set(
          unprocessed.map((r) => `${r.PutRequest!.Item!.account!.S}|${r.PutRequest!.Item!.create_at!.S}`),
        );
        const ackedAt = Date.now();
        for (const r of requests) {
          const k = `${r.PutRequest!.Item!.account!.S}|${r.PutRequest!.Item!.create_at!.S}`;
          if (left.has(k)) continue;
          const op = byKey.get(k)!;
          const at = op.item.create_at!;
          succeeded(
            op,
            { seq: op.seq, op: 'insert', account: op.item.account, create_at: at, update_at: at, writtenAtMs: ackedAt },
            performance.now() - sentAt,
          );
        }
        requests = unprocessed;
        if (requests.length > 0 && attempt >= 8) {
          for (const r of requests)
            failed(
              byKey.get(`${r.PutRequest!.Item!.account!.S}|${r.PutRequest!.Item!.create_at!.S}`)!,
              namedError('UnprocessedItems', 'DynamoDB left the item unprocessed 9 times'),
            );
          break;
        }
      }
    } catch (err) {
      for (const r of requests)
        failed(byKey.get(`${r.PutRequest!.Item!.account!.S}|${r.PutRequest!.Item!.create_at!.S}`)!, err);
    }
  };

  const started = performance.now();
  const elapsedMs = () => performance.now() - started;
  const deadlineMs = o.durationSeconds !== undefined ? o.durationSeconds * 1000 : Infinity;
  let lastProgress = { at: 0, written: 0 };
  const progress = (): GenerateProgress => {
    const now = elapsedMs();
    const current =
      now > lastProgress.at ? ((stats.written - lastProgress.written) * 1000) / (now - lastProgress.at) : 0;
    lastProgress = { at: now, written: stats.written };
    return {
      elapsedSeconds: now / 1000,
      ...stats,
      currentRate: current,
      averageRate: now > 0 ? (stats.written * 1000) / now : 0,
    };
  };
  const timer = options.onProgress
    ? setInterval(() => options.onProgress!(progress()), options.progressIntervalMs ?? 1000)
    : undefined;

  const batchMode = o.batchWrites;
  const inFlight = new Set<Promise<void>>();
  let stoppedBy: GenerateSummary['stoppedBy'];
  try {
    for (;;) {
      if (o.count !== undefined && stats.planned >= o.count) {
        stoppedBy = 'count';
        break;
      }
      if (options.signal?.aborted || fatal) {
        stoppedBy = 'signal';
        break;
      }
      if (o.rate !== undefined) {
        const due = (stats.planned * 1000) / o.rate;
        const wait = Math.min(due, deadlineMs) - elapsedMs();
        if (wait > 0) await sleep(wait, undefined, { signal: options.signal }).catch(() => undefined);
        if (options.signal?.aborted) continue;
      }
      if (elapsedMs() >= deadlineMs) {
        stoppedBy = 'duration';
        break;
      }
      while (inFlight.size >= o.concurrency) await Promise.race(inFlight);
      if (batchMode) {
        const size = Math.min(BATCH_SIZE, o.count === undefined ? BATCH_SIZE : o.count - stats.planned);
        const ops = Array.from({ length: size }, () => planner.next() as InsertOp);
        stats.planned += size;
        const run = writeBatch(ops);
        inFlight.add(run);
        void run.finally(() => inFlight.delete(run));
        continue;
      }
      const op = planner.next();
      stats.planned++;
      // Operations on one item run in plan order: an update never overtakes its item's insert.
      const run = op.item.tail.then(() => write(op));
      op.item.tail = run;
      inFlight.add(run);
      void run.finally(() => inFlight.delete(run));
    }
    await Promise.all(inFlight);
  } finally {
    if (timer) clearInterval(timer);
    if (log) await new Promise<void>((resolve) => log.end(resolve));
  }
  if (fatal) throw fatalError(fatal, o.table);

  const durationSeconds = elapsedMs() / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies.length ? round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!, 1) : 0;
  options.onProgress?.(progress());
  return {
    table: o.table,
    seed: o.seed,
    targetRate: o.rate ?? null,
    concurrency: o.concurrency,
    batchWrites: o.batchWrites,
    updateRatio: o.updateRatio,
    deleteRatio: o.deleteRatio,
    stoppedBy,
    ...stats,
    errorsByKind,
    durationSeconds: round(durationSeconds, 3),
    ratePerSecond: round(stats.written / durationSeconds, 1),
    latencyMs: {
      p50: pct(0.5),
      p95: pct(0.95),
      max: latencies.length ? round(latencies[latencies.length - 1]!, 1) : 0,
    },
    liveKeys: planner.liveKeys(),
  };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function namedError(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

/** The SDK's error name, or the socket error code (ECONNREFUSED…) for network failures. */
function errorName(err: unknown): string {
  const e = err as { name?: string; code?: string; errors?: { code?: string }[] };
  const code = e?.code ?? e?.errors?.[0]?.code;
  if (code && /^E[A-Z]+$/.test(code)) return code;
  return e?.name ?? 'Error';
}

function unreachableError(err: unknown): unknown {
  const name = errorName(err);
  if (FATAL_ERRORS.has(name))
    return fatalError({ name, message: err instanceof Error ? err.message : String(err) }, '');
  return err;
}

function fatalError(fatal: { name: string; message: string }, table: string): UserError {
  if (fatal.name === 'ECONNREFUSED')
    return new UserError(
      `cannot reach DynamoDB (${fatal.message || 'connection refused'})`,
      'is the local stack running? start it with `ddb-lake up`',
    );
  if (fatal.name === 'ResourceNotFoundException')
    return new UserError(
      `table ${table} disappeared while writing: ${fatal.message}`,
      'create it again with --create-table',
    );
  return new UserError(
    `DynamoDB refused the writes: ${fatal.name}: ${fatal.message}`,
    'check the AWS credentials and permissions of this shell',
  );
}
