/**
 * The pipeline workflow's logic on the real Temporal dev server, with the real activities over
 * in-memory external parts (test/support/fakes.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { minuteFolder } from '../core/landing';
import type { PipelineConfig } from '../core/config';
import {
  pauseSignal,
  resumeSignal,
  runNowUpdate,
  setIntervalUpdate,
  statusQuery,
  type PipelineStatus,
} from '../workflows/definitions';
import { pipelineWorkflow } from '../workflows/pipeline';
import { createFakes, EXPORT_TIME_MS, testConfig, type Fakes } from './support/fakes';
import { eventually, startTemporal, withWorker } from './support/temporal';

let env: TestWorkflowEnvironment;

before(async () => {
  env = await startTemporal();
});
after(async () => {
  await env?.teardown();
});

async function start(taskQueue: string, config: PipelineConfig, id = `${config.name}-${taskQueue}`) {
  return env.client.workflow.start(pipelineWorkflow, { taskQueue, workflowId: id, args: [{ config }] });
}

async function status(handle: WorkflowHandle<typeof pipelineWorkflow>): Promise<PipelineStatus> {
  return handle.query(statusQuery);
}

/** Wait until the status satisfies `ok`. */
async function statusWhere(handle: WorkflowHandle<typeof pipelineWorkflow>, what: string, ok: (s: PipelineStatus) => boolean, timeoutMs = 20_000) {
  return eventually(async () => {
    const s = await status(handle);
    return ok(s) ? s : undefined;
  }, what, timeoutMs);
}

const MINUTE = 60_000;

describe('pipeline workflow', () => {
  test('walks validate → export → initial load → incremental and applies every file once', async () => {
    const f = createFakes();
    await withWorker(env, f, async (tq) => {
      const handle = await start(tq, testConfig());
      const s1 = await statusWhere(handle, 'incremental phase', (s) => s.phase === 'incremental');
      assert.equal(s1.export?.status, 'COMPLETED');
      assert.equal(s1.export?.itemCount, 7269);
      assert.equal(f.exporter.starts.length, 1);
      assert.match(f.exporter.starts[0]!.clientToken, /^ddb-lake-.+-e1$/);
      const init = [...f.jobs.runs.values()][0]!;
      assert.equal(init.request.kind, 'initialLoad');
      assert.match(init.request.runKey, /^transaction-[0-9a-f]{8}-init-a1$/);
      // The watermark starts two minutes before the export's minute.
      assert.equal(s1.watermark?.closedThrough, minuteFolder(EXPORT_TIME_MS - 2 * MINUTE));

      const a = f.landing.add('shard1_1_5.json');
      const b = f.landing.add('shard2_1_3.json');
      const s2 = await statusWhere(handle, 'first batch', (s) => s.counters.filesApplied === 2);
      assert.equal(s2.lastRuns[0]?.status, 'succeeded');
      assert.equal(s2.lastRuns[0]?.files, 2);
      assert.equal(s2.lastRuns[0]?.recordsRead, 20);
      assert.deepEqual(s2.watermark?.openFolders, [{ folder: minuteFolder(f.clock.now()), filesTaken: 2 }]);

      // Empty cycles start no job.
      const jobsBefore = f.jobs.starts;
      await statusWhere(handle, 'empty cycles', (s) => s.counters.emptyCycles >= 2);
      assert.equal(f.jobs.starts, jobsBefore);

      // A file arriving late in the same (still open) folder is taken by the next batch.
      const c = f.landing.add('shard1_6_9.json');
      await statusWhere(handle, 'late file in open folder', (s) => s.counters.filesApplied === 3);

      // Once its close instant has passed, the folder closes without a job.
      f.clock.advance(3 * MINUTE);
      const s3 = await statusWhere(handle, 'folder closed', (s) => s.watermark!.openFolders.length === 0);
      assert.ok(s3.watermark!.closedThrough >= minuteFolder(f.clock.now() - 3 * MINUTE));
      assert.equal(f.jobs.starts, jobsBefore + 1);

      assert.deepEqual(f.jobs.appliedFiles().sort(), [a, b, c].map((k) => `s3://ddb-lake-local/landing/Transaction/${k}`).sort());
      assert.deepEqual(f.jobs.overlaps(), []);
      await handle.cancel();
    });
  });
});
