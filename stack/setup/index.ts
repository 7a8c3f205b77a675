import { UserError } from '../../core/errors';
import { toolchainPaths, type ToolchainPaths } from '../../core/toolchain';
import { folderState } from './cache';
import { isExecutableFile } from '../../core/process';
import { ensureJars, missingJars } from './jars';
import { probeGo, probeJava, probeMaven, probePython, type Probe } from './prerequisites';
import { stderrProgress, seconds, type Progress } from './progress';
import {
  buildTemporalCli,
  cachedTemporalCliPath,
  describeRejectedPathCli,
  findTemporalCli,
  type TemporalCli,
} from './temporal-cli';
import { ensureVenv } from './venv';

export type { Progress } from './progress';
export { stderrProgress, silentProgress } from './progress';

/** The toolchain's paths with the Temporal CLI resolved ($TEMPORAL_CLI, cached build or PATH). */
export type Toolchain = ToolchainPaths;

/**
 * Install whatever is missing from the toolchain (Temporal CLI, Python venv, jars) into the cache;
 * idempotent, one progress line per step. Missing prerequisites are reported together, each with
 * how to get it, before anything is installed.
 */
export async function runSetup(progress: Progress = stderrProgress): Promise<Toolchain> {
  const started = Date.now();
  const paths = toolchainPaths();
  progress.line(`cache: ${paths.cache} (set DDB_LAKE_CACHE to move it)`);
  const existingCli = findTemporalCli(paths.cache);
  const needJars = missingJars(paths.jarsDir).length > 0;
  const probes: Probe[] = [probeJava(), probePython()];
  if (!existingCli) probes.push(probeGo());
  if (needJars) probes.push(probeMaven());
  for (const p of probes) if (p.ok) progress.line(`${p.name}: ok (${p.version} at ${p.path})`);
  const missing = probes.filter((p): p is Extract<Probe, { ok: false }> => !p.ok);
  if (missing.length > 0) {
    const lines = missing.map((p) => `  - ${p.name}: ${p.problem}\n    → ${p.hint}`);
    throw new UserError(
      `missing prerequisite${missing.length > 1 ? 's' : ''}:\n${lines.join('\n')}`,
      'install what is listed above, then run `ddb-lake setup` again',
    );
  }
  const python = (probes[1] as Extract<Probe, { ok: true }>).path;
  const maven = probes.find((p): p is Extract<Probe, { ok: true }> => p.ok && p.name.startsWith('Maven'))?.path;

  // The three steps are independent (compile, pip, Maven): run them side by side.
  const steps = await Promise.allSettled([
    (async (): Promise<TemporalCli> => {
      if (existingCli) {
        progress.line(
          `Temporal CLI: ok (${existingCli.source}: ${existingCli.path}, ${existingCli.version.cli}, Server ${existingCli.version.server ?? '?'})`,
        );
        return existingCli;
      }
      const rejected = describeRejectedPathCli();
      if (rejected) progress.line(`Temporal CLI: ${rejected}; building the pinned one instead`);
      return buildTemporalCli(paths.cache, progress);
    })(),
    ensureVenv(paths.venv, python, paths.cache, progress).then((how) =>
      progress.line(`Python venv: ok (${how}: ${paths.venv})`),
    ),
    ensureJars(paths.jarsDir, maven, paths.cache, progress).then((fetched) =>
      progress.line(`jars: ok (${fetched ? `fetched ${fetched}` : 'cached'}: ${paths.jarsDir})`),
    ),
  ]);
  const failures = steps
    .filter((s): s is PromiseRejectedResult => s.status === 'rejected')
    .map((s) => s.reason as unknown);
  if (failures.length > 0) {
    for (const f of failures.slice(1)) progress.line(`also failed: ${f instanceof Error ? f.message : String(f)}`);
    throw failures[0];
  }
  const cli = (steps[0] as PromiseFulfilledResult<TemporalCli>).value;
  progress.line(`toolchain ready in ${seconds(Date.now() - started)}`);
  return { ...paths, temporalCli: cli.path };
}

/**
 * What every command that needs the toolchain calls first: a few file checks when the cache is
 * complete, otherwise the full setup (with its progress lines).
 */
export async function ensureToolchain(progress: Progress = stderrProgress): Promise<Toolchain> {
  const paths = toolchainPaths();
  const complete = folderState(paths.venv) === 'complete' && missingJars(paths.jarsDir).length === 0;
  if (complete) {
    if (process.env.TEMPORAL_CLI && isExecutableFile(process.env.TEMPORAL_CLI)) return paths;
    const cached = cachedTemporalCliPath(paths.cache);
    if (!process.env.TEMPORAL_CLI && isExecutableFile(cached)) return { ...paths, temporalCli: cached };
    const found = process.env.TEMPORAL_CLI ? undefined : findTemporalCli(paths.cache);
    if (found) return { ...paths, temporalCli: found.path };
  }
  return runSetup(progress);
}
