/**
 * The local event source mapping: the stand-in for Lambda's DynamoDB stream trigger on the local
 * stack. One process discovers every table with a stream, reads each shard (parents before
 * children), and calls the same handler as the AWS Lambda with Lambda's batching, retry and
 * partial-failure semantics, checkpointing every shard durably under `<esm>/checkpoints/`.
 */
import { WakeableSleep } from '../../core/process';
import { join } from 'node:path';
import { DescribeTableCommand, ListTablesCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, type DynamoDBStreamsClient, type Shard } from '@aws-sdk/client-dynamodb-streams';
import type { S3Client } from '@aws-sdk/client-s3';
import { isUserError } from '../../core/errors';
import {
  createStreamHandler,
  handlerConfig,
  type BatchLogEntry,
  type HandlerConfig,
  type StreamBatchHandler,
} from '../../lambda/handler';
import { CheckpointStore, parseStreamArn } from './checkpoints';
import { earlierStreamLabels, putGapMarker, type Gap } from './gap-markers';
import { createBucketIfMissing, DEFAULT_LANDING_BUCKET, readLandingMappings, tableLanding } from './mappings';
import type { EsmSettings } from './settings';
import { ShardWorker } from './shard-worker';
import { freshShardStatus, writePollerStatus, type PollerStatus, type ShardState, type TableStatus } from './status';

export interface PollerOptions {
  settings: EsmSettings;
  /** `<state>/esm`: checkpoints/, failed/, mappings.json, status.json. */
  esmDir: string;
  /** Only these tables; default: every table that has a stream. */
  tables?: string[];
  /** Landing per table from the command line; wins over mappings.json. */
  landingOverrides?: Record<string, string>;
  region: string;
  /** Shown in status.json. */
  endpoint?: string;
}

export interface PollerDeps {
  dynamodb: DynamoDBClient;
  streams: DynamoDBStreamsClient;
  s3: S3Client;
  clock?: () => number;
  log?: (entry: Record<string, unknown>) => void;
}

interface RunningShard {
  worker: ShardWorker;
  state: ShardState | 'failed';
  done: Promise<void>;
}

interface StreamEntry {
  table: string;
  streamArn: string;
  streamViewType?: string;
  config: HandlerConfig;
  handler: StreamBatchHandler;
  shards: Map<string, RunningShard>;
  waiting: Set<string>;
}

const CAPTURABLE_VIEWS = new Set(['NEW_IMAGE', 'NEW_AND_OLD_IMAGES']);

export class LocalEventSourceMapping {
  private readonly streamsByArn = new Map<string, StreamEntry>();
  private readonly notes = new Map<string, { landing?: string; note: string }>();
  private readonly checkpoints: CheckpointStore;
  private readonly log: (entry: Record<string, unknown>) => void;
  private readonly startedAt = new Date().toISOString();
  private mappings: Record<string, string> = {};
  private stopping = false;
  private readonly sleeper = new WakeableSleep();
  private statusTimer: NodeJS.Timeout | undefined;
  private statusWrite: Promise<void> = Promise.resolve();
  private readonly knownBuckets = new Set<string>();

  constructor(
    private readonly options: PollerOptions,
    private readonly deps: PollerDeps,
  ) {
    this.checkpoints = new CheckpointStore(join(options.esmDir, 'checkpoints'));
    this.log = deps.log ?? (() => undefined);
  }

  /** Validates the mappings file (a UserError names the problem), then runs until `stop()`. */
  async run(): Promise<void> {
    this.mappings = await readLandingMappings(this.options.esmDir);
    // The stack's default bucket exists from the start, not only once a table is discovered: a
    // pipeline started right after its table was created validates its landing and export buckets.
    await this.ensureBucket(DEFAULT_LANDING_BUCKET).catch((err) =>
      this.log({
        level: 'error',
        component: 'poller',
        message: `cannot create bucket ${DEFAULT_LANDING_BUCKET}: ${(err as Error).name}: ${(err as Error).message}`,
      }),
    );
    this.statusTimer = setInterval(() => void this.flushStatus(), this.options.settings.statusIntervalSeconds * 1000);
    try {
      while (!this.stopping) {
        try {
          await this.discover();
        } catch (err) {
          this.log({
            level: 'error',
            component: 'poller',
            message: `discovery failed: ${(err as Error).name}: ${(err as Error).message}`,
          });
        }
        await this.flushStatus();
        await this.sleep(this.options.settings.discoverIntervalSeconds * 1000);
      }
    } finally {
      clearInterval(this.statusTimer);
      await Promise.all([...this.streamsByArn.values()].flatMap((s) => [...s.shards.values()].map((r) => r.done)));
      await this.flushStatus(true);
    }
  }

  /** Stops reading, lets every batch in flight finish (or be abandoned), keeps checkpoints before them. */
  stop(): void {
    this.stopping = true;
    for (const s of this.streamsByArn.values()) for (const r of s.shards.values()) r.worker.stop();
    this.sleeper.wake();
  }

