import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { processStartToken } from './liveness';

/**
 * Starting programs. node:child_process, not execa: execa is ESM-only (this project compiles to
 * CommonJS for Node ≥ 20.10) and what it adds — piping, capture, friendly errors — is not what we
 * need for daemons that outlive us with their output in a log file.
 */

export interface DetachedProcess {
  pid: number;
  /** Start token of the process (liveness.ts); undefined when it has exited already. */
  token: string | undefined;
}

/**
 * Start a program in its own session and process group (so it outlives us and a Ctrl-C in the
 * terminal does not reach it) with stdout and stderr appended to `logFile`, headed by a line with
 * the time and the command unless `logHeader` is false. Resolves once the process exists; rejects
 * if it could not be started at all.
 */
export function spawnDetached(
  command: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string; logFile: string; logHeader?: boolean },
): Promise<DetachedProcess> {
  const fd = openSync(opts.logFile, 'a');
  if (opts.logHeader !== false) writeSync(fd, `\n=== ${new Date().toISOString()} $ ${[command, ...args].join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', fd, fd] });
    child.once('error', (err) => {
      closeSync(fd);
      reject(new Error(`cannot start ${command}: ${err.message}`));
    });
    child.once('spawn', () => {
      closeSync(fd);
      child.unref();
      const pid = child.pid!;
      resolve({ pid, token: processStartToken(pid) });
    });
  });
}

export interface Captured {
  /** Exit status; null when the program could not be started or timed out. */
  status: number | null;
  /** stdout and stderr together (tools print versions on either). */
  output: string;
  error?: Error;
}

/** Run a short command (a version probe, a zip) and capture what it prints. */
export function capture(command: string, args: string[], timeoutMs = 30_000, env?: NodeJS.ProcessEnv): Captured {
  const r = spawnSync(command, args, {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}`, error: r.error };
}

/**
 * Run a long command (a build, an install) with its output appended to `logFile`; resolves to the
 * exit code. `onTick` is called every `tickMs` while it runs, so long steps show they are alive.
 */
export function runLogged(
  command: string,
  args: string[],
  opts: {
    logFile: string;
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    onTick?: (elapsedMs: number) => void;
    tickMs?: number;
  },
): Promise<number> {
  const fd = openSync(opts.logFile, 'a');
  writeSync(fd, `\n=== ${new Date().toISOString()} $ ${[command, ...args].join(' ')}\n`);
  const started = Date.now();
  return new Promise<number>((resolve) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', fd, fd] });
    const timer = opts.onTick
      ? setInterval(() => opts.onTick!(Date.now() - started), opts.tickMs ?? 30_000)
      : undefined;
    const finish = (code: number) => {
      if (timer) clearInterval(timer);
      closeSync(fd);
      resolve(code);
    };
    child.on('error', (err) => {
      writeSync(fd, `cannot start ${command}: ${err.message}\n`);
      finish(127);
    });
    child.on('exit', (code, signal) => finish(code ?? (signal ? 128 : 1)));
  });
}

/** Last `lines` non-empty lines of a text file ('' if it cannot be read), for error messages. */
export function tailOfFile(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-lines)
      .join('\n');
  } catch {
    return '';
  }
}
