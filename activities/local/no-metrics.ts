import type { PipelineMetrics } from '../pipeline-metrics';

/** The local stack has no alarms to feed: `ddb-lake status` shows the same figures. */
export class NoMetrics implements PipelineMetrics {
  heartbeat(): void {}
  cycle(): void {}
}