  status(stopped = false): PollerStatus {
    const tables: Record<string, TableStatus> = {};
    for (const [table, n] of this.notes) tables[table] = { landing: n.landing, note: n.note, shards: [] };
    for (const s of this.streamsByArn.values()) {
      const t = (tables[s.table] ??= { landing: s.config.landing, shards: [] });
      t.landing = s.config.landing;
      t.streamArn = s.streamArn;
      t.streamViewType = s.streamViewType;
      for (const r of s.shards.values())
        t.shards.push({
          streamArn: s.streamArn,
          ...r.worker.status(),
          ...(r.state === 'failed' && { state: 'failed' }),
        });
      for (const id of s.waiting)
        if (!s.shards.has(id)) t.shards.push({ streamArn: s.streamArn, ...freshShardStatus(id, 'waiting-for-parent') });
    }
    return {
      pid: process.pid,
      startedAt: this.startedAt,
      updatedAt: new Date().toISOString(),
      ...(stopped && { stoppedAt: new Date().toISOString() }),
      endpoint: this.options.endpoint,
      settings: this.options.settings,
      tables,
    };
  }

  private flushStatus(stopped = false): Promise<void> {
    this.statusWrite = this.statusWrite
      .then(() => writePollerStatus(this.options.esmDir, this.status(stopped)))
      .catch((err) =>
        this.log({ level: 'error', component: 'poller', message: `cannot write status: ${(err as Error).message}` }),
      );
    return this.statusWrite;
  }

  private async discover(): Promise<void> {
    try {
      this.mappings = await readLandingMappings(this.options.esmDir);
    } catch (err) {
      this.log({
        level: 'error',
        component: 'poller',
        message: `${(err as Error).message}; keeping the previous mappings`,
      });
    }
    const tables = this.options.tables ?? (await this.listTables());
    for (const table of tables) {
      if (this.stopping) return;
      await this.discoverTable(table);
    }
    for (const entry of this.streamsByArn.values()) {
      if (this.stopping) return;
      // One stream that cannot be described (e.g. disabled) must not hide the others' new shards.
      await this.discoverShards(entry).catch((err) =>
        this.log({
          level: 'error',
          component: 'poller',
          table: entry.table,
          message: `cannot list the shards of ${entry.streamArn}: ${(err as Error).name}: ${(err as Error).message}`,
        }),
      );
    }
  }

  private async listTables(): Promise<string[]> {
    const names: string[] = [];
    let start: string | undefined;
    do {
      const out = await this.deps.dynamodb.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
      names.push(...(out.TableNames ?? []));
      start = out.LastEvaluatedTableName;
    } while (start);
    return names;
  }

