import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { readStackInfo, type StackInfo, type StackStatus } from '../../core/environment';
import { REPO_ROOT } from '../../core/toolchain';
import { freePort, isPortFree } from '../../stack/ports';
import { isProcessRunning, processGroupMembers } from '../../core/process';
import { testScratchDir, uniqueName } from '../helpers/stack';

/**
 * `ddb-lake up` / `down` through the real CLI on a stack of its own: its own state folder and a
 * port set the kernel reports free (so it never collides with the test stack or anything else).
 * Its state folder is a scratch folder of the test stack, so test/run.ts stops it if this file
 * dies before its after() hook.
 */

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'ddb-lake.js'), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

const stateDir = testScratchDir('lifecycle');
let env: Record<string, string>;
let ports: number[];

before(async () => {
  ports = [await freePort(), await freePort(), await freePort()];
  env = {
    DDB_LAKE_STATE: stateDir,
    DDB_LAKE_TEMPORAL_PORT: String(ports[0]),
    DDB_LAKE_TEMPORAL_UI_PORT: String(ports[1]),
    DDB_LAKE_AWS_PORT: String(ports[2]),
  };
});

after(async () => {
  await cli(['down'], env); // whatever a failed assertion left running
  rmSync(stateDir, { recursive: true, force: true });
});

function recorded(): StackInfo {
  const info = readStackInfo(stateDir);
  assert.ok(info, 'stack.json is written by up');
  return info;
}

async function withTemporal<T>(info: StackInfo, fn: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address: info.temporal.address });
  try {
    return await fn(new Client({ connection, namespace: info.temporal.namespace }));
  } finally {
    await connection.close();
  }
}

describe('ddb-lake up / down', () => {
  let first: StackInfo;
  const workflowId = uniqueName('survives-restart');
  let runId: string;

  it('up starts Temporal and moto on the chosen ports, and status reports them healthy', async () => {
    const r = await cli(['up'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /temporal: started \(pid \d+\)/);
    assert.match(r.stdout, /moto: started \(pid \d+\)/);
    first = recorded();
    assert.equal(first.temporal.address, `127.0.0.1:${ports[0]}`);
    assert.equal(first.temporal.uiUrl, `http://127.0.0.1:${ports[1]}`);
    assert.equal(first.aws.endpoint, `http://127.0.0.1:${ports[2]}`);
    for (const s of first.services) assert.equal(isProcessRunning(s.pid, s.processToken), true, `${s.name} runs`);

    const status = await cli(['stack', 'status', '--json'], env);
    assert.equal(status.code, 0, status.stderr);
    const parsed = JSON.parse(status.stdout) as StackStatus;
    assert.equal(parsed.state, 'running');
    assert.deepEqual(
      parsed.services.slice(0, 2).map((s) => s.name),
      ['temporal', 'moto'],
    );
    for (const s of parsed.services) assert.equal(s.health, 'healthy', `${s.name} is healthy`);

    runId = await withTemporal(first, async (client) => {
      const handle = await client.workflow.start('waitForReleaseWorkflow', {
        taskQueue: uniqueName('nobody-polls'),
        workflowId,
      });
      return handle.firstExecutionRunId;
    });
  });

  it('up again reuses the healthy stack (same pids)', async () => {
    const r = await cli(['up'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /temporal: already running/);
    assert.match(r.stdout, /moto: already running/);
    assert.deepEqual(
      recorded().services.map((s) => s.pid),
      first.services.map((s) => s.pid),
    );
  });

  it('a taken port stops up before it starts anything, naming the port and the way out', async () => {
    const otherState = testScratchDir('taken-port');
    const blocker: Server = createServer();
    const taken = await freePort();
    await new Promise<void>((res) => blocker.listen(taken, '127.0.0.1', res));
    try {
      const r = await cli(
        [
          'up',
          '--aws-port',
          String(taken),
          '--temporal-port',
          String(await freePort()),
          '--temporal-ui-port',
          String(await freePort()),
        ],
        {
          DDB_LAKE_STATE: otherState,
        },
      );
      assert.equal(r.code, 2);
      assert.match(r.stderr, new RegExp(`port ${taken} on 127\\.0\\.0\\.1 \\(the moto port\\) is already in use`));
      assert.match(r.stderr, /--aws-port or DDB_LAKE_AWS_PORT/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(readStackInfo(otherState), undefined, 'nothing was started');
    } finally {
      blocker.close();
      rmSync(otherState, { recursive: true, force: true });
    }
  });

  it('down stops every process up started, and frees the ports', async () => {
    const r = await cli(['down'], env);
    assert.equal(r.code, 0, r.stderr);
    for (const s of first.services) {
      assert.equal(isProcessRunning(s.pid), false, `${s.name} (pid ${s.pid}) is gone`);
      assert.deepEqual(processGroupMembers(s.pid), [], `nothing is left in ${s.name}'s process group`);
    }
    for (const port of ports) assert.equal(await isPortFree(port), true, `port ${port} is free`);
    assert.equal(readStackInfo(stateDir), undefined);
    const status = await cli(['stack', 'status', '--json'], env);
    assert.equal(status.code, 1);
    assert.equal((JSON.parse(status.stdout) as StackStatus).state, 'stopped');
  });

  it('a workflow survives a restart of the stack (Temporal keeps its SQLite file)', async () => {
    const r = await cli(['up'], env);
    assert.equal(r.code, 0, r.stderr);
    const description = await withTemporal(recorded(), (client) => client.workflow.getHandle(workflowId).describe());
    assert.equal(description.runId, runId);
    assert.equal(description.status.name, 'RUNNING');
    const stopped = await cli(['down'], env);
    assert.equal(stopped.code, 0, stopped.stderr);
  });
});
