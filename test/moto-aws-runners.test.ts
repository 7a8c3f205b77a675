/**
 * The AWS implementations against a server that speaks the AWS APIs: the test stack's moto (with
 * stack/moto/moto_patches/ items 8 and 9, where moto lacks or differs from AWS; docs/aws.md
 * "What is tested against moto").
 * - GlueJobRunner: CreateJob (as deploy/ or a user does), StartJobRun with the run key, GetJobRun,
 *   GetJobRuns, BatchStopJobRun. A start whose answer is lost and is retried by a fresh runner (a
 *   worker restart) finds its run by run key: one run, not two. MaxConcurrentRuns, stop, completion.
 * - DynamoDbExporter: ExportTableToPointInTime with a ClientToken (a retried start answers the same
 *   export), DescribeExport to COMPLETED with the export time and the manifest DynamoDB writes.
 * Runs are held in STARTING / RUNNING with moto's state manager (model glue::job_run) while a test
 * needs them running.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import {
  CreateTableCommand,
  ListExportsCommand,
  PutItemCommand,
  UpdateContinuousBackupsCommand,
} from '@aws-sdk/client-dynamodb';
import { BatchStopJobRunCommand, CreateJobCommand, GetJobRunsCommand, GlueClient } from '@aws-sdk/client-glue';
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDbExporter } from '../activities/aws/dynamodb-exporter';
import { GlueJobRunner, glueRunsApi, RUN_KEY_ARGUMENT, type GlueRunsApi } from '../activities/aws/glue-job-runner';
import { exportRoot } from '../activities/exporter';
import { JobCapacityError, type JobRunRequest, type JobSpec } from '../activities/job-runner';
import { readBody } from '../activities/sdk/s3';
import { transactionTableInput } from '../tools/generate/transaction-table';
import { testAwsConfig, testDynamoDbClient, testEnvironment, testS3Client, uniqueName } from './helpers/stack';

const glue = new GlueClient(testAwsConfig());
const dynamodb = testDynamoDbClient();
const s3 = testS3Client();
const BUCKET = 'ddb-lake-local';

/** moto's state manager: hold Glue runs where they are (`manual`, never reached), or let them finish. */
async function glueRunsProgress(progression: 'held' | 'immediate'): Promise<void> {
  const endpoint = testEnvironment().aws.endpoint;
  const res =
    progression === 'held'
      ? await fetch(`${endpoint}/moto-api/state-manager/set-transition`, {
          method: 'POST',
          body: JSON.stringify({ model_name: 'glue::job_run', transition: { progression: 'manual', times: 1e9 } }),
        })
      : await fetch(`${endpoint}/moto-api/state-manager/unset-transition`, {
          method: 'POST',
          body: JSON.stringify({ model_name: 'glue::job_run' }),
        });
  assert.ok(res.ok, `moto state manager: ${res.status} ${await res.text()}`);
}

before(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET })).catch(() => undefined); // the stack's poller may have made it
});
after(async () => {
  await glueRunsProgress('immediate');
  glue.destroy();
  dynamodb.destroy();
  s3.destroy();
});

