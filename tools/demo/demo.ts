/**
 * `ddb-lake demo` (what `npm start` runs): the brief's Proof of Concept on the local stack, end to end.
 *
 *   set-up → local stack (`up`, reusing a running one) → a fresh Transaction table (PITR, stream) →
 *   the brief's first batch (7,269 items) → start the pipeline → keep writing (inserts, note updates,
 *   deletes) with a live status line → stop writing → verify → freshness → summary.
 *
 * Every run uses new names (table, pipeline, lake), so it can run any number of times on one stack.
 * At the end the stack and the pipeline keep running for exploring; the summary says how to stop them.
 * Ctrl-C stops writing, stops this run's pipeline, leaves the stack running and says how to `down` it.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { awsClientConfig } from '../../core/aws';
import { resolveEnvironment, type LocalEnvironment } from '../../core/environment';
import { UserError } from '../../core/errors';
import { generateTransactions, type WriteLogRecord } from '../generate/generator';
import { INITIAL_BATCH_SIZE } from '../generate/transaction-model';
import { measureFreshness, stats, type FreshnessReport, type Stats } from '../freshness/freshness';
import { PipelineClient, type StatusDocument } from '../../client/pipeline-client';
import { ensureToolchain } from '../../stack/setup';
import { resolveStackOptions } from '../../stack/options';
import { up } from '../../stack/stack';
import { ProgressLine } from '../../client/verify/progress-line';
import { verifyAfterWrites, type VerifyReport } from '../../client/verify/verify';
import { pipelineLine, prepareTableAndBuckets, scenarioConfig, scenarioNames } from './scenario';

export interface DemoOptions {
  /** Items of the first batch (the brief: 7,269). */
  initialItems: number;
  /** Seconds of continuous writes after the pipeline starts. */
  durationSeconds: number;
  /** Writes per second while writing. */
  rate: number;
  updateRatio: number;
  deleteRatio: number;
  seed?: string;
  /** Longest wait for verify's catch-up, seconds. */
  verifyTimeoutSeconds: number;
  /** Name prefix of the table / pipeline / lake (a timestamp is appended). */
  prefix: string;
  /** Stop this run's pipeline at the end (default: leave it running to explore). */
  stopPipelineAtEnd: boolean;
  /** Stop earlier demo pipelines still running on this stack (their names start with the prefix). */
  stopEarlierDemos: boolean;
}

export const DEMO_DEFAULTS: DemoOptions = {
  initialItems: INITIAL_BATCH_SIZE,
  durationSeconds: 180,
  rate: 30,
  updateRatio: 0.3,
  deleteRatio: 0.05,
  verifyTimeoutSeconds: 600,
  prefix: 'demo',
  stopPipelineAtEnd: false,
  stopEarlierDemos: true,
};

/** What the demo prints at the end (`--json`: this object). */
export interface DemoSummary {
  schemaVersion: 1;
  pipeline: string;
  table: string;
  config: string;
  lake: string;
  temporalUi: string;
  items: { initial: number; inTable: number };
  changes: {
    written: number;
    inserts: number;
    updates: number;
    deletes: number;
    errors: number;
    ratePerSecond: number;
  };
  verify: Pick<VerifyReport, 'result' | 'equal' | 'missing' | 'extra' | 'differing' | 'duplicates' | 'catchUp'> & {
    items: number;
    rows: number;
    commitInstant: string;
  };
  /** All changes, and `steady`: those written after the initial load's commit (the incremental loop alone). */
  freshness: {
    changes: number;
    measured: number;
    p50: number;
    p95: number;
    max: number;
    mean: number;
    steady: Stats;
  } | null;
  /** How the batches ran: the engine (docs/warm-engine.md), the table type, and the incremental runs' wall time. */
  jobs: { engine: 'warm' | 'perBatch'; tableType: string; incrementalRuns: number; meanSeconds: number | null };
  pipelineState: 'running' | 'stopped';
  durationSeconds: number;
}

export interface DemoUi {
  /** A permanent line (a finished step). */
  step(text: string): void;
  /** The live status line. */
  live(text: string): void;
  endLive(): void;
}

