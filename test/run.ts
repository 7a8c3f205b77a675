/**
 * The test harness behind `npm test`: makes sure the toolchain is there, brings up ONE test stack
 * (its own state folder and ports), runs the TypeScript tests (node:test) and the Python tests
 * (pytest, glue/tests) against it, and always tears the stack down — on success, failure, Ctrl-C
 * or SIGTERM. Usage: node dist/test/run.js [filter]; a filter keeps the test files whose path
 * contains it. Ports: DDB_LAKE_TEST_TEMPORAL_PORT (17233), DDB_LAKE_TEST_TEMPORAL_UI_PORT (18233),
 * DDB_LAKE_TEST_AWS_PORT (15055).
 *
 * Two lanes run side by side, since most of a test's time is waiting (on a batch, a timer, a poll):
 * the node test files, two at a time (each names its own pipelines and tables, and servers a file
 * starts for itself take free ports), and pytest (its Spark sessions are its own). The files in
 * EXCLUSIVE_FILES disturb the shared stack (they kill its worker), so they run after the other node
 * files, alone in their lane. DDB_LAKE_TEST_CONCURRENCY=1 runs everything one file after another.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describeError } from '../core/errors';
import { REPO_ROOT } from '../core/toolchain';
import { ensureToolchain, stderrProgress } from '../stack/setup';
import { resolveStackOptions } from '../stack/options';
import { down, up } from '../stack/stack';
import { WarmJobRunner } from '../activities/local/warm-job-runner';

const STATE_DIR = join(REPO_ROOT, '.ddb-lake', 'test-stack');
const REPORTS_DIR = join(REPO_ROOT, '.ddb-lake', 'test-reports');
/** test/chaos.test.ts runs a stack of its own here (it restarts Temporal and the worker). */
const CHAOS_STATE_DIR = join(REPO_ROOT, '.ddb-lake', 'test-chaos');

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

const log = (line: string) => console.log(`[test] ${line}`);

const children = new Set<ChildProcess>();
let interrupted: NodeJS.Signals | undefined;

function listFiles(dir: string, keep: (name: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== '__pycache__')
      out.push(...listFiles(path, keep));
    else if (entry.isFile() && keep(entry.name)) out.push(path);
  }
  return out.sort();
}

/** Test files that SIGKILL and restart the shared stack's worker: run after the other node files. */
const EXCLUSIVE_FILES = ['integration/pipeline-loop.test.js'];

