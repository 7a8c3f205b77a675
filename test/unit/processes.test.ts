import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  findOnPath,
  isExecutableFile,
  isGroupRunning,
  isProcessRunning,
  pollFor,
  processCommandLine,
  processGroupMembers,
  processStartToken,
  spawnDetached,
  stopProcessGroup,
  WakeableSleep,
  writeFileAtomic,
  writeFileAtomicSync,
} from '../../core/process';

const dir = mkdtempSync(join(tmpdir(), 'ddb-lake-proc-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('detached processes', () => {
  it('stops a whole process group with SIGTERM', async () => {
    // A shell with a child: both are in the group and both must go.
    const p = await spawnDetached('sh', ['-c', 'sleep 60 & wait'], {
      env: process.env,
      cwd: dir,
      logFile: join(dir, 'a.log'),
    });
    assert.equal(isProcessRunning(p.pid, p.token), true);
    await sleep(200);
    assert.ok(processGroupMembers(p.pid).length >= 2, 'the shell and its sleep share the group');
    assert.equal(await stopProcessGroup(p.pid, p.token, 5000), 'stopped');
    assert.equal(isProcessRunning(p.pid), false);
    assert.deepEqual(processGroupMembers(p.pid), []);
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const p = await spawnDetached('sh', ['-c', 'trap "" TERM; while :; do sleep 0.1; done'], {
      env: process.env,
      cwd: dir,
      logFile: join(dir, 'b.log'),
    });
    await sleep(200);
    assert.equal(await stopProcessGroup(p.pid, p.token, 500), 'killed');
    assert.deepEqual(processGroupMembers(p.pid), []);
  });

  it('never signals a process whose start token differs (a reused pid)', async () => {
    const p = await spawnDetached('sleep', ['60'], { env: process.env, cwd: dir, logFile: join(dir, 'c.log') });
    assert.equal(await stopProcessGroup(p.pid, 'linux:not-this-one', 500), 'not ours');
    assert.equal(isProcessRunning(p.pid, p.token), true);
    assert.equal(await stopProcessGroup(p.pid, p.token, 5000), 'stopped');
    assert.equal(processStartToken(p.pid), undefined);
  });
});

describe('process groups by leader and start token', () => {
  it('a group whose leader died is still running while a member is left, and is stopped whole', async () => {
    const p = await spawnDetached('sh', ['-c', 'sleep 60 & wait'], { env: process.env, logFile: join(dir, 'd.log') });
    await sleep(200);
    assert.equal(isGroupRunning(p.pid, p.token), true);
    assert.equal(isGroupRunning(p.pid, 'linux:not-this-one'), false, 'a leader that is another process: not ours');
    assert.deepEqual(processCommandLine(p.pid), ['sh', '-c', 'sleep 60 & wait']);
    process.kill(p.pid, 'SIGKILL'); // the leader only: its sleep stays in the group
    assert.ok(await pollFor(() => (processStartToken(p.pid) === undefined ? true : undefined), { timeoutMs: 5000 }));
    assert.equal(isGroupRunning(p.pid, p.token), true, 'the orphaned member keeps the group running');
    assert.equal(await stopProcessGroup(p.pid, p.token, 5000), 'stopped');
    assert.equal(isGroupRunning(p.pid, p.token), false);
    assert.deepEqual(processGroupMembers(p.pid), [], 'nothing but zombies (waiting for init) is left in the group');
  });

  it('a program that exits at once has no start token', async () => {
    const p = await spawnDetached('true', [], { env: process.env, logFile: join(dir, 'e.log'), logHeader: false });
    await pollFor(() => (processStartToken(p.pid) === undefined ? true : undefined), { timeoutMs: 5000 });
    assert.equal(isGroupRunning(p.pid), false);
    assert.equal(readFileSync(join(dir, 'e.log'), 'utf8'), '', 'no header line when asked for none');
  });
});

describe('atomic files', () => {
  it('concurrent replacements leave one whole content and no temporary file', async () => {
    const sub = join(dir, 'atomic', 'nested');
    const file = join(sub, 'state.json');
    const contents = Array.from({ length: 20 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(10_000 + i) }));
    await Promise.all(contents.map((c, i) => writeFileAtomic(file, c, { durable: i % 2 === 0 })));
    assert.ok(contents.includes(readFileSync(file, 'utf8')));
    writeFileAtomicSync(file, 'last');
    assert.equal(readFileSync(file, 'utf8'), 'last');
    assert.deepEqual(readdirSync(sub), ['state.json']);
  });
});

describe('PATH look-up', () => {
  it('finds executables on PATH, never in the current folder, and tells files it may run', () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'tool'), '#!/bin/sh\n');
    chmodSync(join(bin, 'tool'), 0o755);
    writeFileSync(join(bin, 'data'), 'not a program');
    assert.equal(findOnPath('tool', `/nonexistent:${bin}`), join(bin, 'tool'));
    assert.equal(findOnPath('data', bin), undefined, 'not executable');
    assert.equal(findOnPath('tool', ''), undefined);
    const cwd = process.cwd();
    try {
      process.chdir(bin);
      assert.equal(findOnPath('tool', `:/nonexistent:`), undefined, 'an empty entry is not the current folder');
    } finally {
      process.chdir(cwd);
    }
    assert.equal(isExecutableFile(join(bin, 'tool')), true);
    assert.equal(isExecutableFile(join(bin, 'data')), false);
    assert.equal(isExecutableFile(bin), false, 'a folder is not a program');
    assert.match(findOnPath('sh') ?? '', /\/sh$/);
  });
});

describe('waiting', () => {
  it('pollFor returns the first value, or undefined once the time is up', async () => {
    let calls = 0;
    assert.equal(await pollFor(() => (++calls >= 3 ? 'ready' : undefined), { timeoutMs: 5000, everyMs: 10 }), 'ready');
    assert.equal(calls, 3);
    const t0 = Date.now();
    assert.equal(await pollFor(() => undefined, { timeoutMs: 100, everyMs: 20 }), undefined);
    assert.ok(Date.now() - t0 < 1000);
  });

  it('WakeableSleep ends early on wake()', async () => {
    const sleeper = new WakeableSleep();
    const t0 = Date.now();
    const nap = sleeper.sleep(10_000);
    setImmediate(() => sleeper.wake());
    await nap;
    assert.ok(Date.now() - t0 < 1000);
    sleeper.wake(); // nothing to wake: no effect
  });
});
