import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { DescribeTableCommand, ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Exporter, ExportRequest, ExportState } from '../exporter';
import { isNotFound, readBody } from '../sdk/s3';

/**
 * The local stand-in for ExportTableToPointInTime: scans the (moto) table and writes exactly the
 * layout DynamoDB writes (moto's own export writes one file and no manifests):
 *
 *   <prefix>/AWSDynamoDB/<ms>-<8hex>/_started
 *   <prefix>/AWSDynamoDB/<ms>-<8hex>/data/<26 base32>.json.gz    DYNAMODB_JSON lines {"Item":{…}}
 *   <prefix>/AWSDynamoDB/<ms>-<8hex>/manifest-files.json          JSON lines: itemCount, md5Checksum, etag, dataFileS3Key
 *   <prefix>/AWSDynamoDB/<ms>-<8hex>/manifest-files.md5
 *   <prefix>/AWSDynamoDB/<ms>-<8hex>/manifest-summary.json
 *   <prefix>/AWSDynamoDB/<ms>-<8hex>/manifest-summary.md5
 *
 * The export time is the instant the scan starts (a scan is not a point-in-time snapshot: rows
 * changed during it may show the newer state, which the stream changes from that instant on repeat).
 * The export runs inside `start`; a second start with the same client token returns the same export.
 * Its bookkeeping (state per export, token → export) lives beside the export, under
 * `<prefix>/_ddb_lake_local_exports/`, outside the AWSDynamoDB folder.
 */
export class LocalExporter implements Exporter {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly s3: S3Client,
    private readonly options: { itemsPerFile?: number; now?: () => number } = {},
  ) {}

  async start(request: ExportRequest, progress?: (detail: string) => void): Promise<ExportState> {
    const tokenKey = join(request.prefix, BOOKKEEPING, `token-${sha256Hex(request.clientToken).slice(0, 40)}.json`);
    const known = await this.getJson<{ exportArn: string; tableArn: string }>(request.bucket, tokenKey);
    if (known) {
      if (known.tableArn !== request.tableArn)
        throw new Error(`client token ${request.clientToken} was already used for an export of ${known.tableArn}`);
      return this.describe(known.exportArn, request);
    }

    const now = this.options.now ?? Date.now;
    const exportTimeMs = now();
    const exportId = `${String(exportTimeMs).padStart(14, '0')}-${randomBytes(4).toString('hex')}`;
    const exportArn = `${request.tableArn}/export/${exportId}`;
    const root = join(request.prefix, 'AWSDynamoDB', exportId);
    const tableId =
      (await this.dynamodb.send(new DescribeTableCommand({ TableName: request.tableName }))).Table?.TableId ?? null;
    await this.put(request.bucket, `${root}/_started`, Buffer.alloc(0));

    const itemsPerFile = this.options.itemsPerFile ?? 100_000;
    const fileLines: string[] = [];
    let itemCount = 0;
    let billedSizeBytes = 0;
    let lines: string[] = [];
    const flush = async () => {
      const body = gzipSync(Buffer.from(lines.join('')));
      const key = `${root}/data/${randomBase32(26)}.json.gz`;
      const etag = await this.put(request.bucket, key, body);
      fileLines.push(
        JSON.stringify({ itemCount: lines.length, md5Checksum: md5Base64(body), etag, dataFileS3Key: key }),
      );
      lines = [];
    };
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.dynamodb.send(
        new ScanCommand({ TableName: request.tableName, ExclusiveStartKey: startKey, ConsistentRead: true }),
      );
      for (const item of page.Items ?? []) {
        const line = `${JSON.stringify({ Item: toDynamoDbJson(item) })}\n`;
        billedSizeBytes += Buffer.byteLength(line);
        lines.push(line);
        itemCount++;
        if (lines.length >= itemsPerFile) await flush();
      }
      startKey = page.LastEvaluatedKey;
      progress?.(`scanned ${itemCount} items`);
    } while (startKey);
    // DynamoDB writes at least one (possibly empty) data file.
    if (lines.length > 0 || fileLines.length === 0) await flush();

    const filesBody = Buffer.from(fileLines.map((l) => `${l}\n`).join(''));
    const manifestFilesKey = `${root}/manifest-files.json`;
    await this.put(request.bucket, manifestFilesKey, filesBody);
    await this.put(request.bucket, `${root}/manifest-files.md5`, Buffer.from(md5Base64(filesBody)));
    const endTimeMs = now();
    const summary = {
      version: '2020-06-30',
      exportArn,
      startTime: new Date(exportTimeMs).toISOString(),
      endTime: new Date(endTimeMs).toISOString(),
      tableArn: request.tableArn,
      tableId,
      exportTime: new Date(exportTimeMs).toISOString(),
      s3Bucket: request.bucket,
      s3Prefix: request.prefix || null,
      s3SseAlgorithm: 'AES256',
      s3SseKmsKeyId: null,
      manifestFilesS3Key: manifestFilesKey,
      billedSizeBytes,
      itemCount,
      outputFormat: 'DYNAMODB_JSON',
      exportType: 'FULL_EXPORT',
    };
    const summaryBody = Buffer.from(JSON.stringify(summary));
    await this.put(request.bucket, `${root}/manifest-summary.json`, summaryBody);
    await this.put(request.bucket, `${root}/manifest-summary.md5`, Buffer.from(md5Base64(summaryBody)));

    const state: ExportState = {
      exportArn,
      status: 'COMPLETED',
      tableArn: request.tableArn,
      exportTimeMs,
      startTimeMs: exportTimeMs,
      endTimeMs,
      bucket: request.bucket,
      prefix: request.prefix,
      manifestSummaryKey: `${root}/manifest-summary.json`,
      itemCount,
      failure: null,
    };
    await this.put(
      request.bucket,
      join(request.prefix, BOOKKEEPING, `${exportId}.json`),
      Buffer.from(JSON.stringify(state)),
    );
    // The token is recorded last: an export that died half-way is started afresh by a retry.
    await this.put(request.bucket, tokenKey, Buffer.from(JSON.stringify({ exportArn, tableArn: request.tableArn })));
    return state;
  }

  async describe(exportArn: string, location: { bucket: string; prefix: string }): Promise<ExportState> {
    const exportId = exportArn.split('/').pop()!;
    const state = await this.getJson<ExportState>(
      location.bucket,
      join(location.prefix, BOOKKEEPING, `${exportId}.json`),
    );
    if (!state) {
      const err = new Error(
        `export ${exportArn} is unknown to the local exporter (no record under s3://${location.bucket}/${join(location.prefix, BOOKKEEPING)}/)`,
      );
      err.name = 'ExportNotFoundException';
      throw err;
    }
    return state;
  }

  private async put(bucket: string, key: string, body: Buffer): Promise<string> {
    const out = await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    return (out.ETag ?? '').replace(/"/g, '');
  }

  private async getJson<T>(bucket: string, key: string): Promise<T | null> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return JSON.parse((await readBody(out.Body)).toString('utf8')) as T;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }
}

