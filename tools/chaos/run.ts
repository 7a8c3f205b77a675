/**
 * A chaos run (bench/chaos.ts, test/chaos.test.ts): a local stack of its own, a fresh Transaction
 * table and pipeline, sustained writes while faults are injected on a seeded schedule, then
 * catch-up, verify and the audit. Always tears its stack down (unless asked to keep it).
 */
import { rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { WarmJobRunner } from '../../activities/local/warm-job-runner';
import { awsClientConfig } from '../../core/aws';
import { resolveEnvironment, type LocalEnvironment } from '../../core/environment';
import { describeError } from '../../core/errors';
import { sleepUnlessAborted } from '../../core/process';
import { generateTransactions, type GenerateResult } from '../generate/generator';
import type { TransactionKey } from '../generate/transaction-model';
import { prepareTableAndBuckets, pipelineLine, scenarioConfig, scenarioNames, waitForPhase } from '../demo/scenario';
import { PipelineClient, type StatusDocument } from '../../client/pipeline-client';
import { ensureToolchain } from '../../stack/setup';
import { resolveStackOptions } from '../../stack/options';
import { down, up } from '../../stack/stack';
import { landingProgressFor } from '../../client/verify/landing-progress';
import { verifyAfterWrites, waitForCatchUp, type VerifyReport } from '../../client/verify/verify';
import { auditJobs, landedTtlRemoves, readJobRecords, rejectedLines } from './audit';
import { injectFault, Interrupted, type FaultContext, type FaultOutcome } from './faults';
import { faultDynamoDbClient, HiddenItemWriter, ttlRemove } from './landing-faults';
import { chaosChecks } from './checks';
import type { ChaosResult } from './report';
import { FAULT_KINDS, planFaults, type FaultKind } from './schedule';

export interface ChaosOptions {
  stateDir: string;
  ports: { temporal: number; temporalUi: number; aws: number };
  rate: number;
  durationSeconds: number;
  each: number;
  seed: string;
  initial: number;
  updateRatio: number;
  deleteRatio: number;
  /** TTL-style removes per second (on keys of the first batch set aside for them). */
  ttlRate: number;
  intervalSeconds: number;
  /** Every N cycles the planner sweeps closed folders for late files (config landing.sweepEveryCycles). */
  sweepEveryCycles: number;
  kinds?: readonly FaultKind[];
  keepStack: boolean;
  /** Remove the state folder first (tests: every run starts clean). */
  cleanState: boolean;
  say: (line: string) => void;
  /** Live one-line progress (overwritten). */
  progress?: (line: string) => void;
  signal?: AbortSignal;
}

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const started = Date.now();
  const signal = o.signal ?? new AbortController().signal;
  const loads: number[][] = [loadavg()];
  const loadTimer = setInterval(() => loads.push(loadavg()), 10_000);
  const stackOptions = resolveStackOptions(
    { stateDir: o.stateDir },
    {
      DDB_LAKE_TEMPORAL_PORT: String(o.ports.temporal),
      DDB_LAKE_TEMPORAL_UI_PORT: String(o.ports.temporalUi),
      DDB_LAKE_AWS_PORT: String(o.ports.aws),
    },
  );
  const toolchain = await ensureToolchain();
  await teardown(o.stateDir, () => undefined);
  if (o.cleanState) rmSync(o.stateDir, { recursive: true, force: true });
  process.env.DDB_LAKE_STATE = o.stateDir;
  // Clients of this process (and the services it starts) talk to this stack's moto only.
  process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${o.ports.aws}`;
  let client: PipelineClient | undefined;
  let pipeline: string | undefined;
  const closers: (() => void)[] = [];
  try {
    await up(stackOptions, (l) => o.say(`  ${l}`), toolchain);
    const env = resolveEnvironment() as LocalEnvironment;
    client = await PipelineClient.connect(env);
    const ddb = new DynamoDBClient(awsClientConfig(env));
    const s3 = new S3Client(awsClientConfig(env));
    const noStream = faultDynamoDbClient(env, 'no-stream');
    const ttl = faultDynamoDbClient(env, 'ttl-remove');
    closers.push(
      () => ddb.destroy(),
      () => s3.destroy(),
      () => noStream.destroy(),
      () => ttl.destroy(),
    );

    const names = scenarioNames('chaos');
    pipeline = names.pipeline;
    const { config } = scenarioConfig(
      env,
      names,
      { intervalSeconds: o.intervalSeconds },
      { sweepEveryCycles: o.sweepEveryCycles },
    );
    await prepareTableAndBuckets(env, config);
    const first = await generateTransactions(ddb, {
      table: config.table,
      count: Math.max(1, o.initial),
      seed: `chaos-initial:${o.seed}`,
    });
    // Keys set aside for TTL removes: nothing else writes them (two writers of one item at once could
    // reach moto's stream in the other order than its table — a moto limit, docs/stream-capture.md).
    const ttlWanted = Math.min(Math.ceil(o.ttlRate * o.durationSeconds), Math.floor(first.liveKeys.length / 2));
    const ttlKeys: TransactionKey[] = first.liveKeys.slice(0, ttlWanted);
    const generatorKeys = first.liveKeys.slice(ttlWanted);
    o.say(
      `  table ${config.table}: first batch of ${first.written} items (${ttlKeys.length} set aside for TTL removes)`,
    );
    const streamArn = (await ddb.send(new DescribeTableCommand({ TableName: config.table }))).Table!.LatestStreamArn!;

    await client.start(config);
    await waitForPhase(client, config.name, 'incremental', {
      timeoutSeconds: 900,
      signal,
      onStatus: (st) => o.progress?.(`  pipeline ${config.name}: ${pipelineLine(st)}`),
    });
    const settle = landingProgressFor(env, config.table, config.landing.location, 60);
    await unlessAborted(
      signal,
      waitForCatchUp(client, settle, Date.now(), {
        pipeline: config.name,
        timeoutSeconds: 900,
        onProgress: (p) => o.progress?.(`  settling: ${p.landing} · ${p.lake}`),
      }),
    );
    settle.close();
    o.say(`  pipeline ${config.name} in its incremental phase and caught up; writing and injecting faults now`);

    const planned = planFaults({ seed: o.seed, durationSeconds: o.durationSeconds, each: o.each, kinds: o.kinds });
    const ctx: FaultContext = {
      env,
      stackOptions,
      toolchain,
      config,
      client,
      s3,
      hidden: new HiddenItemWriter(noStream, config.table, streamArn, o.seed),
      say: o.say,
      signal,
    };
    const stopWrites = new AbortController();
    const onAbort = () => stopWrites.abort();
    signal.addEventListener('abort', onAbort);
    const writeStart = Date.now();
    let written = 0;
    const writes: Promise<GenerateResult> = generateTransactions(ddb, {
      table: config.table,
      durationSeconds: 24 * 3600, // until stopped: when the duration is over and every fault has recovered
      rate: o.rate,
      updateRatio: o.updateRatio,
      deleteRatio: o.deleteRatio,
      seed: `chaos:${o.seed}`,
      existingKeys: generatorKeys,
      signal: stopWrites.signal,
      onProgress: (p) => (written = p.written),
    });
    let ttlRemoves = 0;
    let ttlErrors = 0;
    const ttlLoop = (async () => {
      if (!(o.ttlRate > 0)) return;
      for (const key of ttlKeys) {
        if (stopWrites.signal.aborted) break;
        await sleep(1000 / o.ttlRate);
        if (stopWrites.signal.aborted) break;
        try {
          await ttlRemove(ttl, config.table, key);
          ttlRemoves++;
        } catch {
          ttlErrors++;
        }
      }
    })();
    let last: StatusDocument | undefined;
    const faults: FaultOutcome[] = [];
    let currentFault = '';
    const poll = (async () => {
      while (!stopWrites.signal.aborted) {
        last = await client.status(config.name).catch(() => last);
        o.progress?.(
          `  ${Math.round((Date.now() - writeStart) / 1000)}/${o.durationSeconds} s · written ${written} · faults ${faults.length}/${planned.length}${currentFault ? ` (${currentFault})` : ''} · ${pipelineLine(last)}`,
        );
        await sleep(2000);
      }
    })();
    try {
      for (const f of planned) {
        const wait = writeStart + f.atSeconds * 1000 - Date.now();
        if (wait > 0) await sleepUnlessAborted(wait, signal);
        if (signal.aborted) throw new Interrupted('interrupted');
        currentFault = f.kind;
        const outcome = await injectFault(ctx, f.kind, f.occurrence);
        currentFault = '';
        faults.push(outcome);
        o.say(
          `  fault ${faults.length}/${planned.length} at ${Math.round((Date.parse(outcome.startedAt) - writeStart) / 1000)} s: ${f.kind}${outcome.recovered ? '' : ' (NOT RECOVERED)'} — ${outcome.detail}`,
        );
      }
      const rest = writeStart + o.durationSeconds * 1000 - Date.now();
      if (rest > 0) await sleepUnlessAborted(rest, signal);
      if (signal.aborted) throw new Interrupted('interrupted');
    } catch (err) {
      stopWrites.abort();
      await Promise.allSettled([writes, ttlLoop, poll]);
      throw err;
    } finally {
      stopWrites.abort();
      signal.removeEventListener('abort', onAbort);
    }
    const result = await writes;
    await ttlLoop;
    await poll;
    const writeSeconds = (Date.now() - writeStart) / 1000;
    o.say(
      `  wrote ${result.written} changes in ${writeSeconds.toFixed(0)} s (${result.inserts} inserts, ${result.updates} updates, ${result.deletes} deletes, ${result.errors} errors) + ${ttlRemoves} TTL removes`,
    );

    // Late files are applied by a sweep (every sweepEveryCycles cycles): wait for one that listed after the last.
    const catchUpStart = Date.now();
    const lastLate = Math.max(0, ...faults.map((f) => f.lateFileAtMs ?? 0));
    if (lastLate) {
      const deadline = Date.now() + 900_000;
      for (;;) {
        const st = await client.status(config.name).catch(() => undefined);
        const swept = st?.watermark?.sweptAt ? Date.parse(st.watermark.sweptAt) : 0;
        if (swept > lastLate) break;
        if (Date.now() > deadline)
          throw new Error(
            `no sweep listed the landing zone after the last late file (${new Date(lastLate).toISOString()}) within 900 s`,
          );
        if (signal.aborted) throw new Interrupted('interrupted');
        o.progress?.(
          `  waiting for a sweep after the last late file: ${st ? pipelineLine(st) : 'status not answering'}`,
        );
        await sleep(2000);
      }
    }
    const report: VerifyReport = await unlessAborted(
      signal,
      verifyAfterWrites(env, client, config.name, 900, (l) => o.progress?.(`  verify: ${l}`)),
    );
    const final = await client.statusPatiently(config.name);
    const records = readJobRecords(env.stateDir, config.name);
    const jobs = auditJobs(records);
    const rejected = await rejectedLines(
      s3,
      config.landing.location,
      records.filter((r) => r.status === 'succeeded').map((r) => r.runKey),
    );
    const ttlLanded = await landedTtlRemoves(s3, config.landing.location);
    const catchUpSeconds = (Date.now() - catchUpStart) / 1000;

    const { faultCounts, injectedBad, checks } = chaosChecks({
      kinds: o.kinds ?? FAULT_KINDS,
      each: o.each,
      faults,
      report,
      final,
      rejectedLines: rejected.total,
      jobs,
      writeErrors: result.errors + ttlErrors,
      ttlRemoves,
      ttlLanded,
    });
    const atEnd = loadavg();
    return {
      seed: o.seed,
      settings: {
        rate: o.rate,
        durationSeconds: o.durationSeconds,
        each: o.each,
        initial: o.initial,
        updateRatio: o.updateRatio,
        deleteRatio: o.deleteRatio,
        ttlRate: o.ttlRate,
        intervalSeconds: o.intervalSeconds,
        sweepEveryCycles: o.sweepEveryCycles,
        closeAfterSeconds: config.landing.closeAfterSeconds,
        maxRejectedShare: config.errors.maxRejectedShare,
        retry: config.retry,
        stateDir: o.stateDir,
        ports: o.ports,
      },
      pipeline: config.name,
      table: config.table,
      planned,
      faults,
      faultCounts,
      writes: {
        written: result.written + ttlRemoves,
        inserts: result.inserts,
        updates: result.updates,
        deletes: result.deletes,
        ttlRemoves,
        errors: result.errors + ttlErrors,
        handLanded: faults.reduce((n, f) => n + (f.handLanded ?? 0), 0),
        ratePerSecond: result.ratePerSecond,
      },
      verify: {
        result: report.result,
        items: report.table.items,
        rows: report.lake.rows,
        missing: report.missing.count,
        extra: report.extra.count,
        differing: report.differing.count,
        duplicates: report.duplicates.count,
        sample: { missing: report.missing.sample, extra: report.extra.sample, differing: report.differing.sample },
      },
      quarantined: {
        status: final.counters?.rejected ?? -1,
        rejectedLines: rejected.total,
        reasons: rejected.reasons,
        injected: injectedBad,
      },
      jobs,
      ttlLanded,
      checks,
      ok: checks.every((c) => c.ok),
      seconds: {
        total: Math.round((Date.now() - started) / 1000),
        writes: Math.round(writeSeconds),
        catchUpAndVerify: Math.round(catchUpSeconds),
      },
      load: { atStart: loads[0]!, max1m: Math.max(...loads.map((l) => l[0]!), atEnd[0]!), atEnd, cores: cpus().length },
    };
  } finally {
    clearInterval(loadTimer);
    for (const close of closers) close();
    if (client && pipeline && !o.keepStack) await client.stop(pipeline, 30).catch(() => undefined);
    await client?.close().catch(() => undefined);
    if (!o.keepStack)
      await teardown(o.stateDir, o.say).catch((err) =>
        o.say(`  could not stop the chaos stack: ${describeError(err)}`),
      );
    else o.say(`  stack left running (DDB_LAKE_STATE=${o.stateDir} ddb-lake down stops it)`);
  }
}

/** Stop the stack's services, then any Spark job still running (jobs live in process groups of their own). */
export async function teardown(stateDir: string, say: (line: string) => void): Promise<void> {
  await down({ stateDir, stopTimeoutMs: 15_000 }, (l) => say(`  ${l}`));
  for (const runKey of await new WarmJobRunner({ stateDir }).stopAll().catch(() => []))
    say(`  stopped ${runKey}, a job still running`);
}

/** The promise, or an Interrupted error as soon as the signal fires (the promise is left to settle). */
function unlessAborted<T>(signal: AbortSignal, p: Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(new Interrupted('interrupted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Interrupted('interrupted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
