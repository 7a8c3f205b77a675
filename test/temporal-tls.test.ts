/**
 * Temporal over TLS, mutual TLS and an API key, with settings taken only from Temporal's environment
 * configuration (docs/temporal-connection.md). The test stack's dev server has no TLS, so a TLS
 * terminator (test/helpers/grpc-tls-proxy.ts, a self-signed CA made in-process) stands in front of
 * it: once with server TLS only, once requiring a client certificate, once requiring a client
 * certificate and `authorization: Bearer <key>` (the dev server ignores API keys; the terminator
 * refuses a wrong one as Temporal Cloud does). Each time the real CLI runs `ddb-lake worker`,
 * `start`, `pause`, `status` and `stop` as child processes whose only Temporal settings are TEMPORAL_*
 * variables or a TOML profile, in a namespace of their own (so the stack's own worker, which serves
 * the default namespace in plaintext, cannot be the one answering). Then the failures a user meets
 * (no CA, plaintext client, no / a foreign client certificate, a wrong key, a bad path, broken TOML,
 * an unknown profile) each print one sentence naming the fix, and neither the API key nor a client
 * key appears in any output or workflow history.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateTableCommand, UpdateContinuousBackupsCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { Client } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import type { StatusDocument } from '../client/pipeline-client';
import { REPO_ROOT } from '../core/toolchain';
import { transactionTableInput } from '../tools/generate/transaction-table';
import { runCli, type CliResult } from './helpers/cli';
import { startGrpcTlsProxy, type GrpcTlsProxy } from './helpers/grpc-tls-proxy';
import {
  closeTestConnections,
  testDynamoDbClient,
  testEnvironment,
  testS3Client,
  testScratchDir,
  testTemporalConnection,
  uniqueName,
} from './helpers/stack';
import { createTestPki, type TestPki } from './helpers/test-pki';

/** Terminator ports: DDB_LAKE_TEST_TLS_PORT and the two after it (17620 by default). */
const FIRST_PORT = Number(process.env.DDB_LAKE_TEST_TLS_PORT || 17620);
const API_KEY = `ddbLakeTlsTestKey.${Date.now().toString(36)}`;

let pki: TestPki;
let dir: string;
let namespace: string;
let upstream: string;
const proxies: GrpcTlsProxy[] = [];
const workers: ChildProcess[] = [];
/** Everything the CLI and the workers printed, searched for secrets at the end. */
const printed: string[] = [];
const table = uniqueName('TlsTable');
const dynamodb = testDynamoDbClient();
const s3 = testS3Client();

/** The child's environment: the test stack for AWS (moto), and for Temporal only `settings`. */
function childEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TEMPORAL_')) env[k] = v;
  return { ...env, DDB_LAKE_ENV: 'local', ...settings };
}

async function cli(settings: Record<string, string>, ...args: string[]): Promise<CliResult> {
  const r = await runCli(args, childEnv(settings), 120_000);
  printed.push(r.stdout, r.stderr);
  return r;
}

/** A failure the user can act on: exit 2, one sentence and one hint, no stack trace. */
function assertOneLineError(r: CliResult, message: RegExp, hint: RegExp): void {
  assert.equal(r.code, 2, `exit code; stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 2, `one sentence and one hint: ${r.stderr}`);
  assert.match(lines[0]!, message);
  assert.match(lines[1]!, hint);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

function startWorker(settings: Record<string, string>): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'ddb-lake.js'), 'worker'], {
    env: childEnv(settings),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  workers.push(child);
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker not ready within 90 s:\n${output}`)), 90_000);
    const check = setInterval(() => {
      if (/Worker state changed state=RUNNING/.test(output)) {
        clearTimeout(timer);
        clearInterval(check);
        resolve({ child, output: () => output });
      }
    }, 100);
    child.once('exit', (code) => {
      clearTimeout(timer);
      clearInterval(check);
      reject(new Error(`worker exited (${code}) before it was ready:\n${output}`));
    });
  });
}

async function stopWorker(w: { child: ChildProcess; output: () => string }): Promise<void> {
  if (w.child.exitCode === null) {
    const exited = new Promise((r) => w.child.once('exit', r));
    w.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    if (w.child.exitCode === null) w.child.kill('SIGKILL');
  }
  printed.push(w.output());
}

