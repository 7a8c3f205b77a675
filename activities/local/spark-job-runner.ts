import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  watch,
  type FSWatcher,
  openSync,
  readFileSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../../core/errors';
import type { JobSummary } from '../../core/manifest';
import { REPO_ROOT, toolchainPaths, type ToolchainPaths } from '../../core/toolchain';
import { JobRunNotFoundError, type JobKind, type JobRunner, type JobRunRequest, type JobRunState } from '../job-runner';

/**
 * Runs the Glue scripts locally with `spark-submit` (local[2], the cache's jars, s3a → moto).
 *
 * Each run lives in `<state>/jobs/`: `<runKey>.json` (the durable record), `<runKey>.log` (stdout and
 * stderr), `<runKey>.exit` (the exit code, written by a shell wrapper in the run's own process group,
 * so it is recorded even when the Node process that started the run is gone) and `<runKey>.stopped`
 * (written by `stop`). A fresh runner (a restarted worker) finds and polls the same runs; creating the
 * record with O_EXCL makes a second start of a runKey return the first run instead.
 */
export interface SparkJobRunnerOptions {
  /** The local state folder; runs are kept under `<stateDir>/jobs/`. */
  stateDir: string;
  /** S3 endpoint of the local stack (moto); passed to the job as --aws_endpoint. */
  awsEndpoint?: string;
  awsRegion?: string;
  repoRoot?: string;
  toolchain?: ToolchainPaths;
  /** spark-submit --driver-memory; local mode runs the executors in the driver JVM. */
  driverMemory?: string;
  /** Extra `--conf key=value` (win over the defaults below). */
  sparkConf?: Record<string, string>;
  /** Loopback ports for the driver and block manager (each tries `maxRetries` ports upwards). */
  ports?: { driver: number; blockManager: number; maxRetries: number };
  /** Extra environment for spark-submit. */
  env?: Record<string, string>;
  /** JVM options of the driver (local mode: the only JVM); default DEFAULT_JAVA_OPTIONS[kind]. */
  javaOptions?: string[];
  /**
   * Start the JVM from a class-data-sharing archive of Spark's and Hudi's classes (AppCDS, made by
   * the first run and kept in the toolchain cache): ~25% off a small job's wall time. Default true.
   */
  classDataSharing?: boolean;
}

/** Spark settings for short local runs (bench/job-overhead.ts): no UI, 2 shuffle partitions, no Hudi
 * metadata table (it costs ~0.5 s a commit locally and buys nothing on a local disk). */
export const LOCAL_SPARK_CONF: Record<string, string> = {
  'spark.ui.enabled': 'false',
  'spark.ui.showConsoleProgress': 'false',
  'spark.sql.shuffle.partitions': '2',
  'spark.default.parallelism': '2',
  'spark.driver.bindAddress': '127.0.0.1',
  'spark.driver.host': '127.0.0.1',
  'spark.sql.adaptive.enabled': 'true',
  'spark.ddb_lake.hoodie.metadata.enable': 'false',
  'spark.ddb_lake.hoodie.upsert.shuffle.parallelism': '2',
  'spark.ddb_lake.hoodie.insert.shuffle.parallelism': '2',
  'spark.ddb_lake.hoodie.bulkinsert.shuffle.parallelism': '2',
  'spark.ddb_lake.hoodie.delete.shuffle.parallelism': '2',
};

/**
 * JVM options of the driver by kind (bench/job-overhead.ts measures them): small incremental jobs are
 * dominated by a cold JVM, where the C1-only JIT is faster; the initial load keeps the full JIT.
 */
export const DEFAULT_JAVA_OPTIONS: Record<JobKind, string[]> = {
  incremental: ['-XX:TieredStopAtLevel=1'],
  initialLoad: [],
};

interface CdsPlan {
  use?: string;
  create?: { tmp: string; final: string };
}

function whichJava(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = join(dir, 'java');
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

const RUN_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const SUMMARY_PREFIX = 'DDB_LAKE_SUMMARY ';
/** A record without a process after this long: the runner died between recording and spawning. */
const SPAWN_GRACE_MS = 60_000;

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
  pid?: number;
  /** /proc/<pid>/stat start time: tells our process from a later one that reused its pid. */
  procStart?: string;
  command?: string[];
  logFile: string;
  error?: string;
  exitCode?: number;
  summary?: JobSummary;
}

