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

/** Deterministic file name of a batch: a retried batch gets the same name. */
export function batchFileName(shardId: string, firstSequenceNumber: string, lastSequenceNumber: string): string {
  return `${shardId}_${firstSequenceNumber}_${lastSequenceNumber}.json`;
}

/** Reserved sub-prefixes of a landing location (never minute folders). */
export const LANDING_RESERVED = {
  manifests: '_manifests',
  batches: '_batches',
  deadLetter: '_dead',
  rejected: '_rejected',
} as const;
