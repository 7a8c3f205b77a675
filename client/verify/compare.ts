/**
 * The comparison half of `ddb-lake verify`: python/lake_verify.py scans the table into Arrow, reads
 * the lake snapshot with hudi-rs and joins the two in DuckDB. This module hands it the request and
 * reads back its JSON result.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { hudiStorageOptions } from '../../core/aws';
import type { Environment } from '../../core/environment';
import { UserError } from '../../core/errors';
import { REPO_ROOT, toolchainPaths } from '../../core/toolchain';

export const LAKE_VERIFY_SCRIPT = join(REPO_ROOT, 'python', 'lake_verify.py');

export interface CompareRequest {
  table: string;
  /** s3://…, file://… or an absolute folder. */
  lake: string;
  keyFields: string[];
  derivedColumns: { name: string; from: string; part: string }[];
  /** Parallel Scan segments (threads). */
  segments: number;
  /** Rows listed per category in the result. */
  sample: number;
}

/** A table key as attribute → value (numbers and strings as the lake holds them). */
export type KeyValues = Record<string, unknown>;

/** What python/lake_verify.py prints; the `verify --json` document is built from it (docs/cli-json.md). */
export interface Comparison {
  equal: boolean;
  table: { name: string; items: number; segments: number; scanSeconds: number };
  lake: { location: string; commitInstant: string; runKey: string | null; rows: number; readSeconds: number };
  columns: { name: string; attribute: string | null; kind: string; type: string }[];
  missing: { count: number; sample: { key: KeyValues; reason?: string }[] };
  extra: { count: number; sample: { key: KeyValues }[] };
  differing: {
    count: number;
    byAttribute: Record<string, number>;
    sample: {
      key: KeyValues;
      attribute: string;
      column: string | null;
      table: unknown;
      lake: unknown;
      note?: string;
    }[];
  };
  duplicates: { count: number; rows: number; sample: { key: KeyValues; copies: number }[] };
  compareSeconds: number;
}

export async function compareTableWithLake(env: Environment, request: CompareRequest): Promise<Comparison> {
  const { python } = toolchainPaths();
  if (!existsSync(python))
    throw new UserError(`the Python toolchain is not installed (no ${python})`, 'run `ddb-lake setup`');
  const storageOptions = request.lake.startsWith('s3://') ? await hudiStorageOptions(env) : {};
  const aws =
    env.kind === 'local'
      ? { endpoint: env.aws.endpoint, region: env.aws.region, accessKeyId: 'moto', secretAccessKey: 'moto' }
      : { region: env.aws.region ?? null };
  const child = spawn(python, [LAKE_VERIFY_SCRIPT], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PYTHONUNBUFFERED: '1',
      PYTHONNOUSERSITE: '1',
      DDB_LAKE_VERIFY_REQUEST: JSON.stringify({ ...request, aws }),
      DDB_LAKE_STORAGE_OPTIONS: JSON.stringify(storageOptions),
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
  });
  if (code === 2) throw new UserError(stderr.trim().split('\n').pop() || 'the comparison failed', undefined, 2);
  if (code !== 0) throw new Error(`lake_verify.py exited with code ${code}:\n${stderr.trim()}`);
  return JSON.parse(stdout) as Comparison;
}
