import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';

/**
 * Processes of the local stack: started detached in their own process group (so they outlive the
 * CLI and a Ctrl-C in the terminal does not reach them), identified by pid + start time (so a pid
 * reused by an unrelated program after a reboot or a crash is never signalled), stopped as a group.
 */

const HAS_PROC = existsSync('/proc/self/stat');

interface ProcStat {
  state: string;
  pgrp: number;
  startTime: string;
}

/** Fields of /proc/<pid>/stat after the command name (which may itself contain spaces and parens). */
function readProcStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state), rest[2] field 5 (pgrp), rest[19] field 22 (starttime).
    return { state: rest[0]!, pgrp: Number(rest[2]), startTime: rest[19]! };
  } catch {
    return undefined;
  }
}

/**
 * A zombie entry is gone for our purposes only when it is a single thread: a multi-threaded
 * program (Go, the JVM) shows its leader as Z while its other threads are still shutting down.
 */
function isDeadZombie(pid: number, stat: ProcStat): boolean {
  if (stat.state !== 'Z') return false;
  try {
    const threads = /^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return threads === undefined || Number(threads) <= 1;
  } catch {
    return true;
  }
}

function psField(pid: number, field: string): string | undefined {
  const r = spawnSync('ps', ['-o', `${field}=`, '-p', String(pid)], { encoding: 'utf8' });
  const out = (r.stdout ?? '').trim();
  return r.status === 0 && out ? out : undefined;
}

/**
 * A token that identifies one process for its lifetime: its start time (clock ticks since boot on
 * Linux, `ps -o lstart` elsewhere). Undefined if no such live process exists.
 */
export function processStartToken(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (HAS_PROC) {
    const stat = readProcStat(pid);
    return stat && !isDeadZombie(pid, stat) ? `linux:${stat.startTime}` : undefined;
  }
  const state = psField(pid, 'stat');
  if (!state || state.startsWith('Z')) return undefined;
  const start = psField(pid, 'lstart');
  return start ? `ps:${start}` : undefined;
}

/** Is `pid` alive (not a zombie) and, when a token is given, still the same process? */
export function isProcessRunning(pid: number, token?: string): boolean {
  const current = processStartToken(pid);
  return current !== undefined && (token === undefined || current === token);
}

/** Live (non-zombie) members of a process group. */
export function processGroupMembers(pgid: number): number[] {
  if (HAS_PROC) {
    const members: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = readProcStat(Number(entry));
      if (stat && stat.pgrp === pgid && !isDeadZombie(Number(entry), stat)) members.push(Number(entry));
    }
    return members;
  }
  const r = spawnSync('ps', ['-A', '-o', 'pid=,pgid=,stat='], { encoding: 'utf8' });
  return (r.stdout ?? '')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => Number(f[1]) === pgid && !(f[2] ?? '').startsWith('Z'))
    .map((f) => Number(f[0]));
}

export interface DetachedProcess {
  pid: number;
  /** Start token of the process (see processStartToken). */
  token: string;
}

/**
 * Start a program in its own session/process group with stdout+stderr appended to `logFile`.
 * Resolves once the process exists (or rejects if it could not be started at all).
 */
export function spawnDetached(
  command: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd: string; logFile: string },
): Promise<DetachedProcess> {
  const fd = openSync(opts.logFile, 'a');
  writeSync(fd, `\n=== ${new Date().toISOString()} $ ${[command, ...args].join(' ')}\n`);
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
      const token = processStartToken(pid);
      if (!token) reject(new Error(`${command} exited at once; see ${opts.logFile}`));
      else resolve({ pid, token });
    });
  });
}

export type StopOutcome = 'stopped' | 'killed' | 'not running' | 'not ours';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (done()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Stop a process group led by `pid` that we started: SIGTERM, then SIGKILL after `graceMs`.
 * The leader's start token must match, so a reused pid is never signalled ('not ours').
 */
export async function stopProcessGroup(pid: number, token: string, graceMs = 10_000): Promise<StopOutcome> {
  if (!isProcessRunning(pid, token)) {
    // The leader is gone; members it left behind in its group are still ours to stop.
    if (processStartToken(pid) !== undefined) return 'not ours';
    if (processGroupMembers(pid).length === 0) return 'not running';
  }
  const gone = () => processGroupMembers(pid).length === 0;
  signalGroup(pid, 'SIGTERM');
  if (await waitUntil(gone, graceMs)) return 'stopped';
  signalGroup(pid, 'SIGKILL');
  if (await waitUntil(gone, 5_000)) return 'killed';
  throw new Error(`process group ${pid} is still alive after SIGKILL`);
}
