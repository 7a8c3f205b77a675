/**
 * Records test/fixtures/pipeline-history.json (with `--maintenance`: pipeline-maintenance-history.json,
 * record-maintenance-history.ts): the history of one real run of the pipeline workflow
 * on the dev server (fake external parts), covering every phase, a failed and retried job, pause and
 * resume, both updates, empty cycles and the continueAsNew that ends the run.
 *
 *   npx tsc -p tsconfig.json && node dist/test/support/record-history.js
 *
 * Re-record only when the workflow changes on purpose (and say so: old histories must still replay,
 * or the change needs a patch — see docs/pipeline.md).
 */
import { join } from 'node:path';
import { REPO_ROOT } from '../../core/toolchain';
import {
  pauseSignal,
  resumeSignal,
  runNowUpdate,
  setIntervalUpdate,
  statusQuery,
  type PipelineStatus,
} from '../../workflows/definitions';
import { pipelineWorkflow } from '../../workflows/pipeline';
import { createFakes, testConfig } from './fakes';
import { recordMaintenanceHistory } from './record-maintenance-history';
import { eventually, startTemporal, withWorker, writeHistory } from './temporal';

export const FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'pipeline-history.json');

async function main(): Promise<void> {
  const env = await startTemporal();
  const f = createFakes();
  try {
    await withWorker(env, f, async (taskQueue) => {
      const config = testConfig({
        retry: { maxAttempts: 3, initialIntervalSeconds: 1, maxIntervalSeconds: 1 },
        schedule: { intervalSeconds: 1, continueAsNewAfterCycles: 8 },
        landing: { location: 's3://ddb-lake-local/landing/Transaction/', closeAfterSeconds: 120, sweepEveryCycles: 4 },
      });
      const handle = await env.client.workflow.start(pipelineWorkflow, {
        taskQueue,
        workflowId: 'transaction',
        args: [{ config }],
      });
      const firstRunId = handle.firstExecutionRunId;
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
      f.landing.add('shardId-00000002_100_150.json');
      await until('first batch', (s) => s.counters.filesApplied === 2);
      f.jobs.failNext = 1;
      f.landing.add('shardId-00000001_200_299.json');
      await until('retried batch', (s) => s.counters.filesApplied === 3 && s.counters.jobsFailed === 1);
      await handle.signal(pauseSignal);
      await until('paused', (s) => s.step === 'paused');
      await handle.signal(resumeSignal);
      await handle.executeUpdate(setIntervalUpdate, { args: [3600] });
      f.landing.add('shardId-00000002_151_160.json');
      await handle.executeUpdate(runNowUpdate);
      f.clock.advance(3 * 60_000);
      await handle.executeUpdate(runNowUpdate);
      await handle.executeUpdate(setIntervalUpdate, { args: [1] });
      await eventually(
        async () =>
          (await env.client.workflow.getHandle('transaction').describe()).runId !== firstRunId ? true : undefined,
        'continueAsNew',
        30_000,
      );

      writeHistory('transaction', firstRunId, FIXTURE);
      await env.client.workflow.getHandle('transaction').cancel();
    });
  } finally {
    await env.teardown();
  }
}

if (require.main === module) {
  const record = process.argv.includes('--maintenance') ? recordMaintenanceHistory : main;
  record().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
