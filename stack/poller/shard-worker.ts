/**
 * Reads one stream shard and delivers its records to the handler in batches, one batch at a time
 * (as Lambda does per shard), checkpointing after each delivered batch.
 */
import { join } from 'node:path';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type GetShardIteratorCommandInput,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { batchIdOf, type StreamBatchHandler } from '../../lambda/handler';
import { WakeableSleep, writeFileAtomic } from '../../core/process';
import type { CheckpointStore } from './checkpoints';
import { interpretResponse, lambdaContext } from './lambda-call';
import { defaultBackoffMs, deliverBatch, type InvokeOutcome } from './delivery';
import { MAX_BATCH_BYTES, type EsmSettings } from './settings';
import { freshShardStatus, type ShardState, type ShardStatus } from './status';
import { toLambdaRecord } from './stream-event';

/** Records of the shard that will never be delivered, as the worker saw it (docs/gaps.md). */
export interface ShardGap {
  kind: 'trimmed' | 'shard-gone' | 'discarded';
  /** Last sequence number read or delivered before the gap (null: none). */
  afterSequenceNumber: string | null;
  firstSequenceNumber?: string | null;
  lastSequenceNumber?: string | null;
  reason: string;
}

export interface ShardWorkerParams {
  table: string;
  streamArn: string;
  shardId: string;
  parentShardId?: string;
  streams: DynamoDBStreamsClient;
  handler: StreamBatchHandler;
  settings: EsmSettings;
  checkpoints: CheckpointStore;
  /** On-failure destination: discarded batches are written here as JSON files. */
  failedDir: string;
  /**
   * Records a gap durably (a marker in the landing zone). The worker does not go on past a gap until
   * this resolved: a gap nobody can see would be a silent loss.
   */
  onGap?: (gap: ShardGap) => Promise<void>;
  log: (entry: Record<string, unknown>) => void;
  clock?: () => number;
}

const GET_RECORDS_LIMIT = 1000;

export class ShardWorker {
  private readonly clock: () => number;
  private iterator: string | undefined;
  private buffer: DynamoDBRecord[] = [];
  private bufferSince = 0;
  private inFlight: DynamoDBRecord[] = [];
  private nextReadAt = 0;
  private lastReadSeq: string | undefined;
  /** Batch id of the last batch delivered on this shard (`start`: none yet; `unknown`: not recorded). */
  private lastBatch = 'start';
  private stopping = false;
  private readonly sleeper = new WakeableSleep();
  private readonly s: ShardStatus;

  constructor(private readonly p: ShardWorkerParams) {
    this.clock = p.clock ?? Date.now;
    this.s = freshShardStatus(p.shardId, 'starting', p.parentShardId);
  }

  status(): ShardStatus {
    const pending = [...this.inFlight, ...this.buffer];
    const oldest = pending[0]?.dynamodb?.ApproximateCreationDateTime;
    let secondsBehind: number | null = null;
    if (oldest !== undefined) secondsBehind = Math.max(0, Math.round(this.clock() / 1000 - oldest));
    else if (this.s.caughtUp || this.s.state === 'finished') secondsBehind = 0;
    return { ...this.s, recordsBehind: pending.length, secondsBehind };
  }

  /** Stop after the batch in flight (if any) is finished or abandoned; never checkpoints past it. */
  stop(): void {
    this.stopping = true;
    this.sleeper.wake();
  }

  async run(): Promise<ShardState> {
    const { streamArn, shardId } = this.p;
    const cp = await this.p.checkpoints.read(streamArn, shardId);
    if (cp?.finished) return (this.s.state = 'finished');
    this.s.checkpoint = cp?.sequenceNumber;
    this.lastReadSeq = cp?.sequenceNumber;
    this.lastBatch = cp?.batch ?? (cp?.sequenceNumber ? 'unknown' : 'start');
    for (;;) {
      try {
        await this.acquireIterator();
        break;
      } catch (err) {
        if (isGone(err)) return this.gone();
        this.recordError(`GetShardIterator failed: ${(err as Error).name}: ${(err as Error).message}`);
        // A checkpoint older than the shard's oldest record: what lay between is lost.
        if (isTrimmed(err)) await this.trimmed(err as Error);
        else await this.sleep(1000);
        if (this.stopping) return (this.s.state = 'stopped');
      }
    }
    this.s.state = 'reading';
    while (!this.stopping) {
      const now = this.clock();
      if (this.iterator && this.buffer.length < this.p.settings.batchSize && now >= this.nextReadAt) {
        const ok = await this.read();
        if (ok === 'gone') return this.gone();
      }
      const batch = this.takeBatch(this.clock());
      if (batch) {
        if ((await this.deliver(batch)) === 'stopped') break;
        continue;
      }
      if (!this.iterator && this.buffer.length === 0) {
        await this.writeCheckpoint(true);
        return (this.s.state = 'finished');
      }
      const wakeAt = Math.min(
        this.iterator && this.buffer.length < this.p.settings.batchSize ? this.nextReadAt : Infinity,
        this.buffer.length ? this.bufferSince + this.p.settings.batchWindowSeconds * 1000 : Infinity,
      );
      await this.sleep(Math.max(0, Math.min(wakeAt - this.clock(), 1000)));
    }
    return (this.s.state = 'stopped');
  }

