import { isProcessRunning, processGroupMembers, processStartToken } from './liveness';
import { pollFor } from './wait';

/** Send `signal` to every process of a group; false when the group is gone already. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

export type StopOutcome = 'stopped' | 'killed' | 'not running' | 'not ours';

/**
 * Stop a process group led by `pid` that we started: SIGTERM, then SIGKILL after `graceMs`;
 * resolves once no member is left (throws if one outlives SIGKILL by `killWaitMs`). Zombies do not
 * count: an orphan waits for init to reap it, which may take seconds (or never come in a
 * container whose init does not reap). With a `token`, the leader's start token must match, so a
 * reused pid is never signalled ('not ours').
 */
export async function stopProcessGroup(
  pid: number,
  token: string | undefined,
  graceMs = 10_000,
  killWaitMs = 5_000,
): Promise<StopOutcome> {
  if (!isProcessRunning(pid, token)) {
    // The leader is gone; members it left behind in its group are still ours to stop.
    if (processStartToken(pid) !== undefined) return 'not ours';
    if (processGroupMembers(pid).length === 0) return 'not running';
  }
  const gone = () => (processGroupMembers(pid).length === 0 ? true : undefined);
  let outcome: StopOutcome = 'stopped';
  signalGroup(pid, 'SIGTERM');
  if (!(await pollFor(gone, { timeoutMs: graceMs }))) {
    outcome = 'killed';
    signalGroup(pid, 'SIGKILL');
    if (!(await pollFor(gone, { timeoutMs: killWaitMs })))
      throw new Error(`process group ${pid} is still alive ${killWaitMs} ms after SIGKILL`);
  }
  return outcome;
}
