import { existsSync, mkdirSync, watch, type FSWatcher } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../../core/errors';
import { spawnDetached, stopProcessGroup, type DetachedProcess } from '../../core/process';
import type { JobRef, JobRunner, JobRunRequest, JobRunState, JobSpec } from '../job-runner';
import { isActive, leaderToken, RunRecords, toState, validateRunKey, type RunRecord } from './run-records';
import { SparkSubmit, type SparkCommandOptions } from './spark-command';

export interface SparkJobRunnerOptions extends SparkCommandOptions {
  /** The local state folder; runs are kept under `<stateDir>/jobs/` (run-records.ts). */
  stateDir: string;
}

/** How long a stopped run's process group has after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 15_000;

/**
 * Runs the Glue scripts locally with `spark-submit` (local[2], the cache's jars, s3a → moto), each
 * run in a process group of its own that outlives the worker. The runs are durable records
 * (run-records.ts): a fresh runner (a restarted worker) finds and polls the same runs, and creating
 * a record with O_EXCL makes a second start of a run key return the first run instead. Of the job
 * reference it reads the kind and the script: the Glue job name is AWS's.
 */
export class SparkJobRunner implements JobRunner {
  protected readonly jobsDir: string;
  protected readonly records: RunRecords;
  readonly spark: SparkSubmit;

  constructor(options: SparkJobRunnerOptions) {
    this.jobsDir = join(resolve(options.stateDir), 'jobs');
    this.records = new RunRecords(this.jobsDir);
    this.spark = new SparkSubmit(options, this.jobsDir);
  }

  async start(job: JobSpec, run: JobRunRequest): Promise<JobRunState> {
    const record = this.newRecord(job, run, `local-${process.pid.toString(36)}`);
    if (!this.records.create(record)) return this.get(job, run.runKey);

    const cds = this.spark.cdsPlan(record.runId);
    const command = this.spark.command(record.script, { ...run, kind: job.kind }, cds);
    const launch = this.spark.launch(command, this.records.path(run.runKey, 'exit'), cds);
    let proc: DetachedProcess;
    try {
      proc = await spawnDetached(launch.command, launch.args, {
        env: launch.env,
        logFile: record.logFile,
        logHeader: false,
      });
    } catch (err) {
      this.records.save({
        ...record,
        status: 'failed',
        error: `could not start spark-submit: ${(err as Error).message}`,
        finishedAt: new Date().toISOString(),
      });
      return this.get(job, run.runKey);
    }
    this.records.save({ ...record, status: 'running', pid: proc.pid, procStart: proc.token, command });
    return this.get(job, run.runKey);
  }

  /**
   * The record of a new run, after what every start checks: the run key, the job's script (recorded
   * as an absolute path), the toolchain. `runIdPrefix` tells the kind of run apart.
   */
  protected newRecord(job: JobSpec, run: JobRunRequest, runIdPrefix: string): RunRecord {
    validateRunKey(run.runKey);
    const script = resolve(this.spark.repoRoot, job.script);
    if (!existsSync(script))
      throw new UserError(
        `job script ${job.script} does not exist under ${this.spark.repoRoot}`,
        'check jobs.*.script in the pipeline config',
      );
    this.spark.checkToolchain();
    return {
      runKey: run.runKey,
      runId: `${runIdPrefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
      kind: job.kind,
      script,
      manifestUri: run.manifestUri,
      status: 'starting',
      startedAt: new Date().toISOString(),
      logFile: this.records.path(run.runKey, 'log'),
    };
  }

  async get(_job: JobRef, runKey: string): Promise<JobRunState> {
    return toState(this.records.refresh(this.records.load(runKey)));
  }

  async stop(_job: JobRef, runKey: string): Promise<void> {
    await this.stopRun(runKey);
  }

  protected async stopRun(runKey: string): Promise<void> {
    const record = this.records.refresh(this.records.load(runKey));
    if (!isActive(record)) return;
    this.records.markStopped(runKey);
    if (record.pid !== undefined) await stopProcessGroup(record.pid, leaderToken(record), STOP_GRACE_MS);
    this.records.save({
      ...record,
      status: 'stopped',
      finishedAt: new Date().toISOString(),
      error: 'stopped on request',
    });
  }

  /** Settles when `<runKey>.exit` appears (inotify on the jobs folder): a run's end is seen at once. */
  watchForEnd(_job: JobRef, runKey: string): { ended: Promise<void>; close(): void } {
    validateRunKey(runKey);
    const exitName = `${runKey}.exit`;
    let watcher: FSWatcher | undefined;
    const ended = new Promise<void>((resolve) => {
      try {
        mkdirSync(this.jobsDir, { recursive: true });
        watcher = watch(this.jobsDir, (_event, file) => {
          if (file === exitName) resolve();
        });
        watcher.on('error', () => undefined); // the caller polls anyway
      } catch {
        /* no watching here: the caller polls */
      }
      if (existsSync(join(this.jobsDir, exitName))) resolve();
    });
    return { ended, close: () => watcher?.close() };
  }

  async listRunning({ kind }: JobRef): Promise<JobRunState[]> {
    return this.running()
      .filter((record) => record.kind === kind)
      .map(toState);
  }

  /**
   * Stop every run in this state folder that is still running, whatever its job (what a test or a
   * chaos run leaves behind: jobs outlive the processes that started them). Returns the run keys it
   * stopped; one that cannot be stopped does not keep the others running.
   */
  async stopAll(): Promise<string[]> {
    const stopped: string[] = [];
    for (const { runKey } of this.running())
      await this.stopRun(runKey).then(
        () => stopped.push(runKey),
        () => undefined,
      );
    return stopped;
  }

  private running(): RunRecord[] {
    return this.records
      .runKeys()
      .map((key) => this.records.refresh(this.records.load(key)))
      .filter(isActive);
  }
}