  private async acquireIterator(): Promise<void> {
    const input: GetShardIteratorCommandInput = this.lastReadSeq
      ? {
          StreamArn: this.p.streamArn,
          ShardId: this.p.shardId,
          ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
          SequenceNumber: this.lastReadSeq,
        }
      : { StreamArn: this.p.streamArn, ShardId: this.p.shardId, ShardIteratorType: 'TRIM_HORIZON' };
    const out = await this.p.streams.send(new GetShardIteratorCommand(input));
    this.iterator = out.ShardIterator;
  }

  /** One GetRecords call; errors are recorded and retried after a pause. */
  private async read(): Promise<'ok' | 'gone'> {
    const limit = Math.min(GET_RECORDS_LIMIT, this.p.settings.batchSize - this.buffer.length);
    const sentAt = this.clock();
    try {
      const out = await this.p.streams.send(new GetRecordsCommand({ ShardIterator: this.iterator, Limit: limit }));
      const records = out.Records ?? [];
      if (records.length && this.buffer.length === 0) this.bufferSince = this.clock();
      for (const r of records) this.buffer.push(toLambdaRecord(r, this.p.streamArn));
      if (records.length) this.lastReadSeq = records[records.length - 1]!.dynamodb?.SequenceNumber ?? this.lastReadSeq;
      this.iterator = out.NextShardIterator ?? undefined;
      this.s.caughtUp = records.length < limit;
      if (this.s.caughtUp) this.s.caughtUpAt = new Date(sentAt).toISOString();
      this.nextReadAt = this.s.caughtUp ? this.clock() + this.p.settings.pollIntervalMs : 0;
      return 'ok';
    } catch (err) {
      if (isGone(err)) return 'gone';
      const name = (err as Error).name;
      this.recordError(`GetRecords failed: ${name}: ${(err as Error).message}`);
      if (isTrimmed(err)) await this.trimmed(err as Error);
      else this.nextReadAt = this.clock() + 1000;
      try {
        await this.acquireIterator();
      } catch (again) {
        if (isGone(again)) return 'gone';
        if (isTrimmed(again)) {
          await this.trimmed(again as Error);
          this.iterator = undefined;
          await this.acquireIterator().catch(() => undefined);
        }
      }
      return 'ok';
    }
  }

  /**
   * Records past the retention period were trimmed before they were read: mark the gap in the landing
   * zone (the pipeline stalls on it until a rebackfill), then continue from the oldest record left.
   */
  private async trimmed(err: Error): Promise<void> {
    const after = this.lastReadSeq ?? null;
    this.p.log({
      level: 'error',
      component: 'poller',
      table: this.p.table,
      shard: this.p.shardId,
      message: `records after ${after ?? 'the start of the shard'} were trimmed before they were read; recording a gap and continuing at TRIM_HORIZON`,
    });
    await this.reportGap({ kind: 'trimmed', afterSequenceNumber: after, reason: `${err.name}: ${err.message}` });
    this.lastReadSeq = undefined;
    this.nextReadAt = 0;
  }

  /** The shard vanished before it was read to its end (no finished checkpoint): its unread records are lost. */
  private async gone(): Promise<ShardState> {
    this.p.log({
      level: 'error',
      component: 'poller',
      table: this.p.table,
      shard: this.p.shardId,
      message: `shard vanished before it was read to its end (after ${this.lastReadSeq ?? 'its start'}); recording a gap`,
    });
    await this.reportGap({
      kind: 'shard-gone',
      afterSequenceNumber: this.lastReadSeq ?? null,
      reason: 'the shard (or its stream) no longer exists (ResourceNotFoundException) and was not read to its end',
    });
    return (this.s.state = 'gone');
  }

