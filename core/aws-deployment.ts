/**
 * What the CDK app (deploy/) and the worker it deploys agree on: the CloudWatch metrics the worker
 * publishes and the alarms watch, and the environment variables the stack hands the worker.
 * docs/aws.md describes both.
 */

/** CloudWatch namespace of the pipeline metrics; the worker may publish to this namespace only (IAM condition). */
export const METRICS_NAMESPACE = 'DdbLake';

/** Every metric has this one dimension: the pipeline's name. */
export const PIPELINE_DIMENSION = 'Pipeline';

export const METRIC_NAMES = {
  /** 1 whenever the pipeline is at work (planning a cycle, waiting for its export or job); absent while stalled, paused or stopped. */
  heartbeat: 'Heartbeat',
  /** Age in seconds of the oldest landing file not yet in the lake, at a cycle's listing (0 when none waits). */
  lagSeconds: 'LagSeconds',
  /** Landing files not yet in the lake, at a cycle's listing (including those the cycle's job takes). */
  backlogFiles: 'BacklogFiles',
} as const;

/**
 * Environment variable of the worker: JSON `{ "<pipeline>": StreamFailureDestination }`, where the
 * stream Lambda's event source mapping records the batches it discarded (docs/aws.md, "Stream
 * failures"). Read by the planner's gap check on AWS.
 */
export const STREAM_FAILURES_ENV = 'DDB_LAKE_STREAM_FAILURES';

export interface StreamFailureDestination {
  /** S3 bucket of the on-failure destination (Lambda writes one JSON object per discarded batch). */
  bucket: string;
  /** The event source mapping's UUID: Lambda writes under `aws/lambda/<uuid>/` of the bucket. */
  eventSourceMappingId: string;
  /** The table's stream the mapping reads. */
  streamArn: string;
}
