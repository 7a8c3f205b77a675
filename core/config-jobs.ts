/**
 * The `jobs` section of the pipeline config (core/config.ts): the Glue jobs on AWS, the scripts run
 * locally, how long a run may take, and which engine runs the incremental batches.
 */
import { z } from 'zod';

/** Glue 5.0 worker types for Spark jobs (deploy/ creates the jobs with them). */
const GLUE_WORKER_TYPES = ['G.1X', 'G.2X', 'G.4X', 'G.8X'] as const;

const jobObject = (glueJobName: string, script: string, timeoutMinutes: number) =>
  z
    .object({
      glueJobName: z.string().min(1).default(glueJobName).describe('AWS: name of the Glue job'),
      workerType: z.enum(GLUE_WORKER_TYPES).default('G.1X').describe("AWS (deploy/): the Glue job's worker type"),
      numberOfWorkers: z
        .number()
        .int()
        .min(2)
        .max(1000)
        .default(2)
        .describe("AWS (deploy/): the Glue job's number of workers"),
      script: z
        .string()
        .min(1)
        .default(script)
        .describe('local: path of the PySpark script, relative to the repository'),
      timeoutMinutes: z
        .number()
        .int()
        .min(1)
        .max(10080)
        .default(timeoutMinutes)
        .describe('a run still going after this long is stopped and counted as failed'),
      pollIntervalSeconds: z.number().int().min(1).max(600).default(5).describe('how often a running job is checked'),
    })
    .strict();

const jobDefaults = (glueJobName: string, script: string, timeoutMinutes: number) =>
  ({ glueJobName, workerType: 'G.1X', numberOfWorkers: 2, script, timeoutMinutes, pollIntervalSeconds: 5 }) as const;

const jobSpec = (glueJobName: string, script: string, timeoutMinutes: number) =>
  jobObject(glueJobName, script, timeoutMinutes).default(jobDefaults(glueJobName, script, timeoutMinutes));

/** The incremental job also says which engine runs its batches. */
const incrementalJobSpec = (glueJobName: string, script: string, timeoutMinutes: number) =>
  jobObject(glueJobName, script, timeoutMinutes)
    .extend({
      engine: z
        .enum(['warm', 'perBatch'])
        .optional()
        .describe(
          'warm: one long-lived Spark session per pipeline takes the batches (local stack; docs/warm-engine.md); perBatch: a fresh job per batch. Default: warm locally, perBatch on AWS Glue',
        ),
    })
    .default(jobDefaults(glueJobName, script, timeoutMinutes));

export const JobsSchema = z
  .object({
    initialLoad: jobSpec('ddb-lake-initial-load', 'glue/initial_load.py', 1440),
    incremental: incrementalJobSpec('ddb-lake-incremental', 'glue/incremental.py', 60),
  })
  .strict()
  .default({
    initialLoad: jobDefaults('ddb-lake-initial-load', 'glue/initial_load.py', 1440),
    incremental: jobDefaults('ddb-lake-incremental', 'glue/incremental.py', 60),
  });
