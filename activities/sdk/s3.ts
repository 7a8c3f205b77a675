import { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** An S3 error's code (`NoSuchKey`, `NoSuchBucket`, …) whatever the SDK wrapped it in. */
export function awsErrorName(err: unknown): string {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name ?? e?.Code ?? 'Error';
}

export function isNotFound(err: unknown): boolean {
  const name = awsErrorName(err);
  const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  return name === 'NoSuchKey' || name === 'NotFound' || status === 404;
}

export async function readBody(body: unknown): Promise<Buffer> {
  const b = body as { transformToByteArray?: () => Promise<Uint8Array> } | undefined;
  if (!b?.transformToByteArray) throw new Error('S3 response has no body');
  return Buffer.from(await b.transformToByteArray());
}

export interface AwsClients {
  s3: S3Client;
  dynamodb: DynamoDBClient;
}
