/**
 * What `npm run deploy` checks in the account before it deploys, without a custom resource: each
 * table exists with point-in-time recovery and a stream with new images, and the Temporal secret
 * exists with every key the worker's task reads. It returns the stack parameters these checks found
 * (the stream ARNs, the secret's ARN). No secret value is ever printed.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsNetworkFailure } from '../core/aws';
import { UserError } from '../core/errors';
import { SdkTableInspector } from '../activities/sdk/table-inspector';
import { tableProblems } from '../activities/validation';
import { TEMPORAL_SECRET_PARAMETER, streamArnParameter } from './stack';
import type { DeploymentTargets } from './targets';
import { TEMPORAL_SECRET_KEYS } from './worker-service';

export interface PreflightClients {
  dynamodb: DynamoDBClient;
  secrets: SecretsManagerClient;
}

/** Clients with the SDK's default chain: the credentials and region `cdk deploy` will use too. */
export function defaultClients(): PreflightClients {
  return { dynamodb: new DynamoDBClient({}), secrets: new SecretsManagerClient({}) };
}

export async function preflight(
  targets: DeploymentTargets,
  clients: PreflightClients = defaultClients(),
): Promise<Record<string, string>> {
  const region = await clients.dynamodb.config.region().catch(() => {
    throw new UserError(
      'no AWS region is configured',
      'set AWS_REGION (or a profile with a region: AWS_PROFILE) to the region to deploy to',
    );
  });
  return explainAwsFailure(region, async () => {
    const parameters: Record<string, string> = {};
    const inspector = new SdkTableInspector(clients.dynamodb, new S3Client({}));
    const problems: string[] = [];
    for (const p of targets.pipelines) {
      const table = await inspector.describeTable(p.config.table);
      problems.push(...tableProblems(p.config, table, []).map((problem) => `${p.config.name}: ${problem}`));
      if (table?.streamArn) parameters[streamArnParameter(p)] = table.streamArn;
    }
    const secret = await temporalSecret(clients.secrets, targets.settings.temporalSecretName, region);
    if (secret.problem) problems.push(secret.problem);
    else parameters[TEMPORAL_SECRET_PARAMETER] = secret.arn!;
    if (problems.length === 1) throw new UserError(`cannot deploy in ${region}: ${problems[0]}`);
    if (problems.length > 1)
      throw new UserError(
        `cannot deploy in ${region} (${problems.length} problems):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
        'fix the problems above, then deploy again',
      );
    return parameters;
  });
}

/** The secret's full ARN, or why the worker could not start with it. */
async function temporalSecret(
  client: SecretsManagerClient,
  name: string,
  region: string,
): Promise<{ arn?: string; problem?: string }> {
  const fix = `docs/aws.md, "Temporal": a JSON object with the keys ${TEMPORAL_SECRET_KEYS.join(', ')} (empty for the ones you do not use)`;
  let arn: string | undefined;
  try {
    arn = (await client.send(new DescribeSecretCommand({ SecretId: name }))).ARN;
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException')
      return { problem: `the Temporal secret "${name}" does not exist in ${region}: create it (${fix})` };
    throw err;
  }
  let text: string | undefined;
  try {
    text = (await client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString;
  } catch (err) {
    if ((err as Error).name === 'AccessDeniedException') return { arn }; // the deployer may not read it; the task's role can
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text ?? '');
  } catch {
    return { problem: `the Temporal secret "${name}" is not a JSON object: store ${fix}` };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    return { problem: `the Temporal secret "${name}" is not a JSON object: store ${fix}` };
  const missing = TEMPORAL_SECRET_KEYS.filter((k) => typeof (value as Record<string, unknown>)[k] !== 'string');
  if (missing.length > 0)
    return {
      problem: `the Temporal secret "${name}" lacks the key(s) ${missing.join(', ')} (the worker's task would not start): add them (${fix})`,
    };
  const empty = (['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE'] as const).filter(
    (k) => (value as Record<string, string>)[k]!.trim() === '',
  );
  if (empty.length > 0)
    return { problem: `the Temporal secret "${name}" has no value for ${empty.join(' and ')}: set them (${fix})` };
  return { arn };
}

async function explainAwsFailure<T>(region: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof UserError) throw err;
    const network = awsNetworkFailure(err);
    if (network) throw new UserError(`cannot reach AWS in ${region} (${network})`, 'check the network and AWS_REGION');
    const e = err as { name?: string; message?: string };
    if (e.name === 'CredentialsProviderError' || /credential/i.test(e.message ?? ''))
      throw new UserError(
        `no AWS credentials (${e.message})`,
        'configure credentials for the account to deploy to (AWS_PROFILE, SSO or environment variables)',
      );
    throw new UserError(
      `AWS refused a check before deploying (${e.name}: ${e.message})`,
      'the deploying identity needs dynamodb:DescribeTable, dynamodb:DescribeContinuousBackups and secretsmanager:DescribeSecret',
    );
  }
}
