/**
 * Freshness under sustained writes, end to end on a local stack of its own:
 *
 *   npm run bench:freshness -- [--rate 100] [--duration 300] [--initial 2000] [--update-ratio 0.3]
 *     [--delete-ratio 0.05] [--interval 2] [--batch-window 2] [--batch-size 1000] [--engine warm|perBatch]
 *     [--table-type MERGE_ON_READ|COPY_ON_WRITE] [--keep-stack]
 *   npm run bench:freshness -- --steps 100,500,1000,2000 [--step-duration 120] [--feed stream|landing]
 *
 * Starts a stack in `.ddb-lake/bench-freshness` (ports DDB_LAKE_BENCH_TEMPORAL_PORT 7433,
 * DDB_LAKE_BENCH_TEMPORAL_UI_PORT 8433, DDB_LAKE_BENCH_AWS_PORT 5455) with the poller's batching set
 * as asked, a fresh Transaction table with a first batch, and the pipeline; waits until it has caught
 * up; then writes at `rate` for `duration` seconds (inserts, note updates, deletes), verifies that the
 * lake equals the table, and measures each change's freshness = time from its write to the completion
 * of the first lake commit holding it (tools/freshness/freshness.ts: from the run manifests,
 * summaries and the Hudi timeline, no polling). Prints p50 / p95 / max with every setting used, where
 * the time goes (per part), the load average, and draws freshness over time to
 * `bench/out/freshness-<time>.html` (+ the figures as JSON beside it). Exit 1 unless verify says equal.
 *
 * `--steps`: the sustained rate instead (bench/freshness-steps.ts): the rates one after another for
 * `--step-duration` seconds each, the lag after 30 s and at the end of each, the highest rate the
 * pipeline keeps up with; `--feed landing` writes landing files directly (past moto; no verify then,
 * the changes are not in the table).
 */
import './no-sdk-notice';
import { benchStack } from './bench-stack';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { LOCAL_SPARK_CONF, DEFAULT_JAVA_OPTIONS } from '../activities/local/spark-command';
import { awsClientConfig } from '../core/aws';
import { resolveEnvironment, type LocalEnvironment } from '../core/environment';
import { describeError } from '../core/errors';
import { REPO_ROOT } from '../core/toolchain';
import { POLLER_ENV } from '../client/commands/poller';
import { generateTransactions, type WriteLogRecord } from '../tools/generate/generator';
import {
  FRESH_SCHEDULE,
  prepareTableAndBuckets,
  pipelineLine,
  scenarioConfig,
  scenarioNames,
  waitForPhase,
} from '../tools/demo/scenario';
import { ESM_DEFAULTS } from '../stack/poller/settings';
import { measureFreshness, PART_LABELS, PARTS, type FreshnessReport } from '../tools/freshness/freshness';
import { PipelineClient, type StatusDocument } from '../client/pipeline-client';
import { ensureToolchain } from '../stack/setup';
import { down, up } from '../stack/stack';
import { ProgressLine } from '../client/verify/progress-line';
import { verifyAfterWrites, waitForCatchUp } from '../client/verify/verify';
import { landingProgressFor } from '../client/verify/landing-progress';
import { renderFreshnessChart } from './freshness-chart';
import { describeSteps, runRateSteps } from './freshness-steps';

