/**
 * Chaos under sustained writes, on a local stack of its own:
 *
 *   npm run bench:chaos -- [--rate 50] [--duration 600] [--each 2] [--seed chaos-1] [--initial 2000]
 *     [--update-ratio 0.3] [--delete-ratio 0.05] [--ttl-rate 0.5] [--interval 2] [--sweep-every 5]
 *     [--keep-stack]
 *
 * Stack in `.ddb-lake/bench-chaos` (DDB_LAKE_BENCH_STATE), ports DDB_LAKE_BENCH_TEMPORAL_PORT 7533,
 * DDB_LAKE_BENCH_TEMPORAL_UI_PORT 8533, DDB_LAKE_BENCH_AWS_PORT 5555. Writes at `rate` for `duration`
 * seconds while each fault kind (tools/chaos/schedule.ts) happens `each` times at seeded moments,
 * never two at once; then waits for catch-up, verifies, audits the job records and the quarantined
 * records, and prints one table (bench/README.md "chaos"). Figures as JSON in
 * `bench/out/chaos-<time>.json`. Exit 0 only if every check holds; Ctrl-C stops cleanly.
 */
import './no-sdk-notice';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeError } from '../core/errors';
import { REPO_ROOT } from '../core/toolchain';
import { formatChaosTable, formatFaultLog } from '../tools/chaos/report';
import { Interrupted } from '../tools/chaos/faults';
import { runChaos } from '../tools/chaos/run';
import { ProgressLine } from '../client/verify/progress-line';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} needs a number ≥ 0 (got ${process.argv[i + 1]})`);
  return n;
}

function text(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : (process.argv[i + 1] ?? fallback);
}

function port(envName: string, fallback: number): number {
  const v = process.env[envName];
  const n = v ? Number(v) : fallback;
  if (!Number.isInteger(n) || n < 1024 || n > 65535) throw new Error(`${envName} is "${v}", not a port`);
  return n;
}

async function main(): Promise<number> {
  const line = new ProgressLine(process.stderr, 15);
  const say = (t: string) => {
    line.end();
    process.stderr.write(`${t}\n`);
  };
  const stop = new AbortController();
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(130);
    say('bench/chaos: interrupted — stopping the writes, the pipeline and the stack (again to exit at once)');
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const o = {
    rate: arg('rate', 50),
    durationSeconds: arg('duration', 600),
    each: Math.round(arg('each', 2)),
    seed: text('seed', 'chaos-1'),
    initial: arg('initial', 2000),
    updateRatio: arg('update-ratio', 0.3),
    deleteRatio: arg('delete-ratio', 0.05),
    ttlRate: arg('ttl-rate', 0.5),
    intervalSeconds: arg('interval', 2),
    sweepEveryCycles: Math.max(1, Math.round(arg('sweep-every', 5))),
  };
  const stateDir = process.env.DDB_LAKE_BENCH_STATE ?? join(REPO_ROOT, '.ddb-lake', 'bench-chaos');
  const ports = {
    temporal: port('DDB_LAKE_BENCH_TEMPORAL_PORT', 7533),
    temporalUi: port('DDB_LAKE_BENCH_TEMPORAL_UI_PORT', 8533),
    aws: port('DDB_LAKE_BENCH_AWS_PORT', 5555),
  };
  say(
    `bench/chaos: ${o.rate} writes/s for ${o.durationSeconds} s, each fault ×${o.each}, seed ${JSON.stringify(o.seed)}; stack ${stateDir} (Temporal ${ports.temporal}, UI ${ports.temporalUi}, moto ${ports.aws})`,
  );
  const started = new Date();
  const result = await runChaos({
    ...o,
    stateDir,
    ports,
    keepStack: process.argv.includes('--keep-stack'),
    cleanState: false,
    say,
    progress: (t) => line.update(t),
    signal: stop.signal,
  });
  line.end();
  const outDir = join(REPO_ROOT, 'bench', 'out');
  mkdirSync(outDir, { recursive: true });
  const json = join(outDir, `chaos-${started.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}.json`);
  writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`\nfaults:\n${formatFaultLog(result)}\n${formatChaosTable(result)}  figures    ${json}\n`);
  return result.ok ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(`bench/chaos: ${describeError(err)}`);
      process.exit(err instanceof Interrupted ? 130 : 1);
    },
  );
}
