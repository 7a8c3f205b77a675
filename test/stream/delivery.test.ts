/** Lambda's stream delivery semantics, as pure logic (a fake function; the poller tests use the real one). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DynamoDBRecord } from 'aws-lambda';
import { deliverBatch, type DeliveryPolicy, type InvokeOutcome } from '../../stack/poller/delivery';
import { interpretResponse } from '../../stack/poller/lambda-call';

type Log = string[];

function harness(
  policy: Partial<DeliveryPolicy>,
  fn: (records: number[], call: number) => InvokeOutcome,
  stopAfterCalls = Infinity,
) {
  const log: Log = [];
  let calls = 0;
  const run = (records: number[]) =>
    deliverBatch(
      records,
      { maxRetryAttempts: -1, bisectBatchOnFunctionError: false, backoffMs: () => 0, ...policy },
      {
        invoke: async (r) => {
          calls++;
          log.push(`invoke ${r.join(',')}`);
          return fn(r, calls);
        },
        delivered: async (r) => void log.push(`delivered ${r.join(',')}`),
        discarded: async (r, reason, retries) => void log.push(`discarded ${r.join(',')} after ${retries} (${reason})`),
        isStopping: () => calls >= stopAfterCalls,
        sleep: async () => undefined,
      },
    );
  return { log, run };
}

const poison =
  (bad: number) =>
  (records: number[]): InvokeOutcome =>
    records.includes(bad) ? { kind: 'error', reason: 'boom' } : { kind: 'success' };

describe('delivering a batch like Lambda', () => {
  it('checkpoints a successful batch whole', async () => {
    const { log, run } = harness({}, () => ({ kind: 'success' }));
    assert.equal(await run([1, 2, 3]), 'delivered');
    assert.deepEqual(log, ['invoke 1,2,3', 'delivered 1,2,3']);
  });

  it('on a partial batch response, checkpoints before the failed record and retries from it', async () => {
    const { log, run } = harness({}, (_r, call) =>
      call === 1 ? { kind: 'partial', retryFrom: 2, reason: 'r' } : { kind: 'success' },
    );
    await run([1, 2, 3, 4]);
    assert.deepEqual(log, ['invoke 1,2,3,4', 'delivered 1,2', 'invoke 3,4', 'delivered 3,4']);
  });

  it('bisects on a function error until the poison record is alone, then discards it after the retries', async () => {
    const { log, run } = harness({ bisectBatchOnFunctionError: true, maxRetryAttempts: 3 }, poison(3));
    await run([1, 2, 3, 4]);
    assert.deepEqual(log, [
      'invoke 1,2,3,4',
      'invoke 1,2',
      'delivered 1,2',
      'invoke 3,4',
      'invoke 3',
      'invoke 3',
      'discarded 3 after 3 (boom)',
      'invoke 4',
      'delivered 4',
    ]);
  });

  it('without bisecting retries the whole batch, then discards it', async () => {
    const { log, run } = harness({ maxRetryAttempts: 2 }, poison(2));
    await run([1, 2]);
    assert.deepEqual(log, ['invoke 1,2', 'invoke 1,2', 'invoke 1,2', 'discarded 1,2 after 2 (boom)']);
  });

  it('with maxRetryAttempts 0 discards on the first failure', async () => {
    const { log, run } = harness({ maxRetryAttempts: 0 }, poison(1));
    await run([1]);
    assert.deepEqual(log, ['invoke 1', 'discarded 1 after 0 (boom)']);
  });

  it('with -1 retries until the function succeeds', async () => {
    const { log, run } = harness({ maxRetryAttempts: -1, bisectBatchOnFunctionError: true }, (_r, call) =>
      call < 5 ? { kind: 'partial', retryFrom: 0, reason: 'not yet' } : { kind: 'success' },
    );
    await run([1, 2]);
    assert.deepEqual(
      log,
      ['invoke 1,2', 'invoke 1,2', 'invoke 1,2', 'invoke 1,2', 'invoke 1,2', 'delivered 1,2'],
      'a partial failure is not bisected',
    );
  });

  it('stops between retries without checkpointing past the failed records', async () => {
    const { log, run } = harness({}, () => ({ kind: 'error', reason: 'down' }), 2);
    assert.equal(await run([1, 2]), 'stopped');
    assert.deepEqual(log, ['invoke 1,2', 'invoke 1,2']);
  });
});

describe("reading the function's answer", () => {
  const recs = ['10', '11', '12'].map((seq): DynamoDBRecord => ({ dynamodb: { SequenceNumber: seq } }));
  it('is a success for no answer or no failures', () => {
    for (const answer of [undefined, null, { batchItemFailures: [] }, { batchItemFailures: null as never }])
      assert.deepEqual(interpretResponse(answer as never, recs), { kind: 'success' });
  });
  it('retries from the lowest failed record', () => {
    const o = interpretResponse({ batchItemFailures: [{ itemIdentifier: '12' }, { itemIdentifier: '11' }] }, recs);
    assert.equal(o.kind === 'partial' && o.retryFrom, 1);
  });
  it('fails the whole batch for an empty, null or unknown identifier', () => {
    for (const id of ['', null, '99', undefined]) {
      const o = interpretResponse({ batchItemFailures: [{ itemIdentifier: id as never }] }, recs);
      assert.equal(o.kind === 'partial' && o.retryFrom, 0, String(id));
    }
  });
});
