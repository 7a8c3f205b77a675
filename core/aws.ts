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

/** Split s3://bucket/key into its parts. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new Error(`not an S3 URI: ${uri}`);
  return { bucket: m[1]!, key: m[2]! };
}
