import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../core/errors';
import { parseJobSummary, type JobSummary } from '../../core/manifest';
import { isGroupRunning, writeFileAtomicSync } from '../../core/process';
import { JobRunNotFoundError, type JobKind, type JobRunState } from '../job-runner';

/**
 * The local runner's durable record of each run, in `<state>/jobs/`: `<runKey>.json` (the record),
 * `<runKey>.log` (stdout and stderr), `<runKey>.exit` (the exit code, written by the run's wrapper
 * shell, so it is recorded even when the Node process that started the run is gone) and
 * `<runKey>.stopped` (written by `stop`). Any process reading the folder sees the same runs: a
 * restarted worker adopts the runs of the one before it by run key.
 */

/** What the local runner records per run in `<state>/jobs/<run key>.json` (also read by tests and benches). */
export interface RunRecord {
  runKey: string;
  runId: string;
  kind: JobKind;
  script: string;
  manifestUri: string;
  status: JobRunState['status'] | 'starting';
  startedAt: string;
  finishedAt?: string;
  /** Leader of the run's process group (the wrapper shell). */
  pid?: number;
  /**
   * Start token of that leader (core/process/liveness.ts): tells our process from a later one that
   * reused its pid. Records written before the token had a prefix hold the bare start time.
   */
  procStart?: string;
  command?: string[];
  logFile: string;
  error?: string;
  exitCode?: number;
  summary?: JobSummary;
  /** The warm engine (its pipeline) that runs this batch; `pid` is then the engine's (warm-job-runner.ts). */
  engine?: string;
}

type RunFile = 'json' | 'log' | 'exit' | 'stopped';

const RUN_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const SUMMARY_PREFIX = 'DDB_LAKE_SUMMARY ';
/** A record without a process after this long: the runner died between recording and spawning. */
const SPAWN_GRACE_MS = 60_000;

export function validateRunKey(runKey: string): void {
  if (!RUN_KEY.test(runKey))
    throw new UserError(
      `run key ${JSON.stringify(runKey)} is not valid`,
      'use 1-200 characters of A-Z a-z 0-9 . _ - (starting with a letter or digit)',
    );
}

export function isActive(record: RunRecord): boolean {
  return record.status === 'running' || record.status === 'starting';
}

/** The start token of a record's process group leader, from this version's records or older ones. */
export function leaderToken(record: RunRecord): string | undefined {
  const t = record.procStart;
  return t === undefined || t.includes(':') ? t : `linux:${t}`;
}

export class RunRecords {
  constructor(readonly dir: string) {}

  path(runKey: string, file: RunFile): string {
    return join(this.dir, `${runKey}.${file}`);
  }

