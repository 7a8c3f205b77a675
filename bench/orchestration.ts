/**
 * Orchestration cost of an incremental cycle, measured on the real Temporal dev server with the real
 * activities and fake-fast jobs (they read the real manifest, run ~200 ms, write a summary):
 *
 *  - history events per cycle (with a batch, and empty), from the workflow's own history;
 *  - orchestration overhead per cycle: the cycle's wall time (interval timer fired → next interval
 *    timer started) minus the time the job itself ran, split into planning (list + manifest),
 *    job start/detection (start call, status polls, summary read) and Temporal (task dispatch,
 *    workflow tasks).
 *
 *   npm run bench:orchestration -- [--cycles 30] [--landing memory|moto|both]
 *
 * Ports: Temporal 7301 (+8301 HTTP, 5309 metrics), moto 5303.
 */
import { PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseS3Uri } from '../core/aws';
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

const EventType = temporal.api.enums.v1.EventType;
type Event = temporal.api.history.v1.IHistoryEvent;

interface CycleFigure {
  withJob: boolean;
  events: number;
  cycleMs: number;
  jobMs: number;
  planMs: number;
  jobActivityMs: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const ms = (t: Event['eventTime']) => Number(t!.seconds) * 1000 + (t!.nanos ?? 0) / 1e6;

/** Split the history into cycles: from an interval timer firing to the next interval timer starting. */
function cyclesOf(events: Event[], jobMsByRunKey: Map<string, number>): CycleFigure[] {
  const activityType = new Map<number, string>();
  const scheduledInput = new Map<number, string>();
  const startedAt = new Map<number, number>();
  const out: CycleFigure[] = [];
  let cur: (CycleFigure & { startIdx: number; t0: number }) | null = null;
  events.forEach((e, i) => {
    const id = Number(e.eventId);
    switch (e.eventType) {
      case EventType.EVENT_TYPE_TIMER_FIRED:
        cur = { withJob: false, events: 0, cycleMs: 0, jobMs: 0, planMs: 0, jobActivityMs: 0, startIdx: i, t0: ms(e.eventTime) };
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const a = e.activityTaskScheduledEventAttributes!;
        activityType.set(id, a.activityType!.name!);
        const data = a.input?.payloads?.[0]?.data;
        if (data) scheduledInput.set(id, Buffer.from(data).toString('utf8'));
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        startedAt.set(Number(e.activityTaskStartedEventAttributes!.scheduledEventId), ms(e.eventTime));
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
        if (!cur) break;
        const c = cur as CycleFigure;
        const sid = Number(e.activityTaskCompletedEventAttributes!.scheduledEventId);
        const took = ms(e.eventTime) - startedAt.get(sid)!;
        if (activityType.get(sid) === 'planIncremental') c.planMs += took;
        if (activityType.get(sid) === 'runJob') {
          c.withJob = true;
          c.jobActivityMs += took;
          const runKey = (JSON.parse(scheduledInput.get(sid)!) as { runKey: string }).runKey;
          c.jobMs += jobMsByRunKey.get(runKey) ?? 0;
        }
        break;
      }
      case EventType.EVENT_TYPE_TIMER_STARTED:
        if (cur) {
          const c = cur as CycleFigure & { startIdx: number; t0: number };
          out.push({ withJob: c.withJob, events: i - c.startIdx + 1, cycleMs: ms(e.eventTime) - c.t0, jobMs: c.jobMs, planMs: c.planMs, jobActivityMs: c.jobActivityMs });
          cur = null;
        }
        break;
    }
  });
  return out;
}

function stats(xs: number[]): string {
  if (xs.length === 0) return 'n/a';
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return `mean ${mean.toFixed(0)} ms, p50 ${q(0.5).toFixed(0)}, p95 ${q(0.95).toFixed(0)}, max ${s[s.length - 1]!.toFixed(0)} ms`;
}

