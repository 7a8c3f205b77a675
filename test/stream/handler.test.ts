import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBRecord } from 'aws-lambda';
import { awsClientConfig } from '../../core/aws';
import { isUserError } from '../../core/errors';
import { minuteFolder, parseBatchFileName } from '../../core/landing';
import { REPO_ROOT } from '../../core/toolchain';
import { decodeLine } from '../../lambda/encoding';
import {
  createStreamHandler,
  encodeBatch,
  handlerConfig,
  HANDLER_ENV,
  loadHandlerConfig,
  type BatchClaim,
  type BatchLogEntry,
} from '../../lambda/handler';
import { ensureBucket, getText, listObjects, testStack, uniqueName, type TestStack } from './support';

const BUCKET = 'ddb-lake-stream-tests';
const ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000';
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5); // 2026-01-02-03-04

function records(from: number, count: number, eventIdPrefix = 'ev'): DynamoDBRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    eventID: `${eventIdPrefix}${from + i}`,
    eventName: 'INSERT',
    eventSource: 'aws:dynamodb',
    eventSourceARN: ARN,
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: 1767323045,
      SequenceNumber: String(4000000000000000000000n + BigInt(from + i)),
      Keys: { id: { S: `k${from + i}` } },
      NewImage: { id: { S: `k${from + i}` }, amount: { N: String(from + i) } },
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  }));
}