describe("GlueJobRunner against moto's Glue", () => {
  const job = uniqueName('ddb-lake-incremental');
  const spec: JobSpec = { kind: 'incremental', glueJobName: job, script: 'glue/incremental.py' };
  const request = (runKey: string): JobRunRequest => ({
    runKey,
    manifestUri: `s3://${BUCKET}/landing/T/_manifests/p/${runKey}.json`,
  });
  const runsWithKey = async (runKey: string) =>
    ((await glue.send(new GetJobRunsCommand({ JobName: job }))).JobRuns ?? []).filter(
      (r) => r.Arguments?.[RUN_KEY_ARGUMENT] === runKey,
    );

  before(async () => {
    await glue.send(
      new CreateJobCommand({
        Name: job,
        Role: 'arn:aws:iam::123456789012:role/ddb-lake-glue',
        GlueVersion: '5.0',
        WorkerType: 'G.1X',
        NumberOfWorkers: 2,
        Command: { Name: 'glueetl', PythonVersion: '3', ScriptLocation: `s3://${BUCKET}/ddb-lake/incremental.py` },
        ExecutionProperty: { MaxConcurrentRuns: 2 },
        DefaultArguments: { '--datalake-formats': 'hudi' },
      }),
    );
    await glueRunsProgress('held');
  });

  test('a retried start finds its run by run key: the answer was lost, a fresh runner starts again, one run', async () => {
    const runKey = 'p-0a1b2c3d-inc-000001-a1';
    // The first attempt reaches Glue, then its answer is lost (a timeout, a worker crash).
    const real = glueRunsApi(glue);
    const lossy: GlueRunsApi = {
      ...real,
      startJobRun: async (input) => {
        await real.startJobRun(input);
        throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
      },
    };
    await assert.rejects(new GlueJobRunner(lossy).start(spec, request(runKey)), /socket hang up/);
    const started = await runsWithKey(runKey);
    assert.equal(started.length, 1, 'the lost attempt did start a run');

    // The retry, by a runner that knows nothing (a new worker): the same run, no second one.
    const retried = await new GlueJobRunner(glueRunsApi(glue)).start(spec, request(runKey));
    assert.equal(retried.runId, started[0]!.Id);
    assert.equal(retried.status, 'running');
    assert.equal(retried.finishedAt, undefined, 'a running run has no end (moto_patches item 8)');
    const again = await new GlueJobRunner(glueRunsApi(glue)).start(spec, request(runKey));
    assert.equal(again.runId, retried.runId);
    const runs = await runsWithKey(runKey);
    assert.equal(runs.length, 1, 'still one run with this key');
    assert.deepEqual(runs[0]!.Arguments, {
      '--datalake-formats': 'hudi',
      '--manifest': request(runKey).manifestUri,
      '--run_key': runKey,
    });
  });

  test('MaxConcurrentRuns is a retryable capacity error; stop (BatchStopJobRun); completion; list of running runs', async () => {
    const runner = new GlueJobRunner(glueRunsApi(glue), { pollMs: 100, stopTimeoutMs: 10_000 });
    // The run of the test above holds one of the two slots.
    const second = await runner.start(spec, request('p-0a1b2c3d-inc-000002-a1'));
    assert.equal(second.status, 'running');
    await assert.rejects(runner.start(spec, request('p-0a1b2c3d-inc-000003-a1')), (err: unknown) => {
      assert.ok(err instanceof JobCapacityError, String(err));
      assert.match(err.message, /is at its MaxConcurrentRuns; run p-0a1b2c3d-inc-000003-a1 will be retried/);
      return true;
    });
    const running = await runner.listRunning(spec);
    assert.deepEqual(running.map((r) => r.runKey).sort(), ['p-0a1b2c3d-inc-000001-a1', 'p-0a1b2c3d-inc-000002-a1']);

    await runner.stop(spec, 'p-0a1b2c3d-inc-000001-a1');
    const stopped = await runner.get(spec, 'p-0a1b2c3d-inc-000001-a1');
    assert.equal(stopped.status, 'stopped');
    assert.ok(stopped.finishedAt, 'a stopped run has ended');
    // Stopping a run that is no longer running asks Glue nothing more; Glue itself answers with an error entry.
    await runner.stop(spec, 'p-0a1b2c3d-inc-000001-a1');
    const refused = await glue.send(
      new BatchStopJobRunCommand({ JobName: job, JobRunIds: [stopped.runId, 'jr_nope'] }),
    );
    assert.deepEqual(
      refused.Errors?.map((e) => [e.JobRunId, e.ErrorDetail?.ErrorCode]),
      [
        [stopped.runId, 'InvalidInputException'],
        ['jr_nope', 'EntityNotFoundException'],
      ],
    );

    await glueRunsProgress('immediate');
    const done = await runner.get(spec, 'p-0a1b2c3d-inc-000002-a1');
    assert.equal(done.status, 'succeeded');
    assert.ok(done.finishedAt && Date.parse(done.finishedAt) >= Date.parse(done.startedAt));
    assert.deepEqual(await runner.listRunning(spec), []);
  });
});

