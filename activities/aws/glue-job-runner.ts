import { setTimeout as sleep } from 'node:timers/promises';
import {
  BatchStopJobRunCommand,
  GetJobRunCommand,
  GetJobRunsCommand,
  GlueClient,
  StartJobRunCommand,
  type JobRun,
} from '@aws-sdk/client-glue';
import {
  JobCapacityError,
  JobRunNotFoundError,
  type JobRef,
  type JobRunner,
  type JobRunRequest,
  type JobSpec,
  type JobRunState,
  type JobStatus,
} from '../job-runner';
import { UserError } from '../../core/errors';

/** The four Glue calls the runner makes; `glueRunsApi(client)` adapts the SDK, tests use a fake. */
export interface GlueRunsApi {
  startJobRun(input: { JobName: string; Arguments: Record<string, string> }): Promise<{ JobRunId?: string }>;
  getJobRun(input: { JobName: string; RunId: string }): Promise<{ JobRun?: JobRun }>;
  getJobRuns(input: {
    JobName: string;
    NextToken?: string;
    MaxResults?: number;
  }): Promise<{ JobRuns?: JobRun[]; NextToken?: string }>;
  batchStopJobRun(input: {
    JobName: string;
    JobRunIds: string[];
  }): Promise<{ Errors?: { JobRunId?: string; ErrorDetail?: { ErrorMessage?: string } }[] }>;
}

export function glueRunsApi(client: GlueClient): GlueRunsApi {
  return {
    startJobRun: (input) => client.send(new StartJobRunCommand(input)),
    getJobRun: (input) => client.send(new GetJobRunCommand({ ...input, PredecessorsIncluded: false })),
    getJobRuns: (input) => client.send(new GetJobRunsCommand(input)),
    batchStopJobRun: (input) => client.send(new BatchStopJobRunCommand(input)),
  };
}

export interface GlueJobRunnerOptions {
  /** How many pages of GetJobRuns (newest first) to search for a run key; Glue keeps 90 days. */
  maxSearchPages?: number;
  /** Poll interval while waiting for a stop. */
  pollMs?: number;
  stopTimeoutMs?: number;
}

const RUNNING_STATES = new Set(['STARTING', 'RUNNING', 'STOPPING', 'WAITING']);
const FAILED_STATES = new Set(['FAILED', 'TIMEOUT', 'ERROR', 'EXPIRED']);
export const RUN_KEY_ARGUMENT = '--run_key';
export const MANIFEST_ARGUMENT = '--manifest';

/**
 * Runs the jobs on AWS Glue. StartJobRun has no idempotency token, so every run carries its run key
 * as the `--run_key` argument and `start` first looks for a run with that argument (GetJobRuns,
 * newest first): a retried start finds the run it already started. Concurrent starts of one key are
 * prevented upstream (one workflow per pipeline) and by the job's MaxConcurrentRuns.
 */
export class GlueJobRunner implements JobRunner {
  /** runKey → JobRunId of runs seen by this instance (a cache only: Glue is the source of truth). */
  private readonly known = new Map<string, string>();

  constructor(
    private readonly api: GlueRunsApi,
    private readonly options: GlueJobRunnerOptions = {},
  ) {}

  async start(job: JobSpec, request: JobRunRequest): Promise<JobRunState> {
    if (job.engine === 'warm')
      throw new UserError(
        `jobs.incremental.engine "warm" runs on the local stack only; on AWS Glue every batch is a job run`,
        'remove jobs.incremental.engine from the pipeline config or set it to "perBatch" (docs/warm-engine.md: the warm Glue engine and what it costs)',
      );
    const existing = await this.find(job.glueJobName, request.runKey);
    if (existing) return toState(request.runKey, existing);
    let runId: string | undefined;
    try {
      ({ JobRunId: runId } = await this.api.startJobRun({
        JobName: job.glueJobName,
        Arguments: { [MANIFEST_ARGUMENT]: request.manifestUri, [RUN_KEY_ARGUMENT]: request.runKey },
      }));
    } catch (err) {
      if ((err as { name?: string }).name === 'ConcurrentRunsExceededException') {
        // Maybe our own earlier attempt is the run holding the slot: look again before giving up.
        const mine = await this.find(job.glueJobName, request.runKey);
        if (mine) return toState(request.runKey, mine);
        throw new JobCapacityError(
          `Glue job ${job.glueJobName} is at its MaxConcurrentRuns; run ${request.runKey} will be retried. ` +
            `If this persists, raise MaxConcurrentRuns of the job (one slot per pipeline that uses it).`,
        );
      }
      throw err;
    }
    if (!runId) throw new Error(`Glue StartJobRun for ${job.glueJobName} returned no JobRunId`);
    this.known.set(request.runKey, runId);
    return this.get(job, request.runKey);
  }

