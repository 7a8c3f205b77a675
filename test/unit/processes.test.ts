import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  isProcessRunning,
  processGroupMembers,
  processStartToken,
  spawnDetached,
  stopProcessGroup,
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
