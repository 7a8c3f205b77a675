/**
 * Typed helpers over the Temporal client for the pipeline commands. Every failure a user can fix
 * becomes a one-line UserError naming the fix.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { PipelineConfig } from '../core/config';
import type { Environment } from '../core/environment';
import { UserError } from '../core/errors';
import { temporalConnectionOptions } from '../core/temporal-connection';
import { diagnoseConnectFailure, isAuthFailure, temporalConnectionError } from '../core/temporal-connection-errors';
import {
  pauseSignal,
  rebackfillUpdate,
  resumeSignal,
  runNowUpdate,
  setIntervalUpdate,
  statusQuery,
  TASK_QUEUE,
  WORKFLOW_TYPE,
  type CycleOutcome,
  type PipelineInput,
  type PipelineStatus,
  type RebackfillAccepted,
} from '../workflows/definitions';
import type { pipelineWorkflow } from '../workflows/pipeline';

export type PipelineHandle = WorkflowHandle<typeof pipelineWorkflow>;

/** What `status --json` prints (docs/cli-json.md). */
export interface StatusDocument extends Partial<PipelineStatus> {
  schemaVersion: 1;
  pipeline: string;
  /** Seconds since `appliedThrough`, by this machine's clock; null before the incremental phase. */
  lagSeconds: number | null;
  /**
   * An activity that has failed at least once and is being retried by Temporal (the workflow sees
   * its failure only once it gives up): its type, attempt and last failure, which names the fix.
   */
  retryingActivity?: {
    activity: string;
    attempt: number;
    lastFailure: string | null;
    nextAttemptAt: string | null;
  } | null;
  execution: {
    workflowId: string;
    runId: string;
    status: string;
    startTime: string;
    closeTime: string | null;
    historyLength: number;
    /** Why a closed pipeline ended (its failure message), else null. */
    closeReason: string | null;
  };
}

export class PipelineClient {
  private constructor(
    readonly client: Client,
    readonly connection: Connection,
    readonly env: Environment,
  ) {}

  static async connect(env: Environment): Promise<PipelineClient> {
    let connection: Connection;
    try {
      connection = await Connection.connect({
        ...temporalConnectionOptions(env.temporal),
        connectTimeout: '5 seconds',
      });
    } catch (err) {
      throw await diagnoseConnectFailure(env.temporal, err, env.kind === 'local');
    }
    return new PipelineClient(new Client({ connection, namespace: env.temporal.namespace }), connection, env);
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  handle(pipeline: string, runId?: string): PipelineHandle {
    return this.client.workflow.getHandle<typeof pipelineWorkflow>(pipeline, runId);
  }

  /** Describe the pipeline's latest run; a missing one is a UserError. */
  async describe(pipeline: string, runId?: string): Promise<WorkflowExecutionDescription> {
    try {
      return await this.handle(pipeline, runId).describe();
    } catch (err) {
      throw this.translate(err, pipeline);
    }
  }

  async start(config: PipelineConfig): Promise<{ runId: string; workerPolling: boolean }> {
    try {
      const handle = await this.client.workflow.start<typeof pipelineWorkflow>(WORKFLOW_TYPE, {
        taskQueue: TASK_QUEUE,
        workflowId: config.name,
        args: [{ config }],
      });
      return { runId: handle.firstExecutionRunId, workerPolling: await this.workerPolling() };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError)
        throw new UserError(
          `pipeline "${config.name}" is already running`,
          `stop it first with \`ddb-lake stop ${config.name}\`, or give the config another "name"`,
        );
      throw this.translate(err, config.name);
    }
  }

