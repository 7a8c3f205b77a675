/**
 * Wall time of a small incremental job through the local runner (spark-submit), start() to
 * "succeeded", per Spark/JVM setting: what a freshness cycle pays besides the data.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/job-overhead.js [runsPerVariant=3]
 *
 * Ports: DDB_LAKE_BENCH_SPARK_PORT (default 5203; the driver and block manager use it and the next 3).
 */
import './no-sdk-notice';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { SparkJobRunner, type SparkJobRunnerOptions } from '../activities/local/spark-job-runner';
import type { JobRunState, JobSpec } from '../activities/job-runner';

const RUNS = Number(process.argv[2] ?? 3);
const PORT = Number(process.env.DDB_LAKE_BENCH_SPARK_PORT ?? 5203);
const EXPORT_MS = 1690735800000;

const ALL_VARIANTS: Record<string, Partial<SparkJobRunnerOptions>> = {
  'defaults (C1 JIT + class-data sharing, no Hudi metadata table)': {},
  'without class-data sharing': { classDataSharing: false },
  'full JIT, without class-data sharing': { classDataSharing: false, javaOptions: [] },
  'Hudi metadata table on': { sparkConf: { 'spark.ddb_lake.hoodie.metadata.enable': 'true' } },
  'driver memory 2g': { driverMemory: '2g' },
  'adaptive query execution off': { sparkConf: { 'spark.sql.adaptive.enabled': 'false' } },
  'whole-stage codegen off': { sparkConf: { 'spark.sql.codegen.wholeStage': 'false' } },
  'AQE and whole-stage codegen off': {
    sparkConf: { 'spark.sql.adaptive.enabled': 'false', 'spark.sql.codegen.wholeStage': 'false' },
  },
};

const only = process.env.DDB_LAKE_BENCH_VARIANTS?.split(',');
const VARIANTS = Object.fromEntries(Object.entries(ALL_VARIANTS).filter((_, i) => !only || only.includes(String(i))));

function item(i: number): string {
  const create = new Date(Date.UTC(2023, 6, 30, 16, 0, 0) + i * 1000).toISOString().replace('Z', '000+0000');
  return JSON.stringify({
    Item: {
      account: { S: `acc-${i}` },
      create_at: { S: create },
      update_at: { S: create },
      note: { S: 'n' },
      amount: { N: String(i) },
    },
  });
}

function landing(i: number, run: number): string {
  const create = new Date(Date.UTC(2023, 6, 30, 16, 0, 0) + i * 1000).toISOString().replace('Z', '000+0000');
  return JSON.stringify({
    account: `acc-${i}`,
    create_at: create,
    update_at: `2023-07-30T18:00:${String(run % 60).padStart(2, '0')}.000000+0000`,
    note: `run ${run}`,
    amount: i,
    _op: 'modify',
    _seq: String(1000 + run * 100 + i),
    _ts: EXPORT_MS + run,
    _ttl: false,
  });
}

const INITIAL_LOAD: JobSpec = { kind: 'initialLoad', glueJobName: '', script: 'glue/initial_load.py' };
const INCREMENTAL: JobSpec = { kind: 'incremental', glueJobName: '', script: 'glue/incremental.py' };

async function waitDone(runner: SparkJobRunner, key: string): Promise<JobRunState> {
  for (;;) {
    const s = await runner.get(INCREMENTAL, key);
    if (s.status !== 'running') return s;
    await sleep(100);
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ddb-lake-bench-overhead-'));
  console.log(
    `job overhead: incremental jobs of 20 changes into a 1,000-row table, ${RUNS} runs per variant, local[2]`,
  );
  console.log('variant | wall s (start → succeeded), each run | mean | in-job s (summary) mean (phases)');
  let n = 0;
  try {
    for (const [name, variant] of Object.entries(VARIANTS)) {
      const runner = new SparkJobRunner({
        stateDir: join(dir, 'state'),
        ports: { driver: PORT, blockManager: PORT + 2, maxRetries: 1 },
        ...variant,
      });
      const vdir = join(dir, `v${++n}`);
      mkdirSync(join(vdir, 'export', 'data'), { recursive: true });
      const items = Array.from({ length: 1000 }, (_, i) => item(i));
      writeFileSync(join(vdir, 'export', 'data', 'a.json.gz'), gzipSync(items.join('\n') + '\n'));
      writeFileSync(
        join(vdir, 'export', 'manifest-files.json'),
        JSON.stringify({ itemCount: items.length, dataFileS3Key: 'x/data/a.json.gz' }) + '\n',
      );
      writeFileSync(
        join(vdir, 'export', 'manifest-summary.json'),
        JSON.stringify({ itemCount: items.length, outputFormat: 'DYNAMODB_JSON' }),
      );
      const table = {
        lakeLocation: `file://${vdir}/lake`,
        tableName: 'bench',
        keyFields: ['account', 'create_at'],
        orderingField: 'update_at',
        derivedColumns: ['year', 'month', 'day', 'hour', 'minute'].map((p) => ({
          name: `create_${p}`,
          from: 'create_at',
          part: p,
        })),
        partitionFields: ['create_year', 'create_month', 'create_day', 'create_hour', 'create_minute'],
        maxRejectedShare: 0,
      };
      const manifest = (key: string, kind: string, extra: object) => {
        const file = join(vdir, `${key}.json`);
        writeFileSync(
          file,
          JSON.stringify({
            version: 1,
            runKey: key,
            pipeline: 'bench',
            kind,
            table,
            files: [],
            export: null,
            rejectedLocation: `file://${vdir}/rej/${key}`,
            summaryUri: `file://${vdir}/${key}.summary.json`,
            ...extra,
          }),
        );
        return `file://${file}`;
      };
      const il = await runner.start(INITIAL_LOAD, {
        runKey: `v${n}-il`,
        manifestUri: manifest(`v${n}-il`, 'initialLoad', {
          export: { root: `file://${vdir}/export`, exportTimeMs: EXPORT_MS },
        }),
      });
      const ilDone = await waitDone(runner, il.runKey);
      if (ilDone.status !== 'succeeded') throw new Error(`${name}: initial load failed: ${ilDone.error}`);
      const walls: number[] = [];
      const inJob: number[] = [];
      const phases: Record<string, number[]> = {};
      for (let r = 0; r < RUNS; r++) {
        const f = join(vdir, `land-${r}.json`);
        writeFileSync(f, Array.from({ length: 20 }, (_, i) => landing(980 + i, r)).join('\n') + '\n');
        const key = `v${n}-inc-${r}`;
        const t0 = Date.now();
        await runner.start(INCREMENTAL, {
          runKey: key,
          manifestUri: manifest(key, 'incremental', { files: [`file://${f}`] }),
        });
        const done = await waitDone(runner, key);
        walls.push((Date.now() - t0) / 1000);
        if (done.status !== 'succeeded') throw new Error(`${name}: ${done.error}`);
        inJob.push(done.summary?.durationSeconds ?? NaN);
        const p = (done.summary as { phases?: Record<string, number> } | undefined)?.phases ?? {};
        for (const [k, v] of Object.entries(p)) (phases[k] ??= []).push(v);
      }
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const phaseText = Object.entries(phases)
        .map(([k, v]) => `${k} ${mean(v).toFixed(1)}`)
        .join(', ');
      console.log(
        `${name} | ${walls.map((w) => w.toFixed(1)).join(', ')} | ${mean(walls).toFixed(1)} | ${mean(inJob).toFixed(1)} (${phaseText})`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
