import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../core/errors';
import { capture, javaExecutable, writeFileAtomicSync } from '../../core/process';
import { REPO_ROOT, toolchainPaths, type ToolchainPaths } from '../../core/toolchain';
import type { JobKind, JobRunRequest } from '../job-runner';

/**
 * How a local run is launched: the spark-submit command line (conf, JVM options, the job package),
 * the class-data-sharing plan, Spark's log4j set-up, and the shell that wraps it all.
 */
export interface SparkCommandOptions {
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

/** Use the class-data-sharing archive, or make it (to a temporary file, kept by the wrapper on success). */
export interface CdsPlan {
  use?: string;
  create?: { tmp: string; final: string };
}

/** A program to start: the wrapper shell around spark-submit. */
export interface Launch {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export class SparkSubmit {
  readonly repoRoot: string;
  readonly tools: ToolchainPaths;

  /** `jobsDir` holds the runner's generated files (log4j set-up, the package zip). */
  constructor(
    private readonly options: SparkCommandOptions,
    private readonly jobsDir: string,
  ) {
    this.repoRoot = options.repoRoot ?? REPO_ROOT;
    this.tools = options.toolchain ?? toolchainPaths();
  }

  /** spark-submit and the jars are in the toolchain cache. */
  checkToolchain(): void {
    for (const tool of [this.tools.sparkSubmit, ...this.tools.jars])
      if (!existsSync(tool)) throw new UserError(`${tool} is missing`, 'run `ddb-lake setup` to install the toolchain');
  }

  /** The spark-submit command line of a run (public for the bench and for debugging). */
  command(script: string, run: JobRunRequest & { kind: JobKind }, cds?: CdsPlan): string[] {
    const javaOptions = this.options.javaOptions ?? DEFAULT_JAVA_OPTIONS[run.kind];
    return [
      ...this.submit(javaOptions, cds),
      script,
      '--manifest',
      run.manifestUri,
      '--run_key',
      run.runKey,
      ...this.endpointArgs(),
    ];
  }

  /**
   * The command line of a warm engine (glue/engine.py): the full JIT, since it lives for hours and
   * the C1-only JIT that wins a cold ten-second run loses there.
   */
  engineCommand(script: string, args: string[], cds?: CdsPlan): string[] {
    return [...this.submit(this.options.javaOptions ?? [], cds), script, ...args, ...this.endpointArgs()];
  }

  private submit(javaOptions: string[], cds?: CdsPlan): string[] {
    const conf: Record<string, string> = { ...LOCAL_SPARK_CONF };
    if (this.options.ports) {
      conf['spark.driver.port'] = String(this.options.ports.driver);
      conf['spark.blockManager.port'] = String(this.options.ports.blockManager);
      conf['spark.port.maxRetries'] = String(this.options.ports.maxRetries);
    }
    const java = [`-Dlog4j2.configurationFile=file:${this.log4jConfig()}`, ...javaOptions];
    if (cds?.use) java.push(`-XX:SharedArchiveFile=${cds.use}`);
    // Making the archive, the JVM prints a warning per class it cannot archive at exit, after the
    // job's summary line (which must stay the log's last line): those go nowhere.
    if (cds?.create) java.push(`-XX:ArchiveClassesAtExit=${cds.create.tmp}`, '-Xlog:cds*=off');
    conf['spark.driver.extraJavaOptions'] = java.join(' ');
    Object.assign(conf, this.options.sparkConf ?? {});
    return [
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
    ];
  }

  private endpointArgs(): string[] {
    const args: string[] = [];
    if (this.options.awsEndpoint) args.push('--aws_endpoint', this.options.awsEndpoint);
    if (this.options.awsRegion) args.push('--aws_region', this.options.awsRegion);
    return args;
  }

  /**
   * The wrapper shell that leads the run's process group and outlives the Node process that started
   * it: it runs `command`, keeps a class-data-sharing archive the JVM dumped at exit, then records
   * the exit code in `exitFile` (written to a temporary name and renamed: readers never see half).
   */
  launch(command: string[], exitFile: string, cds: CdsPlan | undefined): Launch {
    const wrapper = [
      '"$@"; code=$?',
      'if [ -n "$DDB_LAKE_CDS_TMP" ]; then if [ "$code" = 0 ] && [ -s "$DDB_LAKE_CDS_TMP" ]; then mv -f "$DDB_LAKE_CDS_TMP" "$DDB_LAKE_CDS_FINAL"; else rm -f "$DDB_LAKE_CDS_TMP"; fi; rm -f "$DDB_LAKE_CDS_FINAL.creating"; fi',
      'printf "%s\\n" "$code" > "$DDB_LAKE_EXIT_FILE.tmp" && mv "$DDB_LAKE_EXIT_FILE.tmp" "$DDB_LAKE_EXIT_FILE"',
    ].join('; ');
    return {
      command: '/bin/sh',
      args: ['-c', wrapper, 'ddb-lake-job', ...command],
      env: {
        ...process.env,
        PYSPARK_PYTHON: this.tools.python,
        PYSPARK_DRIVER_PYTHON: this.tools.python,
        SPARK_LOCAL_IP: '127.0.0.1',
        PYTHONUNBUFFERED: '1',
        ...(this.options.env ?? {}),
        DDB_LAKE_EXIT_FILE: exitFile,
        DDB_LAKE_CDS_TMP: cds?.create?.tmp ?? '',
        DDB_LAKE_CDS_FINAL: cds?.create?.final ?? '',
      },
    };
  }

  /**
   * Use the class-data-sharing archive when it exists; otherwise let this run create it, unless another
   * run is creating it right now. The archive is keyed by the JVM and the class path it was made with.
   */
  cdsPlan(runId: string): CdsPlan | undefined {
    if (this.options.classDataSharing === false) return undefined;
    const javaBin = javaExecutable();
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
    const result = capture(this.tools.python, ['-c', code, pkg, tmp]);
    if (result.status !== 0) throw new Error(`could not zip ${pkg}: ${result.output || result.error}`);
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
    if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileAtomicSync(file, text);
    return file;
  }
}
