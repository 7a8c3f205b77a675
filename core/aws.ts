import type { Environment } from './environment';

/**
 * Settings for every AWS SDK client. Locally they point at moto with its documented dummy
 * credentials (moto accepts any); on AWS the SDK's default credential chain is used.
 */
export function awsClientConfig(env: Environment): {
  region: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
} {
  if (env.kind === 'local') {
    return {
      region: env.aws.region,
      endpoint: env.aws.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'moto', secretAccessKey: 'moto' },
    };
  }
  return { region: env.aws.region ?? 'us-east-1' };
}

/**
 * Storage options for hudi-rs (object_store keys) to read an s3:// lake: `ddb-lake sql` and
 * `verify` pass them to python/lake_reader.py. Locally: moto's endpoint, path-style, dummy
 * credentials. On AWS: the region and the credentials the SDK's default chain resolves (hudi-rs
 * itself only reads AWS_* variables, not profiles or SSO), so hand them over in the child's
 * environment, never on its command line.
 */
export async function hudiStorageOptions(env: Environment): Promise<Record<string, string>> {
  if (env.kind === 'local') {
    return {
      aws_endpoint_url: env.aws.endpoint,
      aws_region: env.aws.region,
      aws_access_key_id: 'moto',
      aws_secret_access_key: 'moto',
      aws_virtual_hosted_style_request: 'false',
      ...(env.aws.endpoint.startsWith('http://') ? { aws_allow_http: 'true' } : {}),
    };
  }
  const { S3Client } = await import('@aws-sdk/client-s3');
  const s3 = new S3Client(awsClientConfig(env));
  try {
    const c = await s3.config.credentials();
    return {
      aws_region: await s3.config.region(),
      aws_access_key_id: c.accessKeyId,
      aws_secret_access_key: c.secretAccessKey,
      ...(c.sessionToken ? { aws_session_token: c.sessionToken } : {}),
    };
  } finally {
    s3.destroy();
  }
}

/** S3 URIs are parsed in core/s3-uri.ts; re-exported here for activities/pipeline-activities.ts only (until it imports core/s3-uri). */

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/**
 * The network failure behind an SDK error (`ECONNREFUSED`, …, `TimeoutError`), or null when the
 * service answered (an AWS error code is a different problem).
 */
export function awsNetworkFailure(err: unknown): string | null {
  const e = err as {
    name?: string;
    code?: string;
    errors?: { code?: string }[];
    cause?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  if (!e || typeof e !== 'object') return null;
  const code = e.code ?? e.errors?.[0]?.code;
  if (code && NETWORK_CODES.has(code)) return code;
  if (e.$metadata?.httpStatusCode) return null;
  if (e.name === 'TimeoutError' || e.name === 'RequestTimeout') return 'TimeoutError';
  if (/socket hang up|ECONNREFUSED|getaddrinfo/i.test((err as Error).message ?? '')) return 'ECONNREFUSED';
  return e.cause ? awsNetworkFailure(e.cause) : null;
}

/** Where the AWS calls go, for messages: moto's endpoint locally, the region on AWS. */
export function awsEndpointName(env: Environment): string {
  return env.kind === 'local'
    ? `the local stack's AWS endpoint (moto) at ${env.aws.endpoint}`
    : `AWS (region ${env.aws.region ?? process.env.AWS_REGION ?? 'from the default chain'})`;
}

/** One sentence naming the fix for an AWS endpoint that cannot be reached. */
export function awsUnreachableMessage(env: Environment, failure: string): { message: string; hint: string } {
  return {
    message: `cannot reach ${awsEndpointName(env)} (${failure})`,
    hint:
      env.kind === 'local'
        ? 'start the local stack with `ddb-lake up` (or check DDB_LAKE_STATE)'
        : 'check the network, AWS_REGION and any AWS_ENDPOINT_URL setting',
  };
}
