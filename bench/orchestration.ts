/**
 * Orchestration cost of an incremental cycle (figures per cycle: bench/cycle-figures.ts).
 *
 * Default: the real Temporal dev server with the real activities and fake-fast jobs (they read the
 * real manifest, run ~200 ms, write a summary) — history events per cycle (with a batch, and empty)
 * and the overhead per cycle outside the job: planning (list + manifest), job start and end
 * detection (start call, status polls, summary read) and Temporal (task dispatch, workflow tasks).
 *
 *   npm run bench:orchestration -- [--cycles 30] [--landing memory|moto|both]
 *
 * `--pipeline <name>`: the same figures for a real pipeline of the local stack (DDB_LAKE_STATE), its
 * real Spark jobs timed by their job records (`<state>/jobs/<runKey>.json`): the time outside the job
 * per cycle on the real loop. Reads the history of the pipeline's latest run (running or not).
 *
 *   DDB_LAKE_STATE=… node dist/bench/orchestration.js --pipeline transaction
 *
 * Ports: its Temporal dev server and moto take free loopback ports.
 */
import './no-sdk-notice';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseS3Uri } from '../core/s3-uri';
import { resolveEnvironment } from '../core/environment';
import { temporalConnectionOptions } from '../core/temporal-connection';
import { minuteFolder } from '../core/landing';
import type { JobManifest } from '../core/manifest';
import { readBody } from '../activities/sdk/s3';
import { S3LandingLister } from '../activities/sdk/s3-landing-lister';
import { S3ManifestStore } from '../activities/sdk/s3-manifest-store';
import { statusQuery } from '../workflows/definitions';
import { pipelineWorkflow } from '../workflows/pipeline';
import { createFakes, FakeJobRunner, testConfig, type Fakes } from '../test/support/fakes';
import { createBucket, startMoto, type Moto } from '../test/support/moto';
import { eventually, startTemporal, withWorker } from '../test/support/temporal';
import { cycleFigures, formatCycleFigures, type JobTimes } from './cycle-figures';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

async function measure(
  env: TestWorkflowEnvironment,
  label: string,
  f: Fakes,
  produce: () => Promise<void>,
  cycles: number,
): Promise<void> {
  await withWorker(env, f, async (taskQueue) => {
    const config = testConfig({
      name: `bench-${label}`,
      schedule: { intervalSeconds: 1, continueAsNewAfterCycles: 10_000 },
      landing: { location: 's3://ddb-lake-local/landing/Bench/', closeAfterSeconds: 120, sweepEveryCycles: 10_000 },
    });
    const handle = await env.client.workflow.start(pipelineWorkflow, {
      taskQueue,
      workflowId: `bench-${label}-${Date.now()}`,
      args: [{ config }],
    });
    await eventually(
      async () => ((await handle.query(statusQuery)).phase === 'incremental' ? true : undefined),
      'incremental',
      60_000,
    );

    // Cycles with a batch: a producer keeps one new landing file ahead of every cycle.
    let producing = true;
    const producer = (async () => {
      while (producing) {
        await produce();
        await sleep(300);
      }
    })();
    const start = (await handle.query(statusQuery)).counters;
    await eventually(
      async () =>
        (await handle.query(statusQuery)).counters.jobsSucceeded >= start.jobsSucceeded + cycles ? true : undefined,
      'busy cycles',
      cycles * 10_000,
    );
    producing = false;
    await producer;
    // Then empty cycles.
    const mid = (await handle.query(statusQuery)).counters;
    await eventually(
      async () =>
        (await handle.query(statusQuery)).counters.emptyCycles >= mid.emptyCycles + cycles + 2 ? true : undefined,
      'empty cycles',
      cycles * 10_000,
    );
    const history = await handle.fetchHistory();
    await handle.cancel();

    const times: JobTimes = new Map();
    for (const [key, r] of f.jobs.runs)
      if (r.endedMs) times.set(key, { startedMs: r.startedMs, finishedMs: r.endedMs });
    const all = cycleFigures(history.events ?? [], times);
    // The first two empty cycles are left out: they may still see a late producer file.
    const firstEmpties = all.filter((c) => c.runKey === null).slice(0, 2);
    const figures = all.filter((c) => !firstEmpties.includes(c));
    console.log(`\n== landing in ${label} (fake jobs) ==`);
    for (const line of formatCycleFigures(figures)) console.log(line);
    console.log(
      `history events in the whole run     : ${history.events?.length} (continueAsNew bounds it; default every 200 cycles)`,
    );
  });
}

