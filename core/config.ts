import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { JobsSchema } from './config-jobs';
import { LakeSchema } from './config-lake';
import { UserError } from './errors';
import { S3_URI_PATTERN } from './s3-uri';

/**
 * The pipeline config: one schema, validated at the edge (CLI `start`), with messages that say what
 * to fix. What the workflow receives is the parsed, defaulted, normalised object (`PipelineConfig`).
 * It never holds credentials: AWS access comes from the worker's environment.
 */

const s3Uri = z.string().regex(S3_URI_PATTERN, 'must be an S3 URI like s3://bucket/prefix/');

const attributeName = z.string().min(1, 'must be a non-empty attribute name').max(255);

export const DerivedColumnSchema = z
  .object({
    name: attributeName.describe('name of the new column'),
    from: attributeName.describe('attribute holding an ISO-8601 timestamp, e.g. create_at'),
    part: z.enum(['year', 'month', 'day', 'hour', 'minute', 'date']),
  })
  .strict();

/** A lake column type override; see docs/types.md. */
const columnType = z
  .string()
  .regex(
    /^(string|long|double|boolean|binary|decimal\(\d{1,2},\d{1,2}\))$/,
    'must be string, long, double, boolean, binary or decimal(p,s)',
  );

/** How DynamoDB values become lake column types (docs/types.md). */
export const ColumnTypesSchema = z
  .object({
    numbers: z
      .enum(['auto', 'decimal', 'string'])
      .default('auto')
      .describe('default rule for N attributes; docs/types.md'),
    columns: z.record(attributeName, columnType).default({}),
  })
  .strict();

