/**
 * The metrics the alarms watch: what a cycle's figures are, how often they are published, the
 * CloudWatch publisher against the test stack's moto (PutMetricData, read back with
 * GetMetricStatistics), and the activities that feed it (planIncremental against moto's S3, an
 * export wait heartbeating).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CloudWatchClient, GetMetricStatisticsCommand, type Statistic } from '@aws-sdk/client-cloudwatch';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { MockActivityEnvironment } from '@temporalio/testing';
import { CloudWatchMetrics } from '../../activities/aws/cloudwatch-metrics';
import { createPipelineActivities } from '../../activities/pipeline-activities';
import {
  cycleFigures,
  MetricsWindow,
  type CycleFigures,
  type PipelineMetrics,
} from '../../activities/pipeline-metrics';
import { S3LandingAudit } from '../../activities/sdk/s3-landing-audit';
import { S3LandingLister } from '../../activities/sdk/s3-landing-lister';
import { S3ManifestStore } from '../../activities/sdk/s3-manifest-store';
import type { PipelineServices } from '../../activities/services';
import type { PlanResult } from '../../activities/types';
import { METRIC_NAMES, METRICS_NAMESPACE, PIPELINE_DIMENSION } from '../../core/aws-deployment';
import { minuteFolder } from '../../core/landing';
import { manifestTable } from '../../core/manifest';
import { testAwsConfig, uniqueName } from '../helpers/stack';
import { ensureBucket, testStack, type TestStack } from '../stream/support';
import { createFakes, testConfig } from '../support/fakes';

/** Remembers every note (a fake for the activities' side: what they report, not how it is sent). */
class RecordingMetrics implements PipelineMetrics {
  notes: { pipeline: string; figures?: CycleFigures }[] = [];
  heartbeat(pipeline: string): void {
    this.notes.push({ pipeline });
  }
  cycle(pipeline: string, figures: CycleFigures): void {
    this.notes.push({ pipeline, figures });
  }
}

describe('pipeline metrics (pure)', () => {
  test("a cycle's lag is the age of the oldest file not yet applied, taken or left; 0 when none waits", () => {
    const at = Date.UTC(2030, 0, 1, 0, 10, 0);
    const f = (secondsAgo: number) => ({ lastModifiedMs: at - secondsAgo * 1000 });
    assert.deepEqual(cycleFigures(at, [f(30), f(95.24)], { files: 0, oldestLastModifiedMs: null }), {
      lagSeconds: 95.2,
      backlogFiles: 2,
    });
    assert.deepEqual(cycleFigures(at, [f(30)], { files: 4000, oldestLastModifiedMs: at - 600_000 }), {
      lagSeconds: 600,
      backlogFiles: 4001,
    });
    assert.deepEqual(cycleFigures(at, [], { files: 0, oldestLastModifiedMs: null }), {
      lagSeconds: 0,
      backlogFiles: 0,
    });
  });

  test('at most one publication per pipeline a minute, carrying the largest lag and the latest backlog since the last', () => {
    const w = new MetricsWindow(60_000);
    assert.deepEqual(
      w.note('a', 0, { lagSeconds: 5, backlogFiles: 2 }),
      { pipeline: 'a', atMs: 0, lagSeconds: 5, backlogFiles: 2 },
      'the first at once',
    );
    assert.equal(w.note('a', 10_000, { lagSeconds: 50, backlogFiles: 9 }), null);
    assert.equal(w.note('a', 20_000, { lagSeconds: 7, backlogFiles: 1 }), null);
    assert.deepEqual(
      w.note('b', 20_000),
      { pipeline: 'b', atMs: 20_000, lagSeconds: null, backlogFiles: null },
      'pipelines are apart; a heartbeat carries no figures',
    );
    assert.deepEqual(w.note('a', 60_000), { pipeline: 'a', atMs: 60_000, lagSeconds: 50, backlogFiles: 1 });
    assert.deepEqual(
      w.note('a', 121_000),
      { pipeline: 'a', atMs: 121_000, lagSeconds: null, backlogFiles: null },
      'figures are not repeated',
    );
  });
});

