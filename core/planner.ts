import {
  isMinuteFolder,
  minuteFolder,
  minuteFolderStart,
  parseBatchFileName,
  parseLinkName,
  type BatchLink,
} from './landing';
import type { Watermark, WatermarkDelta } from './watermark';

/**
 * The incremental planner's pure logic (docs/landing.md, "What the orchestrator must do"): given the
 * watermark and a listing of the landing zone, which files the next batch takes and how the
 * watermark moves once that batch has been applied. No I/O here; activities/planning.ts lists S3
 * and writes the manifest.
 */

/** A file in a minute folder, as listed. */
export interface LandingFile {
  folder: string;
  name: string;
  lastModifiedMs: number;
  size: number;
}

/** A chain link in a minute folder (core/landing.ts `linkName`, docs/gaps.md). */
export interface LandingLink extends BatchLink {
  folder: string;
}

export interface PlanInput {
  watermark: Watermark;
  /** Files listed after the listing's start, sorted by folder then name, complete folders only. */
  files: LandingFile[];
  /** Clock reading taken just before the listing started. */
  listedAtMs: number;
  /** False when the listing stopped early: folders after the last listed one are unknown. */
  complete: boolean;
  /** True when this cycle sweeps: `files` then also holds closed folders (see sweepStartAfterFolder). */
  sweep: boolean;
  closeAfterMs: number;
  maxFiles: number;
  /** Folders that must not close yet: a file their chain links announce has not appeared (docs/gaps.md). */
  hold?: string[];
}

export interface BatchPlan {
  /** Files of the batch, in listing order (late files of closed folders first). */
  take: LandingFile[];
  /** How many of `take` are late files found by the sweep. */
  sweptFiles: number;
  /** Apply to the watermark once the batch has been applied (or at once when `take` is empty). */
  delta: WatermarkDelta;
  /** Files seen but left for later batches. */
  backlog: { files: number; oldestLastModifiedMs: number | null; more: boolean };
  /**
   * Every landing file written before this instant has been applied once the batch succeeds;
   * null when the listing stopped early and nothing can be said.
   */
  appliedThroughMs: number | null;
}

export function planBatch(input: PlanInput): BatchPlan {
  const { watermark: w, files, listedAtMs, closeAfterMs, maxFiles } = input;
  const candidates: { file: LandingFile; late: boolean }[] = [];
  for (const file of files) {
    const kind = candidateKind(w, file, input.sweep, closeAfterMs);
    if (kind) candidates.push({ file, late: kind === 'late' });
  }

  const taken = candidates.slice(0, maxFiles);
  const left = candidates.slice(maxFiles);

  // Folders close in order, only once their close instant has passed before the listing, and only
  // if nothing in them is left untaken. Beyond the last listed folder nothing is known.
  let limit = minuteFolder(Math.floor((listedAtMs - closeAfterMs) / 60_000) * 60_000);
  if (!input.complete) {
    const lastListed = files.length ? files[files.length - 1]!.folder : w.closedThrough;
    if (lastListed < limit) limit = lastListed;
  }
  const blocked = left.find((c) => !c.late);
  if (blocked && blocked.file.folder <= limit) limit = minuteBefore(blocked.file.folder);
  for (const folder of input.hold ?? []) if (folder > w.closedThrough && folder <= limit) limit = minuteBefore(folder);
  const closedThrough = limit > w.closedThrough ? limit : w.closedThrough;

  const takenNames: Record<string, string[]> = {};
  for (const { file, late } of taken) {
    if (late || file.folder <= closedThrough) continue;
    (takenNames[file.folder] ??= []).push(file.name);
  }
  const sweepDone = input.sweep && !left.some((c) => c.late);
  // Remember applied files a later sweep could take for late ones (written after their folder's
  // close instant): those the sweep took, and those of folders closing now. Forget what no sweep
  // can see any more (see candidateKind).
  const remember: [string, number][] = [];
  for (const { file, late } of taken) if (late) remember.push([`${file.folder}/${file.name}`, file.lastModifiedMs]);
  for (const file of files)
    if (
      file.folder > w.closedThrough &&
      file.folder <= closedThrough &&
      file.lastModifiedMs > minuteFolderStart(file.folder) + closeAfterMs
    )
      remember.push([`${file.folder}/${file.name}`, file.lastModifiedMs]);
  let lateTaken: Record<string, number> | null = null;
  if (sweepDone || remember.length > 0) {
    const floor = (sweepDone ? listedAtMs : (w.sweptAtMs ?? -Infinity)) - closeAfterMs;
    lateTaken = {};
    for (const [key, lm] of [...Object.entries(w.lateTaken), ...remember]) if (lm > floor) lateTaken[key] = lm;
  }

  const oldestLeft = left.reduce<number | null>(
    (m, c) => (m === null || c.file.lastModifiedMs < m ? c.file.lastModifiedMs : m),
    null,
  );
  let appliedThroughMs: number | null;
  if (oldestLeft !== null) appliedThroughMs = Math.min(oldestLeft, listedAtMs);
  else appliedThroughMs = input.complete ? listedAtMs : null;

  return {
    take: taken.map((c) => c.file),
    sweptFiles: taken.filter((c) => c.late).length,
    delta: { closedThrough, taken: takenNames, sweptAtMs: sweepDone ? listedAtMs : null, lateTaken },
    backlog: { files: left.length, oldestLastModifiedMs: oldestLeft, more: !input.complete },
    appliedThroughMs,
  };
}

/**
 * The folder after which a cycle's single listing starts: the watermark's closed-through folder,
 * or, on a sweep cycle, `sweepMinutes` earlier.
 */
