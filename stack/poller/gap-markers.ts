/**
 * Gap markers the poller writes into a table's landing zone (docs/gaps.md): records of a stream
 * that will never be delivered, so the pipeline stops rather than miss them.
 */
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { gapMarkerKey, type GapMarker } from '../../core/landing';
import type { HandlerConfig } from '../../lambda/handler';
import { parseStreamArn } from './checkpoints';
import type { ShardGap } from './shard-worker';

export type Gap = ShardGap | (Omit<ShardGap, 'kind'> & { kind: GapMarker['kind'] });

/** Write the marker of `gap` (found at `nowMs`) into the landing zone of `config`; returns its S3 URI. */
export async function putGapMarker(
  s3: S3Client,
  config: HandlerConfig,
  where: { table: string; streamArn: string; shardId: string | null },
  gap: Gap,
  nowMs: number,
): Promise<string> {
  const marker: GapMarker = {
    version: 1,
    kind: gap.kind,
    ...where,
    afterSequenceNumber: gap.afterSequenceNumber,
    ...(gap.firstSequenceNumber !== undefined && { firstSequenceNumber: gap.firstSequenceNumber }),
    ...(gap.lastSequenceNumber !== undefined && { lastSequenceNumber: gap.lastSequenceNumber }),
    detectedAt: new Date(nowMs).toISOString(),
    reason: gap.reason,
  };
  const digest = createHash('sha256').update(JSON.stringify(marker)).digest('hex').slice(0, 12);
  const key = gapMarkerKey(config.prefix, nowMs, gap.kind, digest);
  await s3.send(
    new PutObjectCommand({
      Bucket: config.bucket,
      Key: key,
      Body: `${JSON.stringify(marker)}\n`,
      ContentType: 'application/json',
    }),
  );
  return `s3://${config.bucket}/${key}`;
}

/**
 * Labels of the table's streams before `streamArn`: those this poller captured (`capturedArns`),
 * else those with checkpoints from an earlier run. None when `streamArn` itself has checkpoints.
 * A non-empty answer means the table's stream was replaced.
 */
export async function earlierStreamLabels(
  checkpointsDir: string,
  table: string,
  streamArn: string,
  capturedArns: string[],
): Promise<string[]> {
  const earlier = capturedArns.filter((arn) => arn !== streamArn).map((arn) => parseStreamArn(arn).label);
  if (earlier.length > 0) return earlier;
  const labels = await readdir(join(checkpointsDir, table.replace(/[^A-Za-z0-9._-]/g, '_'))).catch((): string[] => []);
  if (labels.includes(parseStreamArn(streamArn).label.replace(/[^A-Za-z0-9._-]/g, '_'))) return []; // captured before: not new
  return labels;
}
