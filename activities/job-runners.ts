import { GlueClient } from '@aws-sdk/client-glue';
import { awsClientConfig } from '../core/aws';
import type { Environment } from '../core/environment';
import { UserError } from '../core/errors';
import { GlueJobRunner, glueRunsApi } from './aws/glue-job-runner';
import type { JobRunner } from './job-runner';
import { WarmJobRunner } from './local/warm-job-runner';

/**
 * The JobRunner for an environment, chosen once at worker start-up: AWS Glue on AWS; on the local
 * stack the same scripts under local Spark, each pipeline's batches in its warm engine unless its
 * config says `jobs.incremental.engine: "perBatch"` (runs recorded under `<state>/jobs/`).
 */
export function createJobRunner(env: Environment): JobRunner {
  if (env.kind === 'aws') return new GlueJobRunner(glueRunsApi(new GlueClient(awsClientConfig(env))));
  // DDB_LAKE_SPARK_DRIVER_MEMORY (e.g. 2g) for big initial loads; the runner's default otherwise.
  const driverMemory = process.env.DDB_LAKE_SPARK_DRIVER_MEMORY?.trim() || undefined;
  if (driverMemory !== undefined && !/^\d+[kmgt]?$/i.test(driverMemory))
    throw new UserError(
      `DDB_LAKE_SPARK_DRIVER_MEMORY=${driverMemory} is not a JVM memory size`,
      'use e.g. 1g or 2048m',
    );
  // DDB_LAKE_ENGINE_IDLE_EXIT_SECONDS: how long an idle warm engine keeps its memory (15 min by default).
  const idleExit = process.env.DDB_LAKE_ENGINE_IDLE_EXIT_SECONDS?.trim() || undefined;
  if (idleExit !== undefined && !(/^\d+$/.test(idleExit) && Number(idleExit) >= 10))
    throw new UserError(
      `DDB_LAKE_ENGINE_IDLE_EXIT_SECONDS=${idleExit} is not a number of seconds (at least 10)`,
      'use e.g. 900 (the default) or 60',
    );
  return new WarmJobRunner({
    stateDir: env.stateDir,
    idleExitSeconds: idleExit === undefined ? undefined : Number(idleExit),
    awsEndpoint: env.aws.endpoint,
    awsRegion: env.aws.region,
    driverMemory,
  });
}
