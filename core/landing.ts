/**
 * Names in the landing zone: one folder per UTC minute, one file per delivered stream batch.
 * The guarantee the folders give and what the planner must do to honour it: docs/landing.md.
 */

/** `YYYY-MM-DD-HH-MM` of a UTC instant. */
export function minuteFolder(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}`;
}

const MINUTE_FOLDER = /^(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})$/;

export function isMinuteFolder(name: string): boolean {
  return MINUTE_FOLDER.test(name);
}

/** Start of a minute folder as epoch milliseconds; throws on a name that is not a minute folder. */
export function minuteFolderStart(folder: string): number {
  const m = MINUTE_FOLDER.exec(folder);
  if (!m) throw new Error(`not a minute folder: ${folder}`);
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!);
}

/**
 * Identity of a delivered batch: `<firstSeq>_<lastSeq>_<digest>`. A Lambda event does not name its
 * shard, so `digest` (from the batch's own records; `lambda/handler.ts` `batchDigest`) stands in
 * for it: a retried batch gets the same id, two different batches never share one.
 */
export function batchId(firstSequenceNumber: string, lastSequenceNumber: string, digest: string): string {
  return `${firstSequenceNumber}_${lastSequenceNumber}_${digest}`;
}

/** Deterministic file name of a batch (in a minute folder): a retried batch gets the same name. */
export function batchFileName(id: string): string {
  return `${id}.json`;
}

const BATCH_FILE = /^(\d{1,40})_(\d{1,40})_([0-9a-f]+)\.json$/;

/** The parts of a batch file name, or undefined for a name that is not one. */
export function parseBatchFileName(
  name: string,
): { firstSequenceNumber: string; lastSequenceNumber: string; digest: string } | undefined {
  const m = BATCH_FILE.exec(name);
  return m ? { firstSequenceNumber: m[1]!, lastSequenceNumber: m[2]!, digest: m[3]! } : undefined;
}

/** Reserved sub-prefixes of a landing location (never minute folders). */
export const LANDING_RESERVED = {
  manifests: '_manifests',
  batches: '_batches',
  deadLetter: '_dead',
  rejected: '_rejected',
  /** Gap markers: a writer could not deliver every change of a shard (docs/gaps.md). */
  gaps: '_gaps',
} as const;

/** Key prefix of a landing location (`s3://b/landing/t` → `landing/t/`; the bucket root → ``). */
export function landingKeyPrefix(key: string): string {
  return key === '' || key.endsWith('/') ? key : `${key}/`;
}

/** Claim of a batch: names the key its file was (or is being) written to (docs/landing.md rule 4). */
export function batchClaimKey(prefix: string, id: string): string {
  return `${prefix}${LANDING_RESERVED.batches}/${id}`;
}

/** Records of a batch that could not be encoded, one JSON line each with its reason. */
export function deadLetterKey(prefix: string, id: string): string {
  return `${prefix}${LANDING_RESERVED.deadLetter}/${id}.json`;
}

/**
 * Chain link of a batch (docs/gaps.md): a zero-byte object next to the batch's file,
 * `<minute>/<batchId>.link.<shardId>.<previous>`, naming the shard and the batch delivered before it
 * on that shard (`start`: the shard was read from its first record; `unknown`: the writer does not
 * know). Written (by writers that know their shard: the local poller) after the claim and before the
 * file, so the planner learns the chain from its listing alone.
 */
export function linkName(id: string, shardId: string, previous: string): string {
  return `${id}.link.${safeShardId(shardId)}.${previous}`;
}

const LINK = /^(\d{1,40}_\d{1,40}_[0-9a-f]+)\.link\.([A-Za-z0-9-]{1,80})\.(start|unknown|\d{1,40}_\d{1,40}_[0-9a-f]+)$/;

export interface BatchLink {
  batch: string;
  shardId: string;
  /** The batch delivered before this one on the shard, or `start` / `unknown`. */
  previous: string;
}

/** The parts of a chain link's name, or undefined for a name that is not one. */
export function parseLinkName(name: string): BatchLink | undefined {
  const m = LINK.exec(name);
  return m ? { batch: m[1]!, shardId: m[2]!, previous: m[3]! } : undefined;
}

/** Shard ids are `shardId-<digits>-<hex>`; anything else is made safe for a key. */
export function safeShardId(shardId: string): string {
  return shardId.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 80);
}

/** Key of a gap marker: sorted by detection time. */
export function gapMarkerKey(prefix: string, detectedAtMs: number, kind: string, digest: string): string {
  return `${prefix}${LANDING_RESERVED.gaps}/${String(detectedAtMs).padStart(13, '0')}-${kind}-${digest}.json`;
}

/** What a gap marker holds (JSON); docs/gaps.md. */
export interface GapMarker {
  version: 1;
  /** trimmed: records were trimmed before they were read; shard-gone: a shard vanished before it was read to its end; discarded: a batch was given up after its retries; stream-replaced: the table's stream was replaced (changes while it was off are in no stream). */
  kind: 'trimmed' | 'shard-gone' | 'discarded' | 'stream-replaced';
  table: string;
  streamArn: string;
  shardId: string | null;
  /** The last sequence number delivered before the gap (null: none / unknown). */
  afterSequenceNumber: string | null;
  /** For `discarded`: the first and last sequence numbers of the records not delivered. */
  firstSequenceNumber?: string | null;
  lastSequenceNumber?: string | null;
  detectedAt: string;
  reason: string;
}