function run(command: string, args: string[], env: NodeJS.ProcessEnv, logFile?: string): Promise<number> {
  return new Promise((resolve) => {
    // Its own process group, so an interruption can stop the runner and every test process under it.
    const out = logFile ? openSync(logFile, 'w') : 'inherit';
    const proc = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', out, out], detached: true });
    if (typeof out === 'number') closeSync(out);
    children.add(proc);
    proc.on('error', (err) => {
      console.error(`cannot start ${command}: ${err.message}`);
      resolve(127);
    });
    proc.on('exit', (code, signal) => {
      children.delete(proc);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

const addCounts = (a: Counts, b: Counts): Counts => ({
  passed: a.passed + b.passed,
  failed: a.failed + b.failed,
  skipped: a.skipped + b.skipped,
});

/** Totals from node's TAP summary lines (`# pass 5`, `# fail 0`, `# skipped 1`, `# todo 0`). */
export function countsFromTap(tap: string): Counts {
  const get = (key: string) => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
  return { passed: get('pass'), failed: get('fail') + get('cancelled'), skipped: get('skipped') + get('todo') };
}

/** Totals from a pytest JUnit XML report. */
export function countsFromJunit(xml: string): Counts {
  const counts: Counts = { passed: 0, failed: 0, skipped: 0 };
  for (const m of xml.matchAll(/<testsuite\b([^>]*)>/g)) {
    const attr = (name: string) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(m[1]!)?.[1] ?? 0);
    const failed = attr('failures') + attr('errors');
    const skipped = attr('skipped');
    counts.failed += failed;
    counts.skipped += skipped;
    counts.passed += attr('tests') - failed - skipped;
  }
  return counts;
}

function nodeTestFiles(filter: string | undefined): { shared: string[]; exclusive: string[] } {
  const distTest = join(REPO_ROOT, 'dist', 'test');
  const files = listFiles(distTest, (n) => n.endsWith('.test.js')).filter(
    (f) => !filter || relative(REPO_ROOT, f).includes(filter),
  );
  const isExclusive = (f: string) => EXCLUSIVE_FILES.some((e) => relative(distTest, f) === e);
  return { shared: files.filter((f) => !isExclusive(f)), exclusive: files.filter(isExclusive) };
}

async function nodeTests(
  files: string[],
  concurrency: number,
  report: string,
  env: NodeJS.ProcessEnv,
): Promise<Counts> {
  if (files.length === 0) return { passed: 0, failed: 0, skipped: 0 };
  const tapFile = join(REPORTS_DIR, `${report}.tap`);
  rmSync(tapFile, { force: true });
  log(`node --test: ${files.length} file(s), ${concurrency} at a time`);
  const code = await run(
    process.execPath,
    [
      '--test',
      `--test-concurrency=${concurrency}`,
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tapFile}`,
      ...files,
    ],
    env,
  );
  const counts = existsSync(tapFile)
    ? countsFromTap(readFileSync(tapFile, 'utf8'))
    : { passed: 0, failed: 0, skipped: 0 };
  if (code !== 0 && counts.failed === 0) counts.failed = 1; // the runner failed without a failing test: still a failure
  return counts;
}

async function pythonTests(
  python: string,
  filter: string | undefined,
  env: NodeJS.ProcessEnv,
  logFile?: string,
): Promise<Counts> {
  // glue/tests: the jobs; python/tests: the lake reader and verify scripts (each folder its own conftest).
  const dirs = [join(REPO_ROOT, 'glue', 'tests'), join(REPO_ROOT, 'python', 'tests')].filter((d) => existsSync(d));
  const files = dirs
    .flatMap((dir) => listFiles(dir, (n) => /^test_.*\.py$|_test\.py$/.test(n)))
    .filter((f) => !filter || relative(REPO_ROOT, f).includes(filter));
  if (files.length === 0) {
    log(`pytest: skipped (no Python test files in glue/tests or python/tests${filter ? ` match "${filter}"` : ''})`);
    return { passed: 0, failed: 0, skipped: 0 };
  }
  const xmlFile = join(REPORTS_DIR, 'pytest.xml');
  rmSync(xmlFile, { force: true });
  log(`pytest: ${files.length} file(s) with ${python}${logFile ? ` (output: ${relative(REPO_ROOT, logFile)})` : ''}`);
  const started = Date.now();
  const code = await run(
    python,
    ['-m', 'pytest', '-p', 'no:cacheprovider', '--durations=15', `--junitxml=${xmlFile}`, ...(filter ? files : dirs)],
    { ...env, PYTHONNOUSERSITE: '1' },
    logFile,
  );
  if (logFile && existsSync(logFile)) process.stdout.write(`\n[test] pytest output:\n${readFileSync(logFile, 'utf8')}`);
  log(`pytest finished in ${Math.round((Date.now() - started) / 1000)} s (exit ${code})`);
  if (code === 5) return { passed: 0, failed: 0, skipped: 0 }; // pytest: no tests collected
  const counts = existsSync(xmlFile)
    ? countsFromJunit(readFileSync(xmlFile, 'utf8'))
    : { passed: 0, failed: 0, skipped: 0 };
  if (code !== 0 && counts.failed === 0) counts.failed = 1;
  return counts;
}

/** Stop the test stack and every stack a test started under its scratch folder, then their Spark jobs. */
async function downAll(report: (line: string) => void): Promise<void> {
  const scratch = listFiles(join(STATE_DIR, 'scratch'), (n) => n === 'stack.json').map((f) => join(f, '..'));
  if (existsSync(join(CHAOS_STATE_DIR, 'stack.json'))) scratch.push(CHAOS_STATE_DIR);
  for (const dir of scratch)
    await down({ stateDir: dir, stopTimeoutMs: 15_000 }, (line) => report(`${relative(STATE_DIR, dir)}: ${line}`));
  await down({ stateDir: STATE_DIR, stopTimeoutMs: 15_000 }, report);
  // A job runs in its own process group so that it outlives a worker restart; not the test run.
  for (const dir of [...scratch, STATE_DIR]) {
    const stopped = await new WarmJobRunner({ stateDir: dir }).stopAll().catch(() => []);
    for (const runKey of stopped)
      report(`${relative(STATE_DIR, dir) || 'test stack'}: stopped ${runKey}, a job still running`);
  }
}

async function main(argv: string[]): Promise<number> {
  const filter = argv[2];
  const started = Date.now();
  mkdirSync(REPORTS_DIR, { recursive: true });
  const toolchain = await ensureToolchain(stderrProgress);
  const options = resolveStackOptions(
    { stateDir: STATE_DIR },
    {
      DDB_LAKE_TEMPORAL_PORT: process.env.DDB_LAKE_TEST_TEMPORAL_PORT ?? '17233',
      DDB_LAKE_TEMPORAL_UI_PORT: process.env.DDB_LAKE_TEST_TEMPORAL_UI_PORT ?? '18233',
      DDB_LAKE_AWS_PORT: process.env.DDB_LAKE_TEST_AWS_PORT ?? '15055',
    },
  );
  const stackLine = (line: string) => log(`stack: ${line}`);
  // A stack left by a killed earlier run is stopped, and its state dropped: every run starts clean.
  await downAll(stackLine);
  rmSync(STATE_DIR, { recursive: true, force: true });
  const totals: Counts = { passed: 0, failed: 0, skipped: 0 };
  try {
    if (interrupted) return 130;
    // The stack's services (worker, poller, and the Spark jobs the worker starts) run with
    // distinctive credentials in their environment; test/faults-loop.test.ts proves none of them
    // reaches a workflow history, a log or a run record (moto accepts any credentials).
    const secrets = testSecrets();
    Object.assign(process.env, secrets);
    // Dozens of test pipelines each start a warm engine (a 1 GB JVM); none should idle for 15 min.
    process.env.DDB_LAKE_ENGINE_IDLE_EXIT_SECONDS ??= '60';
    await up(options, stackLine, toolchain);
    log(`test stack up (${STATE_DIR})`);
    const aws = { endpoint: `http://${options.host}:${options.awsPort}`, region: options.region };
    // Child processes find the stack through DDB_LAKE_STATE; the AWS variables make any SDK
    // client that forgets the endpoint talk to moto (with its dummy credentials), never to AWS.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DDB_LAKE_ENV: 'local',
      DDB_LAKE_STATE: STATE_DIR,
      AWS_ENDPOINT_URL: aws.endpoint,
      AWS_REGION: aws.region,
      AWS_DEFAULT_REGION: aws.region,
      AWS_ACCESS_KEY_ID: 'moto',
      AWS_SECRET_ACCESS_KEY: 'moto',
      // The SDK's notice that it will need Node 22 from 2027 would repeat in every test file.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      DDB_LAKE_TEST_SECRETS: JSON.stringify(secrets),
    };
    delete env.AWS_PROFILE;
    delete env.AWS_SESSION_TOKEN;
    // The Temporal secrets are for the stack's services only (test/faults-loop.test.ts looks for
    // them); a test that connects to Temporal chooses its own settings.
    for (const name of Object.keys(env)) if (name.startsWith('TEMPORAL_')) delete env[name];
    const concurrency = process.env.DDB_LAKE_TEST_CONCURRENCY === '1' ? 1 : 2;
    const files = nodeTestFiles(filter);
    if (files.shared.length + files.exclusive.length === 0)
      log(`no TypeScript test files${filter ? ` match "${filter}"` : ''}`);
    // The exclusive files follow the other node files; pytest never touches the stack's worker.
    const nodeLane = async (): Promise<Counts> => {
      const shared = await nodeTests(files.shared, concurrency, 'node', env);
      return interrupted ? shared : addCounts(shared, await nodeTests(files.exclusive, 1, 'node-exclusive', env));
    };
    const pythonLane = (logFile?: string) => pythonTests(toolchain.python, filter, env, logFile);
    const lanes =
      concurrency === 1
        ? [nodeLane().then(async (c) => (interrupted ? c : addCounts(c, await pythonLane())))]
        : [nodeLane(), pythonLane(join(REPORTS_DIR, 'pytest.log'))];
    for (const c of await Promise.all(lanes)) Object.assign(totals, addCounts(totals, c));
  } finally {
    log('stopping the test stack');
    await downAll(stackLine).catch((err) =>
      console.error(`[test] could not stop the test stack: ${describeError(err)}`),
    );
  }
  log(`finished in ${Math.round((Date.now() - started) / 1000)} s`);
  console.log(
    `tests: ${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`,
  );
  if (interrupted) return 130;
  return totals.failed > 0 || totals.passed === 0 ? 1 : 0;
}

/**
 * Credentials no real account has, distinctive enough to search for: AWS's, and a Temporal API key
 * and client key (the stack's own services keep serving the stack's plaintext server: no
 * TEMPORAL_ADDRESS / TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE, docs/temporal-connection.md).
 */
function testSecrets(): Record<string, string> {
  const hex = (n: number) => randomBytes(n).toString('hex');
  return {
    AWS_ACCESS_KEY_ID: `ASIADDBLAKE${hex(5).toUpperCase()}`,
    AWS_SECRET_ACCESS_KEY: `ddbLakeTestSecret/${hex(16)}`,
    AWS_SESSION_TOKEN: `ddbLakeTestSessionToken+${hex(24)}`,
    TEMPORAL_API_KEY: `ddbLakeTestApiKey.${hex(24)}`,
    TEMPORAL_TLS_CLIENT_KEY_DATA: `-----BEGIN PRIVATE KEY-----\nddbLakeTestClientKey${hex(24)}\n-----END PRIVATE KEY-----\n`,
  };
}

function onSignal(signal: NodeJS.Signals): void {
  if (interrupted) {
    console.error(
      `[test] second ${signal}: exiting now; stop the stack with DDB_LAKE_STATE=${STATE_DIR} node bin/ddb-lake.js down`,
    );
    process.exit(130);
  }
  interrupted = signal;
  console.error(`[test] ${signal}: stopping the tests and the test stack`);
  for (const child of children) {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
}

if (require.main === module) {
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  main(process.argv).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`[test] ${describeError(err)}`);
      process.exit(1);
    },
  );
}
