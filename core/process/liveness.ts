import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/**
 * Is a process alive, and is it still the one we started? A pid alone cannot tell: after a crash or
 * a reboot another program may carry it. A process is named by its pid plus a start token (its
 * start time), and a process group by its leader's pid: Linux never hands out a pid that is still
 * in use as a process group id, so members left in a group after its leader died are still ours.
 */

const HAS_PROC = existsSync('/proc/self/stat');

interface ProcStat {
  state: string;
  pgrp: number;
  startTime: string;
}

/** The one reader of /proc/<pid>/stat: the fields after the command name (which may hold spaces and parens). */
function readProcStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state), rest[2] field 5 (pgrp), rest[19] field 22 (starttime, clock ticks since boot).
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
 * A token that identifies one process for its lifetime: its start time (`linux:<clock ticks since
 * boot>`, or `ps:<lstart>` off Linux). Undefined if no such live process exists.
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

/**
 * Is the process group we started (led by `pgid`, whose start token was `leaderToken`) still
 * running? Yes while its leader is that process, or, once the leader is gone, while any member is
 * left. A leader whose pid now names another process means ours ended long ago. Without a token,
 * any live member of the group counts.
 */
export function isGroupRunning(pgid: number, leaderToken?: string): boolean {
  const leader = leaderToken === undefined ? undefined : processStartToken(pgid);
  if (leader !== undefined) return leader === leaderToken;
  return processGroupMembers(pgid).length > 0;
}

/** The command line of a live process (argv), or undefined. */
export function processCommandLine(pid: number): string[] | undefined {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv[argv.length - 1] === '' ? argv.slice(0, -1) : argv;
  } catch {
    return undefined;
  }
}
