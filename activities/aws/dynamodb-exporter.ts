import {
  DescribeExportCommand,
  ExportTableToPointInTimeCommand,
  type DynamoDBClient,
  type ExportDescription,
} from '@aws-sdk/client-dynamodb';
import type { Exporter, ExportRequest, ExportState } from '../exporter';

/** AWS: ExportTableToPointInTime (idempotent by ClientToken) and DescribeExport. */
export class DynamoDbExporter implements Exporter {
  constructor(private readonly dynamodb: DynamoDBClient) {}

  async start(request: ExportRequest): Promise<ExportState> {
    const out = await this.dynamodb.send(
      new ExportTableToPointInTimeCommand({
        TableArn: request.tableArn,
        S3Bucket: request.bucket,
        S3Prefix: request.prefix || undefined,
        ClientToken: request.clientToken,
        ExportFormat: 'DYNAMODB_JSON',
        ExportType: 'FULL_EXPORT',
      }),
    );
    return fromDescription(out.ExportDescription!, request.bucket, request.prefix);
  }

  async describe(exportArn: string, location: { bucket: string; prefix: string }): Promise<ExportState> {
    const out = await this.dynamodb.send(new DescribeExportCommand({ ExportArn: exportArn }));
    return fromDescription(out.ExportDescription!, location.bucket, location.prefix);
  }
}

function fromDescription(d: ExportDescription, bucket: string, prefix: string): ExportState {
  return {
    exportArn: d.ExportArn!,
    status: d.ExportStatus ?? 'IN_PROGRESS',
    tableArn: d.TableArn ?? '',
    exportTimeMs: d.ExportTime?.getTime() ?? null,
    startTimeMs: d.StartTime?.getTime() ?? null,
    endTimeMs: d.EndTime?.getTime() ?? null,
    bucket: d.S3Bucket ?? bucket,
    prefix: d.S3Prefix ?? prefix,
    manifestSummaryKey: d.ExportManifest ?? null,
    itemCount: d.ItemCount ?? null,
    failure:
      d.FailureCode || d.FailureMessage
        ? `${d.FailureCode ?? 'export failed'}: ${d.FailureMessage ?? ''}`.trim()
        : null,
  };
}
