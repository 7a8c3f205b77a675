import type { Context } from '@temporalio/activity';
import type { PipelineMetrics } from './pipeline-metrics';

/** Longest gap between two heartbeats of a waiting activity; the workflow's heartbeat timeouts are 3-6× this. */
export const HEARTBEAT_EVERY_MS = 5_000;

/**
 * Sleep (cancellable) while heartbeating at least every HEARTBEAT_EVERY_MS, so a long poll interval
 * (a job's or an export's, up to an hour) never outlasts the heartbeat timeout, and a dead worker is
 * noticed within that timeout whatever the interval. `wake` ends the sleep early. Each heartbeat is
 * also the pipeline's metrics heartbeat (the workflow id is the pipeline's name): a long export or
 * job is work, not a stall.
 */
export async function sleepHeartbeating(
  ctx: Context,
  metrics: PipelineMetrics,
  ms: number,
  details: unknown,
  wake?: Promise<void>,
): Promise<void> {
  const end = Date.now() + ms;
  let woken = false;
  void wake?.then(() => (woken = true));
  const beat = () => {
    ctx.heartbeat(details);
    const pipeline = ctx.info.workflowExecution?.workflowId;
    if (pipeline) metrics.heartbeat(pipeline);
  };
  beat();
  for (let left = ms; left > 0 && !woken; left = end - Date.now()) {
    const nap = ctx.sleep(Math.min(left, HEARTBEAT_EVERY_MS));
    if (wake) {
      nap.catch(() => undefined); // when `wake` wins, a later cancellation must not go unhandled
      await Promise.race([nap, wake]);
    } else await nap;
    beat();
  }
}
