import { z } from 'zod';
import { STREAM_FAILURES_ENV } from '../core/aws-deployment';
import { UserError } from '../core/errors';
import type { DiscardedBatchesLocation } from './types';

/**
 * Where the deploy/ stack records each pipeline's discarded stream batches: the worker's
 * DDB_LAKE_STREAM_FAILURES (core/aws-deployment.ts; docs/aws.md "Stream failures"). Read once at
 * worker start-up; a pipeline it does not name has none (a config's `landing.onFailureDestination`,
 * passed with each plan request, wins over it).
 */
const Destinations = z.record(
  z.string(),
  z.object({
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
    eventSourceMappingId: z.string().min(1),
    streamArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:dynamodb:[^:]+:\d{12}:table\/[^/]+\/stream\/.+$/, 'must be a DynamoDB stream ARN'),
  }),
);

export function streamFailuresFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
): (pipeline: string) => DiscardedBatchesLocation | undefined {
  const text = env[STREAM_FAILURES_ENV];
  if (!text) return () => undefined;
  let parsed: z.infer<typeof Destinations>;
  try {
    parsed = Destinations.parse(JSON.parse(text));
  } catch (err) {
    const why =
      err instanceof z.ZodError
        ? err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')
        : (err as Error).message;
    throw new UserError(
      `${STREAM_FAILURES_ENV} is not {"<pipeline>": {"bucket", "eventSourceMappingId", "streamArn"}} (${why})`,
      'the deploy/ stack sets it: redeploy, or unset it for a worker not deployed by the stack',
    );
  }
  return (pipeline) => {
    const d = parsed[pipeline];
    return d ? { location: `s3://${d.bucket}/`, tableArn: d.streamArn.replace(/\/stream\/[^/]+$/, '') } : undefined;
  };
}