export function consoleUi(): DemoUi {
  const line = new ProgressLine(process.stderr, 10);
  return { step: (t) => line.log(t), live: (t) => line.update(t), endLive: () => line.end() };
}

/** Run the demo; resolves to its summary. `signal` is Ctrl-C. */
export async function runDemo(options: DemoOptions, ui: DemoUi, signal: AbortSignal): Promise<DemoSummary> {
  const started = Date.now();
  const check = () => {
    if (signal.aborted) throw new Interrupted();
  };

  ui.step('1/7 set-up: checking the toolchain (Temporal CLI, Python venv with Spark and moto, Hudi jars)');
  const toolchain = await ensureToolchain({ line: (t) => ui.step(`    ${t}`) });
  check();

  ui.step('2/7 local stack: Temporal dev server, moto (DynamoDB, Streams, S3), stream poller, pipeline worker');
  await up(resolveStackOptions(), (l) => ui.step(`    ${l}`), toolchain);
  const env = resolveEnvironment() as LocalEnvironment;
  check();

  const client = await PipelineClient.connect(env);
  const ddb = new DynamoDBClient(awsClientConfig(env));
  let pipelineStarted = false;
  const names = scenarioNames(options.prefix);
  try {
    if (options.stopEarlierDemos) await stopEarlierDemos(client, options.prefix, names.pipeline, ui);

    const { config, file } = scenarioConfig(env, names);
    ui.step(`3/7 table ${config.table}: on-demand, point-in-time recovery, NEW_AND_OLD_IMAGES stream`);
    await prepareTableAndBuckets(env, config);
    check();

    ui.step(`4/7 the brief's first batch: ${options.initialItems.toLocaleString('en-US')} Transaction items`);
    const first = await generateTransactions(ddb, {
      table: config.table,
      count: options.initialItems,
      seed: options.seed ? `${options.seed}-initial` : undefined,
      signal,
      onProgress: (p) =>
        ui.live(
          `    written ${p.written.toLocaleString('en-US')} of ${options.initialItems.toLocaleString('en-US')} (${p.currentRate.toFixed(0)}/s)`,
        ),
      progressIntervalMs: 500,
    });
    ui.endLive();
    ui.step(`    wrote ${first.written.toLocaleString('en-US')} items in ${first.durationSeconds.toFixed(1)} s`);
    check();

    ui.step(
      `5/7 pipeline ${config.name} (config ${file}): export → initial load → incremental cycles every ${config.schedule.intervalSeconds} s`,
    );
    await client.start(config);
    pipelineStarted = true;

    const logFile = join(env.stateDir, 'demo', `${names.pipeline}-writes.jsonl`);
    mkdirSync(join(env.stateDir, 'demo'), { recursive: true });
    ui.step(
      `6/7 writing for ${options.durationSeconds} s at ${options.rate}/s: ${Math.round((1 - options.updateRatio - options.deleteRatio) * 100)}% inserts, ` +
        `${Math.round(options.updateRatio * 100)}% note updates, ${Math.round(options.deleteRatio * 100)}% deletes (log: ${logFile})`,
    );
    const writes: WriteLogRecord[] = [];
    let status: StatusDocument | undefined;
    let written = { n: 0, ins: 0, upd: 0, del: 0 };
    let writing = true;
    const writeStart = Date.now();
    const poll = (async () => {
      while (writing && !signal.aborted) {
        status = await client.status(config.name).catch(() => status);
        await sleep(2000);
      }
    })();
    const ticker = setInterval(() => {
      const t = Math.round((Date.now() - writeStart) / 1000);
      ui.live(
        `    ${t}/${options.durationSeconds} s · written ${written.n.toLocaleString('en-US')} (ins ${written.ins} upd ${written.upd} del ${written.del}) · ${pipelineLine(status)}`,
      );
    }, 1000);
    let changes;
    try {
      changes = await generateTransactions(ddb, {
        table: config.table,
        durationSeconds: options.durationSeconds,
        rate: options.rate,
        updateRatio: options.updateRatio,
        deleteRatio: options.deleteRatio,
        seed: options.seed,
        existingKeys: first.liveKeys,
        logFile,
        signal,
        onWrite: (w) => writes.push(w),
        onProgress: (p) => (written = { n: p.written, ins: p.inserts, upd: p.updates, del: p.deletes }),
        progressIntervalMs: 500,
      });
    } finally {
      writing = false;
      clearInterval(ticker);
      await poll;
      ui.endLive();
    }
    check();
    ui.step(
      `    wrote ${changes.written.toLocaleString('en-US')} changes (${changes.inserts} inserts, ${changes.updates} updates, ${changes.deletes} deletes, ` +
        `${changes.errors} errors) at ${changes.ratePerSecond}/s; the table holds ${(first.liveKeys.length + changes.inserts - changes.deletes).toLocaleString('en-US')} items`,
    );

    ui.step(
      '7/7 verify: wait until the pipeline has caught up with the last write, then compare table and lake key by key, value by value',
    );
    const report = await verifyAfterWrites(env, client, config.name, options.verifyTimeoutSeconds, (l) => {
      check();
      ui.live(`    ${l}`);
    });
    ui.endLive();

    let freshness: FreshnessReport | null = null;
    try {
      const s = await client.status(config.name);
      freshness = await measureFreshness({
        env,
        config,
        writes,
        exportTimeMs: s.export?.exportTime ? Date.parse(s.export.exportTime) : null,
      });
    } catch (err) {
      ui.step(`    (freshness could not be measured: ${(err as Error).message})`);
    }

    if (options.stopPipelineAtEnd) await client.stop(config.name, 60);
    return {
      schemaVersion: 1,
      pipeline: config.name,
      table: config.table,
      config: file,
      lake: config.lake.location,
      temporalUi: `${env.temporal.uiUrl ?? ''}/namespaces/${env.temporal.namespace}/workflows/${config.name}`,
      items: { initial: first.written, inTable: report.table.items },
      changes: {
        written: changes.written,
        inserts: changes.inserts,
        updates: changes.updates,
        deletes: changes.deletes,
        errors: changes.errors,
        ratePerSecond: changes.ratePerSecond,
      },
      verify: {
        result: report.result,
        equal: report.equal,
        items: report.table.items,
        rows: report.lake.rows,
        commitInstant: report.lake.commitInstant,
        missing: report.missing,
        extra: report.extra,
        differing: report.differing,
        duplicates: report.duplicates,
        catchUp: report.catchUp,
      },
      freshness: freshness
        ? {
            changes: freshness.changes,
            measured: freshness.measured,
            ...freshness.seconds,
            steady: steadyFreshness(freshness),
          }
        : null,
      jobs: jobFigures(config.jobs.incremental.engine ?? 'warm', config.lake.tableType, freshness?.runs ?? []),
      pipelineState: options.stopPipelineAtEnd ? 'stopped' : 'running',
      durationSeconds: Math.round((Date.now() - started) / 1000),
    };
  } catch (err) {
    ui.endLive();
    if (err instanceof Interrupted || signal.aborted) {
      if (pipelineStarted) {
        ui.step(`stopping pipeline ${names.pipeline} (a running job is stopped first; up to 60 s)…`);
        const state = await client.stop(names.pipeline, 60).catch((e: Error) => `not stopped: ${e.message}`);
        ui.step(`pipeline ${names.pipeline}: ${state}`);
      }
      throw new UserError(
        'demo interrupted: writes stopped' + (pipelineStarted ? `, pipeline ${names.pipeline} stopped` : ''),
        'the local stack is still running: `ddb-lake down` stops it (`npm start` again starts a new demo)',
        130,
      );
    }
    throw err;
  } finally {
    ddb.destroy();
    await client.close();
  }
}