export class SparkJobRunner implements JobRunner {
  private readonly jobsDir: string;
  private readonly repoRoot: string;
  private readonly tools: ToolchainPaths;

  constructor(private readonly options: SparkJobRunnerOptions) {
    this.jobsDir = join(resolve(options.stateDir), 'jobs');
    this.repoRoot = options.repoRoot ?? REPO_ROOT;
    this.tools = options.toolchain ?? toolchainPaths();
  }

  async start(request: JobRunRequest): Promise<JobRunState> {
    validateRunKey(request.runKey);
    const script = resolve(this.repoRoot, request.script);
    if (!existsSync(script))
      throw new UserError(
        `job script ${request.script} does not exist under ${this.repoRoot}`,
        'check jobs.*.script in the pipeline config',
      );
    for (const tool of [this.tools.sparkSubmit, ...this.tools.jars])
      if (!existsSync(tool)) throw new UserError(`${tool} is missing`, 'run `ddb-lake setup` to install the toolchain');
    mkdirSync(this.jobsDir, { recursive: true });
    const record: RunRecord = {
      runKey: request.runKey,
      runId: `local-${Date.now().toString(36)}-${process.pid.toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
      kind: request.kind,
      script,
      manifestUri: request.manifestUri,
      status: 'starting',
      startedAt: new Date().toISOString(),
      logFile: this.path(request.runKey, 'log'),
    };
    let fd: number;
    try {
      fd = openSync(this.path(request.runKey, 'json'), 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return this.get(request.runKey);
      throw err;
    }
    writeSync(fd, JSON.stringify(record, null, 2));
    closeSync(fd);

    const cds = this.cdsPlan(record.runId);
    const command = this.command(script, request, cds);
    const log = openSync(record.logFile, 'a');
    const exitFile = this.path(request.runKey, 'exit');
    // The wrapper shell leads the run's process group and outlives the Node process that started it.
    // It keeps a class-data-sharing archive the JVM dumped at exit, then records the exit code.
    const wrapper = [
      '"$@"; code=$?',
      'if [ -n "$DDB_LAKE_CDS_TMP" ]; then if [ "$code" = 0 ] && [ -s "$DDB_LAKE_CDS_TMP" ]; then mv -f "$DDB_LAKE_CDS_TMP" "$DDB_LAKE_CDS_FINAL"; else rm -f "$DDB_LAKE_CDS_TMP"; fi; rm -f "$DDB_LAKE_CDS_FINAL.creating"; fi',
      'printf "%s\\n" "$code" > "$DDB_LAKE_EXIT_FILE.tmp" && mv "$DDB_LAKE_EXIT_FILE.tmp" "$DDB_LAKE_EXIT_FILE"',
    ].join('; ');
    const child = spawn('/bin/sh', ['-c', wrapper, 'ddb-lake-job', ...command], {
      detached: true,
      stdio: ['ignore', log, log],
      env: {
        ...process.env,
        ...this.environment(),
        DDB_LAKE_EXIT_FILE: exitFile,
        DDB_LAKE_CDS_TMP: cds?.create?.tmp ?? '',
        DDB_LAKE_CDS_FINAL: cds?.create?.final ?? '',
      },
    });
    closeSync(log);
    const pid = child.pid;
    child.unref();
    if (pid === undefined) {
      const error = await new Promise<string>((res) => child.once('error', (e) => res(String(e))));
      this.save({
        ...record,
        status: 'failed',
        error: `could not start spark-submit: ${error}`,
        finishedAt: new Date().toISOString(),
      });
      return this.get(request.runKey);
    }
    this.save({ ...record, status: 'running', pid, procStart: processStart(pid), command });
    return this.get(request.runKey);
  }

  async get(runKey: string): Promise<JobRunState> {
    return toState(this.refresh(this.load(runKey)));
  }

  async stop(runKey: string): Promise<void> {
    const record = this.refresh(this.load(runKey));
    if (record.status !== 'running' && record.status !== 'starting') return;
    writeFileSync(this.path(runKey, 'stopped'), new Date().toISOString());
    if (record.pid !== undefined && this.alive(record)) {
      signalGroup(record.pid, 'SIGTERM');
      const deadline = Date.now() + 15_000;
      while (this.alive(record) && Date.now() < deadline) await sleep(200);
      if (this.alive(record)) signalGroup(record.pid, 'SIGKILL');
      while (this.alive(record)) await sleep(100);
    }
    this.save({ ...record, status: 'stopped', finishedAt: new Date().toISOString(), error: 'stopped on request' });
  }

  /** Settles when `<runKey>.exit` appears (inotify on the jobs folder): a run's end is seen at once. */
  watchForEnd(runKey: string): { ended: Promise<void>; close(): void } {
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

  async listRunning(kind: JobKind): Promise<JobRunState[]> {
    if (!existsSync(this.jobsDir)) return [];
    const states: JobRunState[] = [];
    for (const name of readdirSync(this.jobsDir)) {
      if (!name.endsWith('.json')) continue;
      const record = this.refresh(this.load(name.slice(0, -'.json'.length)));
      if (record.kind === kind && (record.status === 'running' || record.status === 'starting'))
        states.push(toState(record));
    }
    return states;
  }

  /** The spark-submit command line of a run (exported for the bench and for debugging). */
  command(script: string, request: Pick<JobRunRequest, 'manifestUri' | 'runKey' | 'kind'>, cds?: CdsPlan): string[] {
    const conf: Record<string, string> = { ...LOCAL_SPARK_CONF };
    if (this.options.ports) {
      conf['spark.driver.port'] = String(this.options.ports.driver);
      conf['spark.blockManager.port'] = String(this.options.ports.blockManager);
      conf['spark.port.maxRetries'] = String(this.options.ports.maxRetries);
    }
    const java = [
      `-Dlog4j2.configurationFile=file:${this.log4jConfig()}`,
      ...(this.options.javaOptions ?? DEFAULT_JAVA_OPTIONS[request.kind]),
    ];
    if (cds?.use) java.push(`-XX:SharedArchiveFile=${cds.use}`);
    if (cds?.create) java.push(`-XX:ArchiveClassesAtExit=${cds.create.tmp}`);
    conf['spark.driver.extraJavaOptions'] = java.join(' ');
    Object.assign(conf, this.options.sparkConf ?? {});
    const args = [
      this.tools.sparkSubmit,
      '--master',
      'local[2]',
      '--driver-memory',
      this.options.driverMemory ?? '1g',
      '--jars',
      this.tools.jars.join(','),
      '--py-files',
      this.packageZip(),
      ...Object.entries(conf).flatMap(([k, v]) => ['--conf', `${k}=${v}`]),
      script,
      '--manifest',
      request.manifestUri,
      '--run_key',
      request.runKey,
    ];
    if (this.options.awsEndpoint) args.push('--aws_endpoint', this.options.awsEndpoint);
    if (this.options.awsRegion) args.push('--aws_region', this.options.awsRegion);
    return args;
  }

  /**
   * Use the class-data-sharing archive when it exists; otherwise let this run create it, unless another
   * run is creating it right now. The archive is keyed by the JVM and the class path it was made with.
   */
  private cdsPlan(runId: string): CdsPlan | undefined {
    if (this.options.classDataSharing === false) return undefined;
    const javaBin = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : whichJava();
    if (!javaBin) return undefined;
    const key = createHash('sha256');
    for (const f of [javaBin, this.tools.sparkSubmit, ...this.tools.jars]) {
      try {
        const real = realpathSync(f);
        key
          .update(real)
          .update(String(statSync(real).size))
          .update(String(statSync(real).mtimeMs));
      } catch {
        return undefined;
      }
    }
    const dir = join(this.tools.cache, 'cds');
    const final = join(dir, `spark-${key.digest('hex').slice(0, 16)}.jsa`);
    if (existsSync(final)) return { use: final };
    mkdirSync(dir, { recursive: true });
    const marker = `${final}.creating`;
    try {
      if (existsSync(marker) && Date.now() - statSync(marker).mtimeMs > 15 * 60_000) rmSync(marker, { force: true });
      writeFileSync(marker, runId, { flag: 'wx' });
    } catch {
      return undefined; // another run is making it
    }
    return { create: { tmp: `${final}.${runId}.tmp`, final } };
  }

  private environment(): Record<string, string> {
    return {
      PYSPARK_PYTHON: this.tools.python,
      PYSPARK_DRIVER_PYTHON: this.tools.python,
      SPARK_LOCAL_IP: '127.0.0.1',
      PYTHONUNBUFFERED: '1',
      ...(this.options.env ?? {}),
    };
  }

  /** glue/ddb_lake_glue zipped for --py-files, named by its content so a changed package is rebuilt. */
  packageZip(): string {
    const pkg = join(this.repoRoot, 'glue', 'ddb_lake_glue');
    const files = readdirSync(pkg)
      .filter((f) => f.endsWith('.py'))
      .sort();
    const hash = createHash('sha256');
    for (const f of files)
      hash
        .update(f)
        .update('\0')
        .update(readFileSync(join(pkg, f)));
    const dir = join(this.jobsDir, 'pkg');
    const zip = join(dir, `ddb_lake_glue-${hash.digest('hex').slice(0, 16)}.zip`);
    if (existsSync(zip)) return zip;
    mkdirSync(dir, { recursive: true });
    const tmp = `${zip}.${process.pid}.tmp`;
    const code = [
      'import sys, zipfile, os',
      'pkg, out = sys.argv[1], sys.argv[2]',
      'with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:',
      '    for f in sorted(os.listdir(pkg)):',
      '        if f.endswith(".py"): z.write(os.path.join(pkg, f), "ddb_lake_glue/" + f)',
    ].join('\n');
    const result = spawnSync(this.tools.python, ['-c', code, pkg, tmp], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`could not zip ${pkg}: ${result.stderr || result.error}`);
    renameSync(tmp, zip);
    return zip;
  }

  /** Spark's own logging at WARN (the log stays readable and the summary is its last line). */
  private log4jConfig(): string {
    const file = join(this.jobsDir, 'log4j2.properties');
    const text = [
      'rootLogger.level = warn',
      'rootLogger.appenderRef.stderr.ref = console',
      'appender.console.type = Console',
      'appender.console.name = console',
      'appender.console.target = SYSTEM_ERR',
      'appender.console.layout.type = PatternLayout',
      'appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex',
      // Known noise of local mode (hostname, native libs, Hudi's JOL agent probe).
      'logger.utils.name = org.apache.spark.util.Utils',
      'logger.utils.level = error',
      'logger.native.name = org.apache.hadoop.util.NativeCodeLoader',
      'logger.native.level = error',
      'logger.metrics.name = org.apache.hadoop.metrics2',
      'logger.metrics.level = error',
      '',
    ].join('\n');
    mkdirSync(this.jobsDir, { recursive: true });
    if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text);
    return file;
  }

  private path(runKey: string, ext: 'json' | 'log' | 'exit' | 'stopped'): string {
    return join(this.jobsDir, `${runKey}.${ext}`);
  }

  private load(runKey: string): RunRecord {
    validateRunKey(runKey);
    const file = this.path(runKey, 'json');
    if (!existsSync(file)) throw new JobRunNotFoundError(runKey, this.jobsDir);
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

  private save(record: RunRecord): void {
    const file = this.path(record.runKey, 'json');
    writeFileSync(`${file}.tmp`, JSON.stringify(record, null, 2));
    renameSync(`${file}.tmp`, file);
  }

  /** Resolve a non-final record against the exit file, the stop marker and the process table. */
  private refresh(record: RunRecord): RunRecord {
    if (record.status !== 'running' && record.status !== 'starting') return record;
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
    } else if (record.pid !== undefined && this.alive(record)) {
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
          : `the job's process ended without recording an exit code (killed, or the machine restarted)${error ? `: ${error}` : ''}`,
        finishedAt: new Date().toISOString(),
      };
    }
    this.save(next);
    return next;
  }

  private alive(record: RunRecord): boolean {
    if (record.pid === undefined) return false;
    try {
      process.kill(-record.pid, 0);
    } catch {
      return false;
    }
    // The group exists; make sure its leader is still the process we started (pid reuse).
    const start = processStart(record.pid);
    return (
      start === undefined ||
      record.procStart === undefined ||
      start === record.procStart ||
      !existsSync(`/proc/${record.pid}`)
    );
  }
}

function toState(record: RunRecord): JobRunState {
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

function validateRunKey(runKey: string): void {
  if (!RUN_KEY.test(runKey))
    throw new UserError(
      `run key ${JSON.stringify(runKey)} is not valid`,
      'use 1-200 characters of A-Z a-z 0-9 . _ - (starting with a letter or digit)',
    );
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks); undefined off Linux. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* already gone */
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
        summary = JSON.parse(line.slice(SUMMARY_PREFIX.length)) as JobSummary;
      } catch {
        /* a torn line: fall back to the log */
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
