/**
 * The faults of a chaos run, one function per kind (bench/README.md "chaos" says what each does).
 * Each injects its fault, brings back what it broke the way an operator would (`ddb-lake up`
 * restarts a stopped service of the stack) and waits until the pipeline shows it recovered, so the
 * next fault never overlaps it. The outcome says what happened, in words and numbers.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readStackInfo, type StackService } from '../../core/environment';
import { minuteFolder, minuteFolderStart } from '../../core/landing';
import { readPollerStatus } from '../../stack/poller/status';
import {
  isProcessRunning,
  processGroupMembers,
  signalGroup,
  stopProcessGroup,
  writeFileAtomic,
} from '../../core/process';
import { up } from '../../stack/stack';
import { badLine, putLandingFile } from './landing-faults';
import type { FaultKind } from './schedule';
import {
  aJobSucceededSince,
  Interrupted,
  secondsSince,
  statusOrNothing,
  waitFor,
  type FaultContext,
  type FaultOutcome,
} from './fault-support';
import { engineKill, sparkKill } from './job-kill';

/** When the pipeline's status answered again (within 120 s). */
function statusAnswered(ctx: FaultContext): Promise<number | undefined> {
  return waitFor(ctx, 120_000, async () => ((await statusOrNothing(ctx)) ? Date.now() : undefined), 500);
}

function service(ctx: FaultContext, name: string): StackService {
  const s = readStackInfo(ctx.env.stateDir)?.services.find((x) => x.name === name);
  if (!s) throw new Error(`the chaos stack has no ${name} service`);
  return s;
}

/** `ddb-lake up`: restarts every stopped service of the stack, reuses the healthy ones. */
async function restartStack(ctx: FaultContext): Promise<string[]> {
  const r = await up(ctx.stackOptions, () => undefined, ctx.toolchain);
  return r.started;
}

async function workerKill(ctx: FaultContext): Promise<Partial<FaultOutcome>> {
  const worker = service(ctx, 'worker');
  const running = (await statusOrNothing(ctx))?.currentRun?.runKey ?? null;
  const killedAt = Date.now();
  process.kill(worker.pid, 'SIGKILL');
  await waitFor(ctx, 10_000, () => (isProcessRunning(worker.pid, worker.processToken) ? undefined : true), 100);
  const started = await restartStack(ctx);
  const restartedIn = secondsSince(killedAt);
  const answered = await statusAnswered(ctx);
  const jobAt = await aJobSucceededSince(ctx, killedAt, 240_000);
  return {
    recovered: answered !== undefined && jobAt !== undefined,
    detail: `worker pid ${worker.pid} SIGKILLed${running ? ` during ${running}` : ' between jobs'}; \`up\` restarted ${started.join(', ') || 'nothing'} ${restartedIn} s after; status answered after ${answered ? ((answered - killedAt) / 1000).toFixed(1) : '—'} s, a new job succeeded after ${jobAt ? ((jobAt - killedAt) / 1000).toFixed(1) : '—'} s`,
  };
}

async function temporalRestart(ctx: FaultContext): Promise<Partial<FaultOutcome>> {
  const temporal = service(ctx, 'temporal');
  const running = (await statusOrNothing(ctx))?.currentRun?.runKey ?? null;
  const stoppedAt = Date.now();
  const outcome = await stopProcessGroup(temporal.pid, temporal.processToken, ctx.stackOptions.stopTimeoutMs);
  const downFor = secondsSince(stoppedAt);
  const started = await restartStack(ctx);
  const upAt = Date.now();
  const answered = await statusAnswered(ctx);
  // The worker reconnected when a job that began after the restart has succeeded.
  const jobAt = await aJobSucceededSince(ctx, upAt, 300_000);
  return {
    recovered: answered !== undefined && jobAt !== undefined,
    detail: `Temporal ${outcome} (pid ${temporal.pid}) in ${downFor} s${running ? ` during ${running}` : ''}; \`up\` restarted ${started.join(', ') || 'nothing'} (down ${((upAt - stoppedAt) / 1000).toFixed(1)} s in all); status answered ${answered ? ((answered - upAt) / 1000).toFixed(1) : '—'} s after, a job started after the restart succeeded ${jobAt ? ((jobAt - upAt) / 1000).toFixed(1) : '—'} s after`,
  };
}

