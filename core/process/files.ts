import { mkdirSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import writeFileAtomicAsync, { sync as writeFileAtomicSyncImpl } from 'write-file-atomic';

/**
 * Replacing a file so that a crash at any moment leaves either the old or the new content, never a
 * torn one: write-file-atomic writes a temporary file beside it, fsyncs it and renames it over the
 * target (and removes the temporary file if the process exits half-way). Readers elsewhere (the
 * chaos run, tests, `status`) read these files at any moment.
 */

/**
 * `durable`: also fsync the folder, so the rename itself survives a power loss (the poller's
 * checkpoints: a lost rename would deliver a batch twice).
 */
export async function writeFileAtomic(path: string, content: string, { durable = false } = {}): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  await writeFileAtomicAsync(path, content);
  if (!durable) return;
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

export function writeFileAtomicSync(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomicSyncImpl(path, content);
}
