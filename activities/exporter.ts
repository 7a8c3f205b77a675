/**
 * DynamoDB Export to S3. AWS: activities/aws/dynamodb-exporter.ts (ExportTableToPointInTime).
 * Local: activities/local/local-exporter.ts (scans the moto table, writes the same layout).
 */
export type ExportStatus = 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';

export interface ExportRequest {
  tableArn: string;
  tableName: string;
  bucket: string;
  /** Key prefix without a trailing slash ('' for the bucket root). */
  prefix: string;
  /** Starting twice with the same token returns the export the first start began. */
  clientToken: string;
}

export interface ExportState {
  exportArn: string;
  status: ExportStatus;
  tableArn: string;
  /** The point in time the export reflects (epoch ms). */
  exportTimeMs: number | null;
  startTimeMs: number | null;
  endTimeMs: number | null;
  bucket: string;
  prefix: string;
  /** Key of manifest-summary.json once the export completed. */
  manifestSummaryKey: string | null;
  itemCount: number | null;
  failure: string | null;
}

export interface Exporter {
  /** Start an export (or return the one already started with this client token). */
  start(request: ExportRequest, progress?: (detail: string) => void): Promise<ExportState>;
  /** Current state of an export; `location` is where it was asked to write (the local exporter needs it). */
  describe(exportArn: string, location: { bucket: string; prefix: string }): Promise<ExportState>;
}

/** `s3://bucket/<prefix>/AWSDynamoDB/<id>/` — the folder holding the export's manifests and data. */
export function exportRoot(state: ExportState): string | null {
  if (!state.manifestSummaryKey) return null;
  const key = state.manifestSummaryKey.replace(/manifest-summary\.json$/, '');
  return `s3://${state.bucket}/${key}`;
}
