import { ApplicationFailure } from '@temporalio/common';
import type { PipelineConfig } from '../core/config';
import { manifestTable } from '../core/manifest';
import { exportActivities } from './export-activities';
import { failureForWorkflow } from './failure-boundary';
import { jobActivities } from './job-activity';
import { planActivities } from './plan-activities';
import type { PipelineServices } from './services';
import type { ValidateResult } from './types';
import { tableKeyFields, tableProblems } from './validation';

/**
 * The pipeline's activities: the only code of the pipeline that touches AWS or Spark. Each is
 * idempotent (a retry finds what the earlier attempt did) and each long wait heartbeats. A network
 * failure reaching AWS becomes one sentence that names the fix (shown in `status` while the activity
 * retries, and as the step's error once it gave up).
 */
export function createPipelineActivities(
  services: PipelineServices,
  clock: { now(): number } = Date,
): PipelineActivities {
  const activities = pipelineActivities(services, clock);
  const explained = {} as PipelineActivities;
  for (const [name, fn] of Object.entries(activities) as [
    keyof PipelineActivities,
    (...args: unknown[]) => Promise<unknown>,
  ][])
    (explained as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw failureForWorkflow(err, services.unreachable);
      }
    };
  return explained;
}

function pipelineActivities(services: PipelineServices, clock: { now(): number }) {
  const { inspector } = services;
  return {
    /** The table exists, PITR is on, the stream carries new images, the buckets are reachable. */
    async validatePipeline(config: PipelineConfig): Promise<ValidateResult> {
      const table = await inspector.describeTable(config.table);
      const buckets = [
        { field: 'export.location', problem: await inspector.bucketProblem(config.export.location) },
        { field: 'landing.location', problem: await inspector.bucketProblem(config.landing.location) },
      ];
      if (config.lake.location.startsWith('s3://'))
        buckets.push({ field: 'lake.location', problem: await inspector.bucketProblem(config.lake.location) });
      const problems = tableProblems(config, table, buckets);
      if (problems.length > 0 || !table)
        throw ApplicationFailure.create({
          message: `pipeline "${config.name}" cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
          type: 'PipelineInvalid',
          nonRetryable: true,
        });
      const keyFields = config.keyFields ?? tableKeyFields(table);
      return {
        tableArn: table.tableArn,
        keyFields,
        streamViewType: table.streamViewType!,
        manifestTable: manifestTable(config, keyFields),
      };
    },

    ...exportActivities(services),
    ...planActivities(services, clock),
    ...jobActivities(services),
  };
}

export type PipelineActivities = ReturnType<typeof pipelineActivities>;
