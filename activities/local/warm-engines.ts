import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  isGroupRunning,
  recordProcess,
  spawnDetached,
  stopProcessGroup,
  writeFileAtomicSync,
  type StopOutcome,
} from '../../core/process';
import type { SparkSubmit } from './spark-command';

/**
 * The warm engines of one local state folder: one long-lived Spark session per pipeline
 * (glue/ddb_lake_glue/engine.py) under `<state>/engines/<pipeline>/`:
 * `engine.json` (this record), `engine.log`, `inbox/` and `active/` (the requests), `engine.exit`.
 * Like the one-shot runs, an engine is a process group of its own that outlives the worker: a
 * restarted worker finds it by its record (pid and start token) and keeps handing it batches.
 */
export interface EngineRecord {
  pipeline: string;
  /** Leader of the engine's process group (the wrapper shell around spark-submit). */
  pid: number;
  token: string | undefined;
  startedAt: string;
  /** The job package it was started with: an engine on an older package is replaced when idle. */
  packageZip: string;
  logFile: string;
}

export interface EngineStatus extends EngineRecord {
  running: boolean;
  /** Its session is built and it takes requests. */
  ready: boolean;
  /** Run key of the batch it runs now. */
  busyWith: string | null;
  queued: number;
}

/** An engine idle this long exits by itself (a paused or stopped pipeline gives its memory back). */
export const DEFAULT_IDLE_EXIT_SECONDS = 15 * 60;
const ENGINE_NAME = /^[a-z0-9][a-z0-9_-]{0,99}$/;

export class WarmEngines {
  readonly dir: string;
  private readonly stateDir: string;

  constructor(
    stateDir: string,
    private readonly idleExitSeconds = DEFAULT_IDLE_EXIT_SECONDS,
  ) {
    this.stateDir = resolve(stateDir);
    this.dir = join(this.stateDir, 'engines');
  }

  engineDir(pipeline: string): string {
    if (!ENGINE_NAME.test(pipeline)) throw new Error(`${JSON.stringify(pipeline)} is not a pipeline name`);
    return join(this.dir, pipeline);
  }

  record(pipeline: string): EngineRecord | undefined {
    try {
      return JSON.parse(readFileSync(join(this.engineDir(pipeline), 'engine.json'), 'utf8')) as EngineRecord;
    } catch {
      return undefined;
    }
  }

  isRunning(record: EngineRecord | undefined): record is EngineRecord {
    return record !== undefined && isGroupRunning(record.pid, record.token);
  }

  /** The pipeline's running engine, started (or replaced, when idle on an older package) as needed. */
  async ensure(pipeline: string, spark: SparkSubmit, jobsDir: string): Promise<EngineRecord> {
    const packageZip = spark.packageZip();
    const current = this.record(pipeline);
    if (this.isRunning(current)) {
      if (current.packageZip === packageZip || this.busy(pipeline)) return current;
      await this.stop(pipeline);
    }
    return this.start(pipeline, spark, jobsDir, packageZip);
  }

  /** Hand a batch to the pipeline's engine (written whole, then renamed: the engine never sees half). */
  submit(pipeline: string, request: { runKey: string; kind: string; manifestUri: string }): void {
    writeFileAtomicSync(join(this.engineDir(pipeline), 'inbox', `${request.runKey}.json`), JSON.stringify(request));
  }

  /** Take back a batch the engine has not taken yet; false when it has (or never had it). */
  withdraw(pipeline: string, runKey: string): boolean {
    try {
      rmSync(join(this.engineDir(pipeline), 'inbox', `${runKey}.json`));
      return true;
    } catch {
      return false;
    }
  }

  isQueued(pipeline: string, runKey: string): boolean {
    return existsSync(join(this.engineDir(pipeline), 'inbox', `${runKey}.json`));
  }

  async stop(pipeline: string, graceMs = 10_000): Promise<StopOutcome | 'none'> {
    const record = this.record(pipeline);
    if (!record) return 'none';
    const outcome = await stopProcessGroup(record.pid, record.token, graceMs);
    // A batch it had taken is reported failed by the run records (no exit file); nothing else is kept.
    rmSync(join(this.engineDir(pipeline), 'active'), { recursive: true, force: true });
    return outcome;
  }

