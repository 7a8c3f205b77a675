import assert from 'node:assert/strict';
import { transactionTableInput } from '../../tools/generate/transaction-table';
import { after, describe, it } from 'node:test';
import {
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  PutItemCommand,
  UpdateItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand } from '@aws-sdk/client-dynamodb-streams';
import { testDynamoDbClient, testDynamoDbStreamsClient, uniqueName } from '../helpers/stack';
import { readWholeStream } from '../stream/transactions';

const ddb = testDynamoDbClient();
const streams = testDynamoDbStreamsClient();
after(() => {
  ddb.destroy();
  streams.destroy();
});

describe('moto: DynamoDB with a NEW_AND_OLD_IMAGES stream', () => {
  it('delivers INSERT, MODIFY and REMOVE records with their images, in order', async () => {
    const TableName = uniqueName('Transaction');
    const created = await ddb.send(new CreateTableCommand(transactionTableInput(TableName)));
    await waitUntilTableExists({ client: ddb, maxWaitTime: 30 }, { TableName });
    const streamArn = created.TableDescription?.LatestStreamArn;
    assert.ok(streamArn, 'the table has a stream');

    const key = { account: { S: 'acct-1' }, create_at: { S: '2024-05-01T10:00:00Z' } };
    await ddb.send(
      new PutItemCommand({
        TableName,
        Item: { ...key, amount: { N: '12.50' }, update_at: { S: '2024-05-01T10:00:00Z' } },
      }),
    );
    await ddb.send(
      new PutItemCommand({
        TableName,
        Item: { account: { S: 'acct-2' }, create_at: { S: '2024-05-01T10:01:00Z' }, amount: { N: '3' } },
      }),
    );
    await ddb.send(
      new UpdateItemCommand({
        TableName,
        Key: key,
        UpdateExpression: 'SET amount = :a, update_at = :u',
        ExpressionAttributeValues: { ':a': { N: '99' }, ':u': { S: '2024-05-01T10:05:00Z' } },
      }),
    );
    await ddb.send(new DeleteItemCommand({ TableName, Key: key }));

    const stream = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    assert.equal(stream.StreamDescription?.StreamViewType, 'NEW_AND_OLD_IMAGES');
    const records = await readWholeStream(streams, streamArn);

    assert.deepEqual(
      records.map((r) => r.eventName),
      ['INSERT', 'INSERT', 'MODIFY', 'REMOVE'],
    );
    const [insert, , modify, remove] = records;
    assert.deepEqual(insert!.dynamodb?.Keys, key);
    assert.deepEqual(insert!.dynamodb?.NewImage?.amount, { N: '12.50' });
    assert.equal(insert!.dynamodb?.OldImage, undefined);
    assert.deepEqual(modify!.dynamodb?.OldImage?.amount, { N: '12.50' });
    assert.deepEqual(modify!.dynamodb?.NewImage?.amount, { N: '99' });
    assert.deepEqual(modify!.dynamodb?.NewImage?.update_at, { S: '2024-05-01T10:05:00Z' });
    assert.deepEqual(remove!.dynamodb?.OldImage?.amount, { N: '99' });
    assert.equal(remove!.dynamodb?.NewImage, undefined);
    const sequence = records.map((r) => BigInt(r.dynamodb!.SequenceNumber!));
    assert.deepEqual(
      [...sequence].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
      sequence,
      'sequence numbers increase',
    );

    await ddb.send(new DeleteTableCommand({ TableName }));
  });
});
