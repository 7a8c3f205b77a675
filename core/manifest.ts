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
