import { GlueClient } from '@aws-sdk/client-glue';
import { awsClientConfig } from '../core/aws';
import type { Environment } from '../core/environment';
import { GlueJobRunner, glueRunsApi } from './aws/glue-job-runner';
import type { JobRunner } from './job-runner';
import { SparkJobRunner } from './local/spark-job-runner';

/**
 * The JobRunner for an environment, chosen once at worker start-up: AWS Glue on AWS, spark-submit of
 * the same scripts against the local stack (runs recorded under `<state>/jobs/`).
 */
export function createJobRunner(env: Environment): JobRunner {
  if (env.kind === 'aws') return new GlueJobRunner(glueRunsApi(new GlueClient(awsClientConfig(env))));
  return new SparkJobRunner({ stateDir: env.stateDir, awsEndpoint: env.aws.endpoint, awsRegion: env.aws.region });
}
