/**
 * The planner's proof that nothing is missing (docs/gaps.md): chain links checked from the listing
 * (pure), then `planIncremental` against the test stack's S3 with batches landed by the real handler:
 * a deleted landing file, a file a link announces that never comes, a stale link, a dead-letter-only
 * predecessor, gap markers before and after the export.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { DynamoDBRecord } from 'aws-lambda';
import { NoMetrics } from '../activities/local/no-metrics';
import { createPipelineActivities } from '../activities/pipeline-activities';
import type { PipelineServices } from '../activities/services';
import { S3LandingAudit } from '../activities/sdk/s3-landing-audit';
import { S3LandingLister } from '../activities/sdk/s3-landing-lister';
import { S3ManifestStore } from '../activities/sdk/s3-manifest-store';
import type { PlanRequest, PlanResult } from '../activities/types';
import { gapMarkerKey, linkName, minuteFolder } from '../core/landing';
import { manifestTable } from '../core/manifest';
import { chainChecks, planBatch, type LandingFile } from '../core/planner';
import { applyDelta, type Watermark } from '../core/watermark';
import { batchIdOf, createStreamHandler, handlerConfig } from '../lambda/handler';
import { testConfig } from './support/fakes';
import { ensureBucket, listObjects, testStack, type TestStack } from './stream/support';
import { uniqueName } from './helpers/stack';

const T0 = Date.UTC(2030, 0, 1, 0, 0, 0);
const MIN = 60_000;
const CLOSE = 120_000;
const folder = (m: number) => minuteFolder(T0 + m * MIN);

describe('chain checks (pure)', () => {
  const f = (m: number, id: string): LandingFile => ({
    folder: folder(m),
    name: `${id}.json`,
    lastModifiedMs: T0 + m * MIN,
    size: 1,
  });
  const link = (m: number, batch: string, previous: string) => ({
    folder: folder(m),
    batch,
    shardId: 'shardId-1',
    previous,
  });
  const w: Watermark = { closedThrough: folder(-1), open: {}, sweptAtMs: null, lateTaken: {} };

  test('a predecessor the listing does not hold is to be verified; a link without its file is an orphan', () => {
    const files = [f(0, '1_2_aaaaaaaaaaaa'), f(0, '3_4_bbbbbbbbbbbb'), f(1, '7_8_dddddddddddd')];
    const links = [
      link(0, '1_2_aaaaaaaaaaaa', 'start'),
      link(0, '3_4_bbbbbbbbbbbb', '1_2_aaaaaaaaaaaa'),
      link(1, '5_6_cccccccccccc', '3_4_bbbbbbbbbbbb'), // announced, file not there (yet)
      link(1, '7_8_dddddddddddd', '5_6_cccccccccccc'),
      link(-3, '0_0_eeeeeeeeeeee', 'unknown'), // a closed folder: not looked at
    ];
    const checks = chainChecks(w, files, links, files);
    assert.deepEqual(checks.previousToVerify, [
      { batch: '7_8_dddddddddddd', previous: '5_6_cccccccccccc', shardId: 'shardId-1', folder: folder(1) },
    ]);
    assert.deepEqual(
      checks.orphanLinks.map((l) => l.batch),
      ['5_6_cccccccccccc'],
    );
    assert.deepEqual(
      chainChecks(w, files, [], files),
      { previousToVerify: [], orphanLinks: [] },
      'files without links (AWS Lambda): nothing to check',
    );
  });

  test('a held folder does not close, nor anything after it', () => {
    const files = [f(0, '1_2_aaaaaaaaaaaa'), f(2, '3_4_bbbbbbbbbbbb')];
    const input = {
      watermark: w,
      files,
      listedAtMs: T0 + 10 * MIN,
      complete: true,
      sweep: false,
      closeAfterMs: CLOSE,
      maxFiles: 100,
    };
    assert.equal(planBatch(input).delta.closedThrough, folder(8));
    const held = planBatch({ ...input, hold: [folder(2)] });
    assert.equal(held.delta.closedThrough, folder(1));
    assert.equal(held.take.length, 2, 'files are still taken');
  });
});

describe('planIncremental proves the chain against S3', () => {
  const BUCKET = 'ddb-lake-gap-tests';
  let stack: TestStack;
  let prefix: string;
  let landing: string;
  let now = T0;
  let plan: (w: Watermark, gapsFromMs?: number) => Promise<PlanResult>;
  let seq = 1000;

  before(async () => {
    stack = await testStack();
    await ensureBucket(stack.s3, BUCKET);
    prefix = `${uniqueName('planner')}/`;
    landing = `s3://${BUCKET}/${prefix}`;
    const services = {
      lister: new S3LandingLister(stack.s3),
      audit: new S3LandingAudit(stack.s3),
      manifests: new S3ManifestStore(stack.s3),
      metrics: new NoMetrics(),
    } as unknown as PipelineServices;
    const activities = createPipelineActivities(services, { now: () => now });
    const config = testConfig({ landing: { location: landing, closeAfterSeconds: 120 } });
    plan = (watermark, gapsFromMs = T0) => {
      const request: PlanRequest = {
        pipeline: 'planner',
        runKey: `planner-00000000-inc-${String(seq++).padStart(6, '0')}-a1`,
        landingUri: landing,
        table: manifestTable(config, ['id']),
        watermark,
        sweep: false,
        sweepMinutes: 60,
        closeAfterSeconds: 120,
        maxFiles: 100,
        gapsFromMs,
      };
      return new MockActivityEnvironment().run(activities.planIncremental, request);
    };
  });
  after(async () => stack?.close());

  let recordSeq = 100;
  function records(n: number, poison = false): DynamoDBRecord[] {
    return Array.from({ length: n }, () => {
      const s = String(recordSeq++);
      return {
        eventID: `e${s}`,
        eventName: 'INSERT',
        eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/planner/stream/x',
        dynamodb: {
          ApproximateCreationDateTime: T0 / 1000,
          SequenceNumber: s,
          Keys: { id: { S: s } },
          NewImage: { id: { S: s }, v: poison ? { N: 'NaN' } : { N: '1' } },
          SizeBytes: 10,
          StreamViewType: 'NEW_AND_OLD_IMAGES',
        },
      };
    });
  }

  /** Land a batch with the real handler in minute `m` after the one before it on the shard. */
  async function land(m: number, recs: DynamoDBRecord[], previousBatch: string): Promise<string> {
    const handler = createStreamHandler(handlerConfig({ landing, maxWriteSeconds: 10 }), {
      s3: stack.s3,
      clock: () => T0 + m * MIN + 5000,
      log: () => undefined,
    });
    assert.deepEqual(
      await handler({ Records: recs, ddbLakeChain: { shardId: 'shardId-00000001-abc', previousBatch } }),
      { batchItemFailures: [] },
    );
    return batchIdOf(recs);
  }

  test('an intact chain, a deleted file, an announced file that never comes, a stale link, a dead-letter-only predecessor, markers', async () => {
    let w: Watermark = { closedThrough: folder(-2), open: {}, sweptAtMs: null, lateTaken: {} };
    const b1 = await land(0, records(2), 'start');
    const b2 = await land(0, records(2), b1);
    const b3 = await land(1, records(2), b2);
    now = T0 + 2 * MIN;
    let p = await plan(w);
    assert.deepEqual(p.gaps, []);
    assert.equal(p.files, 3);
    w = applyDelta(w, p.delta);

    // A dead-letter-only batch writes no file and no link; its successor names it: accounted for by _dead/.
    const dead = await land(2, records(1, true), b3);
    assert.ok((await listObjects(stack.s3, BUCKET, `${prefix}_dead/`)).some((k) => k.endsWith(`${dead}.json`)));
    const b5 = await land(3, records(2), dead);
    now = T0 + 4 * MIN;
    p = await plan(w);
    assert.deepEqual(p.gaps, [], JSON.stringify(p.gaps));
    assert.equal(p.files, 1);
    w = applyDelta(w, p.delta);

    // A file deleted from the landing zone before it was applied: its successor gives it away.
    const b6 = await land(4, records(2), b5);
    const b7 = await land(5, records(2), b6);
    await stack.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `${prefix}${folder(4)}/${b6}.json` }));
    now = T0 + 6 * MIN;
    p = await plan(w);
    assert.equal(p.run, null, 'no job is planned past a gap');
    assert.equal(p.files, 0);
    assert.deepEqual(p.delta.closedThrough, w.closedThrough);
    const missing = p.gaps!.find((g) => g.message.startsWith('the batch before'))!;
    assert.equal(missing.kind, 'missing-file');
    assert.equal(
      missing.message,
      `the batch before ${landing}${folder(5)}/${b7}.json on shard shardId-00000001-abc (${b6}) is not in the landing zone: its claim names ${landing}${folder(4)}/${b6}.json, which does not exist (deleted before it was applied)`,
    );
    // Its own link is an orphan too: held while its writer might still come back, a gap after that.
    assert.equal(
      p.gaps!.some((g) => g.message.startsWith(`landing file ${landing}${folder(4)}/${b6}.json`)),
      false,
      'within the grace period: held, not yet a gap',
    );
    now = T0 + 4 * MIN + 2 * CLOSE;
    p = await plan(w);
    assert.ok(
      p.gaps!.some(
        (g) =>
          g.message ===
          `landing file ${landing}${folder(4)}/${b6}.json (batch ${b6} of shard shardId-00000001-abc) is missing: its chain link and claim name it, but the file is not there (deleted, or its writer died and never retried)`,
      ),
      JSON.stringify(p.gaps),
    );
  });

  test('a link whose file is still to come holds its folder open; a stale link (re-landed elsewhere) does not', async () => {
    const p2 = `${uniqueName('planner-hold')}/`;
    const l2 = `s3://${BUCKET}/${p2}`;
    const w: Watermark = { closedThrough: folder(-2), open: {}, sweptAtMs: null, lateTaken: {} };
    const put = (key: string, body = '') =>
      stack.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${p2}${key}`, Body: Buffer.from(body) }));
    // Pending: claim and link written, file not yet.
    await put(`_batches/10_11_aaaaaaaaaaaa`, JSON.stringify({ key: `${p2}${folder(0)}/10_11_aaaaaaaaaaaa.json` }));
    await put(`${folder(0)}/${linkName('10_11_aaaaaaaaaaaa', 'shardId-1', 'start')}`);
    // Stale: the writer died after its link in minute 1 and landed the batch in minute 2.
    await put(`_batches/12_13_bbbbbbbbbbbb`, JSON.stringify({ key: `${p2}${folder(2)}/12_13_bbbbbbbbbbbb.json` }));
    await put(`${folder(1)}/${linkName('12_13_bbbbbbbbbbbb', 'shardId-2', 'start')}`);
    await put(`${folder(2)}/${linkName('12_13_bbbbbbbbbbbb', 'shardId-2', 'start')}`);
    await put(`${folder(2)}/12_13_bbbbbbbbbbbb.json`, '{}\n');
    const services = {
      lister: new S3LandingLister(stack.s3),
      audit: new S3LandingAudit(stack.s3),
      manifests: new S3ManifestStore(stack.s3),
      metrics: new NoMetrics(),
    } as unknown as PipelineServices;
    const at = (ms: number) => createPipelineActivities(services, { now: () => ms });
    const request = (n: number): PlanRequest => ({
      pipeline: 'planner',
      runKey: `planner-00000000-inc-00000${n}-a1`,
      landingUri: l2,
      table: manifestTable(testConfig(), ['id']),
      watermark: w,
      sweep: false,
      sweepMinutes: 60,
      closeAfterSeconds: 120,
      maxFiles: 100,
      gapsFromMs: T0,
    });
    let p: PlanResult = await new MockActivityEnvironment().run(at(T0 + 3 * MIN).planIncremental, request(1));
    assert.deepEqual(p.gaps, [], 'within the grace period (until 0:04): held, not a gap');
    assert.equal(p.delta.closedThrough, folder(-1), 'folder 0 and everything after it stay open');
    p = await new MockActivityEnvironment().run(at(T0 + 10 * MIN).planIncremental, request(2));
    assert.deepEqual(
      p.gaps!.map((g) => g.kind),
      ['missing-file'],
      'past the grace period: a gap',
    );
    // The file arrives after all: the folder closes as usual; the stale link in minute 1 holds nothing.
    await put(`${folder(0)}/10_11_aaaaaaaaaaaa.json`, '{}\n');
    p = await new MockActivityEnvironment().run(at(T0 + 3 * MIN).planIncremental, request(3));
    assert.deepEqual(p.gaps, []);
    assert.equal(p.delta.closedThrough, folder(1));
  });

  test('gap markers: those before the export are covered by it; later ones (and foreign objects) are gaps', async () => {
    const p3 = `${uniqueName('planner-markers')}/`;
    const l3 = `s3://${BUCKET}/${p3}`;
    const marker = {
      version: 1,
      kind: 'shard-gone',
      table: 't',
      streamArn: 'arn:x',
      shardId: 'shardId-9',
      afterSequenceNumber: '42',
      detectedAt: new Date(T0 + MIN).toISOString(),
      reason: 'the shard no longer exists',
    };
    await stack.s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: gapMarkerKey(p3, T0 + MIN, 'shard-gone', 'abcdefabcdef'),
        Body: JSON.stringify(marker),
      }),
    );
    await stack.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: `${p3}_gaps/9999999999999-foreign.txt`, Body: 'x' }),
    );
    const services = {
      lister: new S3LandingLister(stack.s3),
      audit: new S3LandingAudit(stack.s3),
      manifests: new S3ManifestStore(stack.s3),
      metrics: new NoMetrics(),
    } as unknown as PipelineServices;
    const acts = createPipelineActivities(services, { now: () => T0 + 5 * MIN });
    const request = (gapsFromMs: number): PlanRequest => ({
      pipeline: 'planner',
      runKey: 'planner-00000000-inc-000001-a1',
      landingUri: l3,
      table: manifestTable(testConfig(), ['id']),
      watermark: { closedThrough: folder(-2), open: {}, sweptAtMs: null, lateTaken: {} },
      sweep: false,
      sweepMinutes: 60,
      closeAfterSeconds: 120,
      maxFiles: 100,
      gapsFromMs,
    });
    const early: PlanResult = await new MockActivityEnvironment().run(acts.planIncremental, request(T0));
    assert.deepEqual(
      early.gaps!.map((g) => g.kind),
      ['shard-gone', 'unknown'],
    );
    assert.equal(
      early.gaps![0]!.message,
      `a stream shard vanished before it was read to its end (shard shardId-9, after sequence number 42): the shard no longer exists; marker s3://${BUCKET}/${gapMarkerKey(p3, T0 + MIN, 'shard-gone', 'abcdefabcdef')}`,
    );
    assert.match(early.gaps![1]!.message, /not a ddb-lake marker: treated as a gap/);
    const late: PlanResult = await new MockActivityEnvironment().run(acts.planIncremental, request(T0 + 2 * MIN));
    assert.deepEqual(
      late.gaps!.map((g) => g.kind),
      ['unknown'],
      'the shard-gone marker is older than the export: covered',
    );
  });
});