/** Freshness of the changes written after the initial load had committed: the incremental loop's own. */
function steadyFreshness(f: FreshnessReport): Stats {
  const initial = f.runs.find((r) => r.kind === 'initialLoad');
  const after = initial ? f.perChange.filter((c) => c.writtenAtMs > initial.committedAtMs) : f.perChange;
  return stats(after.map((c) => c.seconds));
}

class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

/** Earlier demos left running on purpose; a new demo stops them so only one writes to Spark at a time. */
async function stopEarlierDemos(client: PipelineClient, prefix: string, current: string, ui: DemoUi): Promise<void> {
  const running = (await client.list()).filter(
    (p) => p.status === 'RUNNING' && p.pipeline.startsWith(`${prefix}-`) && p.pipeline !== current,
  );
  for (const p of running) {
    ui.step(`    stopping the earlier demo's pipeline ${p.pipeline}`);
    await client.stop(p.pipeline, 60).catch(() => undefined);
  }
}

function jobFigures(
  engine: 'warm' | 'perBatch',
  tableType: string,
  runs: { kind: string; startedAtMs: number; finishedAtMs: number }[],
): DemoSummary['jobs'] {
  const incremental = runs.filter((r) => r.kind === 'incremental');
  const total = incremental.reduce((sum, r) => sum + (r.finishedAtMs - r.startedAtMs), 0);
  return {
    engine,
    tableType,
    incrementalRuns: incremental.length,
    meanSeconds: incremental.length ? Math.round(total / incremental.length / 100) / 10 : null,
  };
}

