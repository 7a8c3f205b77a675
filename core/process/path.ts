import { delimiter, join } from 'node:path';
import which from 'which';

/** Where a program is: `which` (npm's own PATH look-up, as `command -v` does it). */

/** First executable called `name` on PATH (or on `pathVar`). */
export function findOnPath(name: string, pathVar = process.env.PATH ?? ''): string | undefined {
  // An empty PATH entry would mean the current folder: never look there.
  const path = pathVar.split(delimiter).filter(Boolean).join(delimiter);
  if (!path || name.includes('/')) return undefined;
  return which.sync(name, { path, nothrow: true }) ?? undefined;
}

/** Is `path` a file we may execute? */
export function isExecutableFile(path: string): boolean {
  return path.includes('/') && which.sync(path, { nothrow: true }) !== null;
}

/** The `java` that spark-submit runs: $JAVA_HOME/bin/java when JAVA_HOME is set, else the first on PATH. */
export function javaExecutable(): string | undefined {
  const fromHome = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : undefined;
  return fromHome && isExecutableFile(fromHome) ? fromHome : findOnPath('java');
}
