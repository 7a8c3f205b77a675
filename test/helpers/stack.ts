import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { awsClientConfig } from '../../core/aws';
import { resolveEnvironment, type LocalEnvironment } from '../../core/environment';
import { temporalConnectionOptions } from '../../core/temporal-connection';

/**
 * What tests use to reach the test stack that `npm test` (test/run.ts) brings up once per run.
 * Endpoints come from its stack.json through resolveEnvironment(), never from constants, so the
 * same tests run against any stack. Open Temporal connections are closed by closeTestConnections().
 */

/** The test stack's environment; a clear error when the tests were not started by test/run.ts. */
export function testEnvironment(): LocalEnvironment {
  let env;
  try {
    env = resolveEnvironment();
  } catch (err) {
    throw new Error(
      `no test stack: ${(err as Error).message}. Run the tests with \`npm test\` (test/run.ts starts the stack and sets DDB_LAKE_STATE)`,
      { cause: err },
    );
  }
  if (env.kind !== 'local') throw new Error('tests run against the local stack; unset DDB_LAKE_ENV');
  return env;
}

/** Settings for any AWS SDK v3 client, pointing at the test stack's moto. */
export function testAwsConfig(): ReturnType<typeof awsClientConfig> {
  return awsClientConfig(testEnvironment());
}

export function testDynamoDbClient(): DynamoDBClient {
  return new DynamoDBClient(testAwsConfig());
}

export function testDynamoDbStreamsClient(): DynamoDBStreamsClient {
  return new DynamoDBStreamsClient(testAwsConfig());
}

export function testS3Client(): S3Client {
  return new S3Client(testAwsConfig());
}

let clientConnection: Promise<Connection> | undefined;
let workerConnection: Promise<NativeConnection> | undefined;

/** A (shared) Temporal client connection to the test stack's dev server. */
export function testTemporalConnection(): Promise<Connection> {
  clientConnection ??= Connection.connect(temporalConnectionOptions(testEnvironment().temporal));
  return clientConnection;
}

/** A Temporal client in the test stack's namespace. */
export async function testTemporalClient(): Promise<Client> {
  return new Client({ connection: await testTemporalConnection(), namespace: testEnvironment().temporal.namespace });
}

let runtimeInstalled = false;

/**
 * A (shared) native connection for Worker.create({ connection, namespace, ... }). The first call
 * installs the worker runtime with warnings-only logging (set DDB_LAKE_TEST_LOG=INFO for more).
 */
export function testWorkerConnection(): Promise<NativeConnection> {
  if (!runtimeInstalled) {
    runtimeInstalled = true;
    const level =
      process.env.DDB_LAKE_TEST_LOG === 'INFO' || process.env.DDB_LAKE_TEST_LOG === 'DEBUG'
        ? process.env.DDB_LAKE_TEST_LOG
        : 'WARN';
    Runtime.install({ logger: new DefaultLogger(level) });
  }
  workerConnection ??= NativeConnection.connect(temporalConnectionOptions(testEnvironment().temporal));
  return workerConnection;
}

/** Close the shared connections; call it in an `after()` hook so the test process can exit. */
export async function closeTestConnections(): Promise<void> {
  const [c, w] = [clientConnection, workerConnection];
  clientConnection = workerConnection = undefined;
  await Promise.all([c?.then((x) => x.close()), w?.then((x) => x.close())]);
}

/**
 * A name no other test (or earlier run against the same stack) uses, valid as a DynamoDB table,
 * an S3 bucket, a Temporal task queue or workflow id: lowercase letters, digits and dashes.
 */
export function uniqueName(prefix: string): string {
  const clean =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 30) || 't';
  return `${clean}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/**
 * A fresh folder under the test stack's state folder (`<state>/scratch/`), e.g. the state folder
 * of an extra stack a test starts. test/run.ts stops every stack recorded under it at the end of
 * the run, even when the test process was killed before its own clean-up ran.
 */
export function testScratchDir(prefix: string): string {
  const root = join(testEnvironment().stateDir, 'scratch');
  mkdirSync(root, { recursive: true });
  return mkdtempSync(join(root, `${prefix}-`));
}
