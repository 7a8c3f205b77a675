/**
 * The moto fixes of stack/moto/moto_patches/, through the real server: binary values reach the
 * stream as the bytes that were written. (Against an unpatched moto both tests fail.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { toLambdaRecord } from '../../stack/poller/stream-event';
import { decodeLine, encodeRecord } from '../../lambda/encoding';
import { createStreamTable, testStack, uniqueName, type TestStack } from './support';
import { readWholeStream, streamArnOf } from './transactions';

describe('moto stream binary (stack/moto/moto_patches/)', () => {
  let stack: TestStack;
  before(async () => {
    stack = await testStack();
  });
  after(async () => stack?.close());

  it('stream Keys of a binary key carry the bytes once encoded, so a keys-only remove finds its row', async () => {
    const table = uniqueName('binkey');
    await createStreamTable(
      stack.dynamodb,
      table,
      [
        { name: 'k', type: 'B' },
        { name: 'r', type: 'B' },
      ],
      'NEW_IMAGE',
    );
    const key = { k: { B: Uint8Array.from([0, 1, 255]) }, r: { B: Uint8Array.from([7]) } };
    await stack.dynamodb.send(new PutItemCommand({ TableName: table, Item: { ...key, v: { S: 'x' } } }));
    await stack.dynamodb.send(new DeleteItemCommand({ TableName: table, Key: key }));
    const arn = await streamArnOf(stack.dynamodb, table);
    const records = await readWholeStream(stack.streams, arn);
    assert.equal(records.length, 2);
    for (const r of records) {
      assert.deepEqual([...r.dynamodb!.Keys!.k!.B!], [0, 1, 255], `${r.eventName} Keys.k`);
      assert.deepEqual([...r.dynamodb!.Keys!.r!.B!], [7], `${r.eventName} Keys.r`);
    }
    const [insert, remove] = records.map((r) => decodeLine(encodeRecord(toLambdaRecord(r, arn))));
    assert.equal(remove!.op, 'remove');
    assert.deepEqual(
      remove!.item,
      { k: insert!.item.k, r: insert!.item.r },
      'the remove line (keys only) names the inserted row',
    );
  });

  it('legacy AttributeUpdates PUT keeps B, BS and BOOL types instead of a Python repr string', async () => {
    const table = uniqueName('legacy');
    await createStreamTable(stack.dynamodb, table, [{ name: 'id', type: 'S' }]);
    await stack.dynamodb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { id: { S: 'a' } },
        AttributeUpdates: {
          b: { Action: 'PUT', Value: { B: Uint8Array.from([0, 1]) } },
          bs: { Action: 'PUT', Value: { BS: [Uint8Array.from([2])] } },
          flag: { Action: 'PUT', Value: { BOOL: true } },
          s: { Action: 'PUT', Value: { S: 'still a string' } },
        },
      }),
    );
    const records = await readWholeStream(stack.streams, await streamArnOf(stack.dynamodb, table));
    const image = records[records.length - 1]!.dynamodb!.NewImage!;
    assert.deepEqual([...image.b!.B!], [0, 1]);
    assert.deepEqual(
      image.bs!.BS!.map((x) => [...x]),
      [[2]],
    );
    assert.equal(image.flag!.BOOL, true);
    assert.equal(image.s!.S, 'still a string');
  });
});
