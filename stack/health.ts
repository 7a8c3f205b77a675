import { Connection } from '@temporalio/client';
import { temporalConnectionOptions } from '../core/temporal-connection';

/**
 * Health probes: one attempt each, resolving to undefined when the service answers as it should,
 * or to a short reason when it does not. Every network call has its own timeout.
 */
export type Probe = () => Promise<string | undefined>;

const PROBE_TIMEOUT_MS = 3000;

function reason(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

/** An HTTP GET answered with a status below 500. */
export function httpProbe(url: string): Probe {
  return async () => {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      await res.arrayBuffer();
      return res.status < 500 ? undefined : `${url} answered ${res.status}`;
    } catch (err) {
      return `${url}: ${reason(err)}`;
    }
  };
}

/** The Temporal frontend answers DescribeNamespace for our namespace. */
export function temporalProbe(address: string, namespace: string): Probe {
  return async () => {
    let connection: Connection | undefined;
    try {
      // The stack's own dev server: plaintext on loopback, whatever TEMPORAL_* the user has set.
      connection = await Connection.connect({
        ...temporalConnectionOptions({ address, namespace }),
        connectTimeout: PROBE_TIMEOUT_MS,
      });
      await connection.withDeadline(Date.now() + PROBE_TIMEOUT_MS, () =>
        connection!.workflowService.describeNamespace({ namespace }),
      );
      return undefined;
    } catch (err) {
      return `Temporal at ${address}: ${reason(err)}`;
    } finally {
      await connection?.close().catch(() => undefined);
    }
  };
}

/**
 * moto answers a DynamoDB ListTables and an S3 ListBuckets (moto routes a request to a service by
 * the credential scope of its Authorization header; it does not check the signature).
 */
export function motoProbe(endpoint: string, region: string): Probe {
  const auth = (service: string) =>
    `AWS4-HMAC-SHA256 Credential=moto/20240101/${region}/${service}/aws4_request, SignedHeaders=host, Signature=0`;
  return async () => {
    try {
      const ddb = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'X-Amz-Target': 'DynamoDB_20120810.ListTables',
          'Content-Type': 'application/x-amz-json-1.0',
          Authorization: auth('dynamodb'),
        },
        body: '{}',
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      });
      const tables = await ddb.text();
      if (ddb.status !== 200 || !tables.includes('TableNames')) return `moto DynamoDB answered ${ddb.status}`;
      const s3 = await fetch(`${endpoint}/`, {
        headers: { Authorization: auth('s3') },
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      });
      const buckets = await s3.text();
      if (s3.status !== 200 || !buckets.includes('ListAllMyBucketsResult')) return `moto S3 answered ${s3.status}`;
      return undefined;
    } catch (err) {
      return `moto at ${endpoint}: ${reason(err)}`;
    }
  };
}

/** Both probes must pass. */
export function allOf(...probes: Probe[]): Probe {
  return async () => {
    for (const p of probes) {
      const r = await p();
      if (r) return r;
    }
    return undefined;
  };
}
