import * as glue from 'aws-cdk-lib/aws-glue';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import type { StagedArtifacts } from './artifacts';
import { allow, glueArn, listBucket, logGroupArn, objects, role } from './iam';
import type { DataBuckets } from './buckets';
import type { JobTarget, PipelineTarget } from './targets';
import { LANDING_RESERVED } from '../core/landing';

/** Glue stops a run after this long past the longest timeout a pipeline gives it: a backstop for a worker that is gone. */
const GLUE_TIMEOUT_MARGIN_MINUTES = 15;
const GLUE_MAX_TIMEOUT_MINUTES = 10080;

export interface GlueJobsProps {
  jobs: JobTarget[];
  pipelines: PipelineTarget[];
  buckets: DataBuckets;
  /** Glue's temporary directory and Spark UI event logs. */
  artifacts: s3.IBucket;
  staged: StagedArtifacts;
}

/**
 * The initial-load and incremental Glue 5.0 jobs (glue/), shared by every pipeline of the stack that
 * names them (each run gets its manifest as `--manifest`), and the role they run with.
 */
export class GlueJobs extends Construct {
  readonly role: iam.Role;
  readonly jobs: glue.CfnJob[] = [];

  constructor(scope: Construct, id: string, props: GlueJobsProps) {
    super(scope, id);
    const { buckets, artifacts, staged } = props;
    this.role = role(this, 'Role', 'glue.amazonaws.com', 'ddb-lake: the Glue jobs (initial load, incremental)');
    const scripts = {
      initialLoad: new s3assets.Asset(this, 'InitialLoadScript', { path: staged.initialLoadScript }),
      incremental: new s3assets.Asset(this, 'IncrementalScript', { path: staged.incrementalScript }),
    };
    const gluePackage = new s3assets.Asset(this, 'GluePackage', { path: staged.gluePackageDir });
    // Exactly these objects of the CDK's asset bucket (encrypted, public access blocked, TLS only: `cdk bootstrap`).
    this.role.addToPolicy(
      allow(
        ['s3:GetObject'],
        [...Object.values(scripts), gluePackage].map((a) => a.bucket.arnForObjects(a.s3ObjectKey)),
      ),
    );

    for (const p of props.pipelines) {
      const exp = buckets.get(p.export.bucket);
      const landing = buckets.get(p.landing.bucket);
      const lake = buckets.get(p.lake.bucket);
      this.role.addToPolicy(
        allow(['s3:GetObject'], [objects(exp, p.export.prefix), objects(landing, p.landing.prefix)]),
      );
      // The job writes its summary beside its manifest, and the records it rejects.
      this.role.addToPolicy(
        allow(
          ['s3:PutObject'],
          [
            objects(landing, `${p.landing.prefix}${LANDING_RESERVED.manifests}/`),
            objects(landing, `${p.landing.prefix}${LANDING_RESERVED.rejected}/`),
          ],
        ),
      );
      this.role.addToPolicy(
        allow(
          ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
          [objects(lake, p.lake.prefix)],
        ),
      );
      this.role.addToPolicy(listBucket([exp, landing, lake]));
    }
    this.role.addToPolicy(allow(['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], [objects(artifacts, 'glue/')]));
    this.role.addToPolicy(listBucket([artifacts]));
    // Glue writes the driver's and executors' output to these log groups.
    this.role.addToPolicy(
      allow(['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], [logGroupArn(this, '/aws-glue/*')]),
    );
    const catalog = props.jobs.flatMap((j) => j.catalog);
    if (catalog.length > 0) this.role.addToPolicy(catalogStatement(this, catalog));

    for (const job of props.jobs) {
      const cfn = new glue.CfnJob(
        this,
        job.kind === 'initialLoad' ? `InitialLoad-${job.name}` : `Incremental-${job.name}`,
        {
          name: job.name,
          description: `ddb-lake ${job.kind === 'initialLoad' ? 'initial load (DynamoDB export → Hudi)' : 'incremental (landing files → Hudi upserts/deletes)'} of ${job.pipelines.join(', ')}`,
          role: this.role.roleArn,
          glueVersion: '5.0',
          command: { name: 'glueetl', pythonVersion: '3', scriptLocation: scripts[job.kind].s3ObjectUrl },
          workerType: job.workerType,
          numberOfWorkers: job.numberOfWorkers,
          // One run per pipeline at a time (a pipeline never runs two: one Hudi writer).
          executionProperty: { maxConcurrentRuns: job.pipelines.length },
          // The workflow retries a failed run under a new run key; a Glue retry would be a run it does not know.
          maxRetries: 0,
          timeout: Math.min(GLUE_MAX_TIMEOUT_MINUTES, job.timeoutMinutes + GLUE_TIMEOUT_MARGIN_MINUTES),
          defaultArguments: {
            '--datalake-formats': 'hudi',
            '--extra-py-files': gluePackage.s3ObjectUrl,
            '--conf': 'spark.serializer=org.apache.spark.serializer.KryoSerializer',
            '--TempDir': artifacts.s3UrlForObject('glue/temp/'),
            '--enable-spark-ui': 'true',
            '--spark-event-logs-path': artifacts.s3UrlForObject('glue/spark-ui/'),
            ...(job.catalog.length > 0 ? { '--enable-glue-datacatalog': 'true' } : {}),
          },
        },
      );
      // Glue checks the role when the job is created: its statements must exist first.
      cfn.node.addDependency(this.role.node.findChild('DefaultPolicy'));
      this.jobs.push(cfn);
    }
  }
}

/** Hudi's catalog sync (lake.glueDatabase): the database (created if missing) and the pipelines' tables. */
function catalogStatement(scope: Construct, catalog: { database: string; table: string }[]): iam.PolicyStatement {
  const databases = [...new Set(catalog.map((c) => c.database))];
  return allow(
    [
      'glue:GetDatabase',
      'glue:CreateDatabase',
      'glue:GetTable',
      'glue:CreateTable',
      'glue:UpdateTable',
      'glue:GetPartition',
      'glue:GetPartitions',
      'glue:BatchGetPartition',
      'glue:CreatePartition',
      'glue:BatchCreatePartition',
      'glue:UpdatePartition',
      'glue:BatchUpdatePartition',
      'glue:DeletePartition',
      'glue:BatchDeletePartition',
    ],
    [
      glueArn(scope, 'catalog'),
      // Spark's catalog looks up `default` when the session starts.
      glueArn(scope, 'database', 'default'),
      ...databases.map((d) => glueArn(scope, 'database', d)),
      ...[...new Set(catalog.map((c) => `${c.database}/${c.table}`))].map((t) => glueArn(scope, 'table', t)),
    ],
  );
}
