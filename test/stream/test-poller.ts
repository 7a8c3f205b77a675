/** A local event source mapping over one table of the test stack, tuned to react within a fraction of a second. */
import type { S3Client } from '@aws-sdk/client-s3';
import { LocalEventSourceMapping } from '../../stack/poller/poller';
import { ESM_DEFAULTS, type EsmSettings } from '../../stack/poller/settings';
import { tempDir, waitFor, type TestStack } from './support';
import { readWholeStream } from './transactions';

export const FAST_ESM: Partial<EsmSettings> = {
  batchSize: 50,
  batchWindowSeconds: 0.2,
  pollIntervalMs: 50,
  discoverIntervalSeconds: 0.5,
  statusIntervalSeconds: 0.5,
};

export interface TestPollerOptions {
  settings?: Partial<EsmSettings>;
  s3?: S3Client;
  esmDir?: string;
}

/** Starts the poller for `table`, landing in `s3://<bucket>/<table>/`. */
export function startTestPoller(stack: TestStack, bucket: string, table: string, options: TestPollerOptions = {}) {
  const prefix = `${table}/`;
  const esmDir = options.esmDir ?? tempDir('ddb-lake-esm-');
  const logs: Record<string, unknown>[] = [];
  const poller = new LocalEventSourceMapping(
    {
      settings: { ...ESM_DEFAULTS, ...FAST_ESM, ...options.settings },
      esmDir,
      tables: [table],
      landingOverrides: { [table]: `s3://${bucket}/${prefix}` },
      region: stack.env.aws.region,
    },
    { dynamodb: stack.dynamodb, streams: stack.streams, s3: options.s3 ?? stack.s3, log: (e) => logs.push(e) },
  );
  const done = poller.run();
  return {
    poller,
    prefix,
    esmDir,
    logs,
    delivered: () => poller.status().tables[table]?.shards[0]?.deliveredRecords ?? 0,
    async stop() {
      poller.stop();
      await done;
    },
    /** Resolves once every record now in the stream is delivered (the checkpoint reached the last). */
    async caughtUp(streamArn: string, timeoutMs = 60_000) {
      const records = await readWholeStream(stack.streams, streamArn);
      const last = records[records.length - 1]?.dynamodb?.SequenceNumber;
      await waitFor(
        `the poller to deliver through ${last}`,
        async () => poller.status().tables[table]?.shards.some((s) => s.checkpoint === last),
        timeoutMs,
        50,
      );
      return records;
    },
  };
}
