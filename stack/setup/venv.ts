import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../../core/errors';
import { PYTHON_REQUIREMENTS, venvKey } from '../../core/toolchain';
import { folderState, markComplete, withCacheLock } from './cache';
import { capture, runLogged, tailOfFile } from '../../core/process';
import type { Progress } from './progress';
import { seconds } from './progress';

/**
 * Checks a venv against python/requirements.txt: every pinned package at its pinned version, every
 * installed distribution's files present (a pip killed mid-install leaves some out), and `pip
 * check` happy. Prints one problem per line; exits 1 if there is any.
 */
const VERIFY_SCRIPT = String.raw`
import importlib.metadata as md, pathlib, re, subprocess, sys
problems = []
for raw in open(sys.argv[1], encoding="utf-8"):
    line = raw.split("#", 1)[0].strip()
    if not line:
        continue
    m = re.match(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?==([^\s;]+)$", line)
    if not m:
        problems.append("requirement is not pinned with ==: " + line)
        continue
    try:
        got = md.version(m.group(1))
    except md.PackageNotFoundError:
        problems.append(m.group(1) + " is not installed")
        continue
    if got != m.group(3):
        problems.append(m.group(1) + " is " + got + ", not " + m.group(3))
for dist in md.distributions():
    files = dist.files
    if files is None:
        problems.append(str(dist.metadata["Name"]) + " has no RECORD")
        continue
    for f in files:
        if "__pycache__" in f.parts:
            continue
        if not pathlib.Path(dist.locate_file(f)).exists():
            problems.append(str(dist.metadata["Name"]) + " is missing " + str(f))
            break
check = subprocess.run([sys.executable, "-m", "pip", "check", "--disable-pip-version-check"], capture_output=True, text=True)
if check.returncode != 0:
    problems.append("pip check: " + (check.stdout + check.stderr).strip())
print("\n".join(problems))
sys.exit(1 if problems else 0)
`;

export function verifyVenv(venv: string): { ok: boolean; problems: string } {
  const r = capture(join(venv, 'bin', 'python'), ['-c', VERIFY_SCRIPT, PYTHON_REQUIREMENTS], 300_000, {
    ...process.env,
    PYTHONNOUSERSITE: '1',
  });
  if (r.status === 0) return { ok: true, problems: '' };
  return { ok: false, problems: r.output.trim() || r.error?.message || `exit ${r.status}` };
}

/**
 * Make `<cache>/venv/<key>` complete. A venv cannot be moved after it is built (its scripts name
 * their folder), so it is built in place and completeness is a `.complete` marker written last.
 * A folder without the marker is verified: adopted if it is whole, otherwise removed and rebuilt.
 */
export async function ensureVenv(
  venv: string,
  python: string,
  cache: string,
  progress: Progress,
): Promise<'cached' | 'adopted' | 'built'> {
  if (folderState(venv) === 'complete') return 'cached';
  return withCacheLock(
    cache,
    `venv-${venvKey()}`,
    async () => {
      const state = folderState(venv);
      if (state === 'complete') return 'cached';
      if (state === 'incomplete') {
        const check = verifyVenv(venv);
        if (check.ok) {
          markComplete(venv, { requirements: PYTHON_REQUIREMENTS, adopted: true });
          return 'adopted';
        }
        progress.line(
          `Python venv: ${venv} is incomplete (${check.problems.split('\n')[0]}); removing it and building it again`,
        );
        rmSync(venv, { recursive: true, force: true });
      }
      const logFile = join(cache, 'logs', `venv-${venvKey()}.log`);
      mkdirSync(dirname(logFile), { recursive: true });
      mkdirSync(dirname(venv), { recursive: true });
      progress.line(
        `Python venv: creating ${venv} from python/requirements.txt (a few minutes the first time; log: ${logFile})`,
      );
      const started = Date.now();
      const tick = (ms: number) => progress.line(`Python venv: still installing (${seconds(ms)})`);
      const fail = (what: string, hint: string) => {
        rmSync(venv, { recursive: true, force: true });
        return new UserError(`${what}; last lines of ${logFile}:\n${tailOfFile(logFile)}`, hint);
      };
      if ((await runLogged(python, ['-m', 'venv', venv], { logFile })) !== 0)
        throw fail(
          `\`${python} -m venv\` failed`,
          'install the venv module of Python 3.11 (Debian/Ubuntu: `apt-get install python3.11-venv`) and run `ddb-lake setup` again',
        );
      const pip = [
        join(venv, 'bin', 'python'),
        '-m',
        'pip',
        'install',
        '--disable-pip-version-check',
        '--no-input',
        '--progress-bar',
        'off',
        '-r',
        PYTHON_REQUIREMENTS,
      ];
      const code = await runLogged(pip[0]!, pip.slice(1), {
        logFile,
        env: { ...process.env, PYTHONNOUSERSITE: '1' },
        onTick: tick,
      });
      if (code !== 0)
        throw fail(
          `pip install failed (exit ${code})`,
          'fix the cause above (network access to the Python package index, disk space) and run `ddb-lake setup` again',
        );
      const check = verifyVenv(venv);
      if (!check.ok)
        throw fail(
          `the new venv does not match python/requirements.txt: ${check.problems}`,
          'fix python/requirements.txt and run `ddb-lake setup` again',
        );
      markComplete(venv, { requirements: PYTHON_REQUIREMENTS });
      progress.line(`Python venv: built in ${seconds(Date.now() - started)}`);
      return 'built';
    },
    (owner) => progress.line(`Python venv: waiting for another setup (pid ${owner.pid}) that is building it`),
  );
}
