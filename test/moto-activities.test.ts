/**
 * The local exporter, the table inspector, the landing lister and the manifest store against a
 * real moto server (on a free port).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchWriteItemCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { LocalExporter, toDynamoDbJson } from '../activities/local/local-exporter';
import { DynamoDbExporter } from '../activities/aws/dynamodb-exporter';
import { S3LandingLister } from '../activities/sdk/s3-landing-lister';
import { S3ManifestStore } from '../activities/sdk/s3-manifest-store';
import { SdkTableInspector } from '../activities/sdk/table-inspector';
import { readBody } from '../activities/sdk/s3';
import { exportRoot } from '../activities/exporter';
import { minuteFolder } from '../core/landing';
import { listedEnough } from '../core/planner';
import type { JobManifest } from '../core/manifest';
import { createBucket, createTransactionTable, startMoto, type Moto } from './support/moto';

const BUCKET = 'ddb-lake-local';
let moto: Moto;

before(async () => {
  moto = await startMoto();
  await createBucket(moto, BUCKET);
});
after(async () => {
  await moto?.stop();
});

async function getObject(key: string): Promise<Buffer> {
  const out = await moto.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return readBody(out.Body);
}

async function listKeys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const out = await moto.s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of out.Contents ?? []) keys.push(o.Key!);
    token = out.NextContinuationToken;
  } while (token);
  return keys;
}

function transaction(i: number): Record<string, AttributeValue> {
  const ts = new Date(Date.UTC(2023, 6, 30, 16, 49, 0) + i * 1234).toISOString().replace('Z', '000+0000');
  return {
    account: { S: `${String(100 + (i % 900)).padStart(3, '0')}-${String(i).padStart(3, '0')}-1164` },
    create_at: { S: ts },
    update_at: { S: ts },
    entity: { S: `Entity ${i}` },
    amount: { N: String(100 + i) },
    is_credit: { N: String(i % 2) },
    note: { S: `note ${i}` },
    ...(i % 50 === 0
      ? {
          raw: { B: Buffer.from([i % 256, 1, 2]) },
          tags: { SS: ['a', `t${i}`] },
          meta: { M: { n: { N: '1.50' }, l: { L: [{ S: 'x' }, { NULL: true }, { BOOL: false }] } } },
        }
      : {}),
  };
}

async function putItems(table: string, n: number): Promise<void> {
  for (let start = 0; start < n; start += 25) {
    const batch = [];
    for (let i = start; i < Math.min(n, start + 25); i++) batch.push({ PutRequest: { Item: transaction(i) } });
    await moto.dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [table]: batch } }));
  }
}

describe('local exporter (moto)', () => {
  test('writes the AWS export layout with exact counts, checksums and items; idempotent by client token', async () => {
    const tableArn = await createTransactionTable(moto, { name: 'ExportMe' });
    await putItems('ExportMe', 230);
    const exporter = new LocalExporter(moto.dynamodb, moto.s3, { itemsPerFile: 100 });
    const before = Date.now();
    const progress: string[] = [];
    const state = await exporter.start(
      { tableArn, tableName: 'ExportMe', bucket: BUCKET, prefix: 'export/ExportMe', clientToken: 'token-1' },
      (d) => progress.push(d),
    );
    assert.equal(state.status, 'COMPLETED');
    assert.equal(state.itemCount, 230);
    assert.ok(state.exportTimeMs! >= before && state.exportTimeMs! <= state.endTimeMs!);
    assert.ok(progress.length >= 1);
    const exportId = state.exportArn.split('/').pop()!;
    assert.match(exportId, /^\d{14}-[0-9a-f]{8}$/);
    assert.equal(Number(exportId.slice(0, 14)), state.exportTimeMs, 'the export id carries the export time');
    assert.equal(state.exportArn, `${tableArn}/export/${exportId}`);
    const root = `export/ExportMe/AWSDynamoDB/${exportId}`;
    assert.equal(exportRoot(state), `s3://${BUCKET}/${root}/`);

    const keys = await listKeys(`${root}/`);
    const dataKeys = keys.filter((k) => k.startsWith(`${root}/data/`));
    assert.deepEqual(keys.filter((k) => !k.startsWith(`${root}/data/`)).sort(), [
      `${root}/_started`,
      `${root}/manifest-files.json`,
      `${root}/manifest-files.md5`,
      `${root}/manifest-summary.json`,
      `${root}/manifest-summary.md5`,
    ]);
    assert.equal(dataKeys.length, 3, '230 items at 100 per file');
    for (const k of dataKeys) assert.match(k, /\/data\/[a-z2-7]{26}\.json\.gz$/);

    const summaryBody = await getObject(`${root}/manifest-summary.json`);
    const summary = JSON.parse(summaryBody.toString());
    assert.equal(summary.version, '2020-06-30');
    assert.equal(summary.exportArn, state.exportArn);
    assert.equal(summary.tableArn, tableArn);
    assert.equal(summary.itemCount, 230);
    assert.equal(summary.outputFormat, 'DYNAMODB_JSON');
    assert.equal(summary.s3Bucket, BUCKET);
    assert.equal(summary.s3Prefix, 'export/ExportMe');
    assert.equal(summary.manifestFilesS3Key, `${root}/manifest-files.json`);
    assert.equal(summary.exportTime, new Date(state.exportTimeMs!).toISOString());
    assert.equal(
      (await getObject(`${root}/manifest-summary.md5`)).toString(),
      createHash('md5').update(summaryBody).digest('base64'),
    );

    const filesBody = await getObject(`${root}/manifest-files.json`);
    assert.equal(
      (await getObject(`${root}/manifest-files.md5`)).toString(),
      createHash('md5').update(filesBody).digest('base64'),
    );
    const entries = filesBody
      .toString()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(Object.keys(entries[0]), ['itemCount', 'md5Checksum', 'etag', 'dataFileS3Key']);
    assert.deepEqual(entries.map((e) => e.dataFileS3Key).sort(), [...dataKeys].sort());
    assert.equal(
      entries.reduce((n, e) => n + e.itemCount, 0),
      230,
    );

    const exported = new Map<string, unknown>();
    for (const e of entries) {
      const gz = await getObject(e.dataFileS3Key);
      assert.equal(e.md5Checksum, createHash('md5').update(gz).digest('base64'));
      assert.equal(e.etag, createHash('md5').update(gz).digest('hex'), 'etag of a single-part upload is its MD5');
      const lines = gunzipSync(gz).toString().split('\n').filter(Boolean);
      assert.equal(lines.length, e.itemCount);
      for (const line of lines) {
        const { Item } = JSON.parse(line);
        exported.set(`${Item.account.S}|${Item.create_at.S}`, Item);
      }
    }
    // Every item, exactly as DynamoDB has it (binaries as base64).
    const scan = await moto.dynamodb.send(new ScanCommand({ TableName: 'ExportMe' }));
    assert.equal(exported.size, 230);
    for (const item of scan.Items!)
      assert.deepEqual(exported.get(`${item.account!.S}|${item.create_at!.S}`), toDynamoDbJson(item));
    const withTypes = [...exported.values()].find((i) => (i as { raw?: unknown }).raw) as Record<string, unknown>;
    assert.deepEqual(withTypes.raw, { B: Buffer.from([0, 1, 2]).toString('base64') });
    assert.deepEqual(withTypes.meta, {
      M: { n: { N: '1.50' }, l: { L: [{ S: 'x' }, { NULL: true }, { BOOL: false }] } },
    });

    // Same token: the same export, nothing new written. Another token: a new export.
    const again = await exporter.start({
      tableArn,
      tableName: 'ExportMe',
      bucket: BUCKET,
      prefix: 'export/ExportMe',
      clientToken: 'token-1',
    });
    assert.deepEqual(again, state);
    assert.equal((await listKeys('export/ExportMe/AWSDynamoDB/')).length, keys.length);
    assert.deepEqual(await exporter.describe(state.exportArn, { bucket: BUCKET, prefix: 'export/ExportMe' }), state);
    const other = await exporter.start({
      tableArn,
      tableName: 'ExportMe',
      bucket: BUCKET,
      prefix: 'export/ExportMe',
      clientToken: 'token-2',
    });
    assert.notEqual(other.exportArn, state.exportArn);
    await assert.rejects(
      exporter.describe(`${tableArn}/export/01234567890123-deadbeef`, { bucket: BUCKET, prefix: 'export/ExportMe' }),
      /unknown to the local exporter/,
    );
  });

  test('an empty table exports one empty data file, like DynamoDB', async () => {
    const tableArn = await createTransactionTable(moto, { name: 'EmptyOne' });
    const state = await new LocalExporter(moto.dynamodb, moto.s3).start({
      tableArn,
      tableName: 'EmptyOne',
      bucket: BUCKET,
      prefix: '',
      clientToken: 't',
    });
    assert.equal(state.itemCount, 0);
    const root = state.manifestSummaryKey!.replace(/manifest-summary\.json$/, '');
    assert.match(root, /^AWSDynamoDB\/\d{14}-[0-9a-f]{8}\/$/);
    const entries = (await getObject(`${root}manifest-files.json`))
      .toString()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(entries.length, 1);
    assert.equal(entries[0].itemCount, 0);
    assert.equal(gunzipSync(await getObject(entries[0].dataFileS3Key)).length, 0);
  });
});

describe("AWS exporter (against moto's own ExportTableToPointInTime)", () => {
  test('starts an export and follows it to COMPLETED through DescribeExport', async () => {
    // The calls and the mapping; the client token, the ARN and the layout: test/moto-aws-runners.test.ts.
    const tableArn = await createTransactionTable(moto, { name: 'AwsExport' });
    await putItems('AwsExport', 7);
    const exporter = new DynamoDbExporter(moto.dynamodb);
    const started = await exporter.start({
      tableArn,
      tableName: 'AwsExport',
      bucket: BUCKET,
      prefix: 'export/AwsExport',
      clientToken: 'aws-token-1',
    });
    assert.ok(['IN_PROGRESS', 'COMPLETED'].includes(started.status));
    assert.equal(started.bucket, BUCKET);
    let state = started;
    for (let i = 0; i < 50 && state.status === 'IN_PROGRESS'; i++) {
      await sleep(100);
      state = await exporter.describe(started.exportArn, { bucket: BUCKET, prefix: 'export/AwsExport' });
    }
    assert.equal(state.status, 'COMPLETED');
    assert.equal(state.itemCount, 7);
    assert.equal(state.failure, null);
  });
});

describe('table inspector (moto)', () => {
  test('reports key schema, PITR, stream view type, missing tables and buckets', async () => {
    const inspector = new SdkTableInspector(moto.dynamodb, moto.s3);
    const arn = await createTransactionTable(moto, { name: 'Inspected', pitr: true, stream: 'NEW_IMAGE' });
    const t = await inspector.describeTable('Inspected');
    assert.equal(t!.tableArn, arn);
    assert.deepEqual(t!.keySchema, [
      { attributeName: 'account', keyType: 'HASH' },
      { attributeName: 'create_at', keyType: 'RANGE' },
    ]);
    assert.equal(t!.pointInTimeRecovery, true);
    assert.equal(t!.streamViewType, 'NEW_IMAGE');
    assert.ok(t!.streamArn);

    await createTransactionTable(moto, { name: 'Bare', pitr: false, stream: null });
    const bare = await inspector.describeTable('Bare');
    assert.equal(bare!.pointInTimeRecovery, false);
    assert.equal(bare!.streamViewType, null);

    assert.equal(await inspector.describeTable('NoSuchTable'), null);
    assert.equal(await inspector.bucketProblem(`s3://${BUCKET}/x/`), null);
    assert.match(
      (await inspector.bucketProblem('s3://no-such-bucket-here/x/'))!,
      /bucket no-such-bucket-here does not exist/,
    );
  });
});

describe('landing lister and manifest store (moto)', () => {
  test('lists minute folders after the watermark in order, stops at reserved folders, pages and stops early', async () => {
    const prefix = 'landing/Listed/';
    const base = Date.UTC(2026, 10, 27, 11, 0, 0);
    const folders = [0, 1, 2, 5].map((m) => minuteFolder(base + m * 60_000));
    const puts: Promise<unknown>[] = [];
    for (const [i, folder] of folders.entries())
      for (let j = 0; j < (i === 2 ? 1100 : 3); j++)
        puts.push(
          moto.s3.send(
            new PutObjectCommand({
              Bucket: BUCKET,
              Key: `${prefix}${folder}/shardId-${j}_${i}_${j}.json`,
              Body: '{}\n',
            }),
          ),
        );
    for (const k of [
      '_manifests/listed/x.json',
      '_batches/shardId-1/1_2',
      '_rejected/r/x.json',
      `${folders[0]}/tmp.partial`,
    ])
      puts.push(moto.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}${k}`, Body: 'x' })));
    for (let i = 0; i < puts.length; i += 100) await Promise.all(puts.slice(i, i + 100));

    const lister = new S3LandingLister(moto.s3);
    const all = await lister.list(`s3://${BUCKET}/${prefix}`, folders[0]!, () => false);
    assert.equal(all.complete, true);
    assert.deepEqual([...new Set(all.files.map((f) => f.folder))], folders.slice(1));
    assert.equal(all.files.length, 3 + 1100 + 3);
    assert.ok(all.files.every((f) => f.lastModifiedMs > 0 && f.size === 3));

    const w = { closedThrough: folders[0]!, open: {}, sweptAtMs: null, lateTaken: {} };
    const some = await lister.list(`s3://${BUCKET}/${prefix}`, folders[0]!, (files) =>
      listedEnough(w, files, { sweep: false, closeAfterMs: 120_000, maxFiles: 2 }),
    );
    assert.equal(some.complete, false);
    assert.deepEqual([...new Set(some.files.map((f) => f.folder))], [folders[1]], 'the cut folder is dropped');
  });

  test('writes manifests and reads them back by digest; reads run summaries', async () => {
    const store = new S3ManifestStore(moto.s3);
    const uri = `s3://${BUCKET}/landing/T/_manifests/t/t-00000000-inc-000001-a1.json`;
    const manifest = {
      version: 1,
      runKey: 't-00000000-inc-000001-a1',
      files: ['s3://x/y.json'],
    } as unknown as JobManifest;
    const digest = await store.write(uri, manifest);
    assert.equal(await store.digest(uri), digest);
    assert.equal(await store.digest(`${uri}.missing`), null);
    assert.deepEqual(
      JSON.parse((await getObject('landing/T/_manifests/t/t-00000000-inc-000001-a1.json')).toString()),
      manifest,
    );
    assert.equal(await store.readSummary(`s3://${BUCKET}/landing/T/_manifests/t/none.summary.json`), null);
  });
});
