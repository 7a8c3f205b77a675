import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { awsClientConfig, awsNetworkFailure, awsUnreachableMessage } from '../core/aws';
import type { PipelineConfig } from '../core/config';
import type { Environment } from '../core/environment';
import { UserError } from '../core/errors';
import { SdkTableInspector } from '../activities/sdk/table-inspector';
import { tableProblems } from '../activities/validation';

/**
 * What `ddb-lake start` checks before it starts anything, with the same rules as the workflow's
 * validate step (activities/validation.ts): the table exists and is active, point-in-time recovery
 * is on, its stream carries new images, the key fields are its key, the buckets can be reached.
 * One problem is one line that names its fix; several are listed one per line.
 */
export async function preflight(env: Environment, config: PipelineConfig): Promise<void> {
  const clientConfig = awsClientConfig(env);
  const dynamodb = new DynamoDBClient({ ...clientConfig, maxAttempts: 2 });
  const s3 = new S3Client({ ...clientConfig, maxAttempts: 2 });
  const inspector = new SdkTableInspector(dynamodb, s3);
  try {
    const table = await inspector.describeTable(config.table);
    const buckets = [
      { field: 'export.location', uri: config.export.location },
      { field: 'landing.location', uri: config.landing.location },
    ];
    if (config.lake.location.startsWith('s3://')) buckets.push({ field: 'lake.location', uri: config.lake.location });
    const bucketProblems = [];
    for (const b of buckets) bucketProblems.push({ field: b.field, problem: await inspector.bucketProblem(b.uri) });
    const problems = tableProblems(config, table, bucketProblems);
    if (problems.length === 1) throw new UserError(problems[0]!);
    if (problems.length > 1)
      throw new UserError(
        `pipeline "${config.name}" cannot start (${problems.length} problems):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
        'fix each problem above, then run `ddb-lake start` again',
      );
  } catch (err) {
    if (err instanceof UserError) throw err;
    const failure = awsNetworkFailure(err);
    if (failure) {
      const { message, hint } = awsUnreachableMessage(env, failure);
      throw new UserError(`${message}: the table and buckets cannot be checked`, hint);
    }
    const e = err as Error;
    throw new UserError(
      `cannot check table "${config.table}": ${e.name}: ${e.message.split('\n')[0]}`,
      'check the AWS credentials and permissions of this shell, or pass --no-checks to leave the checks to the worker',
    );
  } finally {
    dynamodb.destroy();
    s3.destroy();
  }
}
