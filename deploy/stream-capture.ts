import { Duration, Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { HANDLER_ENV } from '../lambda/handler';
import { allow, listBucket, objects, role, tableArn } from './iam';
import type { PipelineTarget } from './targets';

/**
 * The event source mapping's settings (docs/aws.md, "The stream Lambda"). Batching: bench/freshness
 * found a 2 s window with batches of up to 1,000 records best. A failing batch is split and retried
 * without limit; records older than MAX_RECORD_AGE are discarded and recorded in the on-failure
 * destination, an hour before DynamoDB trims them (24 h) and they would vanish without a record.
 */
export const STREAM_SETTINGS = {
  batchSize: 1000,
  maxBatchingWindowSeconds: 2,
  retryAttempts: -1,
  maxRecordAgeHours: 23,
  /** Bounds one invocation's writes (the handler's DDB_LAKE_MAX_WRITE_SECONDS); the timeout leaves room above it. */
  maxWriteSeconds: 30,
  timeoutSeconds: 45,
  memoryMiB: 512,
} as const;

export interface StreamCaptureProps {
  target: PipelineTarget;
  landingBucket: s3.IBucket;
  /** Where the mapping records the batches it discarded (one bucket for the stack's pipelines). */
  failures: s3.IBucket;
  code: lambda.Code;
  /** The table's LatestStreamArn (a stack parameter: the table is the user's, not the stack's). */
  streamArn: string;
}

/** The stream handler (lambda/index.ts) of one pipeline and the mapping that feeds it the table's stream. */
export class StreamCapture extends Construct {
  readonly handler: lambda.Function;
  readonly mapping: lambda.EventSourceMapping;

  constructor(scope: Construct, id: string, props: StreamCaptureProps) {
    super(scope, id);
    const { target, landingBucket, failures } = props;
    const name = target.config.name;
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH });
    const handlerRole = role(this, 'Role', 'lambda.amazonaws.com', `ddb-lake ${name}: the stream handler`);
    const table = target.config.table;
    handlerRole.addToPolicy(
      allow(
        ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
        [tableArn(this, table, 'stream', '*')],
      ),
    );
    // Landing files, batch claims, dead letters and gap markers, all under the landing location.
    handlerRole.addToPolicy(allow(['s3:GetObject', 's3:PutObject'], [objects(landingBucket, target.landing.prefix)]));
    handlerRole.addToPolicy(listBucket([landingBucket, failures]));
    // The mapping writes the discarded batches' records with the function's role.
    handlerRole.addToPolicy(allow(['s3:PutObject'], [objects(failures, '')]));
    handlerRole.addToPolicy(allow(['logs:CreateLogStream', 'logs:PutLogEvents'], [logGroup.logGroupArn]));

    this.handler = new lambda.Function(this, 'Handler', {
      description: `ddb-lake ${name}: stream of ${table} → ${target.config.landing.location}`,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'lambda/index.handler',
      code: props.code,
      memorySize: STREAM_SETTINGS.memoryMiB,
      timeout: Duration.seconds(STREAM_SETTINGS.timeoutSeconds),
      role: handlerRole,
      logGroup,
      environment: {
        [HANDLER_ENV.landing]: target.config.landing.location,
        [HANDLER_ENV.maxWriteSeconds]: String(STREAM_SETTINGS.maxWriteSeconds),
      },
    });

    this.mapping = new lambda.EventSourceMapping(this, 'Mapping', {
      target: this.handler,
      eventSourceArn: props.streamArn,
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: STREAM_SETTINGS.batchSize,
      maxBatchingWindow: Duration.seconds(STREAM_SETTINGS.maxBatchingWindowSeconds),
      reportBatchItemFailures: true,
      bisectBatchOnError: true,
      retryAttempts: STREAM_SETTINGS.retryAttempts,
      maxRecordAge: Duration.hours(STREAM_SETTINGS.maxRecordAgeHours),
      // The grants are the role's statements above (the CDK's S3 destination would add s3:GetObject*, s3:List*, …).
      onFailure: { bind: () => ({ destination: failures.bucketArn }) },
      supportS3OnFailureDestination: true,
    });
    // The mapping validates its permissions when it is created: the role's statements must exist first.
    this.mapping.node.addDependency(handlerRole.node.findChild('DefaultPolicy'));
    // The function names its role (GetAtt): the CDK's extra DependsOn on the role is redundant (cfn-lint W3005).
    const policy = handlerRole.node.findChild('DefaultPolicy').node.defaultChild as iam.CfnPolicy;
    (this.handler.node.defaultChild as lambda.CfnFunction).addOverride('DependsOn', [
      Stack.of(this).getLogicalId(policy),
    ]);
  }
}
