/**
 * Where each table lands: `<state>/esm/mappings.json` (`{ "<table>": "s3://bucket/prefix/" }`, landing
 * locations that differ from the default), the --landing option, the default; and its bucket.
 */
import { readFile } from 'node:fs/promises';
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import { UserError } from '../../core/errors';
import { handlerConfig } from '../../lambda/handler';

export const DEFAULT_LANDING_BUCKET = 'ddb-lake-local';

/** `s3://ddb-lake-local/landing/<table>/`: where a table lands unless mapped elsewhere. */
export function defaultLanding(table: string): string {
  return `s3://${DEFAULT_LANDING_BUCKET}/landing/${table}/`;
}

/**
 * Where a table lands: the --landing option, else mappings.json, else the default; with the name
 * of that setting for messages.
 */
export function tableLanding(
  table: string,
  from: { overrides?: Record<string, string>; mappings: Record<string, string>; esmDir: string },
): { landing: string; setting: string } {
  const override = from.overrides?.[table];
  if (override) return { landing: override, setting: `the landing of table ${table} (from the --landing option)` };
  const mapped = from.mappings[table];
  if (mapped) return { landing: mapped, setting: `the landing of table ${table} (from ${mappingsPath(from.esmDir)})` };
  return { landing: defaultLanding(table), setting: `the landing of table ${table}` };
}

export function mappingsPath(esmDir: string): string {
  return join(esmDir, 'mappings.json');
}

export async function readLandingMappings(esmDir: string): Promise<Record<string, string>> {
  const file = mappingsPath(esmDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UserError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UserError(
      `${file} is not valid JSON: ${(err as Error).message}`,
      'write it as {"<table>": "s3://bucket/prefix/"}',
    );
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new UserError(`${file} must be a JSON object`, 'write it as {"<table>": "s3://bucket/prefix/"}');
  const out: Record<string, string> = {};
  for (const [table, landing] of Object.entries(raw)) {
    if (typeof landing !== 'string')
      throw new UserError(
        `${file}: the landing of table ${table} must be a string`,
        'write it as {"<table>": "s3://bucket/prefix/"}',
      );
    handlerConfig(
      { landing, maxWriteSeconds: undefined },
      { landing: `${file}: the landing of table ${table}`, maxWriteSeconds: '' },
    );
    out[table] = landing;
  }
  return out;
}

/** Create a landing bucket unless it exists; true when it was created. */
export async function createBucketIfMissing(s3: S3Client, bucket: string, region: string): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return false;
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status !== 404 && (err as Error).name !== 'NotFound') throw err;
  }
  await s3.send(
    new CreateBucketCommand({
      Bucket: bucket,
      ...(region !== 'us-east-1' && { CreateBucketConfiguration: { LocationConstraint: region as never } }),
    }),
  );
  return true;
}
