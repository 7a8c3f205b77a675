import { join } from 'node:path';
import { homedir } from 'node:os';
import { stripVTControlCharacters } from 'node:util';
import { VERSIONS } from '../../core/toolchain';
import { capture, findOnPath, isExecutableFile } from './exec';
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
  const fromHome = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : undefined;
  const path = fromHome && isExecutableFile(fromHome) ? fromHome : findOnPath('java');
  if (!path) return { ok: false, name, problem: 'no `java` on PATH and JAVA_HOME is not set', hint: HINTS.java };
  const major = parseJavaMajor(capture(path, ['-version']).output);
  if (major !== VERSIONS.java)
    return { ok: false, name, problem: `${path} is Java ${major ?? '(unknown version)'}`, hint: HINTS.java };
  return { ok: true, name, path, version: String(major) };
}

/** Go ≥ 1.25: only needed to build the Temporal CLI from source. */
export function probeGo(): Probe {
  const name = `Go ≥ ${VERSIONS.goMin}`;
  const path = findOnPath('go');
  if (!path) return { ok: false, name, problem: 'no `go` on PATH (needed to build the Temporal CLI)', hint: HINTS.go };
  const version = parseGoVersion(capture(path, ['version']).output);
  if (!version || compareVersions(version, parseVersion(VERSIONS.goMin)!) < 0)
    return {
      ok: false,
      name,
      problem: `${path} is Go ${version ? formatVersion(version) : '(unknown version)'}`,
      hint: HINTS.go,
    };
  return { ok: true, name, path, version: formatVersion(version) };
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
  const name = 'Maven ≥ 3.6';
  const path = findOnPath('mvn');
  if (!path) return { ok: false, name, problem: 'no `mvn` on PATH', hint: HINTS.maven };
  const m = /Apache Maven (\d+\.\d+(?:\.\d+)?)/.exec(stripVTControlCharacters(capture(path, ['-v'], 60_000).output));
  const version = m ? parseVersion(m[1]!) : undefined;
  if (!version || compareVersions(version, [3, 6]) < 0)
    return {
      ok: false,
      name,
      problem: `${path} is Maven ${version ? formatVersion(version) : '(unknown version)'}`,
      hint: HINTS.maven,
    };
  return { ok: true, name, path, version: formatVersion(version) };
}

/** Maven's local repository; we pass it explicitly so the checksum files it keeps can be found. */
export function mavenLocalRepository(): string {
  return process.env.DDB_LAKE_MAVEN_REPO || join(homedir(), '.m2', 'repository');
}
