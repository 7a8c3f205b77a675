import type { PipelineConfig } from './config';

/** A job run's manifest; the format is documented in docs/contracts.md. */
export interface JobManifest {
  version: 1;
  runKey: string;
  pipeline: string;
  kind: 'initialLoad' | 'incremental';
  table: ManifestTable;
  files: string[];
  export: { root: string; exportTimeMs: number } | null;
  /**
   * Incremental: the point in time of the export the lake was (last) loaded from. Landing lines
   * older than its second are in the export already and are not applied (docs/ordering.md).
   */
  loadedExportTimeMs?: number;
  rejectedLocation: string;
  summaryUri: string;
}

export interface ManifestTable {
  lakeLocation: string;
  tableName: string;
  keyFields: string[];
  orderingField: string | null;
  derivedColumns: PipelineConfig['derivedColumns'];
  partitionFields: string[];
  types: PipelineConfig['types'];
  maxRejectedShare: number;
  glueDatabase: string | null;
  /** DynamoDB types of the key attributes (S | N | B), from the table's key schema; optional. */
  keyTypes?: Record<string, 'S' | 'N' | 'B'>;
  /** Where the incremental job keeps deleted keys; default `<lakeLocation>__tombstones`. */
  tombstoneLocation?: string;
}

/** A job run's summary (docs/contracts.md). */
export interface JobSummary {
  runKey: string;
  kind: 'initialLoad' | 'incremental';
  status: 'succeeded' | 'failed';
  recordsRead: number;
  upserted: number;
  deleted: number;
  rejected: number;
  durationSeconds: number;
  commitInstant: string | null;
  startedAt: string;
  finishedAt: string;
  /** Versions dropped because a larger ordering value of the same key won (in the batch or a tombstone). */
  superseded?: number;
  /** Rows with a value that did not fit its column, kept in `_ddb_lake_overflow` (docs/types.md). */
  overflowed?: number;
  /** Columns this run added to the table. */
  newColumns?: string[];
  /** Where this run's rejected records are (set when `rejected` > 0). */
  rejectedUri?: string | null;
  /** status "failed": the error text (the Python exception's message). */
  error?: string;
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
  };
}