/** Defaults: the settings this bench found best on a 2-core laptop (bench/README.md). */
const DEFAULTS = {
  rate: 100,
  duration: 300,
  initial: 2000,
  updateRatio: 0.3,
  deleteRatio: 0.05,
  interval: FRESH_SCHEDULE.intervalSeconds,
  batchWindow: ESM_DEFAULTS.batchWindowSeconds,
  batchSize: ESM_DEFAULTS.batchSize,
};

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} needs a number (got ${process.argv[i + 1]})`);
  return n;
}

const flag = (name: string) => process.argv.includes(`--${name}`);

function text<T extends string>(name: string, allowed: readonly T[]): T | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = process.argv[i + 1] as T;
  if (!allowed.includes(v)) throw new Error(`--${name} is one of ${allowed.join(', ')} (got ${v})`);
  return v;
}

function rates(): number[] | undefined {
  const i = process.argv.indexOf('--steps');
  if (i < 0) return undefined;
  const list = (process.argv[i + 1] ?? '').split(',').map(Number);
  if (!list.length || list.some((n) => !Number.isFinite(n) || n <= 0))
    throw new Error(`--steps needs rates like 100,500,1000 (got ${process.argv[i + 1]})`);
  return list;
}

async function main(): Promise<number> {
  const s = {
    rate: arg('rate', DEFAULTS.rate),
    duration: arg('duration', DEFAULTS.duration),
    initial: arg('initial', DEFAULTS.initial),
    updateRatio: arg('update-ratio', DEFAULTS.updateRatio),
    deleteRatio: arg('delete-ratio', DEFAULTS.deleteRatio),
    interval: arg('interval', DEFAULTS.interval),
    batchWindow: arg('batch-window', DEFAULTS.batchWindow),
    batchSize: arg('batch-size', DEFAULTS.batchSize),
    engine: text('engine', ['warm', 'perBatch'] as const),
    tableType: text('table-type', ['MERGE_ON_READ', 'COPY_ON_WRITE'] as const),
    steps: rates(),
    stepSeconds: arg('step-duration', 120),
    feed: text('feed', ['stream', 'landing'] as const) ?? 'stream',
  };
  const { stateDir, stackOptions: stackOptions } = benchStack('freshness');
  const say = (t: string) => process.stderr.write(`${t}\n`);
  const line = new ProgressLine(process.stderr, 15);
  const loads: number[][] = [loadavg()];

  say(
    `bench/freshness: ${s.rate} writes/s for ${s.duration} s (${Math.round((1 - s.updateRatio - s.deleteRatio) * 100)}% inserts, ${Math.round(s.updateRatio * 100)}% updates, ${Math.round(s.deleteRatio * 100)}% deletes) after a first batch of ${s.initial}`,
  );
  say(
    `  stack: ${stateDir}, Temporal ${stackOptions.temporalPort}, moto ${stackOptions.awsPort}; load average ${fmtLoad(loadavg())} on ${cpus().length} cores`,
  );
  const toolchain = await ensureToolchain();
  // A fresh stack, so the poller runs with this bench's batching settings.
  await down({ stateDir, stopTimeoutMs: 15_000 });
  process.env[POLLER_ENV.batchWindowSeconds] = String(s.batchWindow);
  process.env[POLLER_ENV.batchSize] = String(s.batchSize);
  process.env.DDB_LAKE_STATE = stateDir;
  await up(stackOptions, (l) => say(`  ${l}`), toolchain);
  const env = resolveEnvironment() as LocalEnvironment;
  const client = await PipelineClient.connect(env);
  const ddb = new DynamoDBClient(awsClientConfig(env));
  const loadTimer = setInterval(() => loads.push(loadavg()), 10_000);
  try {
    const names = scenarioNames('bench');
    const { config } = scenarioConfig(env, names, { intervalSeconds: s.interval });
    if (s.engine) config.jobs.incremental.engine = s.engine;
    if (s.tableType) config.lake.tableType = s.tableType;
    await prepareTableAndBuckets(env, config);
    const first = await generateTransactions(ddb, {
      table: config.table,
      count: Math.max(1, s.initial),
      seed: 'bench-initial',
    });
    say(`  table ${config.table}: first batch of ${first.written} items`);
    await client.start(config);
    await waitForPhase(client, config.name, 'incremental', {
      timeoutSeconds: 900,
      onStatus: (st) => line.update(`  pipeline ${config.name}: ${pipelineLine(st)}`),
    });
    // Steady state first: the first incremental batch applies the first batch from the stream.
    const progress = landingProgressFor(env, config.table, config.landing.location, 60);
    await waitForCatchUp(client, progress, Date.now(), {
      pipeline: config.name,
      timeoutSeconds: 900,
      onProgress: (p) => line.update(`  settling: ${p.landing} · ${p.lake}`),
    });
    progress.close();
    line.end();
    say(`  pipeline ${config.name} caught up; writing now`);
    if (s.steps) {
      const s3 = new S3Client(awsClientConfig(env));
      try {
        const streamArn = (await ddb.send(new DescribeTableCommand({ TableName: config.table }))).Table!
          .LatestStreamArn!;
        const results = await runRateSteps({
          client,
          config,
          ddb,
          s3,
          streamArn,
          feed: s.feed,
          rates: s.steps,
          stepSeconds: s.stepSeconds,
          updateRatio: s.updateRatio,
          deleteRatio: s.deleteRatio,
          existingKeys: first.liveKeys,
          progress: (l) => line.update(`${l} · load ${fmtLoad(loadavg())}`),
        });
        line.end();
        process.stdout.write(describeSteps(results));
        process.stdout.write(
          `settings: engine ${config.jobs.incremental.engine ?? 'warm'}, ${config.lake.tableType}, interval ${config.schedule.intervalSeconds} s, ${cpus().length} cores\n`,
        );
        if (s.feed === 'landing') {
          say('verify: skipped (the landing feed writes changes the table does not hold)');
          return 0;
        }
        const report = await verifyAfterWrites(env, client, config.name, 900, (l) => line.update(`  verify: ${l}`));
        line.end();
        say(`verify: ${report.result.toUpperCase()} (${report.table.items} items)`);
        return report.equal ? 0 : 1;
      } finally {
        s3.destroy();
      }
    }

    const writes: WriteLogRecord[] = [];
    let status: StatusDocument | undefined;
    let writing = true;
    const writeStart = Date.now();
    let written = 0;
    const poll = (async () => {
      while (writing) {
        status = await client.status(config.name).catch(() => status);
        line.update(
          `  ${Math.round((Date.now() - writeStart) / 1000)}/${s.duration} s · written ${written} · ${pipelineLine(status)} · load ${fmtLoad(loadavg())}`,
        );
        await sleep(2000);
      }
    })();
    const changes = await generateTransactions(ddb, {
      table: config.table,
      durationSeconds: s.duration,
      rate: s.rate,
      updateRatio: s.updateRatio,
      deleteRatio: s.deleteRatio,
      seed: 'bench',
      existingKeys: first.liveKeys,
      onWrite: (w) => writes.push(w),
      onProgress: (p) => (written = p.written),
    });
    writing = false;
    await poll;
    line.end();
    say(
      `  wrote ${changes.written} changes at ${changes.ratePerSecond}/s (${changes.inserts} inserts, ${changes.updates} updates, ${changes.deletes} deletes, ${changes.errors} errors; write latency p95 ${changes.latencyMs.p95} ms)`,
    );

    const report = await verifyAfterWrites(env, client, config.name, 900, (l) => line.update(`  verify: ${l}`));
    line.end();
    const st = await client.status(config.name);
    const freshness = await measureFreshness({
      env,
      config,
      writes,
      exportTimeMs: st.export?.exportTime ? Date.parse(st.export.exportTime) : null,
    });
    const settings = {
      writes: {
        rate: s.rate,
        durationSeconds: s.duration,
        updateRatio: s.updateRatio,
        deleteRatio: s.deleteRatio,
        initialItems: s.initial,
      },
      poller: {
        batchWindowSeconds: s.batchWindow,
        batchSize: s.batchSize,
        pollIntervalMs: ESM_DEFAULTS.pollIntervalMs,
      },
      pipeline: {
        intervalSeconds: config.schedule.intervalSeconds,
        maxFilesPerBatch: config.schedule.maxFilesPerBatch,
        closeAfterSeconds: config.landing.closeAfterSeconds,
        jobPollIntervalSeconds: config.jobs.incremental.pollIntervalSeconds,
        engine: config.jobs.incremental.engine ?? 'warm',
        tableType: config.lake.tableType,
        lake: config.lake.location,
      },
      spark: {
        master: 'local[2]',
        driverMemory: '1g',
        // The warm engine runs the full JIT (it lives for hours); one-shot runs the C1-only JIT.
        javaOptions: (config.jobs.incremental.engine ?? 'warm') === 'warm' ? [] : DEFAULT_JAVA_OPTIONS.incremental,
        conf: LOCAL_SPARK_CONF,
        classDataSharing: true,
      },
      machine: { cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30) },
    };
    const loadSummary = { atStart: loads[0]!, max1m: Math.max(...loads.map((l) => l[0]!)), atEnd: loadavg() };
    const stamp = names.pipeline.replace(/^bench-/, '');
    const outDir = join(REPO_ROOT, 'bench', 'out');
    mkdirSync(outDir, { recursive: true });
    const html = join(outDir, `freshness-${stamp}.html`);
    writeFileSync(
      html,
      renderFreshnessChart(freshness, {
        title: `ddb-lake freshness — ${s.rate} writes/s for ${s.duration} s`,
        settings,
        load: loadSummary,
        verify: report.result,
      }),
    );
    const json = join(outDir, `freshness-${stamp}.json`);
    const { perChange, ...figures } = freshness;
    writeFileSync(
      json,
      `${JSON.stringify({ settings, load: loadSummary, verify: { result: report.result, items: report.table.items, rows: report.lake.rows }, ...figures }, null, 2)}\n`,
    );
    process.stdout.write(
      describe(freshness, settings, loadSummary, report.result, report.table.items, html, json, perChange.length),
    );
    return report.equal ? 0 : 1;
  } finally {
    clearInterval(loadTimer);
    line.end();
    ddb.destroy();
    await client.close();
    if (!flag('keep-stack')) await down({ stateDir, stopTimeoutMs: 15_000 });
    else say(`  stack left running (DDB_LAKE_STATE=${stateDir} ddb-lake down stops it)`);
  }
}

function fmtLoad(l: number[]): string {
  return l.map((x) => x.toFixed(2)).join(' ');
}

function describe(
  f: FreshnessReport,
  settings: Record<string, unknown>,
  load: { atStart: number[]; max1m: number; atEnd: number[] },
  verify: string,
  items: number,
  html: string,
  json: string,
  measured: number,
): string {
  const out: string[] = [];
  const p = f.seconds;
  out.push('');
  out.push(`freshness over ${measured} changes (write → completion of the first lake commit holding it):`);
  out.push(
    `  p50 ${p.p50} s · p95 ${p.p95} s · max ${p.max} s · mean ${p.mean} s${f.notFound ? ` · ${f.notFound} change(s) not found in an applied landing file` : ''}`,
  );
  out.push(`verify: ${verify.toUpperCase()} (${items} items)`);
  out.push('where the time goes (seconds per change: p50 / p95 / mean):');
  for (const part of PARTS) {
    const x = f.parts[part];
    out.push(
      `  ${PART_LABELS[part].padEnd(74)} ${x.p50.toFixed(1).padStart(6)} ${x.p95.toFixed(1).padStart(6)} ${x.mean.toFixed(1).padStart(6)}`,
    );
  }
  const inc = f.runs.filter((r) => r.kind === 'incremental');
  if (inc.length) {
    const mean = (xs: number[]) => Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 10) / 10;
    out.push(
      `incremental runs: ${inc.length}, mean ${mean(inc.map((r) => r.files))} files / ${mean(inc.map((r) => r.recordsRead))} records each; ` +
        `job wall (start-up excluded) mean ${mean(inc.map((r) => (r.committedAtMs - r.startedAtMs) / 1000))} s; ` +
        `commit times from ${inc.filter((r) => r.commitTimeFrom === 'timeline').length} timeline files, ${inc.filter((r) => r.commitTimeFrom === 'summary').length} summaries`,
    );
  }
  if (f.compactions.length) {
    const secs = f.compactions.map((c) => c.seconds);
    out.push(
      `compactions (each with cleaning): ${secs.length}, ${secs.map((x) => x.toFixed(1)).join(' / ')} s; batches waited for them (one writer per table)`,
    );
  }
  out.push(
    `load average: ${fmtLoad(load.atStart)} at start, 1-min max ${load.max1m.toFixed(2)}, ${fmtLoad(load.atEnd)} at end`,
  );
  out.push(`settings: ${JSON.stringify(settings)}`);
  out.push(`chart: ${html}`);
  out.push(`figures: ${json}`);
  return `${out.join('\n')}\n`;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(`bench/freshness: ${describeError(err)}`);
      process.exit(1);
    },
  );
}
