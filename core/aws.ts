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

/** Split s3://bucket/key into its parts. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new Error(`not an S3 URI: ${uri}`);
  return { bucket: m[1]!, key: m[2]! };
}