  /** Write the gap marker, retrying until it is written (or the poller stops). */
  private async reportGap(gap: ShardGap): Promise<void> {
    if (!this.p.onGap) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.p.onGap(gap);
        return;
      } catch (err) {
        this.recordError(`cannot record a ${gap.kind} gap: ${(err as Error).name}: ${(err as Error).message}`);
        if (this.stopping) return;
        await this.sleep(Math.min(1000 * attempt, 10_000));
      }
    }
  }

  /** The next batch to deliver, when one is due (full, window expired, or the shard has ended). */
  private takeBatch(now: number): DynamoDBRecord[] | undefined {
    if (this.buffer.length === 0) return undefined;
    const { batchSize, batchWindowSeconds } = this.p.settings;
    const due =
      this.buffer.length >= batchSize || now - this.bufferSince >= batchWindowSeconds * 1000 || !this.iterator;
    if (!due) return undefined;
    let count = 0;
    let bytes = 0;
    while (count < this.buffer.length && count < batchSize) {
      bytes += this.buffer[count]!.dynamodb?.SizeBytes ?? 0;
      if (count > 0 && bytes > MAX_BATCH_BYTES) break;
      count++;
    }
    const batch = this.buffer.splice(0, count);
    this.bufferSince = now;
    return batch;
  }

  private async deliver(batch: DynamoDBRecord[]): Promise<'delivered' | 'stopped'> {
    this.inFlight = batch;
    try {
      return await deliverBatch(
        batch,
        {
          maxRetryAttempts: this.p.settings.maxRetryAttempts,
          bisectBatchOnFunctionError: this.p.settings.bisectBatchOnFunctionError,
          backoffMs: defaultBackoffMs,
        },
        {
          invoke: (records) => this.invoke(records),
          delivered: async (records) => {
            this.s.checkpoint = records[records.length - 1]!.dynamodb!.SequenceNumber;
            // The chain: the next batch names this one as its predecessor (docs/gaps.md).
            this.lastBatch = batchIdOf(records);
            await this.writeCheckpoint(false);
            this.inFlight = this.inFlight.slice(records.length);
            this.s.deliveredRecords += records.length;
            this.s.deliveredBatches++;
            this.s.lastDeliveryAt = new Date(this.clock()).toISOString();
          },
          discarded: async (records, reason, retries) => {
            const file = await this.writeFailedBatch(records, reason, retries);
            this.p.log({
              level: 'error',
              component: 'poller',
              table: this.p.table,
              shard: this.p.shardId,
              message: `discarded ${records.length} records after ${retries} retries; kept in ${file}`,
              reason,
            });
            await this.reportGap({
              kind: 'discarded',
              afterSequenceNumber: this.s.checkpoint ?? null,
              firstSequenceNumber: records[0]!.dynamodb?.SequenceNumber ?? null,
              lastSequenceNumber: records[records.length - 1]!.dynamodb?.SequenceNumber ?? null,
              reason: `given up after ${retries} retries (${reason}); the event is kept in ${file}`,
            });
            this.s.checkpoint = records[records.length - 1]!.dynamodb!.SequenceNumber;
            await this.writeCheckpoint(false);
            this.inFlight = this.inFlight.slice(records.length);
            this.s.discardedRecords += records.length;
          },
          retrying: (records, reason, retry) => {
            this.s.retries++;
            this.recordError(reason);
            this.p.log({
              level: 'warn',
              component: 'poller',
              table: this.p.table,
              shard: this.p.shardId,
              message: `retry ${retry} of ${records.length} records`,
              reason,
            });
          },
          isStopping: () => this.stopping,
          sleep: (ms) => this.sleep(ms),
        },
      );
    } finally {
      // Undelivered records of a stopped delivery stay behind the checkpoint (re-read after restart).
      if (this.stopping) this.inFlight = [];
    }
  }

  private async invoke(records: DynamoDBRecord[]): Promise<InvokeOutcome> {
    const timeoutMs = this.p.settings.functionTimeoutSeconds * 1000;
    const deadline = Date.now() + timeoutMs;
    const context = lambdaContext(this.p.table, deadline);
    let timer: NodeJS.Timeout | undefined;
    try {
      const response = await Promise.race([
        this.p.handler(
          { Records: records, ddbLakeChain: { shardId: this.p.shardId, previousBatch: this.lastBatch } },
          context,
        ),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`Task timed out after ${this.p.settings.functionTimeoutSeconds} seconds`)),
            timeoutMs,
          );
        }),
      ]);
      return interpretResponse(response, records);
    } catch (err) {
      return { kind: 'error', reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
    } finally {
      clearTimeout(timer);
    }
  }

  private async writeCheckpoint(finished: boolean): Promise<void> {
    await this.p.checkpoints.write({
      streamArn: this.p.streamArn,
      shardId: this.p.shardId,
      sequenceNumber: this.s.checkpoint,
      batch: this.lastBatch,
      finished,
    });
  }

  private async writeFailedBatch(records: DynamoDBRecord[], reason: string, retries: number): Promise<string> {
    const first = records[0]!.dynamodb?.SequenceNumber;
    const last = records[records.length - 1]!.dynamodb?.SequenceNumber;
    const file = join(this.p.failedDir, this.p.table, `${this.p.shardId}_${first}_${last}.json`);
    const body = {
      table: this.p.table,
      streamArn: this.p.streamArn,
      shardId: this.p.shardId,
      reason,
      retries,
      discardedAt: new Date().toISOString(),
      event: { Records: records },
    };
    await writeFileAtomic(file, `${JSON.stringify(body)}\n`, { durable: true });
    return file;
  }

  private recordError(message: string): void {
    this.s.lastError = { at: new Date(this.clock()).toISOString(), message };
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping || ms <= 0) return Promise.resolve();
    return this.sleeper.sleep(ms);
  }
}

function isGone(err: unknown): boolean {
  return (err as Error)?.name === 'ResourceNotFoundException';
}

function isTrimmed(err: unknown): boolean {
  return (err as Error)?.name === 'TrimmedDataAccessException';
}
