/**
 * `<state>/esm/status.json`: what the local event source mapping is doing and how far behind it is,
 * rewritten every few seconds (and when it stops). `ddb-lake stack status` reads it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/process';
import type { EsmSettings } from './settings';

/** 'waiting-for-parent' and 'failed' are shown in status only (the poller's view of a shard). */
export type ShardState = 'starting' | 'reading' | 'finished' | 'stopped' | 'gone' | 'waiting-for-parent' | 'failed';

export interface ShardStatus {
  shardId: string;
  parentShardId?: string;
  state: ShardState;
  /** Last delivered sequence number (the checkpoint). */
  checkpoint?: string;
  /** Records read from the stream and not yet delivered (a lower bound when `caughtUp` is false). */
  recordsBehind: number;
  /** Age of the oldest record not yet delivered; 0 when caught up with nothing pending; null when unknown. */
  secondsBehind: number | null;
  /** The last GetRecords reached the end of what the shard held. */
  caughtUp: boolean;
  /**
   * When the latest GetRecords that reached the end of the shard was sent: every record the stream
   * held at that instant has been read (`ddb-lake verify` waits for this to pass its start time).
   */
  caughtUpAt?: string;
  deliveredRecords: number;
  deliveredBatches: number;
  retries: number;
  discardedRecords: number;
  lastDeliveryAt?: string;
  lastError?: { at: string; message: string };
}

/** A shard's status before anything was read from it. */
export function freshShardStatus(shardId: string, state: ShardState, parentShardId?: string): ShardStatus {
  return {
    shardId,
    parentShardId,
    state,
    recordsBehind: 0,
    secondsBehind: null,
    caughtUp: false,
    deliveredRecords: 0,
    deliveredBatches: 0,
    retries: 0,
    discardedRecords: 0,
  };
}

export interface TableStatus {
  landing?: string;
  streamArn?: string;
  streamViewType?: string;
  /** Why the table is not (yet) captured, when it is not. */
  note?: string;
  shards: (ShardStatus & { streamArn: string })[];
}

export interface PollerStatus {
  pid: number;
  startedAt: string;
  updatedAt: string;
  /** Set in the last status a poller writes when it stops. */
  stoppedAt?: string;
  endpoint?: string;
  settings: EsmSettings;
  tables: Record<string, TableStatus>;
}

export function pollerStatusPath(esmDir: string): string {
  return join(esmDir, 'status.json');
}

export async function writePollerStatus(esmDir: string, status: PollerStatus): Promise<void> {
  await writeFileAtomic(pollerStatusPath(esmDir), `${JSON.stringify(status, null, 2)}\n`, { durable: true });
}

/** The last status written under `esmDir`, or undefined when no poller ever ran there. */
export function readPollerStatus(esmDir: string): PollerStatus | undefined {
  try {
    return JSON.parse(readFileSync(pollerStatusPath(esmDir), 'utf8')) as PollerStatus;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Lag per table, summed over its shards: what `stack status` shows in one line per table. */
export function tableLag(t: TableStatus): { recordsBehind: number; secondsBehind: number | null; caughtUp: boolean } {
  let recordsBehind = 0;
  let secondsBehind: number | null = 0;
  let caughtUp = true;
  for (const s of t.shards) {
    if (s.state === 'finished' || s.state === 'gone') continue;
    recordsBehind += s.recordsBehind;
    caughtUp &&= s.caughtUp;
    secondsBehind =
      s.secondsBehind === null || secondsBehind === null ? null : Math.max(secondsBehind, s.secondsBehind);
  }
  return { recordsBehind, secondsBehind, caughtUp };
}
