/**
 * Throughput of the stream handler on a 1,000-record batch: encoding (CPU only) and writing the
 * batch to S3 (claim lookup, claim, file) against moto, measured separately, then end to end.
 *
 *   node bin/ddb-lake.js up && npm run bench:handler
 *
 * Uses the running local stack's moto (the one `DDB_LAKE_STATE` names): start it first with `ddb-lake up`.
 */
import './no-sdk-notice';
import { describeError } from '../core/errors';
import type { DynamoDBRecord } from 'aws-lambda';
import { toLambdaItem } from '../lambda/attribute-value';
import { createStreamHandler, encodeBatch, handlerConfig, landBatch } from '../lambda/handler';
import { ensureBucket, testStack } from '../test/stream/support';
import { rng, transaction } from '../test/stream/transactions';

const RECORDS = 1000;
const BUCKET = 'ddb-lake-bench';
const ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/bench/stream/2026-01-01T00:00:00.000';

function transactionBatch(offset: number): DynamoDBRecord[] {
  const random = rng(offset + 1);
  return Array.from({ length: RECORDS }, (_, i) => {
    const n = offset + i;
    const image = toLambdaItem(transaction(n, random));
    return {
      eventID: `bench-${n}`,
      eventName: i % 10 === 0 ? 'MODIFY' : 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: ARN,
      dynamodb: {
        ApproximateCreationDateTime: 1767323045,
        SequenceNumber: String(4_000_000_000_000_000_000_000n + BigInt(n)),
        Keys: { account: image.account!, create_at: image.create_at! },
        NewImage: image,
        SizeBytes: 250,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    };
  });
}

function allTypesBatch(offset: number): DynamoDBRecord[] {
  return transactionBatch(offset).map((r, i) => {
    r.dynamodb!.NewImage = {
      ...r.dynamodb!.NewImage!,
      big: { N: '12345678901234567890123456789012345678' },
      small: { N: '.5' },
      bin: { B: Buffer.from(`payload-${i}`).toString('base64') },
      tags: { SS: ['a', 'b', 'c'] },
      scores: { NS: ['1', '2.5', '1E+10'] },
      blobs: { BS: ['AAE=', 'AgM='] },
      meta: { M: { source: { S: 'bench' }, flags: { L: [{ BOOL: true }, { NULL: true }, { B: 'BA==' }] } } },
    };
    return r;
  });
}

function perSecond(records: number, ms: number): string {
  return `${Math.round((records / ms) * 1000).toLocaleString('en-US')} records/s`;
}

async function main(): Promise<void> {
  // Encoding: CPU only.
  for (const [name, make] of [
    ['transactions (brief model)', transactionBatch],
    ['all types (sets, binary, maps, lists, 38-digit numbers)', allTypesBatch],
  ] as const) {
    const batches = Array.from({ length: 30 }, (_, i) => make(i * RECORDS));
    for (let i = 0; i < 5; i++) encodeBatch(batches[i]!); // warm-up
    const t0 = performance.now();
    let bytes = 0;
    for (const b of batches) bytes += encodeBatch(b).body.length;
    const ms = performance.now() - t0;
    console.log(
      `encode  ${name}: ${batches.length} × ${RECORDS} records in ${ms.toFixed(1)} ms → ${perSecond(batches.length * RECORDS, ms)}, ${(((bytes / ms) * 1000) / 1e6).toFixed(1)} MB/s (${(bytes / batches.length / 1024).toFixed(0)} KiB per batch file)`,
    );
  }

  const stack = await testStack(); // the running stack (`ddb-lake up`)
  try {
    await ensureBucket(stack.s3, BUCKET);
    const config = handlerConfig({ landing: `s3://${BUCKET}/bench-${Date.now()}/`, maxWriteSeconds: 30 });
    const deps = { s3: stack.s3, log: () => undefined };
    console.log(`moto: ${stack.env.aws.endpoint}`);

    // Writing: pre-encoded batches, each a new batch (claim miss, claim put, file put).
    const encoded = Array.from({ length: 12 }, (_, i) => encodeBatch(transactionBatch(1_000_000 + i * RECORDS)));
    await landBatch(encoded[0]!, config, deps); // warm-up (connection, bucket)
    const writes: number[] = [];
    for (const b of encoded.slice(1)) {
      const t0 = performance.now();
      await landBatch(b, config, deps);
      writes.push(performance.now() - t0);
    }
    const writeMs = writes.reduce((a, b) => a + b, 0);
    writes.sort((a, b) => a - b);
    console.log(
      `write   ${writes.length} batches of ${RECORDS} to moto S3: median ${writes[writes.length >> 1]!.toFixed(1)} ms per batch → ${perSecond(writes.length * RECORDS, writeMs)}`,
    );

    // Retried batch: claim found, file found, nothing written.
    const t1 = performance.now();
    for (const b of encoded.slice(1)) await landBatch(b, config, deps);
    console.log(
      `retry   ${writes.length} already-landed batches: ${((performance.now() - t1) / writes.length).toFixed(1)} ms per batch`,
    );

    // End to end through the handler (encode + write).
    const handler = createStreamHandler(config, deps);
    const events = Array.from({ length: 10 }, (_, i) => ({ Records: transactionBatch(2_000_000 + i * RECORDS) }));
    const t2 = performance.now();
    for (const e of events) {
      const r = await handler(e);
      if (r.batchItemFailures.length) throw new Error('a bench batch failed');
    }
    const e2e = performance.now() - t2;
    console.log(
      `handler ${events.length} batches of ${RECORDS} end to end: ${(e2e / events.length).toFixed(1)} ms per batch → ${perSecond(events.length * RECORDS, e2e)}`,
    );
  } finally {
    await stack.close();
  }
}

main().catch((err) => {
  console.error(`bench/handler-throughput: ${describeError(err)}`);
  process.exit(1);
});
