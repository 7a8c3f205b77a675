/**
 * The landing-zone side of the chaos run: changes that reach the table but not its stream (moto's
 * `x-ddb-lake-fault: no-stream` header, stack/moto/moto_patches/ item 7), landed by hand — late in an
 * old minute folder, or next to lines the jobs cannot parse — and TTL-style removes (`ttl-remove`).
 */
import { DeleteItemCommand, DynamoDBClient, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { awsClientConfig } from '../../core/aws';
import { parseS3Uri } from '../../core/s3-uri';
import type { LocalEnvironment } from '../../core/environment';
import { encodeBatch } from '../../lambda/handler';
import { SeededRandom } from '../generate/random';
import {
  MicrosecondClock,
  randomTransactionValues,
  type Transaction,
  type TransactionKey,
} from '../generate/transaction-model';

/** The request header moto's fault patch reads (stack/moto/moto_patches/ item 7). */
export const FAULT_HEADER = 'x-ddb-lake-fault';
export type RequestFault = 'no-stream' | 'ttl-remove';

/** A DynamoDB client whose every request carries `x-ddb-lake-fault: <fault>`. */
export function faultDynamoDbClient(env: LocalEnvironment, fault: RequestFault): DynamoDBClient {
  const client = new DynamoDBClient(awsClientConfig(env));
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers[FAULT_HEADER] = fault;
      return next(args);
    },
    { step: 'build', name: 'ddbLakeFaultHeader' },
  );
  return client;
}

/** Items written to the table without a stream record, with what their stream records would have been. */
export interface HiddenChanges {
  items: Transaction[];
  records: DynamoDBRecord[];
}

/** Seed-driven fresh Transaction items (new keys nobody else writes). */
export class HiddenItemWriter {
  private readonly rng: SeededRandom;
  private readonly clock = new MicrosecondClock();
  private sequence = 0n;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly streamArn: string,
    seed: string,
  ) {
    this.rng = new SeededRandom(`chaos-hidden:${seed}`);
  }

  /** Write `count` items to the table with no stream record (8 at a time). */
  async write(count: number): Promise<HiddenChanges> {
    const items: Transaction[] = [];
    for (let i = 0; i < count; i++) {
      const at = this.clock.nowTimestamp();
      items.push({ ...randomTransactionValues(this.rng), create_at: at, update_at: at });
    }
    for (let i = 0; i < items.length; i += 8)
      await Promise.all(
        items
          .slice(i, i + 8)
          .map((item) => this.client.send(new PutItemCommand({ TableName: this.table, Item: marshall(item) }))),
      );
    return { items, records: items.map((item) => this.record(item)) };
  }

  /** What DynamoDB Streams would have carried for this insert (as the local poller hands it to Lambda). */
  private record(item: Transaction): DynamoDBRecord {
    // Sequence numbers of their own (fresh keys: no other change of these items to order against).
    this.sequence += 1n;
    return insertRecord(
      item,
      this.streamArn,
      `9${String(Date.now()).padStart(15, '0')}${String(this.sequence).padStart(8, '0')}`,
    );
  }
}

/** The stream record of an insert of `item`, as the local poller hands it to the Lambda handler. */
export function insertRecord(item: Transaction, streamArn: string, sequenceNumber: string): DynamoDBRecord {
  const image: Record<string, AttributeValue> = marshall(item);
  return {
    eventID: `insert-${sequenceNumber}`,
    eventName: 'INSERT',
    eventSource: 'aws:dynamodb',
    eventVersion: '1.1',
    awsRegion: 'us-east-1',
    eventSourceARN: streamArn,
    dynamodb: {
      Keys: { account: { S: item.account }, create_at: { S: item.create_at } },
      NewImage: image as never,
      SequenceNumber: sequenceNumber,
      ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
      SizeBytes: JSON.stringify(image).length,
    },
  };
}

/** Bad lines, by occurrence: each is rejected by the jobs' parser (`not JSON`, `not UTF-8`). */
export function badLine(kind: number, tag: string): Buffer {
  switch (kind % 3) {
    case 0:
      return Buffer.from(`{"account": "broken-${tag}",\n`);
    case 1:
      return Buffer.from(`{"account":"cut-${tag}","create_at":"2023-07-30T16:49:36.444736+0000","_op":"ins\n`);
    default:
      return Buffer.concat([
        Buffer.from(`{"account":"latin1-${tag}-`),
        Buffer.from([0xe9]),
        Buffer.from(
          '","create_at":"2023-07-30T16:49:36.444736+0000","_op":"insert","_seq":"2","_ts":1690735787000,"_ttl":false}\n',
        ),
      ]);
  }
}

/** Land a file by hand: `<landing>/<folder>/<batch id>.json`, named like the handler names a batch. */
export async function putLandingFile(
  s3: S3Client,
  landingUri: string,
  folder: string,
  records: DynamoDBRecord[],
  extra: Buffer[] = [],
): Promise<{ key: string; lines: number }> {
  const encoded = encodeBatch(records);
  if (encoded.dead.length)
    throw new Error(`could not encode ${encoded.dead.length} record(s): ${encoded.dead[0]!.reason}`);
  const { bucket, key } = parseS3Uri(landingUri);
  const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
  const objectKey = `${prefix}${folder}/${encoded.id}.json`;
  const body = Buffer.concat([Buffer.from(encoded.body), ...extra]);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: objectKey, Body: body }));
  return { key: objectKey, lines: encoded.lineCount + extra.length };
}

/** Delete items as DynamoDB's TTL process would (their REMOVE records carry the TTL identity). */
export async function ttlRemove(client: DynamoDBClient, table: string, key: TransactionKey): Promise<void> {
  await client.send(new DeleteItemCommand({ TableName: table, Key: marshall(key) }));
}
