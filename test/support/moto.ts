/**
 * A real moto server of its own (DynamoDB + Streams + S3) for tests that need one no stream poller
 * writes into (exact landing-zone contents), on a free loopback port (test files run in parallel).
 */
import { transactionTableInput } from '../../tools/generate/transaction-table';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  CreateTableCommand,
  DynamoDBClient,
  UpdateContinuousBackupsCommand,
  type StreamViewType,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { awsClientConfig } from '../../core/aws';
import type { LocalEnvironment } from '../../core/environment';
import { REPO_ROOT, toolchainPaths } from '../../core/toolchain';
import { freePort } from '../../stack/ports';

export interface Moto {
  endpoint: string;
  env: LocalEnvironment;
  s3: S3Client;
  dynamodb: DynamoDBClient;
  stop(): Promise<void>;
}

export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  // The same launcher as the stack's (moto with our patches), isolated from the stack's poller.
  const launcher = join(REPO_ROOT, 'stack', 'moto', 'moto_server.py');
  const proc: ChildProcess = spawn(toolchainPaths().python, [launcher, '--host', '127.0.0.1', '--port', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`moto_server exited (${proc.exitCode}): ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      proc.kill('SIGTERM');
      throw new Error(`moto_server did not start on ${endpoint}: ${stderr}`);
    }
    await sleep(200);
  }
  const env: LocalEnvironment = {
    kind: 'local',
    stateDir: '/tmp/ddb-lake-test-state',
    temporal: { address: '127.0.0.1:1', namespace: 'default' }, // no Temporal behind these tests
    aws: { endpoint, region: 'us-east-1' },
  };
  const cfg = awsClientConfig(env);
  const s3 = new S3Client(cfg);
  const dynamodb = new DynamoDBClient(cfg);
  return {
    endpoint,
    env,
    s3,
    dynamodb,
    stop: async () => {
      s3.destroy();
      dynamodb.destroy();
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([exited, sleep(5000)]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
    },
  };
}

/** The brief's Transaction table: account (hash) + create_at (range), a stream, optionally PITR. */
export async function createTransactionTable(
  moto: Moto,
  opts: { name?: string; pitr?: boolean; stream?: StreamViewType | null } = {},
): Promise<string> {
  const name = opts.name ?? 'Transaction';
  const out = await moto.dynamodb.send(
    new CreateTableCommand(
      transactionTableInput(name, opts.stream === null ? null : (opts.stream ?? 'NEW_AND_OLD_IMAGES')),
    ),
  );
  if (opts.pitr ?? true)
    await moto.dynamodb.send(
      new UpdateContinuousBackupsCommand({
        TableName: name,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    );
  return out.TableDescription!.TableArn!;
}

export async function createBucket(moto: Moto, bucket = 'ddb-lake-local'): Promise<void> {
  await moto.s3.send(new CreateBucketCommand({ Bucket: bucket }));
}
