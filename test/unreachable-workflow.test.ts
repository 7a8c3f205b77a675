/**
 * What a running pipeline shows when the worker cannot reach AWS (here: a local stack whose moto is
 * gone): Temporal retries the activity, and `ddb-lake status` shows the attempt and its failure,
 * one sentence that names the fix. Real dev server (isolated), real worker and activities; the AWS
 * endpoint is a port nothing listens on.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { main } from '../client/cli';
import type { StatusDocument } from '../client/pipeline-client';
import { resolveEnvironment, type StackInfo } from '../core/environment';
import { createPipelineWorker } from '../worker/worker';
import { WORKFLOW_TYPE, TASK_QUEUE } from '../workflows/definitions';
import { testConfig } from './support/fakes';
import { eventually, startTemporal, testTemporalPort, workflowBundle } from './support/temporal';

let env: TestWorkflowEnvironment;
let worker: { worker: Worker; connection: NativeConnection; run: Promise<void> };
let dir: string;
let saved: NodeJS.ProcessEnv;

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    return { code: await main(['node', 'ddb-lake', ...args]), out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

before(async () => {
  saved = { ...process.env };
  env = await startTemporal();
  dir = mkdtempSync(join(tmpdir(), 'ddb-lake-unreachable-'));
  const stack: StackInfo = {
    stateDir: dir,
    temporal: { address: `127.0.0.1:${testTemporalPort()}`, namespace: 'default', uiUrl: 'http://127.0.0.1:2' },
    aws: { endpoint: 'http://127.0.0.1:3', region: 'us-east-1' },
    ports: { temporal: testTemporalPort(), temporalUi: 2, aws: 3 },
    services: [],
  };
  writeFileSync(join(dir, 'stack.json'), JSON.stringify(stack));
  process.env.DDB_LAKE_STATE = dir;
  process.env.DDB_LAKE_ENV = 'local';
  const w = await createPipelineWorker({
    env: resolveEnvironment(),
    workflowBundle: await workflowBundle(),
    shutdownGraceTime: '1 second',
  });
  worker = { ...w, run: w.worker.run() };
});

after(async () => {
  worker?.worker.shutdown();
  await worker?.run.catch(() => undefined);
  await worker?.connection.close();
  await env?.teardown();
  process.env = saved;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the AWS endpoint out of reach while a pipeline runs', () => {
  test('status shows the retried step and a failure that names the fix', async () => {
    await env.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: TASK_QUEUE,
      workflowId: 'unreachable',
      args: [{ config: testConfig({ name: 'unreachable' }) }],
    });
    const s = await eventually(
      async () => {
        const r = await cli('status', 'unreachable', '--json');
        const doc = JSON.parse(r.out) as StatusDocument;
        return doc.retryingActivity?.lastFailure ? doc : undefined;
      },
      'a retried activity',
      30_000,
    );
    assert.equal(s.phase, 'validating');
    assert.equal(s.retryingActivity!.activity, 'validatePipeline');
    assert.ok(s.retryingActivity!.attempt >= 2);
    assert.equal(
      s.retryingActivity!.lastFailure,
      "cannot reach the local stack's AWS endpoint (moto) at http://127.0.0.1:3 (ECONNREFUSED): start the local stack with `ddb-lake up` (or check DDB_LAKE_STATE)",
    );
    const human = await cli('status', 'unreachable');
    assert.equal(human.code, 0);
    assert.match(
      human.out,
      /\n {2}retrying {4}validatePipeline, attempt \d+: cannot reach the local stack's AWS endpoint \(moto\) at http:\/\/127\.0\.0\.1:3 \(ECONNREFUSED\): start the local stack with `ddb-lake up`/,
    );
    assert.equal((await cli('stop', 'unreachable', '--wait', '10')).code, 0);
  });
});
