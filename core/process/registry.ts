import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from './files';
import { isGroupRunning } from './liveness';
import { stopProcessGroup, type StopOutcome } from './signals';

/**
 * Process groups started on a local stack's behalf by someone other than the stack (the worker's
 * warm engines), recorded under `<stateDir>/processes/<name>.json` so that `down` stops them and
 * `stack status` shows them, though they outlive whoever started them.
 */
export interface RecordedProcess {
  name: string;
  /** Leader of the process group. */
  pid: number;
  token: string | undefined;
  startedAt: string;
  logFile: string;
  /** One line for `stack status`. */
  describe: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

function dir(stateDir: string): string {
  return join(stateDir, 'processes');
}

export function recordProcess(stateDir: string, p: RecordedProcess): void {
  if (!NAME.test(p.name)) throw new Error(`${JSON.stringify(p.name)} is not a process name`);
  mkdirSync(dir(stateDir), { recursive: true });
  writeFileAtomicSync(join(dir(stateDir), `${p.name}.json`), JSON.stringify(p, null, 2));
}

/** The recorded processes still running (records of the dead are removed). */
export function recordedProcesses(stateDir: string): RecordedProcess[] {
  let names: string[];
  try {
    names = readdirSync(dir(stateDir)).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return names.flatMap((f) => {
    const file = join(dir(stateDir), f);
    try {
      const p = JSON.parse(readFileSync(file, 'utf8')) as RecordedProcess;
      if (isGroupRunning(p.pid, p.token)) return [p];
      rmSync(file, { force: true });
    } catch {
      /* being written */
    }
    return [];
  });
}

export async function stopRecordedProcesses(
  stateDir: string,
  graceMs = 10_000,
): Promise<{ name: string; pid: number; outcome: StopOutcome }[]> {
  const out: { name: string; pid: number; outcome: StopOutcome }[] = [];
  for (const p of recordedProcesses(stateDir)) {
    const outcome = await stopProcessGroup(p.pid, p.token, graceMs);
    rmSync(join(dir(stateDir), `${p.name}.json`), { force: true });
    out.push({ name: p.name, pid: p.pid, outcome });
  }
  return out;
}