/** The figures of a real pipeline on the local stack: its history and its job records. */
async function measurePipeline(pipeline: string): Promise<void> {
  const env = resolveEnvironment();
  if (env.kind !== 'local') throw new Error('--pipeline reads the job records of the local stack (DDB_LAKE_STATE)');
  const connection = await Connection.connect(temporalConnectionOptions(env.temporal));
  try {
    const client = new Client({ connection, namespace: env.temporal.namespace });
    const handle = client.workflow.getHandle(pipeline);
    const history = await handle.fetchHistory();
    const times: JobTimes = new Map();
    const events = history.events ?? [];
    for (const e of events) {
      const data = e.activityTaskScheduledEventAttributes?.input?.payloads?.[0]?.data;
      if (e.activityTaskScheduledEventAttributes?.activityType?.name !== 'runJob' || !data) continue;
      const runKey = (JSON.parse(Buffer.from(data).toString('utf8')) as { runKey: string }).runKey;
      const file = join(env.stateDir, 'jobs', `${runKey}.json`);
      if (!existsSync(file)) continue;
      const r = JSON.parse(readFileSync(file, 'utf8')) as { startedAt: string; finishedAt?: string };
      const exit = join(env.stateDir, 'jobs', `${runKey}.exit`);
      if (r.finishedAt)
        times.set(runKey, {
          startedMs: Date.parse(r.startedAt),
          finishedMs: Date.parse(r.finishedAt),
          exitedMs: existsSync(exit) ? statSync(exit).mtimeMs : undefined,
        });
    }
    console.log(
      `== pipeline ${pipeline} (real jobs; ${events.length} history events in run ${(await handle.describe()).runId}) ==`,
    );
    for (const line of formatCycleFigures(cycleFigures(events, times))) console.log(line);
  } finally {
    await connection.close();
  }
}

async function main(): Promise<void> {
  const pipeline = arg('pipeline', '');
  if (pipeline) return measurePipeline(pipeline);
  const cycles = Number(arg('cycles', '30'));
  const landing = arg('landing', 'both');
  console.log(
    `orchestration bench: ${cycles} cycles with a batch + ${cycles} empty, per landing kind; dev server ${process.version}`,
  );
  const env = await startTemporal();
  let moto: Moto | undefined;
  try {
    if (landing === 'memory' || landing === 'both') {
      const f = createFakes(Date.now());
      let n = 0;
      await measure(
        env,
        'memory',
        f,
        async () => void f.landing.add(`shardId-bench_${++n}_${n}.json`, minuteFolder(f.clock.now())),
        cycles,
      );
    }
    if (landing === 'moto' || landing === 'both') {
      moto = await startMoto();
      await createBucket(moto, 'ddb-lake-local');
      const m = moto;
      const f = createFakes(Date.now());
      const lister = new S3LandingLister(m.s3);
      const manifests = new S3ManifestStore(m.s3);
      const jobs = new FakeJobRunner({
        readManifest: async (uri) => {
          const { bucket, key } = parseS3Uri(uri);
          return JSON.parse(
            (await readBody((await m.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body)).toString(),
          ) as JobManifest;
        },
        writeSummary: async (uri, summary) => {
          const { bucket, key } = parseS3Uri(uri);
          await m.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(summary) }));
        },
      });
      const real: Fakes = { ...f, jobs, services: { ...f.services, lister, manifests, jobRunner: jobs } };
      // The planner's clock is real time here; files go to the current minute's folder.
      real.clock.now = () => Date.now();
      let n = 0;
      await measure(
        env,
        'moto',
        real,
        async () =>
          void (await m.s3.send(
            new PutObjectCommand({
              Bucket: 'ddb-lake-local',
              Key: `landing/Bench/${minuteFolder(Date.now())}/shardId-bench_${++n}_${n}.json`,
              Body: '{}\n',
            }),
          )),
        cycles,
      );
    }
  } finally {
    await moto?.stop();
    await env.teardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