async function measure(env: TestWorkflowEnvironment, label: string, f: Fakes, produce: () => Promise<void>, cycles: number): Promise<void> {
  await withWorker(env, f, async (taskQueue) => {
    const config = testConfig({
      name: `bench-${label}`,
      schedule: { intervalSeconds: 1, continueAsNewAfterCycles: 10_000 },
      landing: { location: 's3://ddb-lake-local/landing/Bench/', closeAfterSeconds: 120, sweepEveryCycles: 10_000 },
    });
    const handle = await env.client.workflow.start(pipelineWorkflow, { taskQueue, workflowId: `bench-${label}-${Date.now()}`, args: [{ config }] });
    await eventually(async () => ((await handle.query(statusQuery)).phase === 'incremental' ? true : undefined), 'incremental', 60_000);

    // Cycles with a batch: a producer keeps one new landing file ahead of every cycle.
    let producing = true;
    const producer = (async () => {
      while (producing) {
        await produce();
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    const start = (await handle.query(statusQuery)).counters;
    await eventually(async () => ((await handle.query(statusQuery)).counters.jobsSucceeded >= start.jobsSucceeded + cycles ? true : undefined), 'busy cycles', cycles * 10_000);
    producing = false;
    await producer;
    // Then empty cycles.
    const mid = (await handle.query(statusQuery)).counters;
    await eventually(async () => ((await handle.query(statusQuery)).counters.emptyCycles >= mid.emptyCycles + cycles + 2 ? true : undefined), 'empty cycles', cycles * 10_000);
    const history = await handle.fetchHistory();
    await handle.cancel();

    const jobMs = new Map<string, number>();
    for (const [key, r] of f.jobs.runs) if (r.endedMs) jobMs.set(key, r.endedMs - r.startedMs);
    const all = cyclesOf(history.events ?? [], jobMs);
    const busy = all.filter((c) => c.withJob);
    const empty = all.filter((c) => !c.withJob).slice(2); // the first empty cycles may still see a late producer file
    const outside = busy.map((c) => c.cycleMs - c.jobMs);
    const temporalMs = busy.map((c) => c.cycleMs - c.planMs - c.jobActivityMs);
    const detect = busy.map((c) => c.jobActivityMs - c.jobMs);
    console.log(`\n== landing in ${label}: ${busy.length} cycles with a job, ${empty.length} empty cycles ==`);
    console.log(`history events per cycle with a job : ${stats(busy.map((c) => c.events)).replace(/ ms/g, '')}`);
    console.log(`history events per empty cycle      : ${stats(empty.map((c) => c.events)).replace(/ ms/g, '')}`);
    console.log(`history events in the whole run     : ${history.events?.length} (continueAsNew bounds it; default every 200 cycles)`);
    console.log(`job run time (fake)                 : ${stats(busy.map((c) => c.jobMs))}`);
    console.log(`overhead per cycle (outside the job): ${stats(outside)}`);
    console.log(`  planning activity (list+manifest) : ${stats(busy.map((c) => c.planMs))}`);
    console.log(`  job start + end detection + summary: ${stats(detect)}`);
    console.log(`  Temporal (dispatch, workflow tasks): ${stats(temporalMs)}`);
    console.log(`empty cycle, total                  : ${stats(empty.map((c) => c.cycleMs))}`);
  });
}

async function main(): Promise<void> {
  const cycles = Number(arg('cycles', '30'));
  const landing = arg('landing', 'both');
  console.log(`orchestration bench: ${cycles} cycles with a batch + ${cycles} empty, per landing kind; dev server ${process.version}`);
  const env = await startTemporal();
  let moto: Moto | undefined;
  try {
    if (landing === 'memory' || landing === 'both') {
      const f = createFakes(Date.now());
      let n = 0;
      await measure(env, 'memory', f, async () => void f.landing.add(`shardId-bench_${++n}_${n}.json`, minuteFolder(f.clock.now())), cycles);
    }
    if (landing === 'moto' || landing === 'both') {
      moto = await startMoto(Number(process.env.DDB_LAKE_BENCH_MOTO_PORT || 5303));
      await createBucket(moto, 'ddb-lake-local');
      const m = moto;
      const f = createFakes(Date.now());
      const lister = new S3LandingLister(m.s3);
      const manifests = new S3ManifestStore(m.s3);
      const jobs = new FakeJobRunner({
        readManifest: async (uri) => {
          const { bucket, key } = parseS3Uri(uri);
          return JSON.parse((await readBody((await m.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body)).toString()) as JobManifest;
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
            new PutObjectCommand({ Bucket: 'ddb-lake-local', Key: `landing/Bench/${minuteFolder(Date.now())}/shardId-bench_${++n}_${n}.json`, Body: '{}\n' }),
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