export function formatDemoSummary(s: DemoSummary): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const v = s.verify;
  const verdict = v.equal
    ? `EQUAL — all ${n(v.items)} items, key by key and value by value (lake commit ${v.commitInstant})`
    : `DIFFERENT — ${v.missing.count} missing, ${v.extra.count} extra, ${v.differing.count} differing (see \`ddb-lake verify ${s.pipeline}\`)`;
  const lines = [
    '',
    `ddb-lake demo — done in ${Math.floor(s.durationSeconds / 60)} min ${s.durationSeconds % 60} s`,
    `  items        ${n(s.items.initial)} in the first batch; ${n(s.items.inTable)} in the table now`,
    `  changes      ${n(s.changes.written)} while the pipeline ran (${n(s.changes.inserts)} inserts, ${n(s.changes.updates)} note updates, ${n(s.changes.deletes)} deletes) at ${s.changes.ratePerSecond}/s`,
    `  verify       ${verdict}`,
    s.freshness
      ? `  freshness    p50 ${s.freshness.p50} s · p95 ${s.freshness.p95} s · max ${s.freshness.max} s over all ${n(s.freshness.measured)} changes (write → first lake commit holding it)\n` +
        `               p50 ${s.freshness.steady.p50} s · p95 ${s.freshness.steady.p95} s · max ${s.freshness.steady.max} s over the ${n(s.freshness.steady.count)} written after the initial load (the early ones waited for the export and initial load)`
      : '  freshness    not measured',
    `  jobs         ${n(s.jobs.incrementalRuns)} incremental runs${s.jobs.meanSeconds !== null ? ` of ${s.jobs.meanSeconds} s on average` : ''}, ${s.jobs.engine === 'warm' ? 'in one warm Spark session (docs/warm-engine.md)' : 'one Spark job each'}; table ${s.jobs.tableType}`,
    `  Temporal UI  ${s.temporalUi}`,
    `  lake         ${s.lake}`,
    `  query it     ddb-lake sql --pipeline ${s.pipeline} "select create_day, create_hour, count(*) from lake group by all order by all"`,
    `               ddb-lake sql --pipeline ${s.pipeline} "select _hoodie_record_key as id, amount, note from lake limit 5"`,
    `  config       ${s.config}`,
    s.pipelineState === 'running'
      ? `  pipeline     still running: \`ddb-lake status ${s.pipeline}\`; write more with \`ddb-lake generate --table ${s.table} --rate 20 --duration 60 --update-ratio 0.3\`, then \`ddb-lake verify ${s.pipeline}\``
      : `  pipeline     stopped`,
    `  stop         \`ddb-lake stop ${s.pipeline}\` (the pipeline) · \`ddb-lake down\` (the whole local stack; its data is in memory and goes with it)`,
    '',
  ];
  return lines.join('\n');
}
