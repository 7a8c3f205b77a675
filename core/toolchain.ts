import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** Pinned versions of the heavy tools (see DESIGN.md: Glue 5.0 = Spark 3.5 + Hudi 0.15). */
export const VERSIONS = {
  temporalCli: 'v1.5.1',
  python: '3.11',
  java: 17,
  goMin: '1.25',
} as const;

/** Maven Central coordinates of the jars the local Glue runner puts on Spark's class path. */
export const JARS = [
  { group: 'org.apache.hudi', artifact: 'hudi-spark3.5-bundle_2.12', version: '0.15.0' },
  { group: 'org.apache.hadoop', artifact: 'hadoop-aws', version: '3.3.4' },
  { group: 'com.amazonaws', artifact: 'aws-java-sdk-bundle', version: '1.12.262' },
] as const;

/** Repository root: the nearest folder above this module holding package.json (works from dist/ too). */
export const REPO_ROOT = findRepoRoot(__dirname);

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const PYTHON_REQUIREMENTS = join(REPO_ROOT, 'python', 'requirements.txt');

/** Per-user cache for heavy tools, shared by every clone: $DDB_LAKE_CACHE or ~/.cache/ddb-lake. */
export function cacheRoot(): string {
  return resolve(
    process.env.DDB_LAKE_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ddb-lake'),
  );
}

/** The venv folder is keyed by the requirements' content, so a change of pins builds a new one. */
export function venvKey(): string {
  const digest = createHash('sha256').update(readFileSync(PYTHON_REQUIREMENTS)).digest('hex').slice(0, 12);
  return `py${VERSIONS.python.replace('.', '')}-${digest}`;
}

export interface ToolchainPaths {
  cache: string;
  temporalCli: string;
  venv: string;
  python: string;
  sparkSubmit: string;
  jarsDir: string;
  jars: string[];
}

export function toolchainPaths(): ToolchainPaths {
  const cache = cacheRoot();
  const venv = join(cache, 'venv', venvKey());
  const jarsDir = join(cache, 'jars');
  return {
    cache,
    temporalCli: process.env.TEMPORAL_CLI || join(cache, 'temporal-cli', VERSIONS.temporalCli, 'temporal'),
    venv,
    python: join(venv, 'bin', 'python'),
    sparkSubmit: join(venv, 'bin', 'spark-submit'),
    jarsDir,
    jars: JARS.map((j) => join(jarsDir, `${j.artifact}-${j.version}.jar`)),
  };
}