  private async discoverTable(table: string): Promise<void> {
    let description;
    try {
      description = (await this.deps.dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table;
    } catch (err) {
      if ((err as Error).name === 'ResourceNotFoundException') {
        if (this.options.tables) this.notes.set(table, { note: 'table not found; waiting for it' });
        return;
      }
      throw err;
    }
    const arn = description?.LatestStreamArn;
    const spec = description?.StreamSpecification;
    if (!arn || !spec?.StreamEnabled) {
      if (this.options.tables || this.notes.has(table))
        this.notes.set(table, { note: 'no stream enabled on the table; waiting for one' });
      return;
    }
    if (!CAPTURABLE_VIEWS.has(spec.StreamViewType ?? '')) {
      this.notes.set(table, {
        note: `stream view type ${spec.StreamViewType} carries no new image; not captured (enable NEW_IMAGE or NEW_AND_OLD_IMAGES)`,
      });
      return;
    }
    if (this.streamsByArn.has(arn)) return;

    const { landing, setting } = tableLanding(table, {
      overrides: this.options.landingOverrides,
      mappings: this.mappings,
      esmDir: this.options.esmDir,
    });
    let config: HandlerConfig;
    try {
      config = handlerConfig(
        { landing, maxWriteSeconds: this.options.settings.maxWriteSeconds },
        { landing: setting, maxWriteSeconds: '--max-write-seconds' },
      );
      await this.ensureBucket(config.bucket);
    } catch (err) {
      const message = isUserError(err) ? err.message : `${(err as Error).name}: ${(err as Error).message}`;
      this.notes.set(table, { landing, note: `not captured: ${message}` });
      this.log({ level: 'error', component: 'poller', table, message: `not captured: ${message}` });
      return;
    }
    this.notes.delete(table);
    await this.noticeReplacedStream(table, arn, config);
    const handler = createStreamHandler(config, {
      s3: this.deps.s3,
      clock: this.deps.clock,
      log: (entry: BatchLogEntry) => this.log({ component: 'handler', table, ...entry }),
    });
    this.streamsByArn.set(arn, {
      table,
      streamArn: arn,
      streamViewType: spec.StreamViewType,
      config,
      handler,
      shards: new Map(),
      waiting: new Set(),
    });
    this.log({ level: 'info', component: 'poller', table, message: `capturing stream ${arn} into ${config.landing}` });
  }

  /**
   * A table whose stream this poller captured under another ARN (now, or in an earlier run: its
   * checkpoints) had its stream replaced: changes made while no stream was on are in no stream.
   */
  private async noticeReplacedStream(table: string, arn: string, config: HandlerConfig): Promise<void> {
    const captured = [...this.streamsByArn.values()].filter((s) => s.table === table).map((s) => s.streamArn);
    const earlier = await earlierStreamLabels(this.checkpoints.dir, table, arn, captured);
    if (earlier.length === 0) return;
    await this.writeGap(table, arn, config, null, {
      kind: 'stream-replaced',
      afterSequenceNumber: null,
      reason: `the table's stream was replaced (earlier stream label ${earlier.join(', ')}, now ${parseStreamArn(arn).label}): changes made while no stream was enabled are in no stream`,
    });
  }

  /** A gap marker in the table's landing zone (docs/gaps.md); throws when it cannot be written. */
  private async writeGap(
    table: string,
    streamArn: string,
    config: HandlerConfig,
    shardId: string | null,
    gap: Gap,
  ): Promise<void> {
    const now = (this.deps.clock ?? Date.now)();
    const uri = await putGapMarker(this.deps.s3, config, { table, streamArn, shardId }, gap, now);
    this.log({
      level: 'error',
      component: 'poller',
      table,
      shard: shardId,
      message: `stream gap recorded in ${uri}: ${gap.reason}`,
    });
  }

  private async discoverShards(entry: StreamEntry): Promise<void> {
    const shards: Shard[] = [];
    let start: string | undefined;
    try {
      do {
        const out = await this.deps.streams.send(
          new DescribeStreamCommand({ StreamArn: entry.streamArn, ExclusiveStartShardId: start }),
        );
        shards.push(...(out.StreamDescription?.Shards ?? []));
        start = out.StreamDescription?.LastEvaluatedShardId;
      } while (start);
    } catch (err) {
      if ((err as Error).name === 'ResourceNotFoundException') return; // table or stream deleted: its workers end on their own
      throw err;
    }
    const listed = new Set(shards.map((s) => s.ShardId));
    for (const shard of shards) {
      const id = shard.ShardId;
      if (!id || entry.shards.has(id)) continue;
      const parent = shard.ParentShardId;
      // Parents before children: a child starts once its parent (if still listed) is finished.
      if (parent && listed.has(parent) && !(await this.isFinished(entry, parent))) {
        entry.waiting.add(id);
        continue;
      }
      entry.waiting.delete(id);
      this.startShard(entry, id, parent);
    }
  }

  private async isFinished(entry: StreamEntry, shardId: string): Promise<boolean> {
    const running = entry.shards.get(shardId);
    if (running) return running.state === 'finished';
    return (await this.checkpoints.read(entry.streamArn, shardId))?.finished === true;
  }

  private startShard(entry: StreamEntry, shardId: string, parentShardId: string | undefined): void {
    // A discovery still running when stop() came must not start a worker stop() never saw: run()
    // would wait for it forever.
    if (this.stopping) return;
    const worker = new ShardWorker({
      table: entry.table,
      streamArn: entry.streamArn,
      shardId,
      parentShardId,
      streams: this.deps.streams,
      handler: entry.handler,
      settings: this.options.settings,
      checkpoints: this.checkpoints,
      failedDir: join(this.options.esmDir, 'failed'),
      onGap: (gap) => this.writeGap(entry.table, entry.streamArn, entry.config, shardId, gap),
      log: this.log,
      clock: this.deps.clock,
    });
    const running: RunningShard = { worker, state: 'starting', done: Promise.resolve() };
    running.done = worker.run().then(
      (state) => {
        running.state = state;
        if (state === 'finished') this.sleeper.wake(); // children may start now
      },
      (err) => {
        // A bug or a broken checkpoint file: drop the worker; discovery starts it again from its checkpoint.
        running.state = 'failed';
        this.log({
          level: 'error',
          component: 'poller',
          table: entry.table,
          shard: shardId,
          message: `shard worker failed: ${(err as Error).stack ?? err}`,
        });
        if (!this.stopping) entry.shards.delete(shardId);
      },
    );
    entry.shards.set(shardId, running);
  }

  private async ensureBucket(bucket: string): Promise<void> {
    if (this.knownBuckets.has(bucket)) return;
    if (await createBucketIfMissing(this.deps.s3, bucket, this.options.region))
      this.log({ level: 'info', component: 'poller', message: `created bucket ${bucket}` });
    this.knownBuckets.add(bucket);
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return this.sleeper.sleep(ms);
  }
}
