/**
 * Lambda's records of discarded stream batches (an event source mapping's S3 on-failure destination;
 * docs/gaps.md "On AWS"). Lambda writes one JSON object per batch it gives up on, under
 *
 *   aws/lambda/<event source mapping UUID>/<shard id>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<random UUID>
 *
 * at the root of the bucket, holding `requestContext` (function, `condition`: RetryAttemptsExhausted,
 * RecordAgeExceeded, …), `responseContext`, `version`, `timestamp` (when it gave up) and
 * `DDBStreamBatchInfo` (shard, first and last sequence numbers, arrival times, batch size, stream
 * ARN), plus the batch itself as `payload` (S3 destinations only).
 */
import type { GapMarker } from '../../core/landing';

/** The key prefix Lambda writes under, in the destination bucket. */
export const ON_FAILURE_PREFIX = 'aws/lambda/';

const KEY = /^aws\/lambda\/[^/]+\/[^/]+\/\d{4}\/\d{2}\/\d{2}\/(\d{4})-(\d{2})-(\d{2})T(\d{2})\.(\d{2})\.(\d{2})-[^/]+$/;

/** When Lambda wrote a record, from its key (whole seconds, UTC); undefined for a key of another layout. */
export function onFailureKeyTime(key: string): number | undefined {
  const m = KEY.exec(key);
  if (!m) return undefined;
  const [y = 0, mo = 1, d, h, mi, s] = m.slice(1).map(Number);
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

export interface OnFailureRecord {
  version?: string;
  timestamp?: string;
  requestContext?: {
    requestId?: string;
    functionArn?: string;
    condition?: string;
    approximateInvokeCount?: number;
  };
  responseContext?: { statusCode?: number; executedVersion?: string; functionError?: string };
  DDBStreamBatchInfo?: {
    shardId?: string;
    startSequenceNumber?: string;
    endSequenceNumber?: string;
    approximateArrivalOfFirstRecord?: string;
    approximateArrivalOfLastRecord?: string;
    batchSize?: number;
    streamArn?: string;
  };
}

/**
 * A record as a `discarded` gap marker: `undefined` when it is about another table's stream (a
 * destination may serve several mappings), `null` when it is not a DynamoDB stream record at all.
 */
export function onFailureMarker(record: unknown, tableArn: string): GapMarker | null | undefined {
  const r = record as OnFailureRecord | null;
  const batch = r?.DDBStreamBatchInfo;
  if (!r || typeof r !== 'object' || !batch || typeof batch.streamArn !== 'string') return null;
  if (!batch.streamArn.startsWith(`${tableArn}/stream/`)) return undefined;
  const ctx = r.requestContext ?? {};
  const why = [
    ctx.condition ?? 'discarded',
    r.responseContext?.functionError && `function error ${r.responseContext.functionError}`,
    ctx.approximateInvokeCount !== undefined && `${ctx.approximateInvokeCount} invocation(s)`,
  ]
    .filter(Boolean)
    .join(', ');
  return {
    version: 1,
    kind: 'discarded',
    table: tableArn.split('/').pop() ?? tableArn,
    streamArn: batch.streamArn,
    shardId: batch.shardId ?? null,
    afterSequenceNumber: null,
    firstSequenceNumber: batch.startSequenceNumber ?? null,
    lastSequenceNumber: batch.endSequenceNumber ?? null,
    detectedAt: r.timestamp ?? new Date(0).toISOString(),
    reason:
      `Lambda's event source mapping gave up on ${batch.batchSize ?? '?'} record(s) (${why})` +
      (ctx.functionArn ? ` of ${ctx.functionArn}` : '') +
      (batch.approximateArrivalOfFirstRecord
        ? `, written ${batch.approximateArrivalOfFirstRecord}…${batch.approximateArrivalOfLastRecord ?? ''}`
        : ''),
  };
}
