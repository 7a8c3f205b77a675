/**
 * Records test/fixtures/pipeline-maintenance-history.json: a run of the current workflow on the dev
 * server (fake external parts) of a merge-on-read pipeline whose table is compacted by the workflow
 * (the `table-maintenance` patch): batches, a compaction that fails once and is retried, a pause.
 *
 *   npm run record-history -- --maintenance
 */
import { join } from 'node:path';
import { REPO_ROOT } from '../../core/toolchain';
import { pauseSignal, resumeSignal, statusQuery, type PipelineStatus } from '../../workflows/definitions';
import { pipelineWorkflow } from '../../workflows/pipeline';
import { createFakes, testConfig } from './fakes';
import { eventually, startTemporal, withWorker, writeHistory } from './temporal';

export const MAINTENANCE_FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'pipeline-maintenance-history.json');

export async function recordMaintenanceHistory(): Promise<void> {
  const env = await startTemporal();
  const f = createFakes();
  try {
    await withWorker(env, f, async (taskQueue) => {
      const config = testConfig({
        lake: {
          location: '/tmp/ddb-lake-test-lake',
          tableType: 'MERGE_ON_READ',
          maintenance: { compactAfterDeltaCommits: 2, compactMaxIoMb: 64 },
        },
        retry: { maxAttempts: 3, initialIntervalSeconds: 1, maxIntervalSeconds: 1 },
      });
      const handle = await env.client.workflow.start(pipelineWorkflow, {
        taskQueue,
        workflowId: 'transaction',
        args: [{ config }],
      });
      const until = (what: string, ok: (s: PipelineStatus) => boolean) =>
        eventually(
          async () => {
            const s = await handle.query(statusQuery);
            return ok(s) ? s : undefined;
          },
          what,
          30_000,
        );
      await until('incremental', (s) => s.phase === 'incremental');
      f.landing.add('shardId-00000001_100_199.json');
      await until('first batch', (s) => s.counters.filesApplied === 1);
      f.jobs.failNextMaintenance = 1;
      f.landing.add('shardId-00000001_200_299.json');
      await until('compacted', (s) => (s.counters.compactions ?? 0) === 1);
      await handle.signal(pauseSignal);
      await until('paused', (s) => s.step === 'paused');
      await handle.signal(resumeSignal);
      f.landing.add('shardId-00000002_100_150.json');
      await until('a batch after the compaction', (s) => s.counters.filesApplied === 3);
      writeHistory('transaction', handle.firstExecutionRunId, MAINTENANCE_FIXTURE);
      await handle.cancel();
    });
  } finally {
    await env.teardown();
  }
}