describe("DynamoDbExporter against moto's ExportTableToPointInTime", () => {
  test('a retried start with the same client token answers the same export; DescribeExport to COMPLETED with the manifest', async () => {
    const table = uniqueName('AwsExport');
    const created = await dynamodb.send(new CreateTableCommand(transactionTableInput(table, 'NEW_AND_OLD_IMAGES')));
    const tableArn = created.TableDescription!.TableArn!;
    await dynamodb.send(
      new UpdateContinuousBackupsCommand({
        TableName: table,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    );
    for (let i = 0; i < 5; i++)
      await dynamodb.send(
        new PutItemCommand({
          TableName: table,
          Item: {
            account: { S: `a-${i}` },
            create_at: { S: `2023-07-30T16:49:0${i}.000000+0000` },
            n: { N: `${i}.5` },
          },
        }),
      );
    const exporter = new DynamoDbExporter(dynamodb);
    const prefix = `export/${table}`;
    const start = (clientToken: string, at = prefix) =>
      exporter.start({ tableArn, tableName: table, bucket: BUCKET, prefix: at, clientToken });

    const first = await start('pipeline-1a2b-e1');
    assert.match(
      first.exportArn,
      new RegExp(`^arn:aws:dynamodb:us-east-1:\\d{12}:table/${table}/export/\\d{14}-[0-9a-f]{8}$`),
      'the ARN form DynamoDB uses (and export.existingExportArn accepts)',
    );
    const retried = await start('pipeline-1a2b-e1');
    assert.equal(retried.exportArn, first.exportArn, 'the same token answers the same export');
    const exports = await dynamodb.send(new ListExportsCommand({ TableArn: tableArn }));
    assert.equal(exports.ExportSummaries?.length, 1, 'one export, not two');
    await assert.rejects(start('pipeline-1a2b-e1', `${prefix}-elsewhere`), { name: 'ExportConflictException' });
    const other = await start('pipeline-1a2b-e2');
    assert.notEqual(other.exportArn, first.exportArn, 'a new token is a new export (a rebackfill)');

    let state = first;
    for (let i = 0; i < 50 && state.status === 'IN_PROGRESS'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = await exporter.describe(first.exportArn, { bucket: BUCKET, prefix });
    }
    assert.equal(state.status, 'COMPLETED');
    assert.equal(state.itemCount, 5);
    assert.equal(state.failure, null);
    assert.ok(state.exportTimeMs && state.startTimeMs && state.endTimeMs && state.endTimeMs >= state.exportTimeMs);
    const root = exportRoot(state);
    assert.equal(root, `s3://${BUCKET}/${prefix}/AWSDynamoDB/${first.exportArn.split('/').pop()}/`);

    // The layout the initial load reads: manifest-summary.json → manifest-files.json → data files.
    const get = async (key: string) =>
      readBody((await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body);
    const summary = JSON.parse((await get(state.manifestSummaryKey!)).toString()) as Record<string, unknown>;
    assert.equal(summary.exportArn, first.exportArn);
    assert.equal(summary.itemCount, 5);
    assert.equal(summary.outputFormat, 'DYNAMODB_JSON');
    const files = (await get(summary.manifestFilesS3Key as string))
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { itemCount: number; dataFileS3Key: string });
    assert.deepEqual(
      files.map((f) => f.itemCount),
      [5],
    );
    assert.match(files[0]!.dataFileS3Key, new RegExp(`^${prefix}/AWSDynamoDB/[^/]+/data/[a-z2-7]{26}\\.json\\.gz$`));
    const lines = gunzipSync(await get(files[0]!.dataFileS3Key))
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { Item: Record<string, unknown> });
    assert.deepEqual(lines.map((l) => (l.Item.account as { S: string }).S).sort(), ['a-0', 'a-1', 'a-2', 'a-3', 'a-4']);

    await assert.rejects(exporter.describe(`${tableArn}/export/01234567890123-deadbeef`, { bucket: BUCKET, prefix }), {
      name: 'ExportNotFoundException',
    });
  });
});