  /** Whether any worker polls the pipelines' task queue (warn the user otherwise). */
  async workerPolling(): Promise<boolean> {
    const res = await this.client.workflowService.describeTaskQueue({
      namespace: this.env.temporal.namespace,
      taskQueue: { name: TASK_QUEUE },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    return (res.pollers ?? []).length > 0;
  }

  /**
   * `status`, retried while the worker does not answer the query in time (a busy machine, a worker
   * restarting): for callers that wait on a pipeline for minutes and should not give up on one miss.
   */
  async statusPatiently(pipeline: string, attempts = 6): Promise<StatusDocument> {
    for (let i = 1; ; i++) {
      try {
        return await this.status(pipeline);
      } catch (err) {
        const busy = err instanceof UserError && /did not answer/.test(err.message);
        if (!busy || i >= attempts) throw err;
        await sleep(2000);
      }
    }
  }

  async status(pipeline: string): Promise<StatusDocument> {
    const d = await this.describe(pipeline);
    const execution = {
      workflowId: d.workflowId,
      runId: d.runId,
      status: d.status.name,
      startTime: d.startTime.toISOString(),
      closeTime: d.closeTime?.toISOString() ?? null,
      historyLength: d.historyLength,
      closeReason: null as string | null,
    };
    if (d.status.name !== 'RUNNING') {
      execution.closeReason = await this.closeReason(pipeline, d.runId);
      return { schemaVersion: 1, pipeline, lagSeconds: null, execution };
    }
    const status = await this.query(pipeline);
    const lagSeconds = status.appliedThrough
      ? Math.max(0, Math.round((Date.now() - Date.parse(status.appliedThrough)) / 100) / 10)
      : null;
    return { ...status, lagSeconds, retryingActivity: retryingActivity(d), execution };
  }

  async query(pipeline: string): Promise<PipelineStatus> {
    try {
      return await this.connection.withDeadline(Date.now() + 10_000, () => this.handle(pipeline).query(statusQuery));
    } catch (err) {
      if (isDeadline(err))
        throw new UserError(
          `pipeline "${pipeline}" did not answer within 10 s: no worker is serving it`,
          'start one with `ddb-lake worker`',
        );
      const translated = this.translate(err, pipeline);
      if (translated === err && typeof (err as { code?: unknown })?.code === 'number')
        throw new UserError(
          `pipeline "${pipeline}" did not answer its status query (${firstLine((err as Error).message)})`,
          'is a worker running? start one with `ddb-lake worker`',
        );
      throw translated;
    }
  }

  /**
   * The config the pipeline's latest run was started with (its workflow input: the first event of
   * the run's history; a run that continued as new carries the same config).
   */
  async config(pipeline: string): Promise<PipelineConfig> {
    const d = await this.describe(pipeline);
    let input: PipelineInput | undefined;
    try {
      const res = await this.client.workflowService.getWorkflowExecutionHistory({
        namespace: this.env.temporal.namespace,
        execution: { workflowId: d.workflowId, runId: d.runId },
        maximumPageSize: 1,
      });
      const payload = res.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      if (payload) input = defaultPayloadConverter.fromPayload<PipelineInput>(payload);
    } catch (err) {
      throw this.translate(err, pipeline);
    }
    if (!input?.config)
      throw new UserError(
        `pipeline "${pipeline}" has no config in its history (run ${d.runId})`,
        'is it a ddb-lake pipeline? `ddb-lake list` shows them',
      );
    return input.config;
  }

  async pause(pipeline: string): Promise<void> {
    await this.running(pipeline);
    await this.handle(pipeline).signal(pauseSignal);
  }

  async resume(pipeline: string): Promise<void> {
    await this.running(pipeline);
    await this.handle(pipeline).signal(resumeSignal);
  }

  async runNow(pipeline: string): Promise<CycleOutcome> {
    await this.running(pipeline);
    return this.update(pipeline, () => this.handle(pipeline).executeUpdate(runNowUpdate));
  }

  async setInterval(pipeline: string, seconds: number): Promise<{ previousSeconds: number; intervalSeconds: number }> {
    await this.running(pipeline);
    return this.update(pipeline, () => this.handle(pipeline).executeUpdate(setIntervalUpdate, { args: [seconds] }));
  }

  /** Reload the lake from a fresh export, then go on from there (docs/gaps.md). */
  async rebackfill(pipeline: string): Promise<RebackfillAccepted> {
    await this.running(pipeline);
    return this.update(pipeline, () => this.handle(pipeline).executeUpdate(rebackfillUpdate));
  }

  /** Cancel the pipeline: its running job is stopped, then the workflow ends. */
  async stop(pipeline: string, waitSeconds: number): Promise<string> {
    await this.running(pipeline);
    const handle = this.handle(pipeline);
    await handle.cancel();
    if (waitSeconds <= 0) return 'CANCEL_REQUESTED';
    const deadline = Date.now() + waitSeconds * 1000;
    while (Date.now() < deadline) {
      const d = await handle.describe();
      if (d.status.name !== 'RUNNING') return d.status.name;
      await sleep(500);
    }
    return 'RUNNING';
  }

  /** Every pipeline's latest run, newest first. */
  async list(): Promise<
    { pipeline: string; runId: string; status: string; startTime: string; closeTime: string | null }[]
  > {
    const seen = new Map<
      string,
      { pipeline: string; runId: string; status: string; startTime: string; closeTime: string | null }
    >();
    for await (const w of this.client.workflow.list({ query: `WorkflowType = '${WORKFLOW_TYPE}'` })) {
      const prev = seen.get(w.workflowId);
      if (prev && prev.startTime >= w.startTime.toISOString()) continue;
      seen.set(w.workflowId, {
        pipeline: w.workflowId,
        runId: w.runId,
        status: w.status.name,
        startTime: w.startTime.toISOString(),
        closeTime: w.closeTime?.toISOString() ?? null,
      });
    }
    return [...seen.values()].sort((a, b) => (a.startTime < b.startTime ? 1 : -1));
  }

  /** Run ids of a pipeline's runs (its continueAsNew chain and earlier starts), newest first. */
  async runIds(pipeline: string, limit: number): Promise<string[]> {
    const ids: string[] = [];
    for await (const w of this.client.workflow.list({ query: `WorkflowId = '${pipeline.replace(/'/g, '')}'` })) {
      ids.push(w.runId);
      if (ids.length >= limit) break;
    }
    return ids;
  }

  private async running(pipeline: string): Promise<void> {
    const d = await this.describe(pipeline);
    if (d.status.name !== 'RUNNING')
      throw new UserError(
        `pipeline "${pipeline}" is not running (${d.status.name})`,
        `start it with \`ddb-lake start <config.json>\``,
      );
  }

  private async update<T>(pipeline: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError)
        throw new UserError(`pipeline "${pipeline}" refused: ${err.cause?.message ?? err.message}`);
      throw this.translate(err, pipeline);
    }
  }