export const PipelineConfigSchema = z
  .object({
    name: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9_-]{0,99}$/,
        'must be 1-100 characters of a-z, 0-9, "-" and "_", starting with a letter or digit',
      )
      .describe('pipeline name; also the Temporal workflow id'),
    table: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name (3-255 characters of A-Z a-z 0-9 _ - .)'),
    keyFields: z.array(attributeName).min(1).max(2).optional().describe("default: the table's key schema"),
    orderingField: attributeName
      .optional()
      .describe('attribute whose largest value wins (Hudi precombine); default: stream order'),
    derivedColumns: z.array(DerivedColumnSchema).default([]),
    partitionFields: z.array(attributeName).default([]),
    export: z
      .object({
        location: s3Uri.describe('where DynamoDB exports the table (s3://bucket/prefix/)'),
        existingExportArn: z
          .string()
          .regex(
            /^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]+\/export\/[A-Za-z0-9-]+$/,
            'must be a DynamoDB export ARN (arn:aws:dynamodb:<region>:<account>:table/<table>/export/<id>)',
          )
          .optional()
          .describe('adopt this export instead of starting one'),
        pollIntervalSeconds: z
          .number()
          .int()
          .min(1)
          .max(3600)
          .default(30)
          .describe('how often a running export is checked'),
      })
      .strict(),
    landing: z
      .object({
        location: s3Uri.describe('where the stream handler writes minute folders'),
        closeAfterSeconds: z
          .number()
          .int()
          .min(
            60,
            "must be at least 60: a minute folder receives files for 60 s plus the writer's deadline (docs/landing.md)",
          )
          .max(3600)
          .default(120)
          .describe(
            'a minute folder M is closed once M + closeAfterSeconds has passed (≥ 60 + writer deadline + clock skew)',
          ),
        sweepEveryCycles: z
          .number()
          .int()
          .min(1)
          .max(100000)
          .default(30)
          .describe('every N cycles, re-list recently closed folders for late files'),
        sweepMinutes: z
          .number()
          .int()
          .min(1)
          .max(10080)
          .default(60)
          .describe('how many minutes of closed folders a sweep re-lists'),
        onFailureDestination: z
          .string()
          .regex(
            /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/?$/,
            'must be a bucket, s3://<bucket>/ (Lambda writes its records under aws/lambda/ at the root of the bucket; no prefix)',
          )
          .optional()
          .describe(
            "AWS: the bucket of the stream Lambda's on-failure destination; a record there of a discarded batch of this table stalls the pipeline (docs/gaps.md)",
          ),
        expireAfterDays: z
          .number()
          .int()
          .min(1)
          .max(3650)
          .default(30)
          .describe(
            'AWS (deploy/): an S3 lifecycle rule deletes minute folders this many days old; longer than any pause or stall',
          ),
      })
      .strict(),
    lake: LakeSchema,
    jobs: JobsSchema,
    schedule: z
      .object({
        intervalSeconds: z.number().int().min(1).max(86400).default(10).describe('pause between incremental cycles'),
        maxFilesPerBatch: z
          .number()
          .int()
          .min(1)
          .max(100000)
          .default(5000)
          .describe('most landing files one incremental job takes'),
        continueAsNewAfterCycles: z
          .number()
          .int()
          .min(1)
          .max(10000)
          .default(200)
          .describe('start a fresh workflow history after this many cycles (state is carried over)'),
      })
      .strict()
      .default({ intervalSeconds: 10, maxFilesPerBatch: 5000, continueAsNewAfterCycles: 200 }),
    retry: z
      .object({
        maxAttempts: z
          .number()
          .int()
          .min(1)
          .max(100)
          .default(5)
          .describe('job attempts before the pipeline stalls and waits for `resume`'),
        initialIntervalSeconds: z.number().int().min(1).max(86400).default(10),
        maxIntervalSeconds: z.number().int().min(1).max(86400).default(300),
        backoffCoefficient: z.number().min(1).max(10).default(2),
      })
      .strict()
      .default({ maxAttempts: 5, initialIntervalSeconds: 10, maxIntervalSeconds: 300, backoffCoefficient: 2 }),
    types: ColumnTypesSchema.default({ numbers: 'auto', columns: {} }),
    errors: z
      .object({ maxRejectedShare: z.number().min(0).max(1).default(0.01) })
      .strict()
      .default({ maxRejectedShare: 0.01 }),
    alarms: z
      .object({
        lagSeconds: z
          .number()
          .int()
          .min(60)
          .max(86400)
          .default(900)
          .describe('AWS (deploy/): alarm when the oldest change not yet in the lake is older than this'),
        stalledMinutes: z
          .number()
          .int()
          .min(5)
          .max(1440)
          .default(15)
          .describe('AWS (deploy/): alarm when the pipeline has done no work for this long'),
      })
      .strict()
      .default({ lagSeconds: 900, stalledMinutes: 15 }),
  })
  .strict()
  .superRefine((c, ctx) => {
    const derived = new Set(c.derivedColumns.map((d) => d.name));
    if (c.keyFields && new Set(c.keyFields).size !== c.keyFields.length)
      ctx.addIssue({ code: 'custom', path: ['keyFields'], message: 'must not repeat a field' });
    for (const d of c.derivedColumns) {
      if (c.keyFields?.includes(d.name))
        ctx.addIssue({
          code: 'custom',
          path: ['derivedColumns'],
          message: `"${d.name}" is a key field; derived columns need new names`,
        });
    }
    if (c.orderingField && derived.has(c.orderingField))
      ctx.addIssue({
        code: 'custom',
        path: ['orderingField'],
        message: 'must be an attribute of the table, not a derived column',
      });
    if (derived.size !== c.derivedColumns.length)
      ctx.addIssue({ code: 'custom', path: ['derivedColumns'], message: 'two derived columns have the same name' });
    if (new Set(c.partitionFields).size !== c.partitionFields.length)
      ctx.addIssue({ code: 'custom', path: ['partitionFields'], message: 'must not repeat a field' });
    if (c.retry.maxIntervalSeconds < c.retry.initialIntervalSeconds)
      ctx.addIssue({
        code: 'custom',
        path: ['retry', 'maxIntervalSeconds'],
        message: 'must be at least retry.initialIntervalSeconds',
      });
    const exportAt = withTrailingSlash(c.export.location);
    const landingAt = withTrailingSlash(c.landing.location);
    if (landingAt.startsWith(exportAt) || exportAt.startsWith(landingAt))
      ctx.addIssue({
        code: 'custom',
        path: ['landing', 'location'],
        message: 'export.location and landing.location must not contain each other',
      });
  });

