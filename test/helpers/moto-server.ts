import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { toolchainPaths } from '../../core/toolchain';
import type { StackInfo } from '../../core/environment';

/**
 * A real moto server on a loopback port for one test file, and a state folder whose stack.json
 * points at it (what `ddb-lake up` will write), so the CLI under test talks to this moto.
 */
// The SDK's notice about future Node versions is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export interface MotoForTest {
  endpoint: string;
  region: string;
  stateDir: string;
  /** Environment for a CLI child process: DDB_LAKE_STATE set to stateDir. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export async function startMoto(port: number): Promise<MotoForTest> {
  const endpoint = `http://127.0.0.1:${port}`;
  const region = 'us-east-1';
  if (await reachable(endpoint)) throw new Error(`port ${port} is already in use; stop what runs there first`);
  const stateDir = mkdtempSync(join(tmpdir(), 'ddb-lake-test-'));
  const child: ChildProcess = spawn(toolchainPaths().python, ['-m', 'moto.server', '--host', '127.0.0.1', '--port', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  const deadline = Date.now() + 30_000;
  while (!(await reachable(endpoint))) {
    if (child.exitCode !== null) throw new Error(`moto exited with ${child.exitCode}: ${log}`);
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`moto did not answer on ${endpoint} within 30 s: ${log}`);
    }
    await sleep(200);
  }
  const stack: StackInfo = {
    stateDir,
    temporal: { address: '127.0.0.1:1', namespace: 'default', uiUrl: 'http://127.0.0.1:1' },
    aws: { endpoint, region },
    services: [{ name: 'moto', pid: child.pid!, logFile: '', port, startedAt: new Date().toISOString() }],
  };
  writeFileSync(join(stateDir, 'stack.json'), JSON.stringify(stack, null, 2));
  return {
    endpoint,
    region,
    stateDir,
    env: { ...process.env, DDB_LAKE_STATE: stateDir, DDB_LAKE_ENV: 'local', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
      }
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

async function reachable(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}
