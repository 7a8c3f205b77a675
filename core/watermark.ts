import { minuteFolder, minuteFolderStart } from './landing';

/**
 * How far the lake has caught up with the landing zone (docs/landing.md). Pure and deterministic:
 * the workflow keeps it as state and applies a plan's delta only after the plan's job succeeded.
 */
export interface Watermark {
  /** Last closed minute folder: no file in it or before it is pending (except late files, for the sweep). */
  closedThrough: string;
  /** Folders after `closedThrough` with the names of the files already applied from them. */
  open: Record<string, string[]>;
  /** Listing time of the last sweep that took every late file it found; null before the first. */
  sweptAtMs: number | null;
  /**
   * Late files (in closed folders) already applied that a sweep could still see — `<folder>/<name>`
   * → LastModified ms; entries older than the sweep's margin are dropped, so it stays tiny.
   */
  lateTaken: Record<string, number>;
}

/** What a successful batch changes in the watermark. */
export interface WatermarkDelta {
  closedThrough: string;
  /** Names applied by the batch, only for folders that stay open after it. */
  taken: Record<string, string[]>;
  /** Set when the batch completed a sweep. */
  sweptAtMs: number | null;
  /** The new `lateTaken`, when the batch swept; null: unchanged. */
  lateTaken: Record<string, number> | null;
}

/**
 * Where the incremental phase starts: the minute before the export's minute is treated as closed
 * (one minute earlier still, for clock skew between the stream writer and DynamoDB). Files of earlier
 * minutes hold only changes the export already has; applying some again would be harmless.
 */
export function initialWatermark(exportTimeMs: number): Watermark {
  return { closedThrough: minuteFolder(exportTimeMs - 2 * 60_000), open: {}, sweptAtMs: null, lateTaken: {} };
}

export function applyDelta(w: Watermark, delta: WatermarkDelta): Watermark {
  const closedThrough = delta.closedThrough > w.closedThrough ? delta.closedThrough : w.closedThrough;
  const open: Record<string, string[]> = {};
  for (const folder of new Set([...Object.keys(w.open), ...Object.keys(delta.taken)])) {
    if (folder <= closedThrough) continue;
    const names = new Set([...(w.open[folder] ?? []), ...(delta.taken[folder] ?? [])]);
    open[folder] = [...names].sort();
  }
  return {
    closedThrough,
    open: sortKeys(open),
    sweptAtMs: delta.sweptAtMs ?? w.sweptAtMs,
    lateTaken: delta.lateTaken ?? w.lateTaken,
  };
}

/** Open folders with the number of files taken from each (for status output). */
export function openSummary(w: Watermark): { folder: string; filesTaken: number }[] {
  return Object.keys(w.open)
    .sort()
    .map((folder) => ({ folder, filesTaken: w.open[folder]!.length }));
}

/** Instant (epoch ms) at which the closed-through folder's minute ends. */
export function closedThroughEndMs(w: Watermark): number {
  return minuteFolderStart(w.closedThrough) + 60_000;
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k]!;
  return out;
}