describe('stream handler against moto S3', () => {
  let stack: TestStack;
  before(async () => {
    stack = await testStack();
    await ensureBucket(stack.s3, BUCKET);
  });
  after(async () => stack?.close());

  const setup = (options: { clock?: () => number; s3?: S3Client } = {}) => {
    const prefix = `${uniqueName('landing')}/`;
    const config = handlerConfig({ landing: `s3://${BUCKET}/${prefix}`, maxWriteSeconds: 20 });
    const logs: BatchLogEntry[] = [];
    const handler = createStreamHandler(config, {
      s3: options.s3 ?? stack.s3,
      clock: options.clock ?? (() => T0),
      log: (e) => logs.push(e),
    });
    return { prefix, config, handler, logs };
  };

  it('writes one file per batch into the minute the write starts, named by the batch, with a claim', async () => {
    const { prefix, handler } = setup();
    const batch = records(1, 5);
    const response = await handler({ Records: batch });
    assert.deepEqual(response, { batchItemFailures: [] });
    const keys = await listObjects(stack.s3, BUCKET, prefix);
    const id = encodeBatch(batch).id;
    const fileKey = `${prefix}2026-01-02-03-04/${id}.json`;
    assert.deepEqual(keys.sort(), [`${prefix}2026-01-02-03-04/${id}.json`, `${prefix}_batches/${id}`].sort());
    const parsed = parseBatchFileName(`${id}.json`)!;
    assert.equal(parsed.firstSequenceNumber, batch[0]!.dynamodb!.SequenceNumber);
    assert.equal(parsed.lastSequenceNumber, batch[4]!.dynamodb!.SequenceNumber);
    const body = await getText(stack.s3, BUCKET, fileKey);
    assert.ok(body.endsWith('\n'));
    const lines = body.slice(0, -1).split('\n').map(decodeLine);
    assert.deepEqual(
      lines.map((l) => l.seq),
      batch.map((r) => r.dynamodb!.SequenceNumber),
      'records in stream order',
    );
    assert.deepEqual(lines[2]!.item, batch[2]!.dynamodb!.NewImage);
    const claim = JSON.parse(await getText(stack.s3, BUCKET, `${prefix}_batches/${id}`)) as BatchClaim;
    assert.equal(claim.key, fileKey);
    assert.equal(claim.records, 5);
  });

  it('a retried batch leaves no second file, even when retried in a later minute', async () => {
    let now = T0;
    const { prefix, handler, logs } = setup({ clock: () => now });
    const batch = records(100, 3);
    assert.deepEqual(await handler({ Records: batch }), { batchItemFailures: [] });
    now = T0 + 5 * 60_000;
    assert.deepEqual(await handler({ Records: batch }), { batchItemFailures: [] });
    assert.deepEqual(await handler({ Records: batch }), { batchItemFailures: [] });
    const files = (await listObjects(stack.s3, BUCKET, prefix)).filter((k) => !k.includes('/_batches/'));
    assert.equal(files.length, 1, files.join(', '));
    assert.ok(files[0]!.includes('/2026-01-02-03-04/'));
    assert.deepEqual(
      logs.map((l) => l.status),
      ['written', 'already-landed', 'already-landed'],
    );
  });

  it('an attempt that died between claim and file is completed in the current minute, never copied', async () => {
    let now = T0;
    let failFileWrites = 1;
    const flaky = new S3Client(awsClientConfig(stack.env));
    flaky.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Key?: string };
        if (
          context.commandName === 'PutObjectCommand' &&
          /\/\d{4}-\d\d-\d\d-\d\d-\d\d\//.test(input.Key ?? '') &&
          failFileWrites-- > 0
        )
          throw Object.assign(new Error('injected: connection reset while writing the file'), {
            name: 'InjectedFailure',
          });
        return next(args);
      },
      { step: 'initialize', name: 'failFileWrite' },
    );
    const { prefix, handler } = setup({ clock: () => now, s3: flaky });
    const batch = records(200, 4);
    const first = await handler({ Records: batch });
    assert.deepEqual(
      first,
      { batchItemFailures: [{ itemIdentifier: batch[0]!.dynamodb!.SequenceNumber }] },
      'the whole batch is failed for a retry',
    );
    const id = encodeBatch(batch).id;
    const claimed = JSON.parse(await getText(stack.s3, BUCKET, `${prefix}_batches/${id}`)) as BatchClaim;
    assert.ok(claimed.key.includes('/2026-01-02-03-04/'), 'the claim names the first attempt');

    now = T0 + 3 * 60_000;
    assert.deepEqual(await handler({ Records: batch }), { batchItemFailures: [] });
    const files = (await listObjects(stack.s3, BUCKET, prefix)).filter((k) => !k.includes('/_batches/'));
    assert.deepEqual(files, [`${prefix}2026-01-02-03-07/${id}.json`], 'written in the minute of the retry, only there');
    const claim = JSON.parse(await getText(stack.s3, BUCKET, `${prefix}_batches/${id}`)) as BatchClaim;
    assert.equal(claim.key, files[0]);
    flaky.destroy();
  });

  it('sends a poison record to _dead/ with its reason and writes its neighbours', async () => {
    const { prefix, handler, logs } = setup();
    const batch = records(300, 5);
    batch[2]!.dynamodb!.NewImage!.amount = { N: 'twelve' };
    assert.deepEqual(await handler({ Records: batch }), { batchItemFailures: [] });
    const id = encodeBatch(batch).id;
    const file = await getText(stack.s3, BUCKET, `${prefix}2026-01-02-03-04/${id}.json`);
    assert.deepEqual(
      file
        .trim()
        .split('\n')
        .map((l) => decodeLine(l).item.id!.S),
      ['k300', 'k301', 'k303', 'k304'],
    );
    const dead = (await getText(stack.s3, BUCKET, `${prefix}_dead/${id}.json`))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(dead.length, 1);
    assert.equal(dead[0].index, 2);
    assert.match(dead[0].reason, /attribute "amount": N value "twelve" is not a decimal number/);
    assert.deepEqual(dead[0].record, batch[2]);
    assert.equal(logs[0]!.dead, 1);
  });

  it('a batch of nothing but poison writes only its dead letters', async () => {
    const { prefix, handler } = setup();
    const batch = records(400, 2).map((r) => ({ ...r, eventName: 'UPSERT' as never }));
    assert.deepEqual(await handler({ Records: batch }), { batchItemFailures: [] });
    const keys = await listObjects(stack.s3, BUCKET, prefix);
    assert.deepEqual(keys, [`${prefix}_dead/${encodeBatch(batch).id}.json`]);
  });

  it('asks for a retry of the whole batch when S3 fails, and for nothing on an empty batch', async () => {
    const config = handlerConfig({ landing: `s3://no-such-bucket-${Date.now()}/landing/`, maxWriteSeconds: 5 });
    const handler = createStreamHandler(config, { s3: stack.s3, log: () => undefined });
    const batch = records(500, 3);
    assert.deepEqual(await handler({ Records: batch }), {
      batchItemFailures: [{ itemIdentifier: batch[0]!.dynamodb!.SequenceNumber }],
    });
    assert.deepEqual(await handler({ Records: [] }), { batchItemFailures: [] });
  });

  it('abandons the write when its deadline has passed, before writing the file', async () => {
    let calls = 0;
    // The first reading of the clock starts the write; every later one is past the deadline.
    const clock = () => (calls++ === 0 ? T0 : T0 + 21_000);
    const { prefix, handler, logs } = setup({ clock });
    const batch = records(600, 2);
    assert.deepEqual(await handler({ Records: batch }), {
      batchItemFailures: [{ itemIdentifier: batch[0]!.dynamodb!.SequenceNumber }],
    });
    assert.deepEqual(await listObjects(stack.s3, BUCKET, prefix), []);
    assert.match(logs[0]!.error!, /DeadlineExceeded: abandoned before reading the claim/);
  });

  it('honours a Lambda deadline shorter than maxWriteSeconds', async () => {
    const { prefix, handler } = setup();
    const batch = records(700, 2);
    const response = await handler({ Records: batch }, { getRemainingTimeInMillis: () => 400 });
    assert.equal(response.batchItemFailures.length, 1, 'less than the 500 ms margin left: nothing is attempted');
    assert.deepEqual(await listObjects(stack.s3, BUCKET, prefix), []);
  });

  it('gives different batches different names even with the same sequence range', () => {
    const a = encodeBatch(records(1, 3, 'shardA-'));
    const b = encodeBatch(records(1, 3, 'shardB-'));
    const a2 = encodeBatch(records(1, 3, 'shardA-'));
    assert.notEqual(a.id, b.id);
    assert.equal(a.id, a2.id);
    assert.notEqual(encodeBatch(records(1, 2)).id, encodeBatch(records(1, 3)).id);
  });
});

