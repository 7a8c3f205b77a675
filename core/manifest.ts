/**
 * The contract between the workflow's activities and the Glue jobs (docs/contracts.md): the run
 * manifest the activities write and the run summary the jobs write back. Defined once, here, in zod;
 * `npm run contracts` exports both as JSON Schema (core/contracts/*.schema.json), which the Python
 * side checks its reader and its summaries against (glue/tests/test_contracts.py). Rename a field on
 * one side and a test fails on the other.
 */
import { z } from 'zod';
import { ColumnTypesSchema, DerivedColumnSchema, type PipelineConfig } from './config';

const keyType = z.enum(['S', 'N', 'B']);

export const TableTypeSchema = z.enum(['COPY_ON_WRITE', 'MERGE_ON_READ']);

const jobKind = z.enum(['initialLoad', 'incremental', 'compaction']);

export const ManifestTableSchema = z
  .object({
    lakeLocation: z.string().min(1).describe('the Hudi table: s3://…, file://… or an absolute folder'),
    tableName: z.string().regex(/^[A-Za-z0-9_]{1,128}$/),
    keyFields: z.array(z.string().min(1)).min(1).max(2),
    orderingField: z.string().min(1).nullable().describe('null: order by stream position (docs/ordering.md)'),
    derivedColumns: z.array(DerivedColumnSchema),
    partitionFields: z.array(z.string().min(1)),
    types: ColumnTypesSchema,
    maxRejectedShare: z.number().min(0).max(1),
    glueDatabase: z.string().min(1).nullable(),
    keyTypes: z
      .record(z.string(), keyType)
      .optional()
      .describe("DynamoDB types of the key attributes, from the table's key schema"),
    tombstoneLocation: z
      .string()
      .min(1)
      .optional()
      .describe('where deleted keys are kept; default <lakeLocation>__tombstones'),
    tableType: TableTypeSchema.optional().describe(
      'initial load: the Hudi table type (absent: COPY_ON_WRITE); later runs follow the table (docs/table-types.md)',
    ),
    bucketCount: z.number().int().min(1).max(100000).optional().describe('initial load: buckets of the bucket index'),
    versionsLocation: z
      .string()
      .min(1)
      .optional()
      .describe('the recent versions of the ordering check; default <lakeLocation>__versions (docs/ordering.md)'),
    versionsRetentionHours: z.number().positive().optional().describe('how long recent versions are kept (default 24)'),
    autoClean: z.boolean().optional().describe('false: ingest never cleans old file versions (the workflow does)'),
  })
  .strict();

export const JobManifestSchema = z
  .object({
    version: z.literal(1),
    runKey: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/),
    pipeline: z.string().min(1),
    kind: jobKind,
    table: ManifestTableSchema,
    files: z.array(z.string().min(1)).describe('incremental: landing files, in any order'),
    export: z
      .object({ root: z.string().min(1), exportTimeMs: z.number().int() })
      .strict()
      .nullable()
      .describe('initial load: the export root and its point in time'),
    loadedExportTimeMs: z
      .number()
      .int()
      .optional()
      .describe('incremental: the point in time of the export the lake was loaded from; older lines are superseded'),
    rejectedLocation: z.string().describe('where rejected records go ("" for a compaction)'),
    summaryUri: z.string().min(1),
    compaction: z
      .object({
        maxIoMb: z
          .number()
          .int()
          .min(1)
          .describe('IO bound of one compaction: file groups with the most log data first'),
        compact: z.boolean().describe('false: clean only'),
        clean: z.boolean(),
        retainCommits: z.number().int().min(1).describe('commits whose file versions the cleaner keeps'),
      })
      .strict()
      .optional()
      .describe('compaction: what the run does (docs/table-types.md)'),
  })
  .strict();

const count = (description?: string) => {
  const n = z.number().int().min(0).optional();
  return description ? n.describe(description) : n;
};

