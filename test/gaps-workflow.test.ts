/**
 * Stream gaps in the workflow (docs/gaps.md), on the real dev server with the real activities over
 * in-memory parts: a gap marker stalls the pipeline with its reason before the next batch is applied;
 * `resume` re-checks and stalls again; `rebackfill` waits for the running job, takes a fresh export
 * under a new client token, reloads under a new generation of run keys and resumes from the new
 * export's watermark. Never two jobs at once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { minuteFolder } from '../core/landing';
import { initialWatermark } from '../core/watermark';
import type { PipelineConfig } from '../core/config';
import {
  rebackfillUpdate,
  resumeSignal,
  runNowUpdate,
  statusQuery,
  type PipelineStatus,
} from '../workflows/definitions';
import { pipelineWorkflow } from '../workflows/pipeline';
import { createFakes, EXPORT_TIME_MS, testConfig } from './support/fakes';
import { eventually, startTemporal, withWorker } from './support/temporal';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTemporal();
});
after(async () => {
  await env?.teardown();
});

type Handle = WorkflowHandle<typeof pipelineWorkflow>;

async function start(taskQueue: string, config: PipelineConfig): Promise<Handle> {
  return env.client.workflow.start(pipelineWorkflow, {
    taskQueue,
    workflowId: `${config.name}-${taskQueue}`,
    args: [{ config }],
  });
}

function statusWhere(
  handle: Handle,
  what: string,
  ok: (s: PipelineStatus) => boolean,
  timeoutMs = 20_000,
): Promise<PipelineStatus> {
  return eventually(
    async () => {
      const s = await handle.query(statusQuery);
      return ok(s) ? s : undefined;
    },
    what,
    timeoutMs,
  );
}

const causeOf = (err: unknown) => String(((err as Error).cause as Error | undefined)?.message);

describe('stream gaps in the pipeline workflow', () => {
  test('a gap marker stalls before the next batch; resume re-checks; rebackfill reloads from a fresh export', async () => {
    const f = createFakes();
    await withWorker(env, f, async (tq) => {
      const handle = await start(tq, testConfig());
      await statusWhere(handle, 'incremental', (s) => s.phase === 'incremental');
      f.landing.add('1_5_aaaaaaaaaaaa.json');
      await statusWhere(handle, 'first batch', (s) => s.counters.filesApplied === 1);

      // A marker from before the export is covered by it and ignored.
      f.landing.markers.push({
        key: 's3://ddb-lake-local/landing/Transaction/_gaps/old.json',
        detectedAtMs: EXPORT_TIME_MS - 1,
        marker: null,
      });
      f.landing.add('6_9_bbbbbbbbbbbb.json');
      const before = await statusWhere(handle, 'second batch', (s) => s.counters.filesApplied === 2);
      assert.equal(before.stalled, null);

      // The poller found records trimmed before it read them.
      f.landing.markers.push({
        key: 's3://ddb-lake-local/landing/Transaction/_gaps/0001796468460000-trimmed-0123456789ab.json',
        detectedAtMs: f.clock.now(),
        marker: {
          version: 1,
          kind: 'trimmed',
          table: 'Transaction',
          streamArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/Transaction/stream/x',
          shardId: 'shardId-0001',
          afterSequenceNumber: '1100000000017454423100',
          detectedAt: new Date(f.clock.now()).toISOString(),
          reason: 'TrimmedDataAccessException: simulated',
        },
      });
      const late = f.landing.add('10_12_cccccccccccc.json');
      const stalled = await statusWhere(handle, 'stalled on the gap', (s) => s.stalled !== null);
      assert.equal(stalled.step, 'stalled');
      assert.equal(stalled.stalled!.gaps?.[0]?.kind, 'trimmed');
      assert.match(
        stalled.stalled!.error,
        /^cannot prove every change reached the lake: stream records were trimmed \(DynamoDB keeps them 24 h\) before they were read \(shard shardId-0001, after sequence number 1100000000017454423100\): TrimmedDataAccessException: simulated; marker s3:\/\/\S+; nothing after it is applied until `ddb-lake rebackfill transaction` reloads the lake from a fresh export$/,
      );
      assert.deepEqual(stalled.watermark, before.watermark, 'the watermark does not move');
      assert.equal(
        f.jobs.appliedFiles().some((k) => k.endsWith(late)),
        false,
        'the batch after the gap is not applied',
      );
      await assert.rejects(
        handle.executeUpdate(runNowUpdate),
        (err: unknown) =>
          err instanceof WorkflowUpdateFailedError && /stalled \(cannot prove every change/.test(causeOf(err)),
      );

      // resume re-checks: the evidence is still there, so it stalls again.
      const stalledSince = stalled.stalled!.since;
      await handle.signal(resumeSignal);
      await statusWhere(handle, 'stalled again', (s) => s.stalled !== null && s.stalled.since !== stalledSince);
      assert.equal(
        f.jobs.appliedFiles().some((k) => k.endsWith(late)),
        false,
      );

      // Rebackfill: a fresh export at a later point in time covers the gap.
      const firstInit = [...f.jobs.runs.keys()].find((k) => k.includes('-init-'))!;
      f.exporter.exportTimeMs = f.clock.now() + 1000;
      f.jobs.durationMs = 600;
      const accepted = await handle.executeUpdate(rebackfillUpdate);
      assert.equal(accepted.rebackfill, 1);
      assert.match(accepted.previousExportArn!, /\/export\/ddb-lake-.+-e1$/);
      const reloaded = await statusWhere(
        handle,
        'incremental after the rebackfill',
        (s) => s.phase === 'incremental' && s.counters.rebackfills === 1 && s.stalled === null,
      );
      assert.equal(f.exporter.starts.length, 2);
      assert.match(f.exporter.starts[1]!.clientToken, /-e2$/, 'a new export, not the old one found again');
      const inits = [...f.jobs.runs.keys()].filter((k) => k.includes('-init-'));
      assert.equal(inits.length, 2);
      const generation = (k: string) => k.split('-')[1];
      assert.notEqual(
        generation(inits[1]!),
        generation(firstInit),
        'new run keys: a start by run key cannot find the old load',
      );
      assert.deepEqual(
        reloaded.watermark!.closedThrough,
        initialWatermark(f.exporter.exportTimeMs).closedThrough,
        'the watermark restarts at the new export',
      );
      assert.equal(reloaded.export!.exportTime, new Date(f.exporter.exportTimeMs).toISOString());
      assert.equal(
        reloaded.lastError!.message.startsWith('cannot prove every change'),
        true,
        'the last error stays visible',
      );

      // New files after the new export are applied again; the old gap marker is covered now.
      f.clock.advance(60_000);
      const after = f.landing.add('13_15_dddddddddddd.json');
      await statusWhere(handle, 'applied after the rebackfill', () =>
        f.jobs.appliedFiles().some((k) => k.endsWith(after)),
      );
      assert.deepEqual(f.jobs.overlaps(), []);
      await handle.cancel();
    });
  });

  test('rebackfill waits for the running job (one writer); refused before the incremental phase or twice', async () => {
    const f = createFakes();
    await withWorker(env, f, async (tq) => {
      const handle = await start(tq, testConfig());
      await statusWhere(handle, 'incremental', (s) => s.phase === 'incremental');
      f.jobs.durationMs = 2500;
      f.landing.add('1_5_aaaaaaaaaaaa.json');
      const running = await statusWhere(handle, 'job running', (s) => s.currentRun?.kind === 'incremental');
      f.exporter.exportTimeMs = f.clock.now();
      f.exporter.pollsBeforeDone = 1000; // the new export takes long: the pipeline stays in its export phase
      const accepted = await handle.executeUpdate(rebackfillUpdate);
      assert.equal(accepted.waitingForRun, running.currentRun!.runKey);
      await assert.rejects(
        handle.executeUpdate(rebackfillUpdate),
        (err: unknown) =>
          err instanceof WorkflowUpdateFailedError && /already under way|exporting phase/.test(causeOf(err)),
      );
      const exporting = await statusWhere(handle, 'exporting again', (s) => s.phase === 'exporting');
      assert.equal(exporting.lastRuns[0]!.status, 'succeeded', 'the running job finished first');
      await assert.rejects(
        handle.executeUpdate(rebackfillUpdate),
        (err: unknown) =>
          err instanceof WorkflowUpdateFailedError &&
          /in its exporting phase: it is loading the lake from a fresh export already/.test(causeOf(err)),
      );
      f.exporter.pollsBeforeDone = 0;
      await statusWhere(handle, 'reloaded', (s) => s.phase === 'incremental' && s.counters.rebackfills === 1, 30_000);
      assert.deepEqual(f.jobs.overlaps(), []);
      assert.equal(minuteFolder(EXPORT_TIME_MS) <= minuteFolder(f.exporter.exportTimeMs), true);
      await handle.cancel();
    });
  });
});