  async get({ glueJobName }: JobRef, runKey: string): Promise<JobRunState> {
    const runId = this.known.get(runKey);
    if (runId) {
      const { JobRun: run } = await this.api.getJobRun({ JobName: glueJobName, RunId: runId });
      if (run) return toState(runKey, run);
    }
    const run = await this.find(glueJobName, runKey);
    if (!run) throw new JobRunNotFoundError(runKey, `the runs of Glue job ${glueJobName}`);
    return toState(runKey, run);
  }

  async stop(job: JobRef, runKey: string): Promise<void> {
    const state = await this.get(job, runKey).catch((err) => {
      if (err instanceof JobRunNotFoundError) return undefined;
      throw err;
    });
    if (!state || state.status !== 'running') return;
    const { Errors } = await this.api.batchStopJobRun({ JobName: job.glueJobName, JobRunIds: [state.runId] });
    const error = Errors?.find((e) => e.JobRunId === state.runId);
    if (error) {
      // A run that finished in between cannot be stopped; that is fine.
      const now = await this.get(job, runKey);
      if (now.status === 'running')
        throw new Error(
          `Glue could not stop run ${state.runId}: ${error.ErrorDetail?.ErrorMessage ?? 'unknown error'}`,
        );
      return;
    }
    const deadline = Date.now() + (this.options.stopTimeoutMs ?? 600_000);
    while ((await this.get(job, runKey)).status === 'running') {
      if (Date.now() > deadline) throw new Error(`Glue run ${state.runId} is still stopping`);
      await sleep(this.options.pollMs ?? 5_000);
    }
  }

  async listRunning({ glueJobName }: JobRef): Promise<JobRunState[]> {
    const out: JobRunState[] = [];
    // Running runs are the newest; the first page holds them unless hundreds run at once.
    for await (const run of this.runs(glueJobName)) {
      if (run.JobRunState && RUNNING_STATES.has(run.JobRunState)) {
        const key = run.Arguments?.[RUN_KEY_ARGUMENT];
        out.push(toState(key ?? run.Id ?? '?', run));
      }
    }
    return out;
  }

  private async find(glueJobName: string, runKey: string): Promise<JobRun | undefined> {
    for await (const run of this.runs(glueJobName)) {
      if (run.Arguments?.[RUN_KEY_ARGUMENT] === runKey && run.Id) {
        this.known.set(runKey, run.Id);
        return run;
      }
    }
    return undefined;
  }

  private async *runs(glueJobName: string): AsyncGenerator<JobRun> {
    let token: string | undefined;
    const pages = this.options.maxSearchPages ?? 10;
    for (let page = 0; page < pages; page++) {
      const res = await this.api.getJobRuns({ JobName: glueJobName, NextToken: token, MaxResults: 200 });
      for (const run of res.JobRuns ?? []) yield run;
      token = res.NextToken;
      if (!token) return;
    }
  }
}

function toState(runKey: string, run: JobRun): JobRunState {
  const glueState = run.JobRunState ?? 'STARTING';
  const status: JobStatus = RUNNING_STATES.has(glueState)
    ? 'running'
    : glueState === 'SUCCEEDED'
      ? 'succeeded'
      : glueState === 'STOPPED'
        ? 'stopped'
        : 'failed';
  const state: JobRunState = {
    runKey,
    runId: run.Id ?? '',
    status,
    startedAt: (run.StartedOn ?? new Date(0)).toISOString(),
    logLocation: `CloudWatch Logs /aws-glue/jobs/output and /aws-glue/jobs/error, stream ${run.Id ?? '?'}`,
  };
  if (run.CompletedOn) state.finishedAt = run.CompletedOn.toISOString();
  if (status === 'failed') state.error = run.ErrorMessage ?? `Glue run ended in state ${glueState}`;
  else if (FAILED_STATES.has(glueState) && run.ErrorMessage) state.error = run.ErrorMessage;
  return state;
}
