import { ApplicationFailure } from '@temporalio/common';
import type { Environment } from '../core/environment';
import type { JobKind, JobRunner, JobRunRequest, JobRunState } from './job-runner';

/**
 * The JobRunner for an environment: AWS → activities/aws/glue-job-runner.ts, local →
 * activities/local/spark-job-runner.ts. Those are built on another branch; until they are merged
 * this returns a runner whose every call fails with a message saying so, so the pipeline stalls
 * visibly at its first job instead of the worker refusing to start.
 */
export function createJobRunner(env: Environment): JobRunner {
  return new MissingJobRunner(env.kind === 'aws' ? 'activities/aws/glue-job-runner.ts' : 'activities/local/spark-job-runner.ts');
}

class MissingJobRunner implements JobRunner {
  constructor(private readonly module: string) {}
  private fail(): never {
    throw ApplicationFailure.nonRetryable(`this build has no job runner (${this.module} is not wired into activities/job-runners.ts)`, 'NoJobRunner');
  }
  start(_request: JobRunRequest): Promise<JobRunState> {
    return Promise.resolve().then(() => this.fail());
  }
  get(_runKey: string, _kind: JobKind, _glueJobName: string): Promise<JobRunState> {
    return Promise.resolve().then(() => this.fail());
  }
  stop(_runKey: string, _kind: JobKind, _glueJobName: string): Promise<void> {
    return Promise.resolve().then(() => this.fail());
  }
  listRunning(_kind: JobKind, _glueJobName: string): Promise<JobRunState[]> {
    return Promise.resolve([]);
  }
}