describe('CloudWatchMetrics against moto', () => {
  let cloudwatch: CloudWatchClient;
  before(() => {
    cloudwatch = new CloudWatchClient(testAwsConfig());
  });
  after(() => cloudwatch.destroy());

  async function statistic(pipeline: string, metric: string, stat: Statistic, fromMs: number): Promise<number[]> {
    const r = await cloudwatch.send(
      new GetMetricStatisticsCommand({
        Namespace: METRICS_NAMESPACE,
        MetricName: metric,
        Dimensions: [{ Name: PIPELINE_DIMENSION, Value: pipeline }],
        StartTime: new Date(fromMs - 60_000),
        EndTime: new Date(fromMs + 10 * 60_000),
        Period: 600,
        Statistics: [stat],
      }),
    );
    return (r.Datapoints ?? []).map((d) => d[stat]!);
  }

  test('publishes heartbeat, lag and backlog per pipeline, throttled to a minute, and reads back', async () => {
    const pipeline = uniqueName('metrics');
    const start = Date.now();
    let now = start;
    const metrics = new CloudWatchMetrics(cloudwatch, { clock: { now: () => now } });
    metrics.cycle(pipeline, { lagSeconds: 12.5, backlogFiles: 3 }); // sent at once
    now += 10_000;
    metrics.cycle(pipeline, { lagSeconds: 40, backlogFiles: 8 }); // held
    metrics.heartbeat(pipeline); // held
    now += 55_000;
    metrics.heartbeat(pipeline); // a minute on: sent, with the held figures
    await metrics.settled();
    assert.deepEqual(await statistic(pipeline, METRIC_NAMES.heartbeat, 'SampleCount', start), [2]);
    assert.deepEqual(await statistic(pipeline, METRIC_NAMES.lagSeconds, 'Maximum', start), [40]);
    assert.deepEqual(await statistic(pipeline, METRIC_NAMES.lagSeconds, 'Minimum', start), [12.5]);
    assert.deepEqual(await statistic(pipeline, METRIC_NAMES.backlogFiles, 'Maximum', start), [8]);
  });

  test('a CloudWatch that cannot be reached is reported, never thrown, and never waited for', async () => {
    const unreachable = new CloudWatchClient({ ...testAwsConfig(), endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    const errors: unknown[] = [];
    const metrics = new CloudWatchMetrics(unreachable, { onError: (err) => errors.push(err) });
    const began = Date.now();
    metrics.cycle('p', { lagSeconds: 1, backlogFiles: 1 });
    assert.ok(Date.now() - began < 50, 'returns before the request ends');
    await metrics.settled();
    assert.equal(errors.length, 1);
    unreachable.destroy();
  });
});

describe('the activities feed the metrics', () => {
  const BUCKET = 'ddb-lake-metrics-tests';
  let stack: TestStack;
  before(async () => {
    stack = await testStack();
    await ensureBucket(stack.s3, BUCKET);
  });
  after(async () => stack?.close());

  test('planIncremental: lag and backlog of what it listed in S3, the files it takes included', async () => {
    const prefix = `${uniqueName('plan-metrics')}/`;
    const landing = `s3://${BUCKET}/${prefix}`;
    const written = Date.now();
    const folder = minuteFolder(written);
    for (const id of ['1_2_aaaaaaaaaaaa', '3_4_bbbbbbbbbbbb', '5_6_cccccccccccc'])
      await stack.s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}${folder}/${id}.json`, Body: Buffer.from('{}\n') }),
      );
    const recorded = new RecordingMetrics();
    const services = {
      lister: new S3LandingLister(stack.s3),
      audit: new S3LandingAudit(stack.s3),
      manifests: new S3ManifestStore(stack.s3),
      metrics: recorded,
    } as unknown as PipelineServices;
    const listedAtMs = written + 90_000;
    const activities = createPipelineActivities(services, { now: () => listedAtMs });
    const plan: PlanResult = await new MockActivityEnvironment().run(activities.planIncremental, {
      pipeline: 'metrics',
      runKey: 'metrics-00000000-inc-000001-a1',
      landingUri: landing,
      table: manifestTable(testConfig({ landing: { location: landing } }), ['id']),
      watermark: { closedThrough: minuteFolder(written - 10 * 60_000), open: {}, sweptAtMs: null, lateTaken: {} },
      sweep: false,
      sweepMinutes: 60,
      closeAfterSeconds: 120,
      maxFiles: 2,
    });
    assert.equal(plan.files, 2);
    assert.equal(recorded.notes.length, 1);
    const { pipeline, figures } = recorded.notes[0]!;
    assert.equal(pipeline, 'metrics');
    assert.equal(figures!.backlogFiles, 3, 'the two taken and the one left');
    assert.ok(
      figures!.lagSeconds >= 80 && figures!.lagSeconds <= 95,
      `lag ${figures!.lagSeconds} s: ~90 s since the oldest file was written`,
    );
  });

  test('waiting for an export heartbeats for the pipeline (the workflow id)', async () => {
    const fakes = createFakes();
    const recorded = new RecordingMetrics();
    const activities = createPipelineActivities({ ...fakes.services, metrics: recorded });
    const started = await fakes.exporter.start({
      tableArn: 't',
      tableName: 'Transaction',
      bucket: 'b',
      prefix: 'p',
      clientToken: 'tok',
    });
    await new MockActivityEnvironment({ workflowExecution: { workflowId: 'transaction', runId: 'r' } }).run(
      activities.awaitExport,
      {
        exportArn: started.exportArn,
        location: { bucket: 'b', prefix: 'p' },
        pollIntervalSeconds: 1,
        adoptForTableArn: null,
      },
    );
    assert.ok(recorded.notes.length >= 1);
    assert.ok(recorded.notes.every((n) => n.pipeline === 'transaction' && n.figures === undefined));
  });
});
