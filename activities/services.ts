import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { awsClientConfig, awsUnreachableMessage } from '../core/aws';
import type { Environment } from '../core/environment';
import { CloudWatchMetrics } from './aws/cloudwatch-metrics';
import { DynamoDbExporter } from './aws/dynamodb-exporter';
import type { Exporter } from './exporter';
import type { JobRunner } from './job-runner';
import { createJobRunner } from './job-runners';
import type { LandingAudit } from './landing-audit';
import type { LandingLister } from './landing-lister';
import { LocalExporter } from './local/local-exporter';
import { NoMetrics } from './local/no-metrics';
import type { ManifestStore } from './manifest-store';
import type { PipelineMetrics } from './pipeline-metrics';
import { S3LandingAudit } from './sdk/s3-landing-audit';
import { S3LandingLister } from './sdk/s3-landing-lister';
import { S3ManifestStore } from './sdk/s3-manifest-store';
import { SdkTableInspector } from './sdk/table-inspector';
import { streamFailuresFromEnvironment } from './stream-failures';
import type { TableInspector } from './table-inspector';
import type { DiscardedBatchesLocation } from './types';

/** Everything the pipeline activities touch, each behind its small interface. */
export interface PipelineServices {
  inspector: TableInspector;
  exporter: Exporter;
  lister: LandingLister;
  /** Gap markers, claims: what proves the landing zone holds every change (docs/gaps.md). */
  audit: LandingAudit;
  manifests: ManifestStore;
  jobRunner: JobRunner;
  /** Heartbeat, lag and backlog for the alarms of an AWS deployment (docs/aws.md, "Alarms"). */
  metrics: PipelineMetrics;
  /** Where a deployment records this pipeline's discarded stream batches (DDB_LAKE_STREAM_FAILURES), if anywhere. */
  streamFailures?: (pipeline: string) => DiscardedBatchesLocation | undefined;
  /** The message for an AWS endpoint that cannot be reached (a network failure, e.g. ECONNREFUSED), naming the fix. */
  unreachable?: (failure: string) => string;
}

/**
 * Chooses the implementations once, at worker start-up, from the environment. S3 and DynamoDB calls
 * are the same against AWS and moto (only the client settings differ); the export and the jobs
 * differ: AWS uses ExportTableToPointInTime and Glue, local uses the scanning exporter and spark-submit;
 * the metrics go to CloudWatch on AWS and nowhere locally.
 */
export function createServices(env: Environment, overrides: Partial<PipelineServices> = {}): PipelineServices {
  const clientConfig = awsClientConfig(env);
  const s3 = new S3Client(clientConfig);
  const dynamodb = new DynamoDBClient(clientConfig);
  return {
    inspector: overrides.inspector ?? new SdkTableInspector(dynamodb, s3),
    exporter:
      overrides.exporter ?? (env.kind === 'aws' ? new DynamoDbExporter(dynamodb) : new LocalExporter(dynamodb, s3)),
    lister: overrides.lister ?? new S3LandingLister(s3),
    audit: overrides.audit ?? new S3LandingAudit(s3),
    manifests: overrides.manifests ?? new S3ManifestStore(s3),
    jobRunner: overrides.jobRunner ?? createJobRunner(env),
    metrics:
      overrides.metrics ??
      (env.kind === 'aws' ? new CloudWatchMetrics(new CloudWatchClient(clientConfig)) : new NoMetrics()),
    streamFailures: overrides.streamFailures ?? streamFailuresFromEnvironment(),
    unreachable:
      overrides.unreachable ??
      ((failure) => {
        const { message, hint } = awsUnreachableMessage(env, failure);
        return `${message}: ${hint}`;
      }),
  };
}