export const JobSummarySchema = z
  .object({
    runKey: z.string().nullable().describe('null only when the job failed before it could read its arguments'),
    kind: jobKind,
    status: z.enum(['succeeded', 'failed']),
    recordsRead: z.number().int().min(0),
    upserted: z.number().int().min(0),
    deleted: z.number().int().min(0),
    rejected: z.number().int().min(0),
    superseded: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('versions dropped because a larger ordering value of the same key won (in the batch or a tombstone)'),
    overflowed: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('rows with a value that did not fit its column, kept in _ddb_lake_overflow (docs/types.md)'),
    durationSeconds: z.number().min(0),
    commitInstant: z.string().nullable(),
    startedAt: z.string(),
    finishedAt: z.string(),
    newColumns: z.array(z.string()).optional().describe('columns this run added to the table'),
    columns: z.number().int().optional().describe('initial load: columns of the table'),
    exportItems: z.number().int().optional().describe('initial load: items the export manifest announced'),
    rejectedUri: z.string().nullable().optional().describe('where the rejected records are (when rejected > 0)'),
    phases: z.record(z.string(), z.number()).optional().describe('seconds spent per phase of the run'),
    warnings: z.array(z.string()).optional(),
    // Ingest runs (docs/table-types.md).
    tableType: TableTypeSchema.optional(),
    index: z.string().optional().describe('the index the table uses, e.g. BUCKET(10) or GLOBAL_SIMPLE'),
    bytesWritten: z.number().int().min(0).optional(),
    // Incremental runs: the ordering check (docs/ordering.md) and what a compaction is due on.
    orderingCandidates: count('versions not above the high-water mark, checked against the recent versions'),
    versionsFilesRead: count('recent-versions files the check read'),
    orderingLakeLookups: count('candidates older than the recent versions, looked up in the lake'),
    tombstonesRead: z.boolean().optional().describe('the tombstone table was read (only for lake look-ups)'),
    tombstonesWritten: count('deletes moved from expiring recent versions into the tombstone table'),
    agedTombstones: count('tombstones written for deletes that aged out of the recent versions'),
    pendingCompactionsCompleted: z
      .array(z.string())
      .optional()
      .describe('instants of compaction plans a failed run had left, executed before writing'),
    deltaCommitsSinceCompaction: count('merge-on-read: delta commits since the last compaction'),
    logBytesSinceCompaction: count('merge-on-read: log bytes written since the last compaction'),
    // Compaction runs.
    compactionInstant: z.string().nullable().optional(),
    alreadyDone: z.boolean().optional().describe('an earlier attempt of this run had finished the work'),
    fileGroupsCompacted: count(),
    logFilesCompacted: count(),
    logBytesCompacted: count(),
    recordsWritten: count(),
    cleanInstant: z.string().nullable().optional(),
    filesCleaned: count(),
    error: z.string().optional().describe('status "failed": the error text'),
  })
  .strict();

export type ManifestTable = z.infer<typeof ManifestTableSchema>;
export type JobManifest = z.infer<typeof JobManifestSchema>;
export type JobSummary = z.infer<typeof JobSummarySchema>;

/** A summary as the runner read it (JSON from S3 or the job's log), checked against the contract. */
export function parseJobSummary(raw: unknown, source: string): JobSummary {
  const result = JobSummarySchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  throw new Error(`the job summary ${source} does not follow the contract (docs/contracts.md): ${problems}`);
}

export function manifestTable(config: PipelineConfig, keyFields: string[]): ManifestTable {
  return {
    lakeLocation: config.lake.location,
    tableName: config.lake.tableName ?? config.name,
    keyFields,
    orderingField: config.orderingField ?? null,
    derivedColumns: config.derivedColumns,
    partitionFields: config.partitionFields,
    types: config.types,
    maxRejectedShare: config.errors.maxRejectedShare,
    glueDatabase: config.lake.glueDatabase ?? null,
    tableType: config.lake.tableType,
    ...(config.lake.bucketCount !== undefined ? { bucketCount: config.lake.bucketCount } : {}),
    // The workflow schedules cleaning (and compaction) itself: docs/table-types.md.
    autoClean: false,
  };
}

/** The JSON Schema documents of the contract, as committed in core/contracts/ (`npm run contracts`). */
export function contractSchemas(): Record<string, unknown> {
  const schema = (id: string, type: z.ZodType) => ({
    $id: `ddb-lake/${id}`,
    ...z.toJSONSchema(type, { target: 'draft-2020-12', io: 'input' }),
  });
  return {
    'job-manifest.schema.json': schema('job-manifest', JobManifestSchema),
    'job-summary.schema.json': schema('job-summary', JobSummarySchema),
  };
}