  private async closeReason(pipeline: string, runId: string): Promise<string | null> {
    try {
      await this.handle(pipeline, runId).result();
      return null;
    } catch (err) {
      if (err instanceof WorkflowFailedError) return err.cause?.message ?? err.message;
      return (err as Error).message;
    }
  }

  private translate(err: unknown, pipeline: string): unknown {
    if (err instanceof WorkflowNotFoundError || (err as { code?: number })?.code === 5)
      return new UserError(
        `no pipeline named "${pipeline}"`,
        'run `ddb-lake list` to see the pipelines, or start one with `ddb-lake start <config.json>`',
      );
    if (isUnavailable(err) || isAuthFailure(err)) return unreachable(this.env, err);
    return err;
  }
}

function retryingActivity(d: WorkflowExecutionDescription): StatusDocument['retryingActivity'] {
  const failing = (d.raw.pendingActivities ?? []).find((a) => (a.attempt ?? 1) > 1 || a.lastFailure);
  if (!failing) return null;
  const ts = failing.nextAttemptScheduleTime?.seconds;
  return {
    activity: failing.activityType?.name ?? 'activity',
    attempt: failing.attempt ?? 1,
    lastFailure: failing.lastFailure?.message ?? null,
    nextAttemptAt: ts ? new Date(Number(ts) * 1000).toISOString() : null,
  };
}

/** The connection failed (unreachable, TLS, refused credentials): one sentence naming the fix. */
function unreachable(env: Environment, err: unknown): UserError {
  return temporalConnectionError(env.temporal, err, env.kind === 'local');
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

function isUnavailable(err: unknown): boolean {
  const code =
    (err as { code?: number; cause?: { code?: number } })?.code ?? (err as { cause?: { code?: number } })?.cause?.code;
  return code === 14 || /ECONNREFUSED|UNAVAILABLE|Failed to connect/i.test((err as Error)?.message ?? '');
}

function isDeadline(err: unknown): boolean {
  const code =
    (err as { code?: number; cause?: { code?: number } })?.code ?? (err as { cause?: { code?: number } })?.cause?.code;
  return code === 4 || /DEADLINE_EXCEEDED|deadline/i.test((err as Error)?.message ?? '');
}
