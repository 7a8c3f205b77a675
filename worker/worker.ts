import type { Duration } from '@temporalio/common';
import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import type { Environment } from '../core/environment';
import { temporalConnectionOptions } from '../core/temporal-connection';
import { diagnoseConnectFailure } from '../core/temporal-connection-errors';
import { createPipelineActivities } from '../activities/pipeline-activities';
import { createServices, type PipelineServices } from '../activities/services';
import { TASK_QUEUE } from '../workflows/definitions';

export interface PipelineWorkerOptions {
  env: Environment;
  /** Replace some implementations (tests, benchmarks); the rest are chosen from `env`. */
  services?: Partial<PipelineServices>;
  /** A pre-built workflow bundle (tests); default: bundle workflows/ at start-up. */
  workflowBundle?: WorkflowBundleOption;
  taskQueue?: string;
  /** The planner's clock (tests move it forward to close minute folders). */
  clock?: { now(): number };
  /** How long a shutdown waits for running activities before cancelling them (jobs keep running). */
  shutdownGraceTime?: Duration;
}

/** The worker module's path for `workflowsPath` (the compiled workflows/index.js). */
export const WORKFLOWS_PATH = require.resolve('../workflows');

/**
 * One worker serves every pipeline: the workflow id is the pipeline name, the task queue is shared.
 * The activity implementations are chosen here, once, from the environment.
 */
export async function createPipelineWorker(
  opts: PipelineWorkerOptions,
): Promise<{ worker: Worker; connection: NativeConnection; services: PipelineServices }> {
  const connection = await connectNative(opts.env);
  const services = createServices(opts.env, opts.services);
  const worker = await Worker.create({
    connection,
    namespace: opts.env.temporal.namespace,
    taskQueue: opts.taskQueue ?? TASK_QUEUE,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createPipelineActivities(services, opts.clock),
    shutdownGraceTime: opts.shutdownGraceTime ?? '5 seconds',
    // Heartbeats carry cancellation back: at most 5 s late, so a stopped pipeline stops its job promptly.
    maxHeartbeatThrottleInterval: '5 seconds',
  });
  return { worker, connection, services };
}

/** `exporter=LocalExporter, …`: which implementation serves each part (logged at start-up). */
export function describeServices(services: PipelineServices): string {
  return Object.entries(services)
    .map(([part, impl]) => `${part}=${(impl as object).constructor.name}`)
    .join(', ');
}

/** Run until SIGINT / SIGTERM (the SDK's runtime turns them into a graceful shutdown). */
export async function runWorker(
  opts: PipelineWorkerOptions,
  onReady?: (services: PipelineServices) => void,
): Promise<void> {
  const { worker, connection, services } = await createPipelineWorker(opts);
  onReady?.(services);
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
}

async function connectNative(env: Environment): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(temporalConnectionOptions(env.temporal));
  } catch (err) {
    throw await diagnoseConnectFailure(env.temporal, err, env.kind === 'local');
  }
}