  /** Record a new run, exclusively (O_EXCL): false when its run key has a record already. */
  create(record: RunRecord): boolean {
    validateRunKey(record.runKey);
    mkdirSync(this.dir, { recursive: true });
    try {
      writeFileSync(this.path(record.runKey, 'json'), JSON.stringify(record, null, 2), { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  }

  load(runKey: string): RunRecord {
    validateRunKey(runKey);
    const file = this.path(runKey, 'json');
    if (!existsSync(file)) throw new JobRunNotFoundError(runKey, this.dir);
    const text = readFileSync(file, 'utf8');
    if (!text.trim()) {
      // Created with O_EXCL but not yet written (a start in progress) or the writer died right there.
      const age = Date.now() - statSync(file).mtimeMs;
      return {
        runKey,
        runId: 'unknown',
        kind: 'incremental',
        script: '',
        manifestUri: '',
        status: age > SPAWN_GRACE_MS ? 'failed' : 'starting',
        startedAt: new Date(statSync(file).mtimeMs).toISOString(),
        logFile: this.path(runKey, 'log'),
        error: age > SPAWN_GRACE_MS ? 'the runner died while starting the job' : undefined,
      };
    }
    return JSON.parse(text) as RunRecord;
  }

  save(record: RunRecord): void {
    writeFileAtomicSync(this.path(record.runKey, 'json'), JSON.stringify(record, null, 2));
  }

  /** Run keys with a record, in no particular order. */
  runKeys(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((name) => name.endsWith('.json'))
      .map((name) => name.slice(0, -'.json'.length));
  }

  markStopped(runKey: string): void {
    writeFileSync(this.path(runKey, 'stopped'), new Date().toISOString());
  }

  /** Resolve a non-final record against the exit file, the stop marker and the process table. */
  refresh(record: RunRecord): RunRecord {
    if (!isActive(record)) return record;
    const exitFile = this.path(record.runKey, 'exit');
    const stopped = existsSync(this.path(record.runKey, 'stopped'));
    let next: RunRecord | undefined;
    if (existsSync(exitFile)) {
      const exitCode = Number.parseInt(readFileSync(exitFile, 'utf8').trim(), 10);
      const { summary, error } = readLog(record.logFile);
      const succeeded = exitCode === 0 && summary?.status === 'succeeded';
      next = {
        ...record,
        exitCode,
        summary,
        status: stopped ? 'stopped' : succeeded ? 'succeeded' : 'failed',
        error: stopped
          ? 'stopped on request'
          : succeeded
            ? undefined
            : (summary?.error ?? error ?? `spark-submit exited with code ${exitCode}`),
        finishedAt: summary?.finishedAt ?? new Date().toISOString(),
      };
      if (exitCode === 0 && !summary && !stopped)
        next.error = 'the job exited without printing its DDB_LAKE_SUMMARY line';
    } else if (record.pid !== undefined && isGroupRunning(record.pid, leaderToken(record))) {
      return record;
    } else if (record.pid === undefined && Date.now() - Date.parse(record.startedAt) < SPAWN_GRACE_MS) {
      return record;
    } else {
      const { summary, error } = readLog(record.logFile);
      next = {
        ...record,
        summary,
        status: stopped ? 'stopped' : 'failed',
        error: stopped
          ? 'stopped on request'
          : record.engine !== undefined
            ? `the warm engine of ${record.engine} (pid ${record.pid}) ended during this batch (killed, out of memory, or the machine restarted); see ${record.logFile} and the engine's log`
            : `the job's process ended without recording an exit code (killed, or the machine restarted)${error ? `: ${error}` : ''}`,
        finishedAt: new Date().toISOString(),
      };
    }
    this.save(next);
    return next;
  }
}

export function toState(record: RunRecord): JobRunState {
  const state: JobRunState = {
    runKey: record.runKey,
    runId: record.runId,
    status: record.status === 'starting' ? 'running' : record.status,
    startedAt: record.startedAt,
    logLocation: record.logFile,
  };
  if (record.finishedAt) state.finishedAt = record.finishedAt;
  if (record.error) state.error = record.error;
  if (record.summary) state.summary = record.summary;
  return state;
}

/**
 * The summary (last `DDB_LAKE_SUMMARY` line) and the best error text a log holds: the Python
 * exception line after the last traceback, else a JVM exception line, else the last lines.
 */
export function readLog(file: string): { summary?: JobSummary; error?: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  const lines = text.split('\n');
  let summary: JobSummary | undefined;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (line.startsWith(SUMMARY_PREFIX)) {
      try {
        summary = parseJobSummary(JSON.parse(line.slice(SUMMARY_PREFIX.length)), file);
      } catch {
        /* a torn line, or not the contract's summary: fall back to the log */
      }
      break;
    }
  }
  return { summary, error: errorFromLog(lines) };
}

export function errorFromLog(lines: string[]): string | undefined {
  const traceback = lines.map((l) => l.startsWith('Traceback (most recent call last)')).lastIndexOf(true);
  if (traceback >= 0) {
    // The exception line is the first non-indented line after the frames.
    for (let i = traceback + 1; i < lines.length; i++) {
      const line = lines[i]!;
      if (line && !/^\s/.test(line) && !line.startsWith(SUMMARY_PREFIX)) {
        const rest: string[] = [line];
        for (
          let j = i + 1;
          j < lines.length &&
          lines[j] &&
          !/^\s/.test(lines[j]!) &&
          rest.length < 5 &&
          !/^\d{2}\/\d{2}\/\d{2} /.test(lines[j]!);
          j++
        )
          rest.push(lines[j]!);
        return rest.join('\n');
      }
    }
  }
  const jvm = lines.filter((l) => /(Exception|Error)(: |$)/.test(l) && !/^\s+at /.test(l));
  if (jvm.length) return jvm[jvm.length - 1]!.trim();
  const tail = lines.filter((l) => l.trim()).slice(-5);
  return tail.length ? tail.join('\n') : undefined;
}

/** The run records of one pipeline's jobs in `<stateDir>/jobs/`, oldest start first (a record being written is skipped). */
export function readRunRecords(stateDir: string, pipeline: string): RunRecord[] {
  const dir = join(stateDir, 'jobs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${pipeline}-`) && f.endsWith('.json'))
    .flatMap((f) => {
      try {
        return [JSON.parse(readFileSync(join(dir, f), 'utf8')) as RunRecord];
      } catch {
        return [];
      }
    })
    .sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
}
