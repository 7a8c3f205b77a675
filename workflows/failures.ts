/**
 * How the workflow reads a failed step (deterministic; no I/O).
 *
 * One owner of retries: the workflow. An activity fails to the workflow at once whenever it failed
 * on its own (activities/failure-boundary.ts makes every such failure non-retryable), and the
 * workflow counts it against `retry.maxAttempts`, backs off and retries the step — so the count in
 * `status` is the number of attempts. Temporal retries an activity only when the step itself did
 * not fail: the worker running it was lost (a heartbeat or start-to-close timeout: the retry adopts
 * the running job by its run key) or AWS could not be reached (`AwsUnreachable`), or Glue refused
 * a run for capacity (`JobCapacity`) — conditions that pass by themselves; `status` shows them as
 * "retrying" and they never stall the pipeline.
 */
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import type { GapReport, JobOutcome } from '../activities/types';

/** A job that ended without success (the activity itself succeeded). */
export class JobFailed extends Error {
  constructor(readonly outcome: JobOutcome) {
    super(`job ${outcome.runKey} ${outcome.status}: ${outcome.error ?? 'no error message'}`);
    this.name = 'JobFailed';
  }
}

/** The planner cannot prove every change reached the landing zone (docs/gaps.md). */
export class GapsFound extends Error {
  constructor(readonly gaps: GapReport[]) {
    super(gaps[0]?.message ?? 'stream gap');
    this.name = 'GapsFound';
  }
}

/** Failures that mean the config is wrong: the workflow fails instead of retrying. */
const FATAL_TYPES = new Set(['PipelineInvalid', 'ExportMismatch']);

/**
 * Failures a retry of the step cannot fix (the activity says what to change): the pipeline stalls at
 * once. These are exactly the types the activities have always raised as non-retryable, so recorded
 * histories take the same decisions on replay.
 */
export const STALL_AT_ONCE_TYPES = new Set([
  'ManifestChanged',
  'PointInTimeRecoveryUnavailableException',
  'TableNotFoundException',
  'ExportNotFoundException',
  'ExportConflictException',
  'InvalidExportTimeException',
  'AccessDeniedException',
]);

export type FailureKind = 'fatal' | 'stall' | 'retry';

export function failureKind(err: unknown): FailureKind {
  const root = rootFailure(err);
  if (!(root instanceof ApplicationFailure) || !root.type) return 'retry';
  if (FATAL_TYPES.has(root.type)) return 'fatal';
  return STALL_AT_ONCE_TYPES.has(root.type) ? 'stall' : 'retry';
}

export function rootFailure(err: unknown): unknown {
  return err instanceof ActivityFailure && err.cause ? err.cause : err;
}

/** One readable sentence for a failure (the activity's own message, not the SDK's wrapper). */
export function describeFailure(err: unknown): string {
  if (err instanceof JobFailed) return err.message;
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    if (cause instanceof TimeoutFailure)
      return `activity ${err.activityType} timed out (${cause.timeoutType ?? 'timeout'})`;
    if (cause) return cause.message;
    return `activity ${err.activityType} failed`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