/** The poller wrote a status after `sinceMs` that shows the table's shards caught up again. */
async function pollerCaughtUp(ctx: FaultContext, sinceMs: number, timeoutMs: number): Promise<number | undefined> {
  return waitFor(
    ctx,
    timeoutMs,
    () => {
      const st = readPollerStatus(join(ctx.env.stateDir, 'esm'));
      if (!st || st.stoppedAt || Date.parse(st.startedAt) < sinceMs) return undefined;
      const t = st.tables[ctx.config.table];
      const shards = t?.shards.filter((s) => s.streamArn === t.streamArn) ?? [];
      return shards.length && shards.every((s) => s.caughtUpAt && Date.parse(s.caughtUpAt) >= sinceMs)
        ? Date.now()
        : undefined;
    },
    500,
  );
}

async function stopPoller(ctx: FaultContext, signal: 'SIGKILL' | 'SIGTERM'): Promise<string> {
  const poller = service(ctx, 'poller');
  if (signal === 'SIGKILL') {
    signalGroup(poller.pid, 'SIGKILL');
    await waitFor(ctx, 10_000, () => (processGroupMembers(poller.pid).length ? undefined : true), 100);
    return `SIGKILLed (pid ${poller.pid})`;
  }
  return `${await stopProcessGroup(poller.pid, poller.processToken, ctx.stackOptions.stopTimeoutMs)} by SIGTERM (pid ${poller.pid})`;
}

async function pollerRestart(ctx: FaultContext, occurrence: number): Promise<Partial<FaultOutcome>> {
  const signal = occurrence % 2 === 0 ? 'SIGKILL' : 'SIGTERM';
  const stoppedAt = Date.now();
  const how = await stopPoller(ctx, signal);
  await sleep(2000); // writes go on meanwhile: the poller has something to catch up with
  await restartStack(ctx);
  const caught = await pollerCaughtUp(ctx, stoppedAt, 120_000);
  return {
    recovered: caught !== undefined,
    detail: `poller ${how}, down ${secondsSince(stoppedAt)} s; caught up with the stream ${caught ? ((caught - stoppedAt) / 1000).toFixed(1) : '—'} s after the stop`,
  };
}

interface CheckpointFile {
  file: string;
  text: string;
  sequenceNumber: string;
}

function checkpointOf(ctx: FaultContext): CheckpointFile | undefined {
  const root = join(ctx.env.stateDir, 'esm', 'checkpoints', ctx.config.table.replace(/[^A-Za-z0-9._-]/g, '_'));
  if (!existsSync(root)) return undefined;
  for (const label of readdirSync(root))
    for (const name of readdirSync(join(root, label))) {
      if (!name.endsWith('.json')) continue;
      const file = join(root, label, name);
      const text = readFileSync(file, 'utf8');
      const cp = JSON.parse(text) as { sequenceNumber?: string; finished: boolean };
      if (!cp.finished && cp.sequenceNumber) return { file, text, sequenceNumber: cp.sequenceNumber };
    }
  return undefined;
}

/** Rewind the shard's checkpoint to one delivered two batches ago: the poller delivers those records again. */
async function redeliver(ctx: FaultContext): Promise<Partial<FaultOutcome>> {
  const earlier = checkpointOf(ctx);
  if (!earlier) return { recovered: false, detail: 'no checkpoint of the table to rewind' };
  let moves = 0;
  let last = earlier.sequenceNumber;
  await waitFor(
    ctx,
    60_000,
    () => {
      const now = checkpointOf(ctx);
      if (now && now.sequenceNumber !== last) {
        moves++;
        last = now.sequenceNumber;
      }
      return moves >= 2 ? true : undefined;
    },
    200,
  );
  const stoppedAt = Date.now();
  const how = await stopPoller(ctx, 'SIGTERM');
  const current = checkpointOf(ctx)!;
  await writeFileAtomic(earlier.file, earlier.text);
  await restartStack(ctx);
  const again = BigInt(current.sequenceNumber) - BigInt(earlier.sequenceNumber);
  const caught = await pollerCaughtUp(ctx, stoppedAt, 120_000);
  return {
    recovered: caught !== undefined,
    detail: `poller ${how}; checkpoint rewound from ${current.sequenceNumber} to ${earlier.sequenceNumber} (${moves} delivered batches back): ${again} record(s) delivered again; caught up ${caught ? ((caught - stoppedAt) / 1000).toFixed(1) : '—'} s after the stop`,
  };
}

