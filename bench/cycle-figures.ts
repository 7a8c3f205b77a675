/**
 * Per-cycle figures of an incremental loop, from the workflow's own history and the jobs' start and
 * end times (the local runner's job records, or a fake runner's log). Used by bench/orchestration
 * (fake jobs, and `--pipeline` for a real pipeline) and printed by the pipeline-loop integration test.
 *
 * A cycle runs from the event that woke the workflow for it (its interval timer firing, or the end
 * of the previous cycle's last activity when no timer was needed) to the workflow task that handled
 * its last activity. Its history events are counted from its planIncremental up to the next one, so
 * the sleep before the next cycle is included.
 */
import { temporal } from '@temporalio/proto';

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/**
 * The job's own run time, by run key (local runner: record startedAt → the summary's finishedAt), and
 * when its process had exited (local: the exit file's time), when known.
 */
export type JobTimes = Map<string, { startedMs: number; finishedMs: number; exitedMs?: number }>;

export interface CycleFigure {
  /** The job's run key; null for a cycle that found nothing to apply. */
  runKey: string | null;
  events: number;
  cycleMs: number;
  /** The job itself (spark-submit from start to its summary; 0 without a job or without its times). */
  jobMs: number;
  /** planIncremental: listing, planning, manifest (activity started → completed). */
  planMs: number;
  /** runJob started → the job started (manifest digest check, other runs checked, start call). */
  startMs: number;
  /** The job ended → runJob completed (process exit, status poll, summary read). */
  endMs: number;
  /** Of endMs: the job's summary → its process gone (Spark and JVM shutdown); null when unknown. */
  exitMs: number | null;
  /** The rest: task dispatch and workflow tasks. */
  temporalMs: number;
  /** runJob ran more than one attempt (a worker died): not a normal cycle. */
  retried: boolean;
}

const at = (e: HistoryEvent) => Number(e.eventTime!.seconds) * 1000 + (e.eventTime!.nanos ?? 0) / 1e6;

export function cycleFigures(events: HistoryEvent[], jobs: JobTimes): CycleFigure[] {
  const scheduled = new Map<string, { type: string; input: string; index: number }>();
  const started = new Map<string, HistoryEvent>();
  const completed = new Map<string, HistoryEvent>();
  const plans: number[] = [];
  events.forEach((e, i) => {
    const id = String(e.eventId);
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      const a = e.activityTaskScheduledEventAttributes!;
      const data = a.input?.payloads?.[0]?.data;
      scheduled.set(id, {
        type: a.activityType!.name!,
        input: data ? Buffer.from(data).toString('utf8') : '',
        index: i,
      });
      if (a.activityType!.name === 'planIncremental') plans.push(i);
    } else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
      started.set(String(e.activityTaskStartedEventAttributes!.scheduledEventId), e);
    } else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
      completed.set(String(e.activityTaskCompletedEventAttributes!.scheduledEventId), e);
    }
  });

  const out: CycleFigure[] = [];
  for (let p = 0; p < plans.length; p++) {
    const from = plans[p]!;
    const to = p + 1 < plans.length ? plans[p + 1]! : events.length;
    const planId = String(events[from]!.eventId);
    const planStarted = started.get(planId);
    const planDone = completed.get(planId);
    if (!planStarted || !planDone || p + 1 >= plans.length) continue; // the last cycle may be cut short
    // The workflow task that scheduled the plan was itself scheduled by what woke the workflow.
    let wake = from;
    while (wake > 0 && events[wake]!.eventType !== EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED) wake--;
    const slice = events.slice(from, to);
    const jobSched = slice.find(
      (e) =>
        e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED &&
        e.activityTaskScheduledEventAttributes!.activityType!.name === 'runJob',
    );
    const jobId = jobSched ? String(jobSched.eventId) : null;
    const last = jobId ? completed.get(jobId) : planDone;
    if (!last) continue; // the job failed or was cancelled: not a cycle to measure
    const lastIdx = events.indexOf(last);
    const handled =
      events.slice(lastIdx).find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) ?? last;
    const cycleMs = at(handled) - at(events[wake]!);
    const planMs = at(planDone) - at(planStarted);
    let runKey: string | null = null;
    let jobMs = 0;
    let startMs = 0;
    let endMs = 0;
    let exitMs: number | null = null;
    let jobActivityMs = 0;
    let retried = false;
    if (jobId) {
      runKey = (JSON.parse(scheduled.get(jobId)!.input) as { runKey: string }).runKey;
      const jobStarted = started.get(jobId)!;
      retried = (jobStarted.activityTaskStartedEventAttributes!.attempt ?? 1) > 1;
      jobActivityMs = at(last) - at(jobStarted);
      const times = jobs.get(runKey);
      if (times) {
        jobMs = times.finishedMs - times.startedMs;
        startMs = times.startedMs - at(jobStarted);
        endMs = at(last) - times.finishedMs;
        if (times.exitedMs !== undefined) exitMs = times.exitedMs - times.finishedMs;
      }
    }
    out.push({
      runKey,
      events: to - from,
      cycleMs,
      jobMs,
      planMs,
      startMs,
      endMs,
      exitMs,
      temporalMs: cycleMs - planMs - jobActivityMs,
      retried,
    });
  }
  return out;
}

export function stats(xs: number[], unit = ' ms'): string {
  if (xs.length === 0) return 'n/a';
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return `mean ${mean.toFixed(0)}${unit}, p50 ${q(0.5).toFixed(0)}, p95 ${q(0.95).toFixed(0)}, max ${s[s.length - 1]!.toFixed(0)}${unit}`;
}

/** The figures as printable lines: cycles with a job (not retried) and empty cycles. */
export function formatCycleFigures(all: CycleFigure[]): string[] {
  const busy = all.filter((c) => c.runKey !== null && !c.retried);
  const empty = all.filter((c) => c.runKey === null);
  return [
    `${busy.length} cycles with a job, ${empty.length} empty cycles${all.some((c) => c.retried) ? `, ${all.filter((c) => c.retried).length} with a retried job (left out)` : ''}`,
    `history events per cycle with a job : ${stats(
      busy.map((c) => c.events),
      '',
    )}`,
    `history events per empty cycle      : ${stats(
      empty.map((c) => c.events),
      '',
    )}`,
    `job run time                        : ${stats(busy.map((c) => c.jobMs))}`,
    `overhead per cycle (outside the job): ${stats(busy.map((c) => c.cycleMs - c.jobMs))}`,
    `  planning activity (list+manifest) : ${stats(busy.map((c) => c.planMs))}`,
    `  job start (runJob → job started)  : ${stats(busy.map((c) => c.startMs))}`,
    `  job end → runJob done              : ${stats(busy.map((c) => c.endMs))}`,
    ...(busy.some((c) => c.exitMs !== null)
      ? [
          `    of which Spark/JVM exit after the summary: ${stats(busy.flatMap((c) => (c.exitMs === null ? [] : [c.exitMs])))}`,
          `    of which exit → seen (poll, summary read): ${stats(busy.flatMap((c) => (c.exitMs === null ? [] : [c.endMs - c.exitMs])))}`,
        ]
      : []),
    `  Temporal (dispatch, workflow tasks): ${stats(busy.map((c) => c.temporalMs))}`,
    `empty cycle, total                  : ${stats(empty.map((c) => c.cycleMs))}`,
  ];
}
