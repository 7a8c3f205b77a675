/**
 * Replays a pipeline's recorded history against the current workflow code (the SDK's replay worker)
 * and, when the code no longer matches, says in words which step differs.
 */
import { DeterminismViolationError } from '@temporalio/workflow';
import type { History } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../worker/worker';

export interface ReplayOutcome {
  ok: boolean;
  events: number;
  /** Set when replay failed: a few lines in words. */
  explanation: string | null;
}

export async function replayHistory(
  history: History,
  opts: { workflowId?: string; workflowsPath?: string; workflowBundle?: WorkflowBundleWithSourceMap } = {},
): Promise<ReplayOutcome> {
  const events = history.events?.length ?? 0;
  quietRuntime();
  try {
    await Worker.runReplayHistory(
      opts.workflowBundle
        ? { workflowBundle: opts.workflowBundle }
        : { workflowsPath: opts.workflowsPath ?? WORKFLOWS_PATH },
      history,
      opts.workflowId,
    );
    return { ok: true, events, explanation: null };
  } catch (err) {
    return { ok: false, events, explanation: explainReplayFailure(err, history) };
  }
}

const EventType = temporal.api.enums.v1.EventType;

/** The replay worker bundles the workflow code and logs every step at INFO; a CLI wants warnings only. */
function quietRuntime(): void {
  try {
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
    });
  } catch {
    /* a runtime is already installed (worker process, tests): keep it */
  }
}

/** Explain a replay failure in words: which recorded event the code no longer reproduces, and what it does instead. */
export function explainReplayFailure(err: unknown, history: History): string {
  const raw = (err as Error)?.message ?? String(err);
  const core = /Nondeterminism error: (.*?)"/.exec(raw)?.[1] ?? /Nondeterminism error: (.*)$/m.exec(raw)?.[1] ?? raw;
  if (!(err instanceof DeterminismViolationError) && !/nondetermin/i.test(raw))
    return `replay failed, but not on a nondeterminism: ${firstLine(raw)}`;

  const lines = ['the current workflow code does not reproduce the recorded history (a nondeterministic change).'];
  let m: RegExpExecArray | null;
  if ((m = /(\w+) machine does not handle this event: HistoryEvent\(id: (\d+), (\w+)\)/.exec(core))) {
    const [, machine, id, kind] = m;
    lines.push(`  at event ${id} the history has: ${describeEvent(history, Number(id)) ?? kind}`);
    lines.push(`  the current code instead: ${describeCommand(machine!)}`);
  } else if (
    (m = /Activity type of scheduled event '([^']+)' does not match activity type of activity command '([^']+)'/.exec(
      core,
    ))
  ) {
    const [, recorded, now] = m;
    const id = findEvent(history, (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === recorded);
    lines.push(`  ${id ? `at event ${id} ` : ''}the history scheduled activity ${recorded}`);
    lines.push(`  the current code schedules activity ${now} there instead`);
  } else if ((m = /No command scheduled for event HistoryEvent\(id: (\d+), (\w+)\)/.exec(core))) {
    const [, id, kind] = m;
    lines.push(`  at event ${id} the history has: ${describeEvent(history, Number(id)) ?? kind}`);
    lines.push('  the current code issues no command there (the step was removed or moved)');
  } else if ((m = /Timer id of scheduled event '([^']+)' does not match timer id of command '([^']+)'/.exec(core))) {
    lines.push(
      `  the history started timer ${m[1]}, the current code starts timer ${m[2]} (timers were added, removed or reordered)`,
    );
  } else {
    lines.push(`  ${core}`);
  }
  lines.push(`  (Temporal: ${core})`);
  lines.push(
    '  fix: keep the old code path for histories that took it (guard the change with patched()), or let running pipelines finish their run first.',
  );
  return lines.join('\n');
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

function describeEvent(history: History, id: number): string | null {
  const e = history.events?.find((ev) => Number(ev.eventId) === id);
  if (!e) return null;
  switch (e.eventType) {
    case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
      return `activity ${e.activityTaskScheduledEventAttributes?.activityType?.name} scheduled`;
    case EventType.EVENT_TYPE_TIMER_STARTED:
      return `a timer started (${durationText(e.timerStartedEventAttributes?.startToFireTimeout)})`;
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
      return 'the workflow continued as new';
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
      return 'the workflow completed';
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
      return 'the workflow failed';
    case EventType.EVENT_TYPE_MARKER_RECORDED:
      return `a marker (${e.markerRecordedEventAttributes?.markerName})`;
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
      return `update ${e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name} accepted`;
    default:
      return EventType[e.eventType as number] ?? null;
  }
}

function describeCommand(machine: string): string {
  const words: Record<string, string> = {
    Timer: 'starts a timer (sleep / condition with a timeout)',
    Activity: 'schedules an activity',
    LocalActivity: 'runs a local activity',
    ChildWorkflow: 'starts a child workflow',
    ContinueAsNew: 'continues as new',
    ContinueAsNewWorkflow: 'continues as new',
    CompleteWorkflow: 'completes the workflow',
    FailWorkflow: 'fails the workflow',
    CancelWorkflow: 'ends as cancelled',
    SignalExternal: 'signals another workflow',
    Patch: 'records a patch marker',
    UpsertSearchAttributes: 'upserts search attributes',
    ModifyWorkflowProperties: 'modifies workflow properties (memo)',
    Update: 'handles an update',
  };
  return words[machine] ?? `issues a ${machine} command`;
}

function findEvent(history: History, pred: (e: HistoryEvent) => boolean): number | null {
  const e = history.events?.find(pred);
  return e ? Number(e.eventId) : null;
}

function durationText(d: temporal.api.history.v1.ITimerStartedEventAttributes['startToFireTimeout']): string {
  if (!d) return '?';
  return `${Number(d.seconds ?? 0) + (d.nanos ?? 0) / 1e9} s`;
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
