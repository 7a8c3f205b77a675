/**
 * The `lake` section of the pipeline config (core/config.ts): where the Hudi table is, its type, and
 * the maintenance the workflow schedules for it (docs/table-types.md).
 */
import { z } from 'zod';

/** A lake location: an S3 URI, a file:// URI or a local path (made absolute at the edge). */
const lakeLocation = z.string().min(1, 'must be an S3 URI, a file:// URI or a local folder');

export const TABLE_TYPES = ['COPY_ON_WRITE', 'MERGE_ON_READ'] as const;

const MAINTENANCE_DEFAULTS = {
  compactAfterDeltaCommits: 10,
  compactAfterLogMb: 256,
  compactMaxIoMb: 512,
  cleanAfterCommits: 10,
  retainCommits: 10,
};

const maintenance = z
  .object({
    compactAfterDeltaCommits: z
      .number()
      .int()
      .min(1)
      .max(10000)
      .default(MAINTENANCE_DEFAULTS.compactAfterDeltaCommits)
      .describe('merge-on-read: compact once this many delta commits landed since the last compaction'),
    compactAfterLogMb: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(MAINTENANCE_DEFAULTS.compactAfterLogMb)
      .describe('merge-on-read: …or once the log files written since then pass this many MB'),
    compactMaxIoMb: z
      .number()
      .int()
      .min(1)
      .max(10_000_000)
      .default(MAINTENANCE_DEFAULTS.compactMaxIoMb)
      .describe('IO bound of one compaction (file groups with the most log data first): keeps it short'),
    cleanAfterCommits: z
      .number()
      .int()
      .min(1)
      .max(10000)
      .default(MAINTENANCE_DEFAULTS.cleanAfterCommits)
      .describe(
        'copy-on-write: clean old file versions after this many commits (merge-on-read cleans with each compaction)',
      ),
    retainCommits: z
      .number()
      .int()
      .min(1)
      .max(10000)
      .default(MAINTENANCE_DEFAULTS.retainCommits)
      .describe('commits whose file versions the cleaner keeps (readers of older snapshots need them)'),
  })
  .strict()
  .default(MAINTENANCE_DEFAULTS);

export const LakeSchema = z
  .object({
    location: lakeLocation,
    tableName: z
      .string()
      .regex(/^[A-Za-z0-9_]{1,128}$/, 'must be letters, digits and _')
      .optional(),
    glueDatabase: z.string().min(1).optional().describe('AWS: sync the table into this Glue Data Catalog database'),
    tableType: z
      .enum(TABLE_TYPES)
      .default('MERGE_ON_READ')
      .describe('the Hudi table type a new lake gets (an existing table keeps its own until a reload)'),
    bucketCount: z
      .number()
      .int()
      .min(1)
      .max(100000)
      .optional()
      .describe('buckets of the bucket index; default one per million rows of the export (fixed until a reload)'),
    maintenance,
  })
  .strict();