/**
 * Changes landed by hand, late, in the folder the watermark closed last: a folder at or after the
 * export's minute whose close instant (M + closeAfterSeconds, as the planner counts it) has passed — a file there is
 * beyond the writer's guarantee, which the planner's sweep promises to catch (docs/landing.md).
 */
async function lateFile(ctx: FaultContext): Promise<Partial<FaultOutcome>> {
  // The planner's close instant of a folder M: M + closeAfterSeconds (core/planner.ts, docs/landing.md).
  const closeMs = (folder: string) => minuteFolderStart(folder) + ctx.config.landing.closeAfterSeconds * 1000;
  const s = await waitFor(
    ctx,
    300_000,
    async () => {
      const st = await statusOrNothing(ctx);
      const closed = st?.watermark?.closedThrough;
      const exportTime = st?.export?.exportTime ? Date.parse(st.export.exportTime) : null;
      if (!closed || exportTime === null) return undefined;
      return closed >= minuteFolder(exportTime) && closeMs(closed) < Date.now() - 2000 ? st : undefined;
    },
    1000,
  );
  if (!s) return { recovered: false, detail: 'the watermark closed no folder after the export within 300 s' };
  const folder = s.watermark!.closedThrough;
  const changes = await ctx.hidden.write(20);
  const at = Date.now();
  const file = await putLandingFile(ctx.s3, ctx.config.landing.location, folder, changes.records);
  return {
    recovered: true,
    handLanded: changes.items.length,
    lateFileAtMs: at,
    detail: `${file.lines} inserts (in the table, not in its stream) landed in ${folder}, closed by the watermark; its close instant passed ${Math.round((at - closeMs(folder)) / 1000)} s before (current folder ${minuteFolder(at)}): ${file.key.split('/').pop()}; the sweep must take it`,
  };
}

/** A landing file in the current folder: valid changes plus lines the jobs cannot parse. */
async function badLines(ctx: FaultContext, occurrence: number): Promise<Partial<FaultOutcome>> {
  // 2 bad lines among 250 valid ones: under the jobs' 1% maxRejectedShare even in a batch of its own.
  const changes = await ctx.hidden.write(250);
  const bad = [badLine(occurrence * 2, `${occurrence}a`), badLine(occurrence * 2 + 1, `${occurrence}b`)];
  const file = await putLandingFile(
    ctx.s3,
    ctx.config.landing.location,
    minuteFolder(Date.now()),
    changes.records,
    bad,
  );
  const at = Date.now();
  const jobAt = await aJobSucceededSince(ctx, at, 240_000);
  return {
    recovered: jobAt !== undefined,
    badLines: bad.length,
    handLanded: changes.items.length,
    detail: `${file.key.split('/').slice(-2).join('/')}: ${changes.items.length} valid inserts + ${bad.length} unparseable lines; a job succeeded ${jobAt ? ((jobAt - at) / 1000).toFixed(1) : '—'} s after`,
  };
}

/** Each kind's fault; `occurrence` varies some of them (SIGKILL / SIGTERM, which bad line). */
const FAULTS: Record<FaultKind, (ctx: FaultContext, occurrence: number) => Promise<Partial<FaultOutcome>>> = {
  'worker-kill': workerKill,
  'spark-kill': sparkKill,
  'engine-kill': engineKill,
  'temporal-restart': temporalRestart,
  'poller-restart': pollerRestart,
  redeliver,
  'late-file': lateFile,
  'bad-lines': badLines,
};

export async function injectFault(ctx: FaultContext, kind: FaultKind, occurrence: number): Promise<FaultOutcome> {
  const started = Date.now();
  let part: Partial<FaultOutcome>;
  try {
    part = await FAULTS[kind](ctx, occurrence);
  } catch (err) {
    if (err instanceof Interrupted) throw err;
    part = { recovered: false, detail: `the fault itself failed: ${(err as Error).message}` };
  }
  return {
    kind,
    occurrence,
    startedAt: new Date(started).toISOString(),
    seconds: Math.round((Date.now() - started) / 100) / 10,
    recovered: false,
    detail: '',
    ...part,
  };
}

export { Interrupted, type FaultContext, type FaultOutcome };