describe('handler configuration', () => {
  it('reads the landing and deadline from the environment', () => {
    const c = loadHandlerConfig({
      [HANDLER_ENV.landing]: 's3://my-bucket/landing/orders',
      [HANDLER_ENV.maxWriteSeconds]: '45',
    });
    assert.deepEqual(c, {
      landing: 's3://my-bucket/landing/orders',
      bucket: 'my-bucket',
      prefix: 'landing/orders/',
      maxWriteSeconds: 45,
    });
    assert.equal(loadHandlerConfig({ [HANDLER_ENV.landing]: 's3://my-bucket' }).prefix, '');
    assert.equal(loadHandlerConfig({ [HANDLER_ENV.landing]: 's3://my-bucket/' }).maxWriteSeconds, 30);
  });

  const bad: [NodeJS.ProcessEnv, RegExp][] = [
    [{}, /^DDB_LAKE_LANDING is not set$/],
    [{ DDB_LAKE_LANDING: '  ' }, /^DDB_LAKE_LANDING is not set$/],
    [{ DDB_LAKE_LANDING: 'my-bucket/landing' }, /^DDB_LAKE_LANDING=my-bucket\/landing is not an S3 location$/],
    [{ DDB_LAKE_LANDING: 's3://My_Bucket/x' }, /^DDB_LAKE_LANDING=s3:\/\/My_Bucket\/x is not an S3 location$/],
    [{ DDB_LAKE_LANDING: 's3://bucket/a//b/' }, /^DDB_LAKE_LANDING=.* is not an S3 location$/],
    [
      { DDB_LAKE_LANDING: 's3://bucket/x/', DDB_LAKE_MAX_WRITE_SECONDS: 'ten' },
      /^DDB_LAKE_MAX_WRITE_SECONDS=ten is not a whole number of seconds from 1 to 900$/,
    ],
    [{ DDB_LAKE_LANDING: 's3://bucket/x/', DDB_LAKE_MAX_WRITE_SECONDS: '0' }, /^DDB_LAKE_MAX_WRITE_SECONDS=0 /],
    [{ DDB_LAKE_LANDING: 's3://bucket/x/', DDB_LAKE_MAX_WRITE_SECONDS: '1.5' }, /^DDB_LAKE_MAX_WRITE_SECONDS=1.5 /],
  ];
  for (const [env, message] of bad)
    it(`names the variable: ${message.source}`, () => {
      assert.throws(
        () => loadHandlerConfig(env),
        (err: unknown) => isUserError(err) && message.test(err.message) && !!err.hint,
      );
    });

  it('fails the Lambda cold start with a message naming the variable', () => {
    const entry = join(REPO_ROOT, 'dist', 'lambda', 'index.js');
    const run = (env: NodeJS.ProcessEnv) =>
      spawnSync(process.execPath, ['--no-warnings', '-e', `require(${JSON.stringify(entry)}); console.log('loaded')`], {
        env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', ...env },
        encoding: 'utf8',
      });
    const failed = run({ DDB_LAKE_MAX_WRITE_SECONDS: '10' });
    assert.notEqual(failed.status, 0);
    assert.match(
      failed.stderr,
      /Error: stream handler configuration: DDB_LAKE_LANDING is not set; set DDB_LAKE_LANDING to the landing location/,
    );
    const wrong = run({ DDB_LAKE_LANDING: 's3://bkt/x/', DDB_LAKE_MAX_WRITE_SECONDS: '9999' });
    assert.match(wrong.stderr, /DDB_LAKE_MAX_WRITE_SECONDS=9999/);
    const ok = run({ DDB_LAKE_LANDING: 's3://bkt/x/' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), 'loaded');
  });

  it('minute folders are UTC minutes', () => {
    assert.equal(minuteFolder(T0), '2026-01-02-03-04');
    assert.equal(minuteFolder(Date.UTC(2026, 11, 31, 23, 59, 59, 999)), '2026-12-31-23-59');
  });
});