export type PipelineConfigInput = z.input<typeof PipelineConfigSchema>;
export type PipelineConfig = z.output<typeof PipelineConfigSchema>;

/**
 * Validate an already-parsed object. A relative local lake path resolves against `baseDir`: for a
 * config file, the folder holding the file (so `configs/transaction.json`'s `../.ddb-lake/lake/…`
 * is `<repo>/.ddb-lake/lake/…` wherever the CLI runs). The workflow only ever sees absolute URIs.
 */
export function parsePipelineConfig(raw: unknown, source = 'config', baseDir = process.cwd()): PipelineConfig {
  const result = PipelineConfigSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map(
      (i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${issueMessage(i)}`,
    );
    if (issues.length === 1)
      throw new UserError(`${source} is not a valid pipeline config: ${issues[0]}`, 'docs/config.md lists every field');
    const lines = issues.slice(0, 8).map((i) => `  - ${i}`);
    if (issues.length > 8) lines.push(`  - … and ${issues.length - 8} more`);
    throw new UserError(
      `${source} is not a valid pipeline config (${issues.length} problems):\n${lines.join('\n')}`,
      'fix the fields above; docs/config.md lists every field',
    );
  }
  const config = result.data;
  config.export.location = withTrailingSlash(config.export.location);
  config.landing.location = withTrailingSlash(config.landing.location);
  if (config.landing.onFailureDestination)
    config.landing.onFailureDestination = withTrailingSlash(config.landing.onFailureDestination);
  config.lake.location = normaliseLakeLocation(config.lake.location, baseDir);
  config.lake.tableName ??= config.name.replace(/-/g, '_');
  return config;
}

/** Read and validate a config file. */
export function loadPipelineConfig(file: string): PipelineConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(
      `cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      'pass the path of a pipeline config JSON file',
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UserError(
      `${file} is not valid JSON (${(err as Error).message.split('\n')[0]})`,
      'fix the JSON syntax at that position; docs/config.md shows a complete config',
    );
  }
  return parsePipelineConfig(raw, file, resolve(file, '..'));
}

function withTrailingSlash(uri: string): string {
  return uri.endsWith('/') ? uri : `${uri}/`;
}

/** A lake location as the config stores it: s3://… without a trailing slash, or a file:// URI. */
export function normaliseLakeLocation(location: string, baseDir = process.cwd()): string {
  if (/^s3:\/\//.test(location)) {
    if (!s3Uri.safeParse(location).success)
      throw new UserError(`lake location ${location} is not a valid S3 URI`, 'use s3://bucket/prefix/');
    return location.endsWith('/') ? location.slice(0, -1) : location;
  }
  if (location.startsWith('file://')) return location.replace(/\/$/, '');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location))
    throw new UserError(
      `lake location ${location} has an unsupported scheme`,
      'use s3://…, file://… or a local folder',
    );
  const abs = isAbsolute(location) ? location : resolve(baseDir, location);
  return pathToFileURL(abs).href.replace(/\/$/, '');
}

/** What a missing required field looks like, so the message shows what to add. */
const REQUIRED_EXAMPLES: Record<string, string> = {
  name: '"name": "transactions"',
  table: '"table": "Transaction"',
  export: '"export": { "location": "s3://my-bucket/export/Transaction/" }',
  'export.location': '"location": "s3://my-bucket/export/Transaction/"',
  landing: '"landing": { "location": "s3://my-bucket/landing/Transaction/" }',
  'landing.location': '"location": "s3://my-bucket/landing/Transaction/"',
  lake: '"lake": { "location": "s3://my-bucket/lake/transactions" }',
  'lake.location': '"location": "s3://my-bucket/lake/transactions" (or a local folder)',
};

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys')
    return `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}: remove them (docs/config.md lists every field)`;
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    const example = REQUIRED_EXAMPLES[issue.path.join('.')];
    return `is required (${issue.expected})${example ? `: add ${example}` : ''}`;
  }
  return issue.message;
}