const BOOKKEEPING = '_ddb_lake_local_exports';

function join(prefix: string, ...parts: string[]): string {
  return [prefix.replace(/\/+$/, ''), ...parts].filter((p) => p.length > 0).join('/');
}

/** The export's DYNAMODB_JSON form of an item: AttributeValue JSON with binaries as base64. */
export function toDynamoDbJson(item: Record<string, AttributeValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) out[name] = attributeJson(value);
  return out;
}

function attributeJson(v: AttributeValue): unknown {
  if (v.S !== undefined) return { S: v.S };
  if (v.N !== undefined) return { N: v.N };
  if (v.BOOL !== undefined) return { BOOL: v.BOOL };
  if (v.NULL !== undefined) return { NULL: true };
  if (v.B !== undefined) return { B: Buffer.from(v.B).toString('base64') };
  if (v.SS !== undefined) return { SS: v.SS };
  if (v.NS !== undefined) return { NS: v.NS };
  if (v.BS !== undefined) return { BS: v.BS.map((b) => Buffer.from(b).toString('base64')) };
  if (v.M !== undefined) return { M: toDynamoDbJson(v.M) };
  if (v.L !== undefined) return { L: v.L.map(attributeJson) };
  throw new Error(`unsupported attribute value ${JSON.stringify(v)}`);
}

function md5Base64(body: Buffer): string {
  return createHash('md5').update(body).digest('base64');
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function randomBase32(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += BASE32[b & 31];
  return out;
}
