/**
 * The faults that kill a job mid-batch: `spark-kill` (the JVM of a running job, one-shot or warm)
 * and `engine-kill` (the whole process group of a pipeline's warm engine: Python driver and JVM,
 * as an out-of-memory kill or a host restart would). Either way the batch in flight must be counted
 * failed, run again under the next attempt's run key, and applied exactly once.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { processCommandLine, processGroupMembers, signalGroup } from '../../core/process';
import { batchOf, readJobRecords } from './audit';
import { aJobSucceededSince, secondsSince, waitFor, type FaultContext, type FaultOutcome } from './fault-support';

/** The JVM of a running job: the `java` process in the job's process group (led by the runner's wrapper shell). */
function jvmOf(groupLeader: number): number | undefined {
  return processGroupMembers(groupLeader).find((pid) => /(^|\/)java$/.test(processCommandLine(pid)?.[0] ?? ''));
}

interface Killed {
  runKey: string;
  pid: number;
  startedAt: number;
  killedAt: number;
}

/**
 * Waits for a job of this pipeline that has run for 2 s (found by its run record) and kills it with
 * `kill`, unless it ended by itself in the meantime (then the next job is the target).
 */
function killRunningJob(
  ctx: FaultContext,
  eligible: (record: { engine?: string }) => boolean,
  kill: (groupLeader: number) => number | undefined,
): Promise<Killed | undefined> {
  return waitFor(
    ctx,
    180_000,
    () => {
      for (const r of readJobRecords(ctx.env.stateDir, ctx.config.name).reverse()) {
        const rec = r as typeof r & { pid?: number; engine?: string };
        if (r.status !== 'running' || !rec.pid || !eligible(rec) || Date.now() - Date.parse(r.startedAt) < 2000)
          continue;
        if (existsSync(join(ctx.env.stateDir, 'jobs', `${r.runKey}.exit`))) continue;
        const pid = kill(rec.pid);
        if (pid === undefined) continue; // it ended just now
        return { runKey: r.runKey, pid, startedAt: Date.parse(r.startedAt), killedAt: Date.now() };
      }
      return undefined;
    },
    250,
  );
}

/** The workflow counted the failure and ran the batch again under the next attempt's run key. */
async function retriedAfter(
  ctx: FaultContext,
  target: Killed,
): Promise<{ runKey: string; at: number; pid?: number } | undefined> {
  const batch = batchOf(target.runKey);
  return waitFor(
    ctx,
    240_000,
    () => {
      const next = readJobRecords(ctx.env.stateDir, ctx.config.name).find(
        (r) => batchOf(r.runKey) === batch && r.runKey !== target.runKey && Date.parse(r.startedAt) >= target.killedAt,
      ) as ({ runKey: string; startedAt: string; pid?: number } & object) | undefined;
      return next ? { runKey: next.runKey, at: Date.parse(next.startedAt), pid: next.pid } : undefined;
    },
    500,
  );
}

export async function sparkKill(ctx: FaultContext): Promise<Partial<FaultOutcome>> {
  const waitedFrom = Date.now();
  const killed = await killRunningJob(
    ctx,
    () => true,
    (leader) => {
      const jvm = jvmOf(leader);
      if (jvm === undefined) return undefined;
      try {
        process.kill(jvm, 'SIGKILL');
        return jvm;
      } catch {
        return undefined;
      }
    },
  );
  if (!killed)
    return { recovered: false, detail: `no job ran long enough to be killed within ${secondsSince(waitedFrom)} s` };
  const retried = await retriedAfter(ctx, killed);
  const jobAt = await aJobSucceededSince(ctx, killed.killedAt, 240_000);
  return {
    recovered: retried !== undefined && jobAt !== undefined,
    detail: `JVM pid ${killed.pid} of ${killed.runKey} SIGKILLed ${((killed.killedAt - killed.startedAt) / 1000).toFixed(1)} s into the job; ${retried ? `retried as ${retried.runKey} ${((retried.at - killed.killedAt) / 1000).toFixed(1)} s later` : 'NOT retried'}; a job succeeded after ${jobAt ? ((jobAt - killed.killedAt) / 1000).toFixed(1) : '—'} s`,
  };
}

export async function engineKill(ctx: FaultContext): Promise<Partial<FaultOutcome>> {
  const waitedFrom = Date.now();
  const killed = await killRunningJob(
    ctx,
    (record) => record.engine !== undefined,
    (leader) => (signalGroup(leader, 'SIGKILL') ? leader : undefined),
  );
  if (!killed)
    return {
      recovered: false,
      detail: `no batch ran in a warm engine long enough to be killed within ${secondsSince(waitedFrom)} s (is jobs.incremental.engine "perBatch"?)`,
    };
  const retried = await retriedAfter(ctx, killed);
  const jobAt = await aJobSucceededSince(ctx, killed.killedAt, 240_000);
  const newEngine = retried?.pid !== undefined && retried.pid !== killed.pid;
  return {
    recovered: retried !== undefined && jobAt !== undefined && newEngine,
    detail: `warm engine (group ${killed.pid}) SIGKILLed ${((killed.killedAt - killed.startedAt) / 1000).toFixed(1)} s into ${killed.runKey}; ${retried ? `retried as ${retried.runKey} ${((retried.at - killed.killedAt) / 1000).toFixed(1)} s later in ${newEngine ? `a new engine (group ${retried.pid})` : 'THE SAME engine group'}` : 'NOT retried'}; a job succeeded after ${jobAt ? ((jobAt - killed.killedAt) / 1000).toFixed(1) : '—'} s`,
  };
}
