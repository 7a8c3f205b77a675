/** Calling the stream handler the way Lambda does: the context it gets, the reading of its answer. */
import { randomUUID } from 'node:crypto';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import type { InvokeOutcome } from './delivery';

/** Lambda's reading of a stream function's answer (ReportBatchItemFailures on). */
export function interpretResponse(
  response: DynamoDBBatchResponse | void | null | undefined,
  records: DynamoDBRecord[],
): InvokeOutcome {
  const failures = response?.batchItemFailures;
  if (!failures || failures.length === 0) return { kind: 'success' };
  let lowest = Infinity;
  for (const f of failures) {
    const id = f?.itemIdentifier;
    const index =
      typeof id === 'string' && id !== '' ? records.findIndex((r) => r.dynamodb?.SequenceNumber === id) : -1;
    // An empty, null or unknown identifier fails the whole batch.
    if (index < 0)
      return {
        kind: 'partial',
        retryFrom: 0,
        reason: `batchItemFailures names ${JSON.stringify(id)}, not a record of the batch: the whole batch failed`,
      };
    lowest = Math.min(lowest, index);
  }
  return { kind: 'partial', retryFrom: lowest, reason: `the function reported failed records from index ${lowest}` };
}

export function lambdaContext(table: string, deadline: number): Context {
  const name = `ddb-lake-local-stream-${table}`;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${name}`,
    memoryLimitInMB: '0',
    awsRequestId: randomUUID(),
    logGroupName: `/local/${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
