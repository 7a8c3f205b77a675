/**
 * The stream-to-minute-files handler: one DynamoDB stream batch in, one landing file out
 * (docs/landing.md, "The writer's guarantee"; line format docs/encoding.md).
 *
 * The same function runs as the AWS Lambda (lambda/index.ts) and in the local event source mapping
 * (stack/poller/); it gets its S3 client and clock by injection.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { UserError } from '../core/errors';
import { splitS3Uri } from '../core/s3-uri';
import {
  batchClaimKey,
  batchFileName,
  batchId,
  deadLetterKey,
  landingKeyPrefix,
  linkName,
  minuteFolder,
} from '../core/landing';
import { encodeRecord } from './encoding';

/** Environment variables of the Lambda (validated on cold start by loadHandlerConfig). */
export const HANDLER_ENV = {
  landing: 'DDB_LAKE_LANDING',
  maxWriteSeconds: 'DDB_LAKE_MAX_WRITE_SECONDS',
} as const;

export const DEFAULT_MAX_WRITE_SECONDS = 30;

export interface HandlerConfig {
  /** Landing location, `s3://bucket/prefix/`. */
  landing: string;
  bucket: string;
  /** Key prefix of the landing location: `` or ending with `/`. */
  prefix: string;
  /** Every write finishes or is abandoned within this many seconds of its start (rule 2). */
  maxWriteSeconds: number;
}

/**
 * Validates handler settings; `names` says what to call each setting in a message (an environment
 * variable on Lambda, a flag or mappings entry in the local poller).
 */
export function handlerConfig(
  input: { landing: string | undefined; maxWriteSeconds: string | number | undefined },
  names: { landing: string; maxWriteSeconds: string } = { landing: 'landing', maxWriteSeconds: 'maxWriteSeconds' },
): HandlerConfig {
  const landing = input.landing?.trim();
  if (!landing)
    throw new UserError(
      `${names.landing} is not set`,
      `set ${names.landing} to the landing location, e.g. s3://my-bucket/landing/transactions/`,
    );
  const location = splitS3Uri(landing);
  if (!location || location.key.split('/').some((part, i, all) => part === '' && i < all.length - 1))
    throw new UserError(
      `${names.landing}=${landing} is not an S3 location`,
      `set ${names.landing} to s3://<bucket>/<prefix>/`,
    );
  let maxWriteSeconds = DEFAULT_MAX_WRITE_SECONDS;
  if (input.maxWriteSeconds !== undefined && String(input.maxWriteSeconds).trim() !== '') {
    const text = String(input.maxWriteSeconds).trim();
    maxWriteSeconds = Number(text);
    if (!/^\d+$/.test(text) || maxWriteSeconds < 1 || maxWriteSeconds > 900)
      throw new UserError(
        `${names.maxWriteSeconds}=${text} is not a whole number of seconds from 1 to 900`,
        `set ${names.maxWriteSeconds} below the function timeout (default ${DEFAULT_MAX_WRITE_SECONDS})`,
      );
  }
  return { landing, bucket: location.bucket, prefix: landingKeyPrefix(location.key), maxWriteSeconds };
}

/** The Lambda's configuration from its environment; the message names the wrong variable. */
export function loadHandlerConfig(env: NodeJS.ProcessEnv = process.env): HandlerConfig {
  return handlerConfig(
    { landing: env[HANDLER_ENV.landing], maxWriteSeconds: env[HANDLER_ENV.maxWriteSeconds] },
    { landing: HANDLER_ENV.landing, maxWriteSeconds: HANDLER_ENV.maxWriteSeconds },
  );
}

export interface HandlerDeps {
  s3: S3Client;
  /** Epoch milliseconds; decides the minute folder and the write deadline. */
  clock?: () => number;
  /** One structured entry per batch (Lambda: a JSON line on stdout, i.e. CloudWatch). */
  log?: (entry: BatchLogEntry) => void;
}

export interface DeadRecord {
  index: number;
  reason: string;
  record: DynamoDBRecord;
}

/** A batch encoded and named, ready to land. */
export interface EncodedBatch {
  id: string;
  /** Sequence number Lambda should retry from when the batch fails ('' = the whole batch). */
  firstItemIdentifier: string;
  recordCount: number;
  lineCount: number;
  /** The landing file: the lines, each ending with `\n`. */
  body: string;
  dead: DeadRecord[];
}

export type LandStatus = 'written' | 'already-landed' | 'dead-letter-only' | 'empty';