function pipelineConfig(name: string): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      name,
      table,
      export: { location: `s3://ddb-lake-local/export/${name}/`, pollIntervalSeconds: 1 },
      landing: { location: `s3://ddb-lake-local/landing/${name}/` },
      lake: { location: join(dir, 'lake', name) },
      schedule: { intervalSeconds: 5 },
    }),
  );
  return file;
}

/**
 * The whole round over one terminator: a worker, then start (the worker is seen polling), pause,
 * status (answered by that worker: a query), stop. Returns the worker's start-up line.
 */
async function roundTrip(settings: Record<string, string>, name: string): Promise<string> {
  const worker = await startWorker(settings);
  try {
    const started = await cli(settings, 'start', pipelineConfig(name), '--json');
    assert.equal(started.code, 0, started.stderr);
    assert.equal((JSON.parse(started.stdout) as { workerPolling: boolean }).workerPolling, true);
    const paused = await cli(settings, 'pause', name);
    assert.equal(paused.code, 0, paused.stderr);
    const status = await cli(settings, 'status', name, '--json');
    assert.equal(status.code, 0, status.stderr);
    const doc = JSON.parse(status.stdout) as StatusDocument;
    assert.equal(doc.execution.status, 'RUNNING');
    assert.equal(doc.paused, true, 'the pause signal reached the workflow and the query saw it');
    const stopped = await cli(settings, 'stop', name, '--wait', '60');
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, /CANCELL?ED/);
    return /ddb-lake worker: task queue .*/.exec(worker.output())?.[0] ?? worker.output();
  } finally {
    await stopWorker(worker);
  }
}

