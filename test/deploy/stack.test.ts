/**
 * The CDK app's stack for two pipelines sharing a bucket and the Glue jobs (synthesized once): each
 * resource with the settings docs/aws.md prescribes, and IAM without a wildcard action.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { METRIC_NAMES, METRICS_NAMESPACE } from '../../core/aws-deployment';
import { REPO_ROOT } from '../../core/toolchain';
import { TEMPORAL_SECRET_KEYS } from '../../deploy/worker-service';
import { awsExample, cfnLint, resourcesOf, scratch, synthFiles, writeConfigs, type SynthesizedFor } from './support';

const dir = scratch('stack-test');
const transaction = awsExample();
const orders = {
  ...awsExample(),
  name: 'orders',
  table: 'Orders',
  keyFields: undefined,
  export: { location: 's3://my-ddb-lake-data/export/Orders/' },
  landing: { location: 's3://my-ddb-lake-data/landing/Orders/', expireAfterDays: 7 },
  lake: { location: 's3://my-ddb-lake-lake/orders/', glueDatabase: 'lake' },
  alarms: { lagSeconds: 300, stalledMinutes: 10 },
};

let s: SynthesizedFor;
let t: Template;
const ref = (logicalId: string) => ({ Ref: logicalId });
const arnOf = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });
const only = (type: string, match: (r: any) => boolean = () => true): [string, any] => {
  const found = resourcesOf(s.template, type).filter(([, r]) => match(r));
  assert.equal(found.length, 1, `exactly one ${type}`);
  return found[0]!;
};
const bucketId = (name: string) => only('AWS::S3::Bucket', (r) => r.Properties.BucketName === name)[0];

before(() => {
  s = synthFiles(writeConfigs(dir, [transaction, orders]), join(dir, 'cdk.out'));
  t = Template.fromJSON(s.template);
});

describe('deploy/: the stack of two pipelines', () => {
  test("buckets: one per name in the configs plus the stack's own two; encrypted, public access blocked, TLS 1.2+ only, kept on delete", () => {
    const buckets = resourcesOf(s.template, 'AWS::S3::Bucket');
    assert.deepEqual(
      buckets
        .map(([, b]) => b.Properties.BucketName)
        .filter(Boolean)
        .sort(),
      ['my-ddb-lake-data', 'my-ddb-lake-lake'],
    );
    assert.equal(buckets.length, 4, 'plus the artifacts and stream-failures buckets');
    for (const [id, b] of buckets) {
      assert.deepEqual(
        b.Properties.BucketEncryption,
        { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        id,
      );
      assert.deepEqual(
        b.Properties.PublicAccessBlockConfiguration,
        { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        id,
      );
      assert.equal(b.DeletionPolicy, 'Retain', id);
      const [, policy] = only('AWS::S3::BucketPolicy', (p) => p.Properties.Bucket.Ref === id);
      const denies = policy.Properties.PolicyDocument.Statement.filter(
        (st: any) => st.Effect === 'Deny' && st.Principal?.AWS === '*',
      );
      assert.ok(
        denies.some((st: any) => st.Condition?.Bool?.['aws:SecureTransport'] === 'false'),
        `${id}: TLS only`,
      );
      assert.ok(
        denies.some((st: any) => st.Condition?.NumericLessThan?.['s3:TlsVersion'] === 1.2),
        `${id}: TLS 1.2+`,
      );
    }
  });

  test("lifecycle: each landing zone's minute folders expire after landing.expireAfterDays; reserved folders, the export and the lake do not", () => {
    const rules = s.template.Resources[bucketId('my-ddb-lake-data')].Properties.LifecycleConfiguration.Rules;
    const expiring = rules
      .filter((r: any) => r.ExpirationInDays !== undefined)
      .map((r: any) => [r.Prefix, r.ExpirationInDays]);
    assert.deepEqual(expiring, [
      ['landing/Transaction/2', 30],
      ['landing/Orders/2', 7],
    ]);
    const lakeRules = s.template.Resources[bucketId('my-ddb-lake-lake')].Properties.LifecycleConfiguration.Rules;
    assert.ok(
      lakeRules.every((r: any) => r.ExpirationInDays === undefined),
      'nothing in the lake expires',
    );
  });

  test('the stream Lambda: the existing handler on Node.js 22, arm64, writing to the landing location', () => {
    t.resourcePropertiesCountIs(
      'AWS::Lambda::Function',
      { Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'lambda/index.handler' },
      2,
    );
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: { DDB_LAKE_LANDING: 's3://my-ddb-lake-data/landing/Orders/', DDB_LAKE_MAX_WRITE_SECONDS: '30' },
      },
      Timeout: 45,
    });
    const codeDir = readdirSync(join(dir, 'cdk.out')).find((d) =>
      existsSync(join(dir, 'cdk.out', d, 'lambda', 'index.js')),
    );
    assert.ok(codeDir, 'the code asset holds lambda/index.js');
    assert.ok(existsSync(join(dir, 'cdk.out', codeDir, 'core', 'landing.js')), 'and the core modules it requires');
  });

  test("the event source mapping: docs/aws.md's settings and the S3 on-failure destination", () => {
    const [failures] = only(
      'AWS::S3::Bucket',
      (b) => !b.Properties.BucketName && !b.Properties.LifecycleConfiguration.Rules.some((r: any) => r.Id === 'expire'),
    );
    for (const p of s.targets.pipelines)
      t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: ref(`${p.logicalName}StreamArn`),
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 1000,
        MaximumBatchingWindowInSeconds: 2,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: -1,
        MaximumRecordAgeInSeconds: 23 * 3600,
        DestinationConfig: { OnFailure: { Destination: arnOf(failures) } },
      });
    const param = s.template.Parameters.OrdersStreamArn;
    assert.match(
      'arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/stream/2026-01-01T00:00:00.000',
      new RegExp(param.AllowedPattern),
    );
    assert.doesNotMatch(
      'arn:aws:dynamodb:eu-west-1:123456789012:table/Other/stream/2026-01-01T00:00:00.000',
      new RegExp(param.AllowedPattern),
    );
  });

  test('Glue: both 5.0 jobs with Hudi, the scripts and the package as assets, sized by the config, one run per pipeline', () => {
    const jobs = resourcesOf(s.template, 'AWS::Glue::Job').map(([, j]) => j.Properties);
    assert.deepEqual(jobs.map((j) => j.Name).sort(), ['ddb-lake-incremental', 'ddb-lake-initial-load']);
    for (const j of jobs) {
      assert.equal(j.GlueVersion, '5.0');
      assert.equal(j.Command.Name, 'glueetl');
      assert.match(
        j.Command.ScriptLocation['Fn::Sub'],
        /^s3:\/\/cdk-[a-z0-9]+-assets-\$\{AWS::AccountId\}-\$\{AWS::Region\}\/[0-9a-f]{64}\.py$/,
      );
      assert.equal(j.DefaultArguments['--datalake-formats'], 'hudi');
      assert.match(j.DefaultArguments['--extra-py-files']['Fn::Sub'], /\/[0-9a-f]{64}\.zip$/);
      assert.equal(j.DefaultArguments['--enable-glue-datacatalog'], 'true', 'orders syncs into the Glue catalog');
      assert.deepEqual([j.WorkerType, j.NumberOfWorkers], ['G.1X', 2]);
      assert.equal(j.ExecutionProperty.MaxConcurrentRuns, 2, 'one run per pipeline');
      assert.equal(j.MaxRetries, 0, 'the workflow retries, Glue must not');
    }
  });

  test("the worker: a Fargate service from the repository's Dockerfile, Temporal settings from the secret", () => {
    t.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      DesiredCount: 1,
      DeploymentConfiguration: Match.objectLike({ DeploymentCircuitBreaker: { Enable: true, Rollback: true } }),
    });
    const [, task] = only('AWS::ECS::TaskDefinition');
    assert.deepEqual(task.Properties.RuntimePlatform, { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' });
    const [container] = task.Properties.ContainerDefinitions;
    assert.deepEqual(container.Command, ['worker']);
    const env = Object.fromEntries(container.Environment.map((e: any) => [e.Name, e.Value]));
    assert.equal(env.DDB_LAKE_ENV, 'aws');
    assert.deepEqual(
      container.Secrets.map((x: any) => [x.Name, x.ValueFrom]),
      TEMPORAL_SECRET_KEYS.map((k) => [k, { 'Fn::Join': ['', [ref('TemporalConnectionArn'), `:${k}::`]] }]),
    );
    const entrypoint = readFileSync(join(REPO_ROOT, 'deploy', 'worker', 'entrypoint.sh'), 'utf8');
    for (const key of TEMPORAL_SECRET_KEYS)
      assert.match(
        entrypoint,
        new RegExp(`for name in [A-Z_ ]*\\b${key}\\b`),
        `the entrypoint unsets ${key} when empty`,
      );
    const failures = JSON.stringify(env.DDB_LAKE_STREAM_FAILURES);
    for (const p of s.targets.pipelines)
      assert.ok(
        failures.includes(`\\"${p.config.name}\\":`) && failures.includes(`${p.logicalName}StreamArn`),
        `stream failures of ${p.config.name} handed to the worker`,
      );
    const assets = JSON.parse(readFileSync(join(dir, 'cdk.out', 'ddb-lake.assets.json'), 'utf8'));
    const [image] = Object.values<any>(assets.dockerImages);
    assert.deepEqual(
      { ...image.source, directory: undefined },
      { directory: undefined, dockerFile: 'deploy/worker/Dockerfile', platform: 'linux/arm64' },
    );
    const context = readdirSync(join(dir, 'cdk.out', image.source.directory)).sort();
    assert.deepEqual(
      context,
      [
        '.dockerignore',
        'activities',
        'bin',
        'client',
        'core',
        'deploy',
        'lambda',
        'package-lock.json',
        'package.json',
        'tsconfig.json',
        'worker',
        'workflows',
      ],
      'the build context is what the Dockerfile copies',
    );
  });

  test('alarms: stalled (no heartbeat) and lag above alarms.lagSeconds, per pipeline, to the topic', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: METRIC_NAMES.heartbeat,
      Dimensions: [{ Name: 'Pipeline', Value: 'orders' }],
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      EvaluationPeriods: 10,
      TreatMissingData: 'breaching',
      AlarmActions: [Match.objectLike({ Ref: Match.stringLikeRegexp('^AlarmsTopic') })],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: METRIC_NAMES.lagSeconds,
      Dimensions: [{ Name: 'Pipeline', Value: 'transaction' }],
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 900,
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'IteratorAge',
      Namespace: 'AWS/Lambda',
      Threshold: 300_000,
    });
    t.resourceCountIs('AWS::CloudWatch::Alarm', 8);
  });

  test('IAM: no wildcard action in any statement that allows; resource "*" only where AWS accepts nothing narrower', () => {
    const allows = policyStatements(s.template).filter((st) => st.Effect === 'Allow');
    assert.ok(allows.length > 20, `${allows.length} statements scanned`);
    for (const st of allows) {
      for (const action of [st.Action].flat()) assert.doesNotMatch(String(action), /\*/, `wildcard action ${action}`);
      if ([st.Resource].flat().includes('*'))
        assert.ok(
          ['ecr:GetAuthorizationToken', 'cloudwatch:PutMetricData'].includes(st.Action),
          `resource * for ${st.Action}`,
        );
    }
    const metrics = allows.find((st) => st.Action === 'cloudwatch:PutMetricData');
    assert.deepEqual(metrics.Condition, { StringEquals: { 'cloudwatch:namespace': METRICS_NAMESPACE } });
    assert.equal(resourcesOf(s.template, 'AWS::IAM::ManagedPolicy').length, 0);
    for (const [id, r] of resourcesOf(s.template, 'AWS::IAM::Role'))
      assert.equal(r.Properties.ManagedPolicyArns, undefined, `${id} has no managed policy`);
    // Scoped to this stack's table: the stream and the export of Transaction and Orders only.
    const text = JSON.stringify(allows);
    assert.ok(text.includes(':table/Transaction/stream/*') && text.includes(':table/Orders/export/*'));
    assert.doesNotMatch(text, /:table\/\*/);
  });

  test('cfn-lint passes on this template too (the Glue catalog statement, shared buckets and jobs)', () => {
    const lint = cfnLint(join(dir, 'cdk.out'));
    assert.equal(lint.status, 0, lint.output);
  });
});

/** Every statement of every policy document in the template: roles' inline policies, policies, bucket and topic policies. */
function policyStatements(template: Record<string, any>): any[] {
  const out: any[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if ((key === 'PolicyDocument' || key === 'AssumeRolePolicyDocument') && value && typeof value === 'object') {
        if (key === 'PolicyDocument') out.push(...[value.Statement].flat());
      } else walk(value);
    }
  };
  walk(template.Resources);
  return out;
}
