/**
 * Delivering one batch with Lambda's stream semantics (event source mapping for DynamoDB):
 * - a successful invocation (no batchItemFailures) checkpoints the whole batch;
 * - a partial batch response checkpoints the records before the lowest failed one and retries the rest;
 * - a function error (throw or timeout) retries the batch, split in two first when bisecting is on;
 * - after `maxRetryAttempts` retries of a (sub)batch it is discarded to the on-failure destination
 *   and checkpointed past; with -1 it is retried until it succeeds (or the poller stops).
 */

export type InvokeOutcome =
  | { kind: 'success' }
  /** The function answered with batchItemFailures; records before `retryFrom` succeeded. */
  | { kind: 'partial'; retryFrom: number; reason: string }
  /** The function threw or timed out. */
  | { kind: 'error'; reason: string };

export interface DeliveryPolicy {
  maxRetryAttempts: number;
  bisectBatchOnFunctionError: boolean;
  /** Pause before retry number `attempt` (1, 2, …). */
  backoffMs(attempt: number): number;
}

export interface DeliveryHooks<R> {
  invoke(records: R[]): Promise<InvokeOutcome>;
  /** These records are handled: checkpoint after the last of them. */
  delivered(records: R[]): Promise<void>;
  /** Retries exhausted: record the batch in the on-failure destination, then checkpoint past it. */
  discarded(records: R[], reason: string, retries: number): Promise<void>;
  retrying?(records: R[], reason: string, retry: number): void;
  isStopping(): boolean;
  /** Sleeps, returning early when the poller stops. */
  sleep(ms: number): Promise<void>;
}

export type DeliveryResult = 'delivered' | 'stopped';

export function defaultBackoffMs(attempt: number): number {
  return Math.min(200 * 2 ** Math.max(0, attempt - 1), 10_000);
}

export async function deliverBatch<R>(
  records: R[],
  policy: DeliveryPolicy,
  hooks: DeliveryHooks<R>,
): Promise<DeliveryResult> {
  // Sub-batches still to deliver, in stream order, each with the retries already spent on it.
  const queue: { records: R[]; retries: number }[] = [{ records, retries: 0 }];
  while (queue.length > 0) {
    const head = queue[0]!;
    if (head.records.length === 0) {
      queue.shift();
      continue;
    }
    const outcome = await hooks.invoke(head.records);
    if (outcome.kind === 'success') {
      await hooks.delivered(head.records);
      queue.shift();
      continue;
    }
    if (outcome.kind === 'partial' && outcome.retryFrom > 0) {
      await hooks.delivered(head.records.slice(0, outcome.retryFrom));
      head.records = head.records.slice(outcome.retryFrom);
    }
    const reason = outcome.reason;
    if (policy.maxRetryAttempts >= 0 && head.retries >= policy.maxRetryAttempts) {
      await hooks.discarded(head.records, reason, head.retries);
      queue.shift();
      continue;
    }
    head.retries++;
    if (outcome.kind === 'error' && policy.bisectBatchOnFunctionError && head.records.length > 1) {
      const half = Math.ceil(head.records.length / 2);
      queue.splice(
        0,
        1,
        { records: head.records.slice(0, half), retries: head.retries },
        { records: head.records.slice(half), retries: head.retries },
      );
    }
    hooks.retrying?.(queue[0]!.records, reason, head.retries);
    if (hooks.isStopping()) return 'stopped';
    await hooks.sleep(policy.backoffMs(head.retries));
    if (hooks.isStopping()) return 'stopped';
  }
  return 'delivered';
}
