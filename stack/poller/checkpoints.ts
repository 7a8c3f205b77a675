/**
 * Durable per-shard checkpoints of the local event source mapping: the sequence number of the last
 * record delivered (handled by the function), and whether the shard is finished (closed and fully
 * delivered). One small file per shard, replaced atomically after every delivered batch.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/process';

export interface ShardCheckpoint {
  streamArn: string;
  shardId: string;
  /** Last delivered sequence number; absent until the first batch is delivered. */
  sequenceNumber?: string;
  /** Batch id of the last delivered batch (the chain link of the next one, docs/gaps.md). */
  batch?: string;
  finished: boolean;
  updatedAt: string;
}

/** `arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>` → its table and label. */
export function parseStreamArn(arn: string): { table: string; label: string } {
  const m = /:table\/([^/]+)\/stream\/(.+)$/.exec(arn);
  if (!m) throw new Error(`not a DynamoDB stream ARN: ${arn}`);
  return { table: m[1]!, label: m[2]! };
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');

export class CheckpointStore {
  constructor(readonly dir: string) {}

  path(streamArn: string, shardId: string): string {
    const { table, label } = parseStreamArn(streamArn);
    return join(this.dir, safe(table), safe(label), `${safe(shardId)}.json`);
  }

  async read(streamArn: string, shardId: string): Promise<ShardCheckpoint | undefined> {
    let text: string;
    try {
      text = await readFile(this.path(streamArn, shardId), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const cp = JSON.parse(text) as ShardCheckpoint;
    if (cp.streamArn !== streamArn || cp.shardId !== shardId)
      throw new Error(`checkpoint ${this.path(streamArn, shardId)} belongs to another shard`);
    return cp;
  }

  async write(cp: Omit<ShardCheckpoint, 'updatedAt'>): Promise<void> {
    const full: ShardCheckpoint = { ...cp, updatedAt: new Date().toISOString() };
    await writeFileAtomic(this.path(cp.streamArn, cp.shardId), `${JSON.stringify(full, null, 2)}\n`, {
      durable: true,
    });
  }
}
