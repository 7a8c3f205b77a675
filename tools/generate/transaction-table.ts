import {
  CreateTableCommand,
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateContinuousBackupsCommand,
  UpdateTableCommand,
  waitUntilTableExists,
  type CreateTableCommandInput,
  type StreamViewType,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { UserError } from '../../core/errors';
import { TRANSACTION_HASH_KEY, TRANSACTION_RANGE_KEY } from './transaction-model';

export interface EnsureTableResult {
  table: string;
  /** What this call changed: nothing on a table that was already set up. */
  created: boolean;
  streamEnabled: boolean;
  pointInTimeRecoveryEnabled: boolean;
  streamArn?: string;
}

/**
 * Creates the brief's Transaction table, or brings an existing one up to what the pipeline needs:
 * on-demand capacity, a NEW_AND_OLD_IMAGES stream and point-in-time recovery (for the export).
 * Safe to call any number of times.
 */
export async function ensureTransactionTable(client: DynamoDBClient, table: string): Promise<EnsureTableResult> {
  let description = await describeTable(client, table);
  let created = false;
  if (!description) {
    try {
      await client.send(new CreateTableCommand(transactionTableInput(table)));
      created = true;
    } catch (err) {
      // Another process created it between our describe and create: fine, carry on with theirs.
      if (!(err instanceof ResourceInUseException)) throw err;
    }
    await waitUntilTableExists({ client, maxWaitTime: 120, minDelay: 1, maxDelay: 5 }, { TableName: table });
    description = (await describeTable(client, table))!;
  }
  assertTransactionKeySchema(table, description);

  let streamEnabled = description.StreamSpecification?.StreamEnabled === true;
  const viewType = description.StreamSpecification?.StreamViewType;
  if (streamEnabled && viewType !== 'NEW_AND_OLD_IMAGES') {
    throw new UserError(
      `table ${table} has a ${viewType} stream; the pipeline needs NEW_AND_OLD_IMAGES`,
      `disable its stream (aws dynamodb update-table --table-name ${table} --stream-specification StreamEnabled=false) and run again`,
    );
  }
  if (!streamEnabled) {
    await client.send(
      new UpdateTableCommand({
        TableName: table,
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
    await waitUntilTableExists({ client, maxWaitTime: 120, minDelay: 1, maxDelay: 5 }, { TableName: table });
    description = (await describeTable(client, table))!;
    streamEnabled = true;
  }

  const backups = await client.send(new DescribeContinuousBackupsCommand({ TableName: table }));
  let pitr =
    backups.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus === 'ENABLED';
  if (!pitr) {
    await client.send(
      new UpdateContinuousBackupsCommand({
        TableName: table,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    );
    pitr = true;
  }
  return { table, created, streamEnabled, pointInTimeRecoveryEnabled: pitr, streamArn: description.LatestStreamArn };
}

/** CreateTable input of the brief's Transaction table: on-demand, with a stream unless `stream` is null. */
export function transactionTableInput(
  table: string,
  stream: StreamViewType | null = 'NEW_AND_OLD_IMAGES',
): CreateTableCommandInput {
  return {
    TableName: table,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: TRANSACTION_HASH_KEY, AttributeType: 'S' },
      { AttributeName: TRANSACTION_RANGE_KEY, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: TRANSACTION_HASH_KEY, KeyType: 'HASH' },
      { AttributeName: TRANSACTION_RANGE_KEY, KeyType: 'RANGE' },
    ],
    ...(stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: stream } } : {}),
  };
}

/** The table's description, or undefined when it does not exist. */
export async function describeTable(client: DynamoDBClient, table: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: table }))).Table;
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return undefined;
    throw err;
  }
}

/** The generator writes the brief's model; a table with other keys would reject or corrupt it. */
export function assertTransactionKeySchema(table: string, description: TableDescription): void {
  const keys = description.KeySchema ?? [];
  const hash = keys.find((k) => k.KeyType === 'HASH')?.AttributeName;
  const range = keys.find((k) => k.KeyType === 'RANGE')?.AttributeName;
  const types = new Map((description.AttributeDefinitions ?? []).map((a) => [a.AttributeName, a.AttributeType]));
  if (
    hash !== TRANSACTION_HASH_KEY ||
    range !== TRANSACTION_RANGE_KEY ||
    types.get(hash) !== 'S' ||
    types.get(range) !== 'S'
  ) {
    throw new UserError(
      `table ${table} has key (${hash ?? '?'}, ${range ?? 'no range key'}); the Transaction model needs hash key account (S) and range key create_at (S)`,
      'pass --table with another name (and --create-table to create it)',
    );
  }
}