export interface LandResult {
  status: LandStatus;
  /** Key of the batch's file (the one written now, or the one already there). */
  key?: string;
  deadLetterKey?: string;
  /** Epoch ms at which the write started; its minute is the folder. */
  writeStart: number;
}

export interface BatchLogEntry {
  level: 'info' | 'error';
  message: string;
  batch: string;
  records: number;
  dead: number;
  status?: LandStatus;
  key?: string;
  error?: string;
  encodeMs?: number;
  writeMs?: number;
}

/**
 * What a writer that knows its shard adds to an event (the local event source mapping; AWS Lambda
 * never sets it: its events do not name their shard). The handler then writes the batch's chain link
 * (core/landing.ts `linkName`, docs/gaps.md).
 */
export interface ChainContext {
  shardId: string;
  /** Batch id of the batch delivered before this one on the shard, `start` or `unknown`. */
  previousBatch: string;
}

export type StreamEventWithChain = DynamoDBStreamEvent & { ddbLakeChain?: ChainContext };

export type StreamBatchHandler = (
  event: StreamEventWithChain,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
) => Promise<DynamoDBBatchResponse>;

const SEQUENCE_NUMBER = /^\d{1,40}$/;

/**
 * Digest standing in for the shard in the batch id: from the stream ARN, the first and last
 * records' event ids and sequence numbers, and the record count. Deterministic for a retried batch.
 */
export function batchDigest(records: DynamoDBRecord[]): string {
  const first = records[0];
  const last = records[records.length - 1];
  const parts = [
    first?.eventSourceARN,
    first?.eventID,
    first?.dynamodb?.SequenceNumber,
    last?.eventID,
    last?.dynamodb?.SequenceNumber,
    String(records.length),
  ];
  return createHash('sha256')
    .update(parts.map((p) => p ?? '').join('\n'))
    .digest('hex')
    .slice(0, 12);
}

/** The id `encodeBatch` gives these records, without encoding them. */
export function batchIdOf(records: DynamoDBRecord[]): string {
  const sequenceNumbers = records
    .map((r) => r?.dynamodb?.SequenceNumber)
    .filter((s): s is string => typeof s === 'string' && SEQUENCE_NUMBER.test(s));
  return batchId(sequenceNumbers[0] ?? '0', sequenceNumbers[sequenceNumbers.length - 1] ?? '0', batchDigest(records));
}

/** Encodes every record; one that cannot be encoded is set aside with its reason. */
export function encodeBatch(records: DynamoDBRecord[]): EncodedBatch {
  const lines: string[] = [];
  const dead: DeadRecord[] = [];
  for (let i = 0; i < records.length; i++) {
    try {
      lines.push(encodeRecord(records[i]!));
    } catch (err) {
      dead.push({ index: i, reason: err instanceof Error ? err.message : String(err), record: records[i]! });
    }
  }
  const first = records[0]?.dynamodb?.SequenceNumber;
  return {
    id: batchIdOf(records),
    firstItemIdentifier: typeof first === 'string' ? first : '',
    recordCount: records.length,
    lineCount: lines.length,
    body: lines.length ? `${lines.join('\n')}\n` : '',
    dead,
  };
}

class DeadlineExceeded extends Error {
  constructor(what: string, deadline: number) {
    super(`abandoned before ${what}: the write deadline ${new Date(deadline).toISOString()} has passed`);
    this.name = 'DeadlineExceeded';
  }
}

/**
 * Lands an encoded batch (docs/landing.md rules 1, 2, 4): dead letters, then the claim, then the
 * file, all within `maxWriteSeconds` of the write's start (and before the Lambda's own timeout).
 */
