/**
 * Gap detection on AWS (docs/gaps.md "On AWS"): Lambda's event source mapping records each stream
 * batch it discards in its S3 on-failure destination. Here such records, in AWS's exact format and
 * key layout, lie in a bucket of the test stack's moto.
 * - The workflow, on the test stack's dev server, with the real planner and the real S3 audit over
 *   moto (export and jobs fake-fast), told where the records are as the deploy/ stack tells its
 *   worker (DDB_LAKE_STREAM_FAILURES): a record of another table's stream and one from before the
 *   export change nothing; a record of this table's stream written after the export stalls the
 *   pipeline with kind `discarded`, naming the shard and the sequence range, before the next batch
 *   is applied; `rebackfill` takes a fresh export (covering it) and the pipeline goes on.
 * - The planner told by the plan request (a config's `landing.onFailureDestination`), which wins
 *   over the deployment's; an object there that is not a stream record is a gap too.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createPipelineActivities } from '../activities/pipeline-activities';
import { S3LandingAudit } from '../activities/sdk/s3-landing-audit';
import { streamFailuresFromEnvironment } from '../activities/stream-failures';
import type { PlanRequest, PlanResult } from '../activities/types';
import { STREAM_FAILURES_ENV } from '../core/aws-deployment';
import { initialWatermark } from '../core/watermark';
import { rebackfillUpdate, statusQuery, type PipelineStatus } from '../workflows/definitions';
import { pipelineWorkflow } from '../workflows/pipeline';
import {
  closeTestConnections,
  testEnvironment,
  testS3Client,
  testTemporalClient,
  testWorkerConnection,
  uniqueName,
} from './helpers/stack';
import { createFakes, EXPORT_TIME_MS, testConfig, type Fakes } from './support/fakes';
import { eventually, workflowBundle } from './support/temporal';

const s3 = testS3Client();
const bucket = uniqueName('on-failure');
/** The fake inspector's table (test/support/fakes.ts): the workflow validates against it. */
const TABLE_ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/Transaction';
const MAPPING = randomUUID();
const STREAM_ARN = `${TABLE_ARN}/stream/2026-11-27T10:00:00.000`;
const SHARD = 'shardId-00000001796468400000-f35f62ef';

