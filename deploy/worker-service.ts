import { Aws, Duration, IgnoreMode, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, STREAM_FAILURES_ENV, type StreamFailureDestination } from '../core/aws-deployment';
import { LANDING_RESERVED } from '../core/landing';
import { REPO_ROOT } from '../core/toolchain';
import type { DataBuckets } from './buckets';
import { allow, glueArn, listBucket, objects, role, tableArn } from './iam';
import type { JobTarget, PipelineTarget } from './targets';

/**
 * The keys of the Temporal secret, each injected as the environment variable of that name (the
 * names of Temporal's environment configuration). Every key must exist in the secret (ECS refuses
 * to start the task otherwise); an empty value means "not used" and the entrypoint unsets it.
 */
export const TEMPORAL_SECRET_KEYS = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
] as const;

/** The task's size: the worker runs the workflows and polls S3 and Glue; the jobs themselves run on Glue. */
export const WORKER_TASK = { cpu: 512, memoryMiB: 1024, heapMiB: 768 } as const;

export interface WorkerServiceProps {
  pipelines: PipelineTarget[];
  jobs: JobTarget[];
  buckets: DataBuckets;
  failures: s3.IBucket;
  /** Per pipeline, where its discarded stream batches are recorded (handed to the worker as STREAM_FAILURES_ENV). */
  streamFailures: Record<string, StreamFailureDestination>;
  /** Full ARN of the Temporal connection secret (a stack parameter). */
  temporalSecretArn: string;
}

/**
 * `ddb-lake worker` as a long-running ECS Fargate service: one task, restarted by ECS when it dies,
 * built from deploy/worker/Dockerfile. Its network: a VPC of its own with public subnets only (no
 * NAT gateway to pay for); the task has a public address for its outbound calls (Temporal, AWS) and
 * a security group that admits nothing; S3 and DynamoDB are reached through gateway endpoints.
 */
export class WorkerService extends Construct {
  readonly service: ecs.FargateService;
  readonly taskRole: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: WorkerServiceProps) {
    super(scope, id);
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
      // A custom resource (a Lambda function) would empty the default security group; nothing uses it.
      restrictDefaultSecurityGroup: false,
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc });
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: 'ddb-lake worker: outbound only',
      allowAllOutbound: true,
    });

    this.taskRole = role(
      this,
      'TaskRole',
      'ecs-tasks.amazonaws.com',
      'ddb-lake: the worker (workflows and activities of every pipeline of the stack)',
    );
    grantWorker(this, this.taskRole, props);

    const task = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: WORKER_TASK.cpu,
      memoryLimitMiB: WORKER_TASK.memoryMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
      taskRole: this.taskRole,
    });
    const image = new ecrAssets.DockerImageAsset(this, 'Image', {
      directory: REPO_ROOT,
      file: 'deploy/worker/Dockerfile',
      platform: ecrAssets.Platform.LINUX_ARM64,
      // The context is the repository: the root .dockerignore lists the little the image needs.
      ignoreMode: IgnoreMode.DOCKER,
    });
    const secret = secretsmanager.Secret.fromSecretCompleteArn(this, 'TemporalSecret', props.temporalSecretArn);
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH });
    task.addContainer('worker', {
      image: ecs.ContainerImage.fromDockerImageAsset(image),
      command: ['worker'],
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'worker', logGroup: this.logGroup }),
      environment: {
        DDB_LAKE_ENV: 'aws',
        AWS_REGION: Aws.REGION,
        NODE_OPTIONS: `--max-old-space-size=${WORKER_TASK.heapMiB}`,
        [STREAM_FAILURES_ENV]: Stack.of(this).toJsonString(props.streamFailures),
      },
      secrets: Object.fromEntries(TEMPORAL_SECRET_KEYS.map((key) => [key, ecs.Secret.fromSecretsManager(secret, key)])),
      // SIGTERM: the worker stops polling and lets its activities end; a running Glue job keeps running.
      stopTimeout: Duration.seconds(60),
    });

    this.service = new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition: task,
      desiredCount: 1,
      // A deployment starts the new task before it stops the old one (two workers poll for a moment: harmless).
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      assignPublicIp: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroups: [securityGroup],
    });
  }
}

/** What the activities call (docs/aws.md, "IAM"), for each pipeline's own table, buckets and jobs. */
function grantWorker(scope: Construct, taskRole: iam.Role, props: WorkerServiceProps): void {
  const { buckets } = props;
  for (const p of props.pipelines) {
    const table = p.config.table;
    taskRole.addToPolicy(
      allow(
        ['dynamodb:DescribeTable', 'dynamodb:DescribeContinuousBackups', 'dynamodb:ExportTableToPointInTime'],
        [tableArn(scope, table)],
      ),
    );
    taskRole.addToPolicy(allow(['dynamodb:DescribeExport'], [tableArn(scope, table, 'export', '*')]));
    const exp = buckets.get(p.export.bucket);
    const landing = buckets.get(p.landing.bucket);
    const lake = buckets.get(p.lake.bucket);
    // DynamoDB writes the export with the requester's permissions.
    taskRole.addToPolicy(
      allow(['s3:PutObject', 's3:PutObjectAcl', 's3:AbortMultipartUpload'], [objects(exp, p.export.prefix)]),
    );
    // Planning reads the landing zone (files, claims, gap markers, job summaries) and writes manifests.
    taskRole.addToPolicy(allow(['s3:GetObject'], [objects(landing, p.landing.prefix)]));
    taskRole.addToPolicy(
      allow(['s3:PutObject'], [objects(landing, `${p.landing.prefix}${LANDING_RESERVED.manifests}/`)]),
    );
    // Validation checks each bucket is reachable (HeadBucket).
    taskRole.addToPolicy(listBucket([exp, landing, lake]));
  }
  taskRole.addToPolicy(
    allow(
      ['glue:StartJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:BatchStopJobRun'],
      props.jobs.map((j) => glueArn(scope, 'job', j.name)),
    ),
  );
  // The planner's gap check on AWS reads the discarded batches' records.
  taskRole.addToPolicy(allow(['s3:GetObject'], [objects(props.failures, '')]));
  taskRole.addToPolicy(listBucket([props.failures]));
  // PutMetricData has no resource-level permissions (resource "*" is the only one AWS accepts): the namespace condition scopes it.
  taskRole.addToPolicy(
    allow(['cloudwatch:PutMetricData'], ['*'], { StringEquals: { 'cloudwatch:namespace': METRICS_NAMESPACE } }),
  );
}
