import { spawn, spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** First executable called `name` on PATH, like `command -v`. */
export function findOnPath(name: string, pathVar = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

export function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface Captured {
  /** Exit status; undefined when the program could not be started or timed out. */
  status: number | null;
  /** stdout and stderr together (tools print versions on either). */
  output: string;
  error?: Error;
}

/** Run a short command (a version probe) and capture what it prints. */
export function capture(command: string, args: string[], timeoutMs = 30_000, env?: NodeJS.ProcessEnv): Captured {
  const r = spawnSync(command, args, {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}`, error: r.error };
}

/** Last `lines` lines of a text file ('' if it cannot be read), for error messages. */
export function tailOfFile(path: string, lines = 20): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-lines)
      .join('\n');
  } catch {
    return '';
  }
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
