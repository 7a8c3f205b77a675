/**
 * `ddb-lake verify` on a big table, through the real pipeline:
 *
 *   npm run bench:verify -- [--items 1000000] [--segments 4] [--keep-stack]
 *
 * On a stack of its own (`.ddb-lake/bench-verify`; ports DDB_LAKE_BENCH_TEMPORAL_PORT 7433,
 * DDB_LAKE_BENCH_TEMPORAL_UI_PORT 8433, DDB_LAKE_BENCH_AWS_PORT 5455; Spark driver
 * DDB_LAKE_SPARK_DRIVER_MEMORY, default 2g here): writes `items` Transaction items into a table
 * without a stream (so the load does not also go through the stream), then turns on the stream and
 * point-in-time recovery, starts the pipeline (export → initial load of every item), and once it is
 * incremental runs `ddb-lake verify` (the same library, waiting for the catch-up) and prints its
 * figures: Scan, lake read, comparison, total. Exit 1 unless the lake equals the table.
 */
import './no-sdk-notice';
import { benchStack } from './bench-stack';
import { transactionTableInput } from '../tools/generate/transaction-table';
import { cpus, loadavg } from 'node:os';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { awsClientConfig } from '../core/aws';
import { resolveEnvironment, type LocalEnvironment } from '../core/environment';
import { describeError } from '../core/errors';
import { generateTransactions } from '../tools/generate/generator';
import {
  prepareTableAndBuckets,
  pipelineLine,
  scenarioConfig,
  scenarioNames,
  waitForPhase,
} from '../tools/demo/scenario';
import { PipelineClient } from '../client/pipeline-client';
import { ensureToolchain } from '../stack/setup';
import { down, up } from '../stack/stack';
import { ProgressLine } from '../client/verify/progress-line';
import { verifyPipeline } from '../client/verify/verify';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}

async function main(): Promise<number> {
  const items = arg('items', 1_000_000);
  const segments = arg('segments', 4);
  const { stateDir, stackOptions: options } = benchStack('verify');
  const say = (t: string) => process.stderr.write(`${t}\n`);
  const line = new ProgressLine(process.stderr, 15);
  say(
    `bench/verify-scale: ${items} items; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} on ${cpus().length} cores`,
  );
  const toolchain = await ensureToolchain();
  await down({ stateDir, stopTimeoutMs: 15_000 });
  process.env.DDB_LAKE_STATE = stateDir;
  process.env.DDB_LAKE_SPARK_DRIVER_MEMORY ??= '2g';
  await up(options, (l) => say(`  ${l}`), toolchain);
  const env = resolveEnvironment() as LocalEnvironment;
  const client = await PipelineClient.connect(env);
  const ddb = new DynamoDBClient(awsClientConfig(env));
  try {
    const names = scenarioNames('big');
    const { config } = scenarioConfig(env, names);
    await ddb.send(new CreateTableCommand(transactionTableInput(config.table, null)));
    await waitUntilTableExists({ client: ddb, maxWaitTime: 60 }, { TableName: config.table });
    const load = await generateTransactions(ddb, {
      table: config.table,
      count: items,
      seed: 'verify-scale',
      concurrency: 8,
      onProgress: (p) => line.update(`  loading: ${p.written} of ${items} (${p.currentRate.toFixed(0)}/s)`),
      progressIntervalMs: 2000,
    });
    line.end();
    say(`  loaded ${load.written} items in ${load.durationSeconds.toFixed(0)} s (${load.ratePerSecond}/s)`);
    await prepareTableAndBuckets(env, config); // stream + PITR on now, buckets
    const started = Date.now();
    await client.start(config);
    await waitForPhase(client, config.name, 'incremental', {
      timeoutSeconds: 7200,
      onStatus: (s) => line.update(`  pipeline: ${pipelineLine(s)} · ${Math.round((Date.now() - started) / 1000)} s`),
    });
    line.end();
    const status = await client.status(config.name);
    const init = status.lastRuns?.find((r) => r.kind === 'initialLoad');
    say(
      `  export + initial load took ${Math.round((Date.now() - started) / 1000)} s (initial-load job ${init?.durationSeconds ?? '?'} s)`,
    );

    const load1 = loadavg();
    const report = await verifyPipeline(env, client, {
      pipeline: config.name,
      timeoutSeconds: 1800,
      sample: 5,
      segments,
      wait: true,
      quietSeconds: 60,
      onProgress: (p) => line.update(`  verify waiting: ${p.landing} · ${p.lake}`),
    });
    line.end();
    const c = report.catchUp!;
    process.stdout.write(
      [
        '',
        `verify on ${report.table.items} items / ${report.lake.rows} lake rows: ${report.result.toUpperCase()} in ${report.durationSeconds} s`,
        `  wait for catch-up ${c.waitSeconds} s; Scan (${report.table.segments} segments, moto) ${report.table.scanSeconds} s; lake read (hudi-rs) ${report.lake.readSeconds} s; comparison (Arrow + DuckDB) ${report.compareSeconds} s`,
        `  load average ${load1.map((l) => l.toFixed(2)).join(' ')} at the start of verify, ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')} at its end`,
        '',
      ].join('\n'),
    );
    return report.equal ? 0 : 1;
  } finally {
    line.end();
    ddb.destroy();
    await client.close();
    if (!process.argv.includes('--keep-stack')) await down({ stateDir, stopTimeoutMs: 15_000 });
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(`bench/verify-scale: ${describeError(err)}`);
      process.exit(1);
    },
  );
}