export async function landBatch(
  batch: EncodedBatch,
  config: HandlerConfig,
  deps: HandlerDeps,
  remainingMs?: number,
  chain?: ChainContext,
): Promise<LandResult> {
  const clock = deps.clock ?? Date.now;
  const writeStart = clock();
  let deadline = writeStart + config.maxWriteSeconds * 1000;
  // Leave the Lambda a moment to answer before its own timeout kills it.
  if (remainingMs !== undefined) deadline = Math.min(deadline, writeStart + remainingMs - 500);
  const s3 = deps.s3;
  const bucket = config.bucket;
  const signal = (what: string) => {
    const left = deadline - clock();
    if (left <= 0) throw new DeadlineExceeded(what, deadline);
    return { abortSignal: AbortSignal.timeout(left) };
  };

  let deadKey: string | undefined;
  if (batch.dead.length) {
    deadKey = deadLetterKey(config.prefix, batch.id);
    const body = batch.dead.map((d) => deadLetterLine(d, batch.id)).join('');
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: deadKey, Body: body, ContentType: 'application/x-ndjson' }),
      signal('writing the dead letters'),
    );
  }
  if (batch.lineCount === 0)
    return { status: batch.dead.length ? 'dead-letter-only' : 'empty', deadLetterKey: deadKey, writeStart };

  const claimKey = batchClaimKey(config.prefix, batch.id);
  const claim = await readClaim(s3, bucket, claimKey, signal('reading the claim'));
  if (claim && (await objectExists(s3, bucket, claim.key, signal('looking for the claimed file'))))
    return { status: 'already-landed', key: claim.key, deadLetterKey: deadKey, writeStart };

  // Claim first, then the file: a claim may name a file that was never written, but a file
  // always has a claim naming it, so a retry never writes a second copy of a landed batch.
  const key = `${config.prefix}${minuteFolder(writeStart)}/${batchFileName(batch.id)}`;
  const claimBody: BatchClaim = {
    key,
    batch: batch.id,
    records: batch.lineCount,
    claimedAt: new Date(writeStart).toISOString(),
  };
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: claimKey,
      Body: JSON.stringify(claimBody),
      ContentType: 'application/json',
    }),
    signal('writing the claim'),
  );
  if (chain) {
    // The chain link, before the file: the planner sees every file with its link (docs/gaps.md).
    const link = `${config.prefix}${minuteFolder(writeStart)}/${linkName(batch.id, chain.shardId, chain.previousBatch)}`;
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: link, Body: new Uint8Array(0), ContentLength: 0 }),
      signal('writing the chain link'),
    );
  }
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: batch.body, ContentType: 'application/x-ndjson' }),
    signal('writing the file'),
  );
  return { status: 'written', key, deadLetterKey: deadKey, writeStart };
}

/** Content of `<landing>/_batches/<batch id>`. */
export interface BatchClaim {
  key: string;
  batch: string;
  records: number;
  claimedAt: string;
}

function deadLetterLine(dead: DeadRecord, batch: string): string {
  let record: unknown = dead.record;
  try {
    JSON.stringify(record);
  } catch {
    record = String(record);
  }
  return `${JSON.stringify({ batch, index: dead.index, reason: dead.reason, record })}\n`;
}

async function readClaim(
  s3: S3Client,
  bucket: string,
  key: string,
  options: { abortSignal: AbortSignal },
): Promise<BatchClaim | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), options);
    const claim = JSON.parse(await out.Body!.transformToString()) as BatchClaim;
    return typeof claim?.key === 'string' ? claim : undefined;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function objectExists(
  s3: S3Client,
  bucket: string,
  key: string,
  options: { abortSignal: AbortSignal },
): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), options);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/**
 * The handler: encode, land, answer. A batch is landed whole or not at all; when it is not,
 * `batchItemFailures` names its first record so the event source retries the whole batch (which
 * the claim makes safe). Records that cannot be encoded are dead-lettered, not failed.
 */
export function createStreamHandler(config: HandlerConfig, deps: HandlerDeps): StreamBatchHandler {
  const log = deps.log ?? ((entry: BatchLogEntry) => console.log(JSON.stringify(entry)));
  return async (event, context) => {
    const records = Array.isArray(event?.Records) ? event.Records : [];
    if (records.length === 0) return { batchItemFailures: [] };
    const t0 = performance.now();
    const batch = encodeBatch(records);
    const encodeMs = performance.now() - t0;
    try {
      const result = await landBatch(
        batch,
        config,
        deps,
        context?.getRemainingTimeInMillis(),
        validChain(event.ddbLakeChain),
      );
      log({
        level: 'info',
        message: 'batch landed',
        batch: batch.id,
        records: records.length,
        dead: batch.dead.length,
        status: result.status,
        key: result.key,
        encodeMs: round(encodeMs),
        writeMs: round(performance.now() - t0 - encodeMs),
      });
      return { batchItemFailures: [] };
    } catch (err) {
      log({
        level: 'error',
        message: 'batch not landed; asking for a retry',
        batch: batch.id,
        records: records.length,
        dead: batch.dead.length,
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      });
      return { batchItemFailures: [{ itemIdentifier: batch.firstItemIdentifier }] };
    }
  };
}

const round = (ms: number) => Math.round(ms * 10) / 10;

function validChain(chain: unknown): ChainContext | undefined {
  const c = chain as ChainContext | undefined;
  return c && typeof c.shardId === 'string' && c.shardId && typeof c.previousBatch === 'string' && c.previousBatch
    ? c
    : undefined;
}
