import type { JobRef, JobRunRequest, JobRunState, JobSpec } from '../job-runner';
import { isActive, type RunRecord } from './run-records';
import { SparkJobRunner, type SparkJobRunnerOptions } from './spark-job-runner';
import { WarmEngines } from './warm-engines';

export interface WarmJobRunnerOptions extends SparkJobRunnerOptions {
  /** An idle engine exits after this long (warm-engines.ts DEFAULT_IDLE_EXIT_SECONDS). */
  idleExitSeconds?: number;
}

/**
 * The local runner with warm engines (docs/warm-engine.md): a pipeline's incremental and compaction
 * batches go to its engine, one long-lived Spark session (glue/ddb_lake_glue/engine.py); initial
 * loads, and pipelines whose `jobs.incremental.engine` is `perBatch`, run as one-shot spark-submit
 * runs exactly as SparkJobRunner runs them. Both kinds of run are the same run records (a log, an
 * exit file, a process group whose death without an exit file is a failure), so `get`,
 * `listRunning`, `watchForEnd` and the never-two-writers check see them alike; a warm run's process
 * group is its engine's.
 *
 * When an engine dies, the batch it had taken is reported failed and the workflow retries it under
 * a new run key (harmless: docs/ordering.md); a batch it had not taken yet is handed to a new engine
 * under the same run key.
 */
export class WarmJobRunner extends SparkJobRunner {
  readonly engines: WarmEngines;

  constructor(options: WarmJobRunnerOptions) {
    super(options);
    this.engines = new WarmEngines(options.stateDir, options.idleExitSeconds);
  }

  override async start(job: JobSpec, run: JobRunRequest): Promise<JobRunState> {
    if (job.kind === 'initialLoad' || job.engine === 'perBatch' || job.pipeline === undefined)
      return super.start(job, run);
    const pipeline = job.pipeline;
    const record: RunRecord = { ...this.newRecord(job, run, 'warm'), engine: pipeline };
    if (!this.records.create(record)) return this.get(job, run.runKey);
    try {
      await this.handOver(record);
    } catch (err) {
      this.records.save({
        ...record,
        status: 'failed',
        error: `could not start the warm engine of ${pipeline}: ${(err as Error).message}`,
        finishedAt: new Date().toISOString(),
      });
    }
    return this.get(job, run.runKey);
  }

  override async get(job: JobRef, runKey: string): Promise<JobRunState> {
    const record = this.records.load(runKey);
    // The engine died before it took this batch: a new engine takes it, under the same run key.
    if (
      record.engine !== undefined &&
      record.pid !== undefined &&
      isActive(record) &&
      this.engines.isQueued(record.engine, runKey) &&
      !this.engines.isRunning(this.engines.record(record.engine))
    )
      await this.handOver(record).catch(() => undefined);
    return super.get(job, runKey);
  }

  override async stop(job: JobRef, runKey: string): Promise<void> {
    const record = this.records.load(runKey);
    if (record.engine !== undefined && isActive(record) && this.engines.withdraw(record.engine, runKey)) {
      // Not taken yet: cancelled without touching the engine.
      this.records.markStopped(runKey);
      this.records.save({
        ...record,
        status: 'stopped',
        finishedAt: new Date().toISOString(),
        error: 'stopped on request',
      });
      return;
    }
    // Taken: a Spark job cannot be cancelled half-way through a commit, so the engine goes with it
    // (Hudi rolls the half-written commit back on the next write) and the next batch starts a new one.
    await super.stop(job, runKey);
  }

  /** Stop every run, then every engine, of this state folder. */
  override async stopAll(): Promise<string[]> {
    const stopped = await super.stopAll();
    await this.engines.stopAll();
    return stopped;
  }

  private async handOver(record: RunRecord): Promise<void> {
    const pipeline = record.engine!;
    const engine = await this.engines.ensure(pipeline, this.spark, this.jobsDir);
    this.engines.submit(pipeline, { runKey: record.runKey, kind: record.kind, manifestUri: record.manifestUri });
    this.records.save({
      ...record,
      status: 'running',
      pid: engine.pid,
      procStart: engine.token,
      command: ['warm engine', pipeline, engine.logFile],
    });
  }
}
