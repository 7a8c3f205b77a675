/**
 * The pipeline's activity stubs, with the timeouts and retry policy of each kind of step.
 *
 * Retry policy (workflows/failures.ts): Temporal retries without limit, but an activity that failed on
 * its own raises a non-retryable failure, so only a lost worker (a timeout), an unreachable AWS
 * endpoint and Glue capacity are retried here; every other failure reaches the workflow, which
 * counts it. Timeouts and retry policies are not part of replay: changing them is safe.
 */
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { PipelineActivities } from '../activities/pipeline-activities';
import type { PipelineConfig } from '../core/config';

// No maximumAttempts: unlimited.
const INFRASTRUCTURE_RETRY = {
  initialInterval: '2 seconds',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
} as const;

export function pipelineActivities(config: PipelineConfig) {
  // Heartbeat timeouts bound how long a killed worker's activity stays unnoticed: the activities
  // heartbeat at least every 5 s while they wait, so a restarted worker picks the step up ~15-30 s
  // after the old one died.
  const quick = proxyActivities<PipelineActivities>({
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '30 seconds',
    retry: INFRASTRUCTURE_RETRY,
  });
  const exporting = proxyActivities<PipelineActivities>({
    startToCloseTimeout: '48 hours',
    heartbeatTimeout: '2 minutes',
    retry: INFRASTRUCTURE_RETRY,
  });
  const job = (timeoutMinutes: number) =>
    proxyActivities<PipelineActivities>({
      startToCloseTimeout: `${timeoutMinutes + 30} minutes`,
      heartbeatTimeout: '15 seconds',
      // A cancelled pipeline waits for its job to be stopped before it ends.
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      retry: INFRASTRUCTURE_RETRY,
    }).runJob;
  return {
    quick,
    exporting,
    runInitialJob: job(config.jobs.initialLoad.timeoutMinutes),
    runIncrementalJob: job(config.jobs.incremental.timeoutMinutes),
  };
}