export function listingStartFolder(w: Watermark, sweep: boolean, sweepMinutes: number): string {
  if (!sweep) return w.closedThrough;
  return minuteFolder(minuteFolderStart(w.closedThrough) - sweepMinutes * 60_000);
}

/**
 * S3 `StartAfter` for listing every key in folders after `folder`: `<prefix><folder>0` sorts after
 * every `<prefix><folder>/…` key ('0' > '/') and before the next minute's keys.
 */
export function startAfterKey(prefixKey: string, folder: string): string {
  return `${prefixKey}${folder}0`;
}

/**
 * Interpret a listed key under the landing prefix. Minute-folder files are returned; `stop` is true
 * for the first key past the minute folders (reserved `_…` folders and anything else sort after digits).
 */
export function classifyLandingKey(
  prefixKey: string,
  key: string,
): { file?: { folder: string; name: string }; link?: LandingLink; stop: boolean } {
  if (!key.startsWith(prefixKey)) return { stop: true };
  const rest = key.slice(prefixKey.length);
  const slash = rest.indexOf('/');
  const folder = slash < 0 ? rest : rest.slice(0, slash);
  if (!isMinuteFolder(folder)) return { stop: !/^\d/.test(folder) };
  const name = rest.slice(slash + 1);
  if (slash < 0 || name.length === 0 || name.includes('/')) return { stop: false };
  if (!name.endsWith('.json')) {
    const link = parseLinkName(name);
    return link ? { link: { folder, ...link }, stop: false } : { stop: false };
  }
  return { file: { folder, name }, stop: false };
}

/**
 * The chain checks a batch needs (docs/gaps.md), from the listing alone:
 * - `previousToVerify`: predecessors named by the links of files the batch takes that the listing
 *   does not hold (they are in earlier folders): the activity checks each still exists.
 * - `orphanLinks`: links in folders after `closedThrough` whose file is not there (yet): the writer
 *   is still at work, died before writing the file (its retry writes elsewhere), or the file was lost.
 */
export function chainChecks(
  w: Watermark,
  files: LandingFile[],
  links: LandingLink[],
  take: LandingFile[],
): {
  previousToVerify: { batch: string; previous: string; shardId: string; folder: string }[];
  orphanLinks: LandingLink[];
} {
  const listed = new Set<string>();
  const present = new Set<string>();
  for (const f of files) {
    present.add(`${f.folder}/${f.name}`);
    const id = batchIdOfFile(f.name);
    if (id) listed.add(id);
  }
  const linkOf = new Map<string, LandingLink>();
  for (const l of links) linkOf.set(`${l.folder}/${l.batch}.json`, l);
  const previousToVerify: { batch: string; previous: string; shardId: string; folder: string }[] = [];
  const asked = new Set<string>();
  for (const f of take) {
    const link = linkOf.get(`${f.folder}/${f.name}`);
    if (
      !link ||
      link.previous === 'start' ||
      link.previous === 'unknown' ||
      listed.has(link.previous) ||
      asked.has(link.previous)
    )
      continue;
    asked.add(link.previous);
    previousToVerify.push({ batch: link.batch, previous: link.previous, shardId: link.shardId, folder: f.folder });
  }
  const orphanLinks = links.filter((l) => l.folder > w.closedThrough && !present.has(`${l.folder}/${l.batch}.json`));
  return { previousToVerify, orphanLinks };
}

function batchIdOfFile(name: string): string | undefined {
  const parts = parseBatchFileName(name);
  return parts ? `${parts.firstSequenceNumber}_${parts.lastSequenceNumber}_${parts.digest}` : undefined;
}

/**
 * Whether a listing in progress has seen enough: the complete folders (all but the last one seen,
 * which a page boundary may have cut) already hold more than `maxFiles` files to take.
 */
export function listedEnough(
  w: Watermark,
  files: LandingFile[],
  opts: { sweep: boolean; closeAfterMs: number; maxFiles: number },
): boolean {
  if (files.length === 0) return false;
  const lastFolder = files[files.length - 1]!.folder;
  let untaken = 0;
  for (const f of files) {
    if (f.folder === lastFolder) break;
    if (candidateKind(w, f, opts.sweep, opts.closeAfterMs)) untaken++;
  }
  return untaken > opts.maxFiles;
}

/** Whether a listed file is still to be applied: `open` (not yet taken) or `late` (found by a sweep). */
function candidateKind(w: Watermark, file: LandingFile, sweep: boolean, closeAfterMs: number): 'open' | 'late' | null {
  if (file.folder > w.closedThrough) return w.open[file.folder]?.includes(file.name) ? null : 'open';
  if (!sweep) return null;
  // A late file was written after its folder closed. Anything written after the previous sweep's
  // listing (less a margin for slow writes and clock skew) may not have been seen by it.
  // `lateTaken` remembers the late files already applied inside that margin.
  const sweepFloor = w.sweptAtMs === null ? -Infinity : w.sweptAtMs - closeAfterMs;
  const closeInstant = minuteFolderStart(file.folder) + closeAfterMs;
  if (file.lastModifiedMs <= closeInstant || file.lastModifiedMs <= sweepFloor) return null;
  return w.lateTaken[`${file.folder}/${file.name}`] === undefined ? 'late' : null;
}

/** Drop the last folder of an incomplete listing (a page boundary may have cut it). */
export function completeFoldersOnly(files: LandingFile[]): LandingFile[] {
  if (files.length === 0) return files;
  const lastFolder = files[files.length - 1]!.folder;
  return files.filter((f) => f.folder !== lastFolder);
}

function minuteBefore(folder: string): string {
  return minuteFolder(minuteFolderStart(folder) - 60_000);
}
