/**
 * The real Temporal dev server (the cached CLI binary: nothing is downloaded) on this worktree's
 * test port, and a worker per test with fake external parts.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Runtime,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { toolchainPaths } from '../../core/toolchain';
import { freePort } from '../../stack/ports';
import type { LocalEnvironment } from '../../core/environment';
import { createPipelineWorker, WORKFLOWS_PATH } from '../../worker/worker';
import type { Fakes } from './fakes';

/**
 * Ports of the isolated dev server: free loopback ports chosen at start, so test files that each
 * start one can run in parallel. (The test stack's server, DDB_LAKE_TEST_TEMPORAL_PORT, is another.)
 */
let isolatedPort: number | undefined;

/** The gRPC port of the dev server this test process started with startTemporal(). */
export function testTemporalPort(): number {
  if (isolatedPort === undefined) throw new Error('testTemporalPort(): call startTemporal() first');
  return isolatedPort;
}

let runtimeInstalled = false;

export async function startTemporal(): Promise<TestWorkflowEnvironment> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger(process.env.DDB_LAKE_TEST_LOG === '1' ? 'INFO' : 'WARN') });
    runtimeInstalled = true;
  }
  // A SQLite file, not the in-memory default: with the in-memory database the dev server (server
  // 1.29) once started failing every call with SQLITE_INTERRUPT ("interrupted (9)") mid-suite, a
  // SQLite driver bug fixed in later servers. Not seen with a file database so far.
  const dir = mkdtempSync(join(tmpdir(), 'ddb-lake-temporal-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  isolatedPort = await freePort();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: toolchainPaths().temporalCli },
      dbFilename: join(dir, 'temporal.db'),
      ip: '127.0.0.1',
      port: isolatedPort,
      ui: false,
      extraArgs: ['--http-port', String(await freePort()), '--metrics-port', String(await freePort())],
    },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow bundle, built once per test process. */
export function workflowBundle(workflowsPath = WORKFLOWS_PATH): Promise<WorkflowBundleWithSourceMap> {
  if (workflowsPath !== WORKFLOWS_PATH) return bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
  bundle ??= bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
  return bundle;
}

export function localEnv(env: TestWorkflowEnvironment): LocalEnvironment {
  return {
    kind: 'local',
    stateDir: '/tmp/ddb-lake-test-state',
    temporal: { address: `127.0.0.1:${testTemporalPort()}`, namespace: env.namespace ?? 'default' },
    aws: { endpoint: 'http://127.0.0.1:5301', region: 'us-east-1' },
  };
}

let queueSeq = 0;

/** Run `fn` with a pipeline worker on a task queue of its own, backed by the fakes. */
export async function withWorker<T>(
  env: TestWorkflowEnvironment,
  fakes: Fakes,
  fn: (taskQueue: string, worker: Worker) => Promise<T>,
  taskQueue = newTaskQueue(),
): Promise<T> {
  const { worker, connection } = await testWorker(env, fakes, taskQueue);
  try {
    return await worker.runUntil(fn(taskQueue, worker));
  } finally {
    await connection.close();
  }
}

export function newTaskQueue(): string {
  return `test-${process.pid}-${++queueSeq}`;
}

export async function testWorker(env: TestWorkflowEnvironment, fakes: Fakes, taskQueue: string) {
  return createPipelineWorker({
    env: localEnv(env),
    services: fakes.services,
    clock: fakes.clock,
    workflowBundle: await workflowBundle(),
    taskQueue,
    shutdownGraceTime: '1 second',
  });
}

/** Poll `probe` until it returns a value (not undefined) or time runs out. */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(100);
  }
}

/**
 * The Temporal CLI's JSON export of one run into `file`: the same format as `temporal workflow show
 * -o json` and the UI's download.
 */
export function writeHistory(workflowId: string, runId: string, file: string): void {
  const json = execFileSync(
    toolchainPaths().temporalCli,
    [
      'workflow',
      'show',
      '--workflow-id',
      workflowId,
      '--run-id',
      runId,
      '--output',
      'json',
      '--address',
      `127.0.0.1:${testTemporalPort()}`,
    ],
    { encoding: 'utf8' },
  );
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, json.endsWith('\n') ? json : `${json}\n`);
  console.log(`recorded ${(JSON.parse(json) as { events: unknown[] }).events.length} events of run ${runId} → ${file}`);
}