  async stopAll(): Promise<{ pipeline: string; outcome: StopOutcome | 'none' }[]> {
    const out: { pipeline: string; outcome: StopOutcome | 'none' }[] = [];
    for (const { pipeline } of this.list().filter((e) => e.running))
      out.push({ pipeline, outcome: await this.stop(pipeline).catch(() => 'none' as const) });
    return out;
  }

  list(): EngineStatus[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((name) => ENGINE_NAME.test(name))
      .flatMap((pipeline) => {
        const record = this.record(pipeline);
        if (!record) return [];
        const dir = this.engineDir(pipeline);
        const running = this.isRunning(record);
        const ready = running && readyAfter(join(dir, 'ready'), record.startedAt);
        return [
          {
            ...record,
            running,
            ready,
            busyWith: this.busyWith(pipeline),
            queued: jsonFiles(join(dir, 'inbox')).length,
          },
        ];
      });
  }

  private busy(pipeline: string): boolean {
    const dir = this.engineDir(pipeline);
    return jsonFiles(join(dir, 'active')).length > 0 || jsonFiles(join(dir, 'inbox')).length > 0;
  }

  private busyWith(pipeline: string): string | null {
    const active = jsonFiles(join(this.engineDir(pipeline), 'active'));
    return active.length ? active[0]!.slice(0, -'.json'.length) : null;
  }

  private async start(
    pipeline: string,
    spark: SparkSubmit,
    jobsDir: string,
    packageZip: string,
  ): Promise<EngineRecord> {
    const dir = this.engineDir(pipeline);
    for (const sub of ['inbox', 'active']) mkdirSync(join(dir, sub), { recursive: true });
    // A batch the last engine had taken died with it (the run records report it failed).
    for (const f of jsonFiles(join(dir, 'active'))) rmSync(join(dir, 'active', f), { force: true });
    rmSync(join(dir, 'ready'), { force: true });
    mkdirSync(jobsDir, { recursive: true });
    const script = join(spark.repoRoot, 'glue', 'engine.py');
    // Only use an archive here: one made at a long-lived JVM's exit would hold whatever it loaded.
    const plan = spark.cdsPlan(`engine-${pipeline}`);
    if (plan?.create) rmSync(`${plan.create.final}.creating`, { force: true });
    const cds = plan?.use ? plan : undefined;
    const command = spark.engineCommand(
      script,
      ['--engine_dir', dir, '--jobs_dir', jobsDir, '--idle_exit_seconds', String(this.idleExitSeconds)],
      cds,
    );
    const launch = spark.launch(command, join(dir, 'engine.exit'), cds);
    rmSync(join(dir, 'engine.exit'), { force: true });
    const logFile = join(dir, 'engine.log');
    writeFileSync(logFile, `=== ${new Date().toISOString()} warm engine for ${pipeline}\n`, { flag: 'a' });
    const proc = await spawnDetached(launch.command, launch.args, { env: launch.env, logFile, logHeader: false });
    const record: EngineRecord = {
      pipeline,
      pid: proc.pid,
      token: proc.token,
      startedAt: new Date().toISOString(),
      packageZip,
      logFile,
    };
    writeFileAtomicSync(join(dir, 'engine.json'), JSON.stringify(record, null, 2));
    // So that `ddb-lake down` stops it and `stack status` shows it (the stack knows no engines).
    recordProcess(this.stateDir, {
      name: `engine-${pipeline}`,
      pid: record.pid,
      token: record.token,
      startedAt: record.startedAt,
      logFile,
      describe: `warm engine of pipeline ${pipeline}`,
    });
    return record;
  }
}

function jsonFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch {
    return [];
  }
}

function readyAfter(file: string, startedAt: string): boolean {
  try {
    return statSync(file).mtimeMs >= Date.parse(startedAt) - 1000;
  } catch {
    return false;
  }
}
