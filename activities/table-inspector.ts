/**
 * Reads what the pipeline needs to know about its DynamoDB table and buckets. One implementation
 * (activities/sdk/table-inspector.ts) serves AWS and the local stack: moto speaks the same API.
 */
export interface TableDescription {
  tableName: string;
  tableArn: string;
  status: string;
  keySchema: { attributeName: string; keyType: 'HASH' | 'RANGE' }[];
  /** `StreamViewType` when a stream is enabled, else null. */
  streamViewType: string | null;
  streamArn: string | null;
  pointInTimeRecovery: boolean;
}

export interface TableInspector {
  /** The table, or null when it does not exist. */
  describeTable(table: string): Promise<TableDescription | null>;
  /** Null when the bucket of `uri` can be reached, else the reason it cannot. */
  bucketProblem(uri: string): Promise<string | null>;
}
