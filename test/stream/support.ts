/**
 * Test support for the stream tests: the test stack's real moto server, AWS clients for it,
 * and helpers to read back a landing location.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateTableCommand,
  DynamoDBClient,
  ScanCommand,
  waitUntilTableExists,
  type KeySchemaElement,
  type StreamViewType,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { AttributeValue } from 'aws-lambda';
import { awsClientConfig } from '../../core/aws';
import type { LocalEnvironment } from '../../core/environment';
import { testEnvironment } from '../helpers/stack';
import { isMinuteFolder } from '../../core/landing';
import { toLambdaItem, type SdkAttributeValue } from '../../lambda/attribute-value';
import { canonicalNumber, decodeLine, type DecodedChange } from '../../lambda/encoding';

export interface TestStack {
  env: LocalEnvironment;
  /** Environment for child processes (the CLI) so they find the same stack. */
  childEnv: NodeJS.ProcessEnv;
  dynamodb: DynamoDBClient;
  streams: DynamoDBStreamsClient;
  s3: S3Client;
  /** Closes the clients (the stack belongs to the test run). */
  close(): Promise<void>;
}

const tempDirs: string[] = [];
process.once('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary folder, removed when the test process exits. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** The test stack's moto (started once per run by test/run.ts) and clients for it. */
export async function testStack(): Promise<TestStack> {
  const env = testEnvironment();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, DDB_LAKE_STATE: env.stateDir, DDB_LAKE_ENV: 'local' };
  const config = awsClientConfig(env);
  const clients = {
    dynamodb: new DynamoDBClient(config),
    streams: new DynamoDBStreamsClient(config),
    s3: new S3Client(config),
  };
  return {
    env,
    childEnv,
    ...clients,
    async close() {
      clients.dynamodb.destroy();
      clients.streams.destroy();
      clients.s3.destroy();
    },
  };
}

/** A name no other test run uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  everyMs = 200,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export async function createStreamTable(
  dynamodb: DynamoDBClient,
  name: string,
  keys: { name: string; type: 'S' | 'N' | 'B' }[],
  view: StreamViewType = 'NEW_AND_OLD_IMAGES',
): Promise<void> {
  await dynamodb.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: keys.map((k, i): KeySchemaElement => ({ AttributeName: k.name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
      AttributeDefinitions: keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: view },
    }),
  );
  await waitUntilTableExists({ client: dynamodb, maxWaitTime: 30 }, { TableName: name });
}

export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes((err as Error).name)) throw err;
  }
}

export interface LandingObject {
  key: string;
  body: string;
}

export async function listObjects(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(out.Contents ?? []).map((c) => c.Key!));
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

export async function getText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return out.Body!.transformToString();
}

/** Every batch file in the minute folders of a landing prefix (ending with `/`); not the chain links beside them. */
export async function landingFiles(s3: S3Client, bucket: string, prefix: string): Promise<LandingObject[]> {
  const keys = (await listObjects(s3, bucket, prefix)).filter(
    (k) => isMinuteFolder(k.slice(prefix.length).split('/')[0]!) && k.endsWith('.json'),
  );
  return Promise.all(keys.map(async (key) => ({ key, body: await getText(s3, bucket, key) })));
}

export interface LandedChange extends DecodedChange {
  file: string;
}

export async function landedChanges(s3: S3Client, bucket: string, prefix: string): Promise<LandedChange[]> {
  const out: LandedChange[] = [];
  for (const f of await landingFiles(s3, bucket, prefix)) {
    if (!f.body.endsWith('\n')) throw new Error(`${f.key} does not end with a newline`);
    for (const line of f.body.slice(0, -1).split('\n')) out.push({ ...decodeLine(line), file: f.key });
  }
  return out;
}

/** A key of an item as a string: its key attributes' canonical values. */
export function keyOf(item: Record<string, AttributeValue>, keyNames: string[]): string {
  return JSON.stringify(
    keyNames.map((k) => {
      const v = item[k];
      if (!v) throw new Error(`item lacks key attribute ${k}: ${JSON.stringify(item)}`);
      return v.N !== undefined ? { N: canonicalNumber(v.N) } : v;
    }),
  );
}

/** The latest change per key (largest sequence number); removes included. */
export function latestPerKey<T extends DecodedChange>(changes: T[], keyNames: string[]): Map<string, T> {
  const latest = new Map<string, T>();
  for (const c of changes) {
    const key = keyOf(c.item, keyNames);
    const seen = latest.get(key);
    if (!seen || BigInt(c.seq) > BigInt(seen.seq)) latest.set(key, c);
  }
  return latest;
}

/** The table's items (Lambda shape: binary as base64), by key. */
export async function scanTable(
  dynamodb: DynamoDBClient,
  table: string,
  keyNames: string[],
): Promise<Map<string, Record<string, AttributeValue>>> {
  const items = new Map<string, Record<string, AttributeValue>>();
  let start: Record<string, SdkAttributeValue> | undefined;
  do {
    const out = await dynamodb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start as never }));
    for (const raw of out.Items ?? []) {
      const item = toLambdaItem(raw);
      items.set(keyOf(item, keyNames), item);
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}
