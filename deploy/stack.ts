import { CfnOutput, CfnParameter, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { StreamFailureDestination } from '../core/aws-deployment';
import { PipelineAlarms } from './alarms';
import { stageArtifacts } from './artifacts';
import { DataBuckets, stackBucket } from './buckets';
import { GlueJobs } from './glue-jobs';
import { StreamCapture } from './stream-capture';
import type { DeploymentTargets, PipelineTarget } from './targets';
import { WorkerService } from './worker-service';

/** Stack parameters the deploy command fills from AWS (deploy/preflight.ts): the template stays the same for every account. */
export const TEMPORAL_SECRET_PARAMETER = 'TemporalConnectionArn';
export function streamArnParameter(p: PipelineTarget): string {
  return `${p.logicalName}StreamArn`;
}

/** Glue jobs' temporary files and Spark UI logs are kept this long. */
const ARTIFACTS_EXPIRE_AFTER_DAYS = 30;

/**
 * Everything the pipelines of one Temporal worker need on AWS: their buckets, one stream Lambda per
 * table, the shared Glue jobs, the worker service, the alarms. Environment-agnostic: it deploys to
 * the account and region of the credentials `cdk deploy` runs with, and synthesizes without any.
 */
export class DdbLakeStack extends Stack {
  constructor(scope: Construct, targets: DeploymentTargets, props: StackProps = {}) {
    super(scope, targets.settings.stackName, {
      description: `ddb-lake: pipelines ${targets.pipelines.map((p) => p.config.name).join(', ')} (DynamoDB → Hudi, orchestrated by Temporal)`,
      ...props,
    });
    Tags.of(this).add('ddb-lake:stack', targets.settings.stackName);
    const staged = stageArtifacts();

    const buckets = new DataBuckets(this, 'Buckets', targets.buckets);
    const artifacts = stackBucket(this, 'ArtifactsBucket', ARTIFACTS_EXPIRE_AFTER_DAYS);
    // Evidence of lost changes: kept until deleted by hand (after a rebackfill).
    const failures = stackBucket(this, 'StreamFailuresBucket');

    const secretArn = new CfnParameter(this, TEMPORAL_SECRET_PARAMETER, {
      type: 'String',
      description: `ARN of the Secrets Manager secret "${targets.settings.temporalSecretName}" holding the Temporal connection (docs/aws.md)`,
      allowedPattern: `^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:${escapeRegExp(targets.settings.temporalSecretName)}-[A-Za-z0-9]{6}$`,
    });

    const code = lambda.Code.fromAsset(staged.lambdaDir);
    const captures: { target: PipelineTarget; capture: StreamCapture }[] = [];
    const streamFailures: Record<string, StreamFailureDestination> = {};
    for (const target of targets.pipelines) {
      const streamArn = new CfnParameter(this, streamArnParameter(target), {
        type: 'String',
        description: `LatestStreamArn of table ${target.config.table} (pipeline ${target.config.name})`,
        allowedPattern: `^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/${escapeRegExp(target.config.table)}/stream/.+$`,
      });
      const capture = new StreamCapture(this, `Stream-${target.logicalName}`, {
        target,
        landingBucket: buckets.get(target.landing.bucket),
        failures,
        code,
        streamArn: streamArn.valueAsString,
      });
      captures.push({ target, capture });
      streamFailures[target.config.name] = {
        bucket: failures.bucketName,
        eventSourceMappingId: capture.mapping.eventSourceMappingId,
        streamArn: streamArn.valueAsString,
      };
      new CfnOutput(this, `${target.logicalName}StreamHandler`, {
        description: `stream Lambda of ${target.config.name}`,
        value: capture.handler.functionName,
      });
    }

    const glue = new GlueJobs(this, 'Glue', {
      jobs: targets.jobs,
      pipelines: targets.pipelines,
      buckets,
      artifacts,
      staged,
    });
    const worker = new WorkerService(this, 'Worker', {
      pipelines: targets.pipelines,
      jobs: targets.jobs,
      buckets,
      failures,
      streamFailures,
      temporalSecretArn: secretArn.valueAsString,
    });
    const alarms = new PipelineAlarms(
      this,
      'Alarms',
      captures.map(({ target, capture }) => ({ target, handler: capture.handler })),
    );

    new CfnOutput(this, 'WorkerLogGroup', {
      description: "the worker's log (CloudWatch Logs)",
      value: worker.logGroup.logGroupName,
    });
    new CfnOutput(this, 'WorkerService', {
      description: 'the ECS service running `ddb-lake worker`',
      value: worker.service.serviceName,
    });
    new CfnOutput(this, 'AlarmTopic', {
      description: 'SNS topic of the alarms: subscribe to it',
      value: alarms.topic.topicArn,
    });
    new CfnOutput(this, 'StreamFailuresBucketName', {
      description: 'where discarded stream batches are recorded',
      value: failures.bucketName,
    });
    new CfnOutput(this, 'GlueJobs', { description: 'the Glue jobs', value: glue.jobs.map((j) => j.name!).join(', ') });
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
