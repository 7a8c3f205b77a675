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
import {
  resolveGenerateOptions,
  type GenerateOptions,
  type GenerateProgress,
  type GenerateResult,
  type GenerateSummary,
  type WriteLogRecord,
} from './generate-options';
import { OperationPlanner, type InsertOp, type PlannedOp } from './operation-planner';
import { assertTransactionKeySchema, describeTable } from './transaction-table';
import { MicrosecondClock, type TransactionValues } from './transaction-model';

/**
 * The brief's data-ingest script: writes Transaction items to DynamoDB at a steady rate — inserts,
 * updates that change only `note` and `update_at`, and (optionally) deletes. The sequence of
 * operations and every value except the time-derived fields follow from the seed alone
 * (operation-planner.ts); the options and the result are in generate-options.ts.
 */
export type { GenerateOptions, GenerateProgress, GenerateResult, GenerateSummary, WriteLogRecord };

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