before(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
after(async () => {
  s3.destroy();
  await closeTestConnections();
});

/** What Lambda writes for a discarded batch (AWS Lambda Developer Guide, "Retain discarded records"). */
function invocationRecord(atMs: number, streamArn: string, first: string, last: string) {
  const at = new Date(atMs).toISOString();
  return {
    requestContext: {
      requestId: randomUUID(),
      functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:ddb-lake-transaction-stream',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 4,
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: at,
    DDBStreamBatchInfo: {
      shardId: SHARD,
      startSequenceNumber: first,
      endSequenceNumber: last,
      approximateArrivalOfFirstRecord: new Date(atMs - 40_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      approximateArrivalOfLastRecord: new Date(atMs - 39_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      batchSize: 3,
      streamArn,
    },
    payload: { Records: [{ eventID: '1', eventName: 'MODIFY', dynamodb: { SequenceNumber: first } }] },
  };
}

/** `aws/lambda/<mapping UUID>/<shard>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<UUID>`, as Lambda names it. */
async function putRecord(record: ReturnType<typeof invocationRecord>, into = bucket): Promise<string> {
  const t = new Date(record.timestamp);
  const iso = t.toISOString();
  const key = `aws/lambda/${MAPPING}/${record.DDBStreamBatchInfo.shardId}/${iso.slice(0, 10).replace(/-/g, '/')}/${iso.slice(0, 19).replace(/:/g, '.')}-${randomUUID()}`;
  await s3.send(new PutObjectCommand({ Bucket: into, Key: key, Body: JSON.stringify(record) }));
  return key;
}

/**
 * A worker on a task queue of its own, with the real activities over the fakes and the real S3
 * audit, told where `pipeline`'s discarded batches are recorded as the deploy/ stack tells its
 * worker: the DDB_LAKE_STREAM_FAILURES variable (core/aws-deployment.ts), parsed as the worker does.
 */
async function withWorker<T>(f: Fakes, pipeline: string, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const streamFailures = streamFailuresFromEnvironment({
    [STREAM_FAILURES_ENV]: JSON.stringify({
      [pipeline]: { bucket, eventSourceMappingId: MAPPING, streamArn: STREAM_ARN },
    }),
  });
  const activities = createPipelineActivities(
    { ...f.services, audit: new S3LandingAudit(s3), streamFailures },
    f.clock,
  );
  const taskQueue = uniqueName('gaps-aws');
  const worker = await Worker.create({
    connection: await testWorkerConnection(),
    namespace: testEnvironment().temporal.namespace,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
    shutdownGraceTime: '1 second',
  });
  return worker.runUntil(fn(taskQueue));
}

describe('gap detection on AWS: records of discarded batches in the on-failure destination', () => {
  test('a discarded batch of this table stalls the pipeline with its shard and sequence range; rebackfill recovers', async () => {
    const f = createFakes();
    const config = testConfig({
      name: uniqueName('gaps-aws'),
      landing: { location: `s3://ddb-lake-local/landing/${bucket}/`, closeAfterSeconds: 120, sweepEveryCycles: 1000 },
    });
    const client = await testTemporalClient();
    await withWorker(f, config.name, async (taskQueue) => {
      const handle = await client.workflow.start(pipelineWorkflow, {
        taskQueue,
        workflowId: config.name,
        args: [{ config }],
      });
      const statusWhere = (what: string, ok: (s: PipelineStatus) => boolean, timeoutMs = 30_000) =>
        eventually(
          async () => {
            const s = await handle.query(statusQuery);
            return ok(s) ? s : undefined;
          },
          what,
          timeoutMs,
        );
      await statusWhere('incremental', (s) => s.phase === 'incremental');
      f.landing.add('1_5_aaaaaaaaaaaa.json');
      await statusWhere('first batch', (s) => s.counters.filesApplied === 1);

      // Another table's stream, and a batch discarded before the export (the export holds its effect).
      await putRecord(
        invocationRecord(
          f.clock.now(),
          'arn:aws:dynamodb:us-east-1:123456789012:table/Other/stream/2026-11-27T10:00:00.000',
          '700',
          '702',
        ),
      );
      await putRecord(invocationRecord(EXPORT_TIME_MS - 5_000, STREAM_ARN, '600', '602'));
      f.landing.add('6_9_bbbbbbbbbbbb.json');
      const before = await statusWhere('second batch', (s) => s.counters.filesApplied === 2);
      assert.equal(before.stalled, null, 'neither record is a gap of this pipeline');

      // Lambda gave up on a batch of this table's stream after the export.
      f.clock.advance(5_000);
      const key = await putRecord(
        invocationRecord(f.clock.now(), STREAM_ARN, '1100000000017454423011', '1100000000017454423013'),
      );
      const late = f.landing.add('10_12_cccccccccccc.json');
      const stalled = await statusWhere('stalled on the discarded batch', (s) => s.stalled !== null);
      assert.equal(stalled.step, 'stalled');
      assert.equal(stalled.stalled!.gaps?.length, 1, JSON.stringify(stalled.stalled!.gaps));
      assert.equal(stalled.stalled!.gaps[0]!.kind, 'discarded');
      assert.equal(stalled.stalled!.gaps[0]!.detectedAt, new Date(f.clock.now()).toISOString());
      const escaped = `s3://${bucket}/${key}`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      assert.match(
        stalled.stalled!.error,
        new RegExp(
          `^cannot prove every change reached the lake: a stream batch was discarded after its retries \\(shard ${SHARD}, records 1100000000017454423011…1100000000017454423013\\): Lambda's event source mapping gave up on 3 record\\(s\\) \\(RetryAttemptsExhausted, function error Unhandled, 4 invocation\\(s\\)\\) of arn:aws:lambda:us-east-1:123456789012:function:ddb-lake-transaction-stream, written \\S+…\\S+; on-failure record ${escaped}; nothing after it is applied until \`ddb-lake rebackfill ${config.name}\` reloads the lake from a fresh export$`,
        ),
      );
      assert.deepEqual(stalled.watermark, before.watermark, 'the watermark does not move');
      assert.equal(
        f.jobs.appliedFiles().some((k) => k.endsWith(late)),
        false,
        'the batch after the gap is not applied',
      );

      // rebackfill: a fresh export after the discarded batch covers it.
      f.exporter.exportTimeMs = f.clock.now() + 1000;
      const accepted = await handle.executeUpdate(rebackfillUpdate);
      assert.equal(accepted.rebackfill, 1);
      await statusWhere(
        'incremental after the rebackfill',
        (s) => s.phase === 'incremental' && s.counters.rebackfills === 1 && s.stalled === null,
      );
      f.clock.advance(60_000);
      const next = f.landing.add('13_15_dddddddddddd.json');
      await statusWhere('applied after the rebackfill', () => f.jobs.appliedFiles().some((k) => k.endsWith(next)));
      const s = await handle.query(statusQuery);
      assert.equal(s.stalled, null, 'the record stays in the bucket, covered by the new export');
      assert.deepEqual(f.jobs.overlaps(), []);
      await handle.cancel();
    });
  });

  test('a plan request naming the destination (landing.onFailureDestination) wins over the deployment; a foreign object there is a gap', async () => {
    const other = uniqueName('on-failure-cfg');
    await s3.send(new CreateBucketCommand({ Bucket: other }));
    const f = createFakes();
    const at = f.clock.now();
    const key = await putRecord(invocationRecord(at, STREAM_ARN, '900', '901'), other);
    const request = (discardedBatches: PlanRequest['discardedBatches']): PlanRequest => ({
      pipeline: 'deployed',
      runKey: 'deployed-00000000-inc-000001-a1',
      landingUri: `s3://ddb-lake-local/landing/${other}/`,
      table: {
        lakeLocation: '/tmp/lake',
        tableName: 't',
        keyFields: ['id'],
        orderingField: null,
        derivedColumns: [],
        partitionFields: [],
        types: { numbers: 'auto', columns: {} },
        maxRejectedShare: 0.01,
        glueDatabase: null,
      },
      watermark: initialWatermark(EXPORT_TIME_MS),
      sweep: false,
      sweepMinutes: 60,
      closeAfterSeconds: 120,
      maxFiles: 100,
      gapsFromMs: EXPORT_TIME_MS,
      discardedBatches,
    });
    // The deployment names the first bucket, which holds a record of this table's stream too.
    const deployedKey = await putRecord(invocationRecord(at, STREAM_ARN, '950', '951'));
    const deployed = streamFailuresFromEnvironment({
      [STREAM_FAILURES_ENV]: JSON.stringify({
        deployed: { bucket, eventSourceMappingId: MAPPING, streamArn: STREAM_ARN },
      }),
    });
    const acts = createPipelineActivities(
      { ...f.services, audit: new S3LandingAudit(s3), streamFailures: deployed },
      f.clock,
    );
    const plan = (r: PlanRequest): Promise<PlanResult> => new MockActivityEnvironment().run(acts.planIncremental, r);
    const viaDeployment = await plan(request(null));
    assert.ok(
      viaDeployment.gaps!.some((g) => g.message.endsWith(`on-failure record s3://${bucket}/${deployedKey}`)),
      JSON.stringify(viaDeployment.gaps),
    );
    assert.ok(viaDeployment.gaps!.every((g) => !g.message.includes(`s3://${other}/`)));
    // ...the request names the other one: its record counts.
    const named = await plan(request({ location: `s3://${other}/`, tableArn: TABLE_ARN }));
    assert.deepEqual(
      named.gaps!.map((g) => [g.kind, g.message.endsWith(`on-failure record s3://${other}/${key}`)]),
      [['discarded', true]],
    );
    assert.equal(named.run, null, 'no job is planned past a gap');
    // Another table's ARN in the request: nothing of this bucket counts.
    const foreign = await plan(request({ location: `s3://${other}/`, tableArn: `${TABLE_ARN}-other` }));
    assert.deepEqual(foreign.gaps, []);
    // Anything else Lambda's prefix holds is a gap (kind unknown).
    await s3.send(new PutObjectCommand({ Bucket: other, Key: `aws/lambda/${MAPPING}/${SHARD}/x`, Body: 'not json' }));
    const unknown = await plan(request({ location: `s3://${other}/`, tableArn: TABLE_ARN }));
    assert.deepEqual(unknown.gaps!.map((g) => g.kind).sort(), ['discarded', 'unknown']);
    assert.match(
      unknown.gaps!.find((g) => g.kind === 'unknown')!.message,
      /^on-failure record s3:\/\/\S+ \(not a record of a DynamoDB stream batch: treated as a gap\)$/,
    );
    // A malformed deployment variable stops the worker at start-up with one sentence.
    assert.throws(
      () => streamFailuresFromEnvironment({ [STREAM_FAILURES_ENV]: '{"p": {"bucket": "b"}}' }),
      /DDB_LAKE_STREAM_FAILURES is not \{"<pipeline>": \{"bucket", "eventSourceMappingId", "streamArn"\}\} \(/,
    );
  });
});
