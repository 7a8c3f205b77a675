import { DescribeContinuousBackupsCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseS3Uri } from '../../core/s3-uri';
import type { TableDescription, TableInspector } from '../table-inspector';
import { awsErrorName } from './s3';

/** DescribeTable + DescribeContinuousBackups + HeadBucket; the same calls against AWS and moto. */
export class SdkTableInspector implements TableInspector {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly s3: S3Client,
  ) {}

  async describeTable(table: string): Promise<TableDescription | null> {
    let t;
    try {
      t = (await this.dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table;
    } catch (err) {
      if (awsErrorName(err) === 'ResourceNotFoundException') return null;
      throw err;
    }
    if (!t) return null;
    let pitr = false;
    try {
      const backups = await this.dynamodb.send(new DescribeContinuousBackupsCommand({ TableName: table }));
      pitr =
        backups.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus === 'ENABLED';
    } catch (err) {
      if (awsErrorName(err) !== 'TableNotFoundException') throw err;
    }
    const stream = t.StreamSpecification;
    return {
      tableName: t.TableName!,
      tableArn: t.TableArn!,
      status: t.TableStatus ?? 'UNKNOWN',
      keySchema: (t.KeySchema ?? []).map((k) => ({
        attributeName: k.AttributeName!,
        keyType: k.KeyType as 'HASH' | 'RANGE',
      })),
      streamViewType: stream?.StreamEnabled ? (stream.StreamViewType ?? null) : null,
      streamArn: stream?.StreamEnabled ? (t.LatestStreamArn ?? null) : null,
      pointInTimeRecovery: pitr,
    };
  }

  async bucketProblem(uri: string): Promise<string | null> {
    const { bucket } = parseS3Uri(uri);
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: bucket }));
      return null;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || awsErrorName(err) === 'NotFound' || awsErrorName(err) === 'NoSuchBucket')
        return `bucket ${bucket} does not exist`;
      if (status === 403) return `access to bucket ${bucket} is denied`;
      return `bucket ${bucket} cannot be reached (${awsErrorName(err)}: ${(err as Error).message})`;
    }
  }
}
