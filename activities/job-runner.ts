/**
 * Starts and watches the Glue jobs (glue/initial_load.py, glue/incremental.py).
 * AWS: activities/aws/glue-job-runner.ts. Local: activities/local/spark-job-runner.ts.
 */
import type { JobSummary } from '../core/manifest';

export type JobKind = 'initialLoad' | 'incremental';

export interface JobRunRequest {
  /**
   * Unique key of this run (e.g. `<pipeline>-inc-000042-a1`). Starting the same key twice must not
   * start a second run: `start` returns the run it already started.
   */
  runKey: string;
  kind: JobKind;
  /** AWS: the Glue job to run. */
  glueJobName: string;
  /** Local: the PySpark script, relative to the repository root. */
  script: string;
  /** URI of the run's manifest (docs/contracts.md); the job's only data argument. */
  manifestUri: string;
}

export type JobStatus = 'running' | 'succeeded' | 'failed' | 'stopped';

export interface JobRunState {
  runKey: string;
  /** Glue JobRunId, or the local run id. */
  runId: string;
  status: JobStatus;
  startedAt: string;
  finishedAt?: string;
  /** The job's own error text (Python exception / Spark error), not just an exit code. */
  error?: string;
  /** Where to read the run's log (local file path, or a CloudWatch hint on AWS). */
  logLocation?: string;
  /**
   * The run's summary when the runner can see it (local: the log's `DDB_LAKE_SUMMARY` line). On AWS
   * read it from the manifest's `summaryUri`; it is written there on every environment.
   */
  summary?: JobSummary;
}

/** No run with this runKey was ever started (by this runner / state folder / Glue job). */
export class JobRunNotFoundError extends Error {
  constructor(
    readonly runKey: string,
    where: string,
  ) {
    super(`no job run with run key ${runKey} in ${where}`);
    this.name = 'JobRunNotFoundError';
  }
}

/**
 * Starting was refused for a reason that goes away by itself (Glue: the job's MaxConcurrentRuns is
 * reached). Activities retry it with backoff; the message says what to change if it persists.
 */
export class JobCapacityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobCapacityError';
  }
}

export interface JobRunner {
  /** Start the run, or return the state of the run already started with this runKey. */
  start(request: JobRunRequest): Promise<JobRunState>;
  /** Current state of a run started by `start`. */
  get(runKey: string, kind: JobKind, glueJobName: string): Promise<JobRunState>;
  /** Ask the run to stop; resolves once it is no longer running. */
  stop(runKey: string, kind: JobKind, glueJobName: string): Promise<void>;
  /** Runs of this job still running (used to refuse a second writer). */
  listRunning(kind: JobKind, glueJobName: string): Promise<JobRunState[]>;
  /**
   * Optional: `ended` settles as soon as the run may have ended, so the caller checks `get` right
   * then rather than at its next poll (local: the exit file appears). Never rejects; `close()`
   * releases what it holds. Runners that cannot tell leave it out: the caller just polls.
   */
  watchForEnd?(runKey: string): { ended: Promise<void>; close(): void };
}
