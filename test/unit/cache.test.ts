import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  truncateSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  folderState,
  looksLikeCompleteZip,
  markComplete,
  publish,
  removeTemporaries,
  sha1OfFile,
  temporarySibling,
  tryLock,
  unlock,
  withCacheLock,
} from '../../stack/setup/cache';
import { jarFileName, missingJars } from '../../stack/setup/jars';
import { JARS } from '../../core/toolchain';

const root = mkdtempSync(join(tmpdir(), 'ddb-lake-cache-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A real jar made by the JDK's `jar` tool when present, else a minimal valid zip (EOCD only). */
function makeZip(path: string): void {
  const src = join(root, 'zip-src');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'a.txt'), 'x'.repeat(5000));
  const r = spawnSync('jar', ['cf', path, '-C', src, 'a.txt']);
  if (r.status !== 0) writeFileSync(path, Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]));
}

describe('cache completeness', () => {
  it('a marker-guarded folder is missing, then incomplete, then complete once marked', () => {
    const venv = join(root, 'venv', 'py311-abc');
    assert.equal(folderState(venv), 'missing');
    mkdirSync(join(venv, 'bin'), { recursive: true });
    assert.equal(folderState(venv), 'incomplete');
    markComplete(venv, { test: true });
    assert.equal(folderState(venv), 'complete');
  });

  it('a file appears under its final name only when published; leftovers are removed', () => {
    const dir = join(root, 'jars');
    mkdirSync(dir, { recursive: true });
    const final = join(dir, 'x.jar');
    const temp = temporarySibling(final);
    writeFileSync(temp, 'partial');
    const leftover = temporarySibling(final);
    writeFileSync(leftover, 'from a killed setup');
    assert.equal(existsSync(final), false);
    publish(temp, final);
    assert.equal(existsSync(final), true);
    assert.deepEqual(removeTemporaries(dir).length, 1);
    assert.deepEqual(readdirSync(dir), ['x.jar']);
  });

  it('lists the jars that are not under their final names', () => {
    const dir = join(root, 'jars2');
    mkdirSync(dir, { recursive: true });
    assert.equal(missingJars(dir).length, JARS.length);
    writeFileSync(join(dir, jarFileName(JARS[0])), 'x');
    writeFileSync(temporarySibling(join(dir, jarFileName(JARS[1]))), 'x');
    assert.deepEqual(
      missingJars(dir).map((j) => j.artifact),
      JARS.slice(1).map((j) => j.artifact),
    );
  });

  it('tells a whole jar from a truncated one', async () => {
    const jar = join(root, 'whole.jar');
    makeZip(jar);
    assert.equal(looksLikeCompleteZip(jar), true);
    assert.match(await sha1OfFile(jar), /^[0-9a-f]{40}$/);
    truncateSync(jar, statSync(jar).size - 10);
    assert.equal(looksLikeCompleteZip(jar), false);
    writeFileSync(jar, '');
    assert.equal(looksLikeCompleteZip(jar), false);
  });
});

describe('cache locks', () => {
  it('one holder at a time; a live holder is reported', () => {
    const lock = join(root, 'locks', 'a.lock');
    assert.deepEqual(tryLock(lock), { acquired: true });
    const second = tryLock(lock);
    assert.equal(second.acquired, false);
    if (!second.acquired) assert.equal(second.owner.pid, process.pid);
    unlock(lock);
    assert.deepEqual(tryLock(lock), { acquired: true });
    unlock(lock);
  });

  it('breaks the lock of a holder that died', () => {
    const lock = join(root, 'locks', 'b.lock');
    mkdirSync(lock, { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(
      join(lock, 'owner.json'),
      JSON.stringify({ pid: Number(dead.stdout), since: new Date().toISOString() }),
    );
    assert.deepEqual(tryLock(lock), { acquired: true });
    unlock(lock);
  });

  it('withCacheLock runs writers one after the other', async () => {
    const order: string[] = [];
    const job = (name: string) =>
      withCacheLock(root, 'serial', async () => {
        order.push(`${name} in`);
        await sleep(50);
        order.push(`${name} out`);
      });
    // Same process: the second waits for the first (the lock holder is alive).
    await Promise.all([job('a'), sleep(10).then(() => job('b'))]);
    assert.deepEqual(order, ['a in', 'a out', 'b in', 'b out']);
  });
});
