/**
 * Starts and watches the Glue jobs (glue/initial_load.py, glue/incremental.py).
 * AWS: activities/aws/glue-job-runner.ts. Local: activities/local/spark-job-runner.ts.
 */

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
}
