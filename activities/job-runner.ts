/**
 * Starts and watches the Glue jobs (glue/initial_load.py, glue/incremental.py).
 * AWS: activities/aws/glue-job-runner.ts. Local: activities/local/spark-job-runner.ts.
 */
import type { JobSummary } from '../core/manifest';

export type JobKind = 'initialLoad' | 'incremental';

/**
 * Which job, as the pipeline config names it (core/config.ts `jobs.initialLoad` / `jobs.incremental`)
 * with its kind: enough to find its runs.
 */
export interface JobRef {
  kind: JobKind;
  /** `jobs.*.glueJobName`: the Glue job whose runs these are on AWS. */
  glueJobName: string;
  /** The pipeline whose job this is: a warm engine serves one pipeline. */
  pipeline?: string;
  /**
   * `jobs.incremental.engine`: `warm` (one long-lived session per pipeline takes the batches one after
   * another) or `perBatch` (a fresh job per batch). Absent: the runner's default (warm on the local
   * stack, per batch on Glue).
   */
  engine?: JobEngine;
}

export type JobEngine = 'warm' | 'perBatch';

/** A job to start a run of: its reference and `jobs.*.script`, the PySpark script (relative to the repository root). */
export interface JobSpec extends JobRef {
  script: string;
}

/** One run of a job. */
export interface JobRunRequest {
  /**
   * Unique key of this run (e.g. `<pipeline>-inc-000042-a1`). Starting the same key twice must not
   * start a second run: `start` returns the run it already started.
   */
  runKey: string;
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

/**
 * Runs the jobs: AWS Glue, or spark-submit on this machine.
 *
 * Every call names the job as one value, as the pipeline config declares it (`JobRef` to find runs,
 * `JobSpec` — the reference plus the script — to start one), and the run by its key; each runner
 * reads what it needs of that value: Glue the job name, the local runner the kind and the script
 * (its runs are records in its state folder, found by run key). Why one value and not a parameter
 * per need: a parameter per need is the union of all runners (a `glueJobName` the local runner
 * ignored and a `script` Glue ignored, in every signature); one value keeps every signature the same
 * for every runner, and a runner that needs more of the config adds a field to the value without
 * touching the others. Why not a handle returned by `start`: runs are also reached without one
 * (`listRunning` finds another writer's run, a restarted worker finds its own by key), and finding a
 * run by its key is how each runner makes `start` idempotent anyway. Why `JobRef` apart from
 * `JobSpec`: no runner needs the script to find a run (a run records what it runs), and the
 * never-two-writers check lists the runs of the other kind's job, of which `runJob` knows only
 * the Glue job name (`RunJobRequest.otherJobs`).
 *
 * The warm engine (activities/local/warm-job-runner.ts) fits the same interface: `start` hands the
 * manifest to the pipeline's engine (starting the engine if none runs), `get` reads that batch's
 * state, `stop` cancels the batch, `listRunning` lists batches in flight, and `watchForEnd` settles
 * when its exit file appears; what it needs to find its engine (`pipeline`, `engine`) are fields
 * of the job's value.
 */
export interface JobRunner {
  /** Start the run, or return the state of the run already started with this runKey. */
  start(job: JobSpec, run: JobRunRequest): Promise<JobRunState>;
  /** Current state of a run started by `start`. */
  get(job: JobRef, runKey: string): Promise<JobRunState>;
  /** Ask the run to stop; resolves once it is no longer running. */
  stop(job: JobRef, runKey: string): Promise<void>;
  /** Runs of this job still running (used to refuse a second writer). */
  listRunning(job: JobRef): Promise<JobRunState[]>;
  /**
   * Optional: `ended` settles as soon as the run may have ended, so the caller checks `get` right
   * then rather than at its next poll (local: the exit file appears). Never rejects; `close()`
   * releases what it holds. Runners that cannot tell leave it out: the caller just polls.
   */
  watchForEnd?(job: JobRef, runKey: string): { ended: Promise<void>; close(): void };
}
