/**
 * IAM statements of the stack, written out action by action: no `*` and no wildcard action, each
 * resource this pipeline's own (CDK's grant helpers would add `s3:GetObject*`, `s3:List*`, … —
 * wider than any part needs). Resources `*` appear only where AWS supports nothing narrower, each
 * with a comment.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

export function allow(
  actions: string[],
  resources: string[],
  conditions?: Record<string, unknown>,
): iam.PolicyStatement {
  return new iam.PolicyStatement({
    effect: iam.Effect.ALLOW,
    actions,
    resources,
    ...(conditions ? { conditions } : {}),
  });
}

/** Objects under `prefix` ('' = the whole bucket). */
export function objects(bucket: s3.IBucket, prefix: string): string {
  return bucket.arnForObjects(`${prefix}*`);
}

/** Listing (and HeadBucket): a missing object then reads as 404, not 403. */
export function listBucket(buckets: s3.IBucket[]): iam.PolicyStatement {
  return allow(['s3:ListBucket'], unique(buckets.map((b) => b.bucketArn)));
}

export function tableArn(scope: Construct, table: string, ...rest: string[]): string {
  return Stack.of(scope).formatArn({
    service: 'dynamodb',
    resource: 'table',
    resourceName: [table, ...rest].join('/'),
  });
}

export function glueArn(
  scope: Construct,
  resource: 'job' | 'catalog' | 'database' | 'table',
  resourceName?: string,
): string {
  return Stack.of(scope).formatArn({ service: 'glue', resource, ...(resourceName ? { resourceName } : {}) });
}

export function logGroupArn(scope: Construct, namePattern: string): string {
  return Stack.of(scope).formatArn({
    service: 'logs',
    resource: 'log-group',
    resourceName: namePattern,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** One role with its statements inline (no managed policies: each of those grants far more). */
export function role(scope: Construct, id: string, service: string, description: string): iam.Role {
  return new iam.Role(scope, id, { assumedBy: new iam.ServicePrincipal(service), description });
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