before(async () => {
  const env = testEnvironment();
  upstream = env.temporal.address;
  dir = testScratchDir('tls');
  pki = await createTestPki();
  for (const [file, text] of Object.entries({
    'ca.pem': pki.ca.cert,
    'client.pem': pki.client.cert,
    'client.key': pki.client.key,
    'stranger.pem': pki.stranger.cert,
    'stranger.key': pki.stranger.key,
  }))
    writeFileSync(join(dir, file), text, { mode: 0o600 });

  // A namespace of their own: the stack's worker serves "default".
  namespace = uniqueName('tls');
  const connection = await testTemporalConnection();
  await connection.workflowService.registerNamespace({
    namespace,
    workflowExecutionRetentionPeriod: msToTs('1 day'),
  });
  const client = new Client({ connection, namespace });
  // A new namespace reaches the frontend's cache within seconds.
  for (let i = 0; ; i++) {
    try {
      await client.workflow.count();
      break;
    } catch (err) {
      if (i > 60) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  await dynamodb.send(new CreateTableCommand(transactionTableInput(table, 'NEW_AND_OLD_IMAGES')));
  await dynamodb.send(
    new UpdateContinuousBackupsCommand({
      TableName: table,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    }),
  );
  await s3.send(new CreateBucketCommand({ Bucket: 'ddb-lake-local' })).catch(() => undefined); // the stack's poller may have made it
});

after(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  for (const p of proxies) await p.close();
  dynamodb.destroy();
  s3.destroy();
  await closeTestConnections();
});

describe('Temporal over TLS, mutual TLS and an API key, from the environment configuration only', () => {
  test('server TLS from TEMPORAL_* variables: worker, start, pause, status, stop; no CA or no TLS fails in one sentence', async () => {
    const proxy = await startGrpcTlsProxy({ upstream, port: FIRST_PORT, ...pki.server });
    proxies.push(proxy);
    const settings = {
      TEMPORAL_ADDRESS: `localhost:${proxy.port}`,
      TEMPORAL_NAMESPACE: namespace,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(dir, 'ca.pem'),
    };
    const line = await roundTrip(settings, uniqueName('tls-server'));
    assert.match(
      line,
      new RegExp(`on localhost:${proxy.port} \\(namespace ${namespace}, TLS; from TEMPORAL_\\* variables\\)`),
    );
    assert.ok(
      proxy.requests.some((r) => r.path.endsWith('/PollWorkflowTaskQueue')),
      'the worker polled through TLS',
    );
    assert.ok(
      proxy.requests.some((r) => r.path.endsWith('/StartWorkflowExecution')),
      'start went through TLS',
    );
    assert.ok(
      proxy.requests.every((r) => r.authorization === undefined),
      'no API key configured: none sent',
    );

    const noCa = await cli(
      { TEMPORAL_ADDRESS: settings.TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE: namespace, TEMPORAL_TLS: 'true' },
      'status',
      'whatever',
    );
    assertOneLineError(
      noCa,
      new RegExp(
        `^ddb-lake: TLS with the Temporal server at localhost:${proxy.port} failed \\((unable to verify the first certificate|self-signed certificate in certificate chain)\\)$`,
      ),
      /TEMPORAL_TLS_SERVER_CA_CERT_PATH/,
    );
    const plaintext = await cli({ TEMPORAL_ADDRESS: settings.TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE: namespace }, 'list');
    assertOneLineError(
      plaintext,
      new RegExp(`^ddb-lake: the Temporal server at localhost:${proxy.port} speaks TLS; this client does not$`),
      /set TEMPORAL_TLS=true/,
    );
  });

  test('mutual TLS from a TOML profile: the whole round; no or a foreign client certificate, bad paths, broken TOML, unknown profile fail in one sentence', async () => {
    const proxy = await startGrpcTlsProxy({ upstream, port: FIRST_PORT + 1, ...pki.server, clientCa: pki.ca.cert });
    proxies.push(proxy);
    const toml = join(dir, 'temporal.toml');
    const profile = (name: string, tls: string) =>
      `[profile.${name}]\naddress = "127.0.0.1:${proxy.port}"\nnamespace = "${namespace}"\n[profile.${name}.tls]\nserver_name = "localhost"\nserver_ca_cert_path = "${join(dir, 'ca.pem')}"\n${tls}\n`;
    writeFileSync(
      toml,
      [
        profile(
          'prod',
          `client_cert_path = "${join(dir, 'client.pem')}"\nclient_key_path = "${join(dir, 'client.key')}"`,
        ),
        profile('nocert', ''),
        profile(
          'stranger',
          `client_cert_path = "${join(dir, 'stranger.pem')}"\nclient_key_path = "${join(dir, 'stranger.key')}"`,
        ),
        profile(
          'badpath',
          `client_cert_path = "${join(dir, 'nope.pem')}"\nclient_key_path = "${join(dir, 'client.key')}"`,
        ),
      ].join('\n'),
    );
    const settings = { TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' };
    const line = await roundTrip(settings, uniqueName('tls-mutual'));
    assert.match(
      line,
      new RegExp(`on 127.0.0.1:${proxy.port} \\(namespace ${namespace}, mutual TLS; from profile "prod" of ${toml}`),
    );
    assert.ok(
      proxy.requests.some((r) => r.path.endsWith('/PollActivityTaskQueue')),
      'the worker polled through mutual TLS',
    );

    assertOneLineError(
      await cli({ ...settings, TEMPORAL_PROFILE: 'nocert' }, 'list'),
      new RegExp(
        `^ddb-lake: the Temporal server at 127.0.0.1:${proxy.port} requires a client certificate \\(.*certificate required\\)$`,
      ),
      /TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH/,
    );
    assertOneLineError(
      await cli({ ...settings, TEMPORAL_PROFILE: 'stranger' }, 'list'),
      new RegExp(
        `^ddb-lake: the Temporal server at 127.0.0.1:${proxy.port} refused the client certificate \\((.*unknown ca|the server closed the connection right after the TLS handshake)\\)$`,
      ),
      /signed by the CA the server trusts/,
    );
    assertOneLineError(
      await cli({ ...settings, TEMPORAL_PROFILE: 'badpath' }, 'list'),
      new RegExp(
        `^ddb-lake: the Temporal client certificate ${join(dir, 'nope.pem')} \\(client_cert_path of .*\\) cannot be read \\(ENOENT\\)$`,
      ),
      /^ {2}→ point client_cert_path at a readable PEM file$/,
    );
    assertOneLineError(
      await cli({ ...settings, TEMPORAL_TLS_CLIENT_KEY_PATH: join(dir, 'missing.key') }, 'list'),
      /^ddb-lake: the Temporal client key .*missing\.key \(TEMPORAL_TLS_CLIENT_KEY_PATH\) cannot be read \(ENOENT\)$/,
      /point TEMPORAL_TLS_CLIENT_KEY_PATH at a readable PEM file/,
    );
    const broken = join(dir, 'broken.toml');
    writeFileSync(broken, '[profile.prod\naddress = "x"\n');
    assertOneLineError(
      await cli({ TEMPORAL_CONFIG_FILE: broken }, 'list'),
      /^ddb-lake: cannot read the Temporal configuration \(.*broken\.toml\): .+$/,
      /fix the TOML file/,
    );
    assertOneLineError(
      await cli({ TEMPORAL_CONFIG_FILE: join(dir, 'absent.toml') }, 'list'),
      /^ddb-lake: TEMPORAL_CONFIG_FILE .*absent\.toml cannot be read \(ENOENT\)$/,
      /readable TOML file, or unset it/,
    );
    assertOneLineError(
      await cli({ ...settings, TEMPORAL_PROFILE: 'staging' }, 'list'),
      /^ddb-lake: Temporal profile 'staging' not found in .*temporal\.toml$/,
      /TEMPORAL_PROFILE/,
    );
  });

  test('API key (with mutual TLS from inline PEM data): sent as `authorization: Bearer` on every call; a wrong key fails in one sentence; no secret in any output or history', async () => {
    const proxy = await startGrpcTlsProxy({
      upstream,
      port: FIRST_PORT + 2,
      ...pki.server,
      clientCa: pki.ca.cert,
      apiKey: API_KEY,
    });
    proxies.push(proxy);
    const settings = {
      TEMPORAL_ADDRESS: `localhost:${proxy.port}`,
      TEMPORAL_NAMESPACE: namespace,
      TEMPORAL_API_KEY: API_KEY,
      TEMPORAL_TLS_SERVER_CA_CERT_DATA: pki.ca.cert,
      TEMPORAL_TLS_CLIENT_CERT_DATA: pki.client.cert,
      TEMPORAL_TLS_CLIENT_KEY_DATA: pki.client.key,
    };
    const name = uniqueName('tls-apikey');
    const line = await roundTrip(settings, name);
    assert.match(line, new RegExp(`\\(namespace ${namespace}, mutual TLS \\+ API key; from TEMPORAL_\\* variables\\)`));
    const paths = new Set(proxy.requests.map((r) => r.path.split('/').pop()));
    for (const call of ['StartWorkflowExecution', 'PollWorkflowTaskQueue', 'SignalWorkflowExecution', 'QueryWorkflow'])
      assert.ok(paths.has(call), `${call} went through the terminator (seen: ${[...paths].join(', ')})`);
    assert.deepEqual(
      proxy.requests.filter((r) => r.authorization !== `Bearer ${API_KEY}` || r.refused),
      [],
      'every call carried the key',
    );

    const wrong = await cli({ ...settings, TEMPORAL_API_KEY: 'not-the-key' }, 'status', name);
    assertOneLineError(
      wrong,
      new RegExp(
        `^ddb-lake: the Temporal server at localhost:${proxy.port} refused the credentials \\(.*Request unauthorized\\)$`,
      ),
      /check TEMPORAL_API_KEY/,
    );

    // No secret anywhere: what the CLI and the workers printed, and every history of the namespace.
    const keyBody = (pem: string) => pem.split('\n').filter((l) => l && !l.startsWith('-----'))[0]!;
    const secrets = [API_KEY, keyBody(pki.client.key), keyBody(pki.stranger.key)];
    const client = new Client({ connection: await testTemporalConnection(), namespace });
    let histories = 0;
    for await (const w of client.workflow.list()) {
      const history = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
      printed.push(Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('latin1'));
      histories++;
    }
    assert.ok(histories >= 3, `histories read: ${histories}`);
    const all = printed.join('\n');
    assert.ok(all.includes('ddb-lake worker: task queue'), 'the workers’ output was captured');
    for (const secret of secrets)
      assert.equal(all.includes(secret), false, `${secret.slice(0, 12)}… was printed or stored`);
  });
});
