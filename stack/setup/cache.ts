import { createHash, randomBytes } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  closeSync,
  readSync,
  fstatSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isProcessRunning, processStartToken } from '../../core/process';

/**
 * The rules that keep the per-user cache honest: an entry is complete only when it sits under its
 * final name (files: written to a temporary name and renamed once verified) or carries a
 * `.complete` marker written last (folders that cannot be moved, like a venv). Writers of one
 * entry take a lock, so two setups running at once never build the same thing twice.
 */

export const COMPLETE_MARKER = '.complete';

export type FolderState = 'missing' | 'incomplete' | 'complete';

/** A marker-guarded folder: missing, present without its marker (a build died), or complete. */
export function folderState(dir: string): FolderState {
  if (!existsSync(dir)) return 'missing';
  return existsSync(join(dir, COMPLETE_MARKER)) ? 'complete' : 'incomplete';
}

export function markComplete(dir: string, details: Record<string, unknown>): void {
  writeFileSync(
    join(dir, COMPLETE_MARKER),
    JSON.stringify({ completedAt: new Date().toISOString(), ...details }, null, 2) + '\n',
  );
}

/** A unique temporary name beside `finalPath` (same folder, so the final rename is atomic). */
export function temporarySibling(finalPath: string): string {
  return join(dirname(finalPath), `.tmp-${basename(finalPath)}-${process.pid}-${randomBytes(3).toString('hex')}`);
}

/** Remove leftovers of interrupted writers (`.tmp-*`) in `dir`; call only while holding its lock. */
export function removeTemporaries(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const removed = readdirSync(dir).filter((n) => n.startsWith('.tmp-'));
  for (const name of removed) rmSync(join(dir, name), { recursive: true, force: true });
  return removed;
}

/** Move a finished file or folder into place (atomic on one file system). */
export function publish(tempPath: string, finalPath: string): void {
  mkdirSync(dirname(finalPath), { recursive: true });
  renameSync(tempPath, finalPath);
}

/**
 * A zip (jar) is whole when its end-of-central-directory record is where the format puts it: in
 * the last 22 + 65535 bytes. A truncated download fails this check.
 */
export function looksLikeCompleteZip(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const length = Math.min(size, 22 + 0xffff);
    if (length < 22) return false;
    const tail = Buffer.alloc(length);
    readSync(fd, tail, 0, length, size - length);
    for (let i = length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) !== 0x06054b50) continue;
      const commentLength = tail.readUInt16LE(i + 20);
      if (i + 22 + commentLength === length) return true;
    }
    return false;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function sha1OfFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha1');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

interface LockOwner {
  pid: number;
  token?: string;
  since: string;
}

function readOwner(lockDir: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(join(lockDir, 'owner.json'), 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

/** Try once to take the lock; returns the live owner when someone else holds it. */
export function tryLock(lockDir: string): { acquired: true } | { acquired: false; owner: LockOwner } {
  mkdirSync(dirname(lockDir), { recursive: true });
  const temp = temporarySibling(lockDir);
  mkdirSync(temp);
  const owner: LockOwner = { pid: process.pid, token: processStartToken(process.pid), since: new Date().toISOString() };
  writeFileSync(join(temp, 'owner.json'), JSON.stringify(owner));
  for (;;) {
    try {
      // rename() of a folder onto an existing non-empty folder fails: exactly one writer wins.
      renameSync(temp, lockDir);
      return { acquired: true };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') {
        rmSync(temp, { recursive: true, force: true });
        throw err;
      }
    }
    const holder = readOwner(lockDir);
    if (holder && isProcessRunning(holder.pid, holder.token)) {
      rmSync(temp, { recursive: true, force: true });
      return { acquired: false, owner: holder };
    }
    // The holder died (or the lock is a half-written leftover): break it and try again.
    const stale = temporarySibling(lockDir);
    try {
      renameSync(lockDir, stale);
      rmSync(stale, { recursive: true, force: true });
    } catch {
      /* another process broke it first */
    }
  }
}

export function unlock(lockDir: string): void {
  const owner = readOwner(lockDir);
  if (owner?.pid === process.pid) rmSync(lockDir, { recursive: true, force: true });
}

/** Run `fn` holding the cache lock `name`, waiting (up to `timeoutMs`) for another holder. */
export async function withCacheLock<T>(
  cache: string,
  name: string,
  fn: () => Promise<T>,
  onWait: (owner: { pid: number }) => void = () => undefined,
  timeoutMs = 60 * 60_000,
): Promise<T> {
  const lockDir = join(cache, 'locks', `${name}.lock`);
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    const r = tryLock(lockDir);
    if (r.acquired) break;
    if (!told) onWait(r.owner);
    told = true;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${lockDir} held by pid ${r.owner.pid}`);
    await sleep(1000);
  }
  try {
    return await fn();
  } finally {
    unlock(lockDir);
  }
}
