/**
 * What an activity's failure tells Temporal (workflows/failures.ts: the workflow owns retries).
 *
 * Every failure of the step itself becomes non-retryable, so Temporal hands it to the workflow at
 * once and the workflow counts it against `retry.maxAttempts`. Only conditions that pass by
 * themselves stay retryable, and Temporal retries them without limit (status shows "retrying"):
 * an AWS endpoint that cannot be reached (AwsUnreachable, with a message naming the fix) and Glue
 * refusing a run for capacity (JobCapacity). Cancellation passes through untouched.
 */
import { CancelledFailure } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { awsNetworkFailure } from '../core/aws';
import { JobCapacityError } from './job-runner';

/** Failure types Temporal keeps retrying (they pass by themselves; they never count against the budget). */
export const PASSING_FAILURE_TYPES = new Set(['AwsUnreachable', 'JobCapacity']);

export function failureForWorkflow(err: unknown, unreachable?: (failure: string) => string): unknown {
  if (err instanceof CancelledFailure) return err;
  if (err instanceof ApplicationFailure) {
    if (err.nonRetryable || (err.type && PASSING_FAILURE_TYPES.has(err.type))) return err;
    return ApplicationFailure.create({
      message: err.message,
      type: err.type ?? undefined,
      details: err.details ?? undefined,
      nonRetryable: true,
      cause: err.cause,
    });
  }
  const network = awsNetworkFailure(err);
  if (network) {
    const message = unreachable ? unreachable(network) : `cannot reach AWS (${network})`;
    return ApplicationFailure.retryable(message, 'AwsUnreachable');
  }
  if (err instanceof JobCapacityError) return ApplicationFailure.retryable(err.message, 'JobCapacity');
  const error = err instanceof Error ? err : new Error(String(err));
  return ApplicationFailure.create({ message: error.message, type: error.name, nonRetryable: true, cause: error });
}
