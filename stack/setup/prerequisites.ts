import { join } from 'node:path';
import { homedir } from 'node:os';
import { stripVTControlCharacters } from 'node:util';
import { VERSIONS } from '../../core/toolchain';
import { capture, findOnPath, javaExecutable } from '../../core/process';
import {
  compareVersions,
  formatVersion,
  parseGoVersion,
  parseJavaMajor,
  parsePythonVersion,
  parseVersion,
} from './versions';

/** A tool found on this machine, or why it is not usable and how to get it. */
export type Probe =
  | { ok: true; name: string; path: string; version: string }
  | { ok: false; name: string; problem: string; hint: string };

const HINTS = {
  java: 'install OpenJDK 17 (Debian/Ubuntu: `apt-get install openjdk-17-jdk-headless`, macOS: `brew install openjdk@17`) and put it on PATH or set JAVA_HOME to it',
  go: `install Go ${VERSIONS.goMin} or newer (your package manager or the official Go download), or set TEMPORAL_CLI to an existing Temporal CLI binary`,
  python: `install Python ${VERSIONS.python} with its venv module (Debian/Ubuntu: \`apt-get install python${VERSIONS.python} python${VERSIONS.python}-venv\`, macOS: \`brew install python@${VERSIONS.python}\`, or \`pyenv install ${VERSIONS.python}\`), or set DDB_LAKE_PYTHON to a Python ${VERSIONS.python} interpreter`,
  maven:
    'install Apache Maven 3.6 or newer (Debian/Ubuntu: `apt-get install maven`, macOS: `brew install maven`); it fetches the Spark/Hudi jars',
};

/** Java 17 (Spark 3.5 as AWS Glue 5.0 runs it): $JAVA_HOME/bin/java, else `java` on PATH. */
export function probeJava(): Probe {
  const name = `Java ${VERSIONS.java}`;
  const path = javaExecutable();
  if (!path) return { ok: false, name, problem: 'no `java` on PATH and JAVA_HOME is not set', hint: HINTS.java };
  const major = parseJavaMajor(capture(path, ['-version']).output);
  if (major !== VERSIONS.java)
    return { ok: false, name, problem: `${path} is Java ${major ?? '(unknown version)'}`, hint: HINTS.java };
  return { ok: true, name, path, version: String(major) };
}

/**
 * A tool on PATH whose version must be at least `minimum`: found, asked its version (`versionArgs`),
 * compared. `missing` says why it is needed when it is not on PATH.
 */
function probeMinimum(tool: {
  name: string;
  command: string;
  versionArgs: string[];
  timeoutMs?: number;
  parse: (output: string) => number[] | undefined;
  minimum: number[];
  label: string;
  hint: string;
  missing?: string;
}): Probe {
  const { name, hint } = tool;
  const path = findOnPath(tool.command);
  if (!path) return { ok: false, name, problem: `no \`${tool.command}\` on PATH${tool.missing ?? ''}`, hint };
  const version = tool.parse(capture(path, tool.versionArgs, tool.timeoutMs).output);
  if (!version || compareVersions(version, tool.minimum) < 0)
    return {
      ok: false,
      name,
      problem: `${path} is ${tool.label} ${version ? formatVersion(version) : '(unknown version)'}`,
      hint,
    };
  return { ok: true, name, path, version: formatVersion(version) };
}

/** Go ≥ 1.25: only needed to build the Temporal CLI from source. */
export function probeGo(): Probe {
  return probeMinimum({
    name: `Go ≥ ${VERSIONS.goMin}`,
    command: 'go',
    versionArgs: ['version'],
    parse: parseGoVersion,
    minimum: parseVersion(VERSIONS.goMin)!,
    label: 'Go',
    hint: HINTS.go,
    missing: ' (needed to build the Temporal CLI)',
  });
}

/** Python 3.11 (AWS Glue 5.0's): $DDB_LAKE_PYTHON, else python3.11, else python3 if it is 3.11. */
export function probePython(): Probe {
  const name = `Python ${VERSIONS.python}`;
  const wanted = parseVersion(VERSIONS.python)!;
  const candidates = process.env.DDB_LAKE_PYTHON
    ? [process.env.DDB_LAKE_PYTHON]
    : [findOnPath(`python${VERSIONS.python}`), findOnPath('python3')].filter((p): p is string => p !== undefined);
  const seen: string[] = [];
  for (const path of candidates) {
    const version = parsePythonVersion(capture(path, ['--version']).output);
    if (version && version[0] === wanted[0] && version[1] === wanted[1])
      return { ok: true, name, path, version: formatVersion(version) };
    seen.push(`${path} is ${version ? `Python ${formatVersion(version)}` : 'not a working Python'}`);
  }
  return {
    ok: false,
    name,
    problem: seen.length ? seen.join('; ') : `no python${VERSIONS.python} or python3 on PATH`,
    hint: HINTS.python,
  };
}

/** Maven: only needed to fetch jars that are not in the cache yet. */
export function probeMaven(): Probe {
  return probeMinimum({
    name: 'Maven ≥ 3.6',
    command: 'mvn',
    versionArgs: ['-v'],
    timeoutMs: 60_000,
    parse: (output) => {
      const m = /Apache Maven (\d+\.\d+(?:\.\d+)?)/.exec(stripVTControlCharacters(output));
      return m ? parseVersion(m[1]!) : undefined;
    },
    minimum: [3, 6],
    label: 'Maven',
    hint: HINTS.maven,
  });
}

/** Maven's local repository; we pass it explicitly so the checksum files it keeps can be found. */
export function mavenLocalRepository(): string {
  return process.env.DDB_LAKE_MAVEN_REPO || join(homedir(), '.m2', 'repository');
}
