import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { BucketTarget } from './targets';

/** Every bucket of the stack: S3-managed encryption, no public access, TLS 1.2+ only, owner-enforced. */
const SECURE = {
  encryption: s3.BucketEncryption.S3_MANAGED,
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  enforceSSL: true,
  minimumTLSVersion: 1.2,
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
} as const;

/**
 * The buckets the pipeline configs name (export, landing zone, lake), created under those names so
 * the stack owns their settings. They are kept when the stack is deleted: they hold the lake.
 */
export class DataBuckets extends Construct {
  readonly byName = new Map<string, s3.Bucket>();

  constructor(scope: Construct, id: string, targets: BucketTarget[]) {
    super(scope, id);
    for (const t of targets) {
      const bucket = new s3.Bucket(this, t.name, {
        ...SECURE,
        bucketName: t.name,
        removalPolicy: RemovalPolicy.RETAIN,
        lifecycleRules: [
          // The landing zone's minute folders, once their changes are in the lake (docs/aws.md).
          ...t.expiries.map((e) => ({
            id: `expire-minute-folders-${e.pipeline}`,
            prefix: e.prefix,
            expiration: Duration.days(e.days),
          })),
          { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        ],
      });
      this.byName.set(t.name, bucket);
    }
  }

  get(name: string): s3.Bucket {
    const bucket = this.byName.get(name);
    if (!bucket) throw new Error(`no bucket ${name} in the stack`);
    return bucket;
  }
}

/**
 * A bucket the stack names itself (no config field): the Glue jobs' temporary files and Spark UI
 * event logs, or the stream's on-failure records. `expireAfterDays` undefined keeps objects.
 */
export function stackBucket(scope: Construct, id: string, expireAfterDays?: number): s3.Bucket {
  return new s3.Bucket(scope, id, {
    ...SECURE,
    removalPolicy: RemovalPolicy.RETAIN,
    lifecycleRules: [
      ...(expireAfterDays ? [{ id: 'expire', expiration: Duration.days(expireAfterDays) }] : []),
      { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
    ],
  });
}
