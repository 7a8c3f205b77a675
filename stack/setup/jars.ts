import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../core/errors';
import { JARS } from '../../core/toolchain';
import { looksLikeCompleteZip, publish, removeTemporaries, sha1OfFile, temporarySibling, withCacheLock } from './cache';
import { isExecutableFile, runLogged, tailOfFile } from '../../core/process';
import { mavenLocalRepository } from './prerequisites';
import type { Progress } from './progress';
import { seconds } from './progress';

/** Pinned so the fetch does not depend on whatever plugin version Maven's defaults resolve to. */
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

type Jar = (typeof JARS)[number];

export function jarFileName(jar: Jar): string {
  return `${jar.artifact}-${jar.version}.jar`;
}

/** Jars not yet under their final name in `jarsDir` (a jar there is complete by construction). */
export function missingJars(jarsDir: string): Jar[] {
  return JARS.filter((j) => !existsSync(join(jarsDir, jarFileName(j))));
}

/** The checksum Maven verified and stored beside the artifact in its local repository. */
function expectedSha1(repo: string, jar: Jar): string | undefined {
  const file = join(repo, ...jar.group.split('.'), jar.artifact, jar.version, `${jarFileName(jar)}.sha1`);
  try {
    return readFileSync(file, 'utf8').trim().split(/\s+/)[0]?.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * Fetch each missing jar with Maven (strict checksums) into a temporary folder, check it against
 * the SHA-1 Maven recorded and that it is a whole zip, then rename it into `jarsDir`.
 */
export async function ensureJars(
  jarsDir: string,
  mvn: string | undefined,
  cache: string,
  progress: Progress,
): Promise<number> {
  if (missingJars(jarsDir).length === 0) return 0;
  return withCacheLock(
    cache,
    'jars',
    async () => {
      const missing = missingJars(jarsDir);
      if (missing.length === 0) return 0;
      if (!mvn || !isExecutableFile(mvn))
        throw new UserError(
          'Maven is needed to fetch the Spark/Hudi jars but was not found',
          'install Apache Maven 3.6 or newer and run `ddb-lake setup` again',
        );
      mkdirSync(jarsDir, { recursive: true });
      removeTemporaries(jarsDir);
      const repo = mavenLocalRepository();
      const logFile = join(cache, 'logs', 'jars.log');
      mkdirSync(join(cache, 'logs'), { recursive: true });
      for (const jar of missing) {
        const coordinates = `${jar.group}:${jar.artifact}:${jar.version}`;
        const finalPath = join(jarsDir, jarFileName(jar));
        const temp = temporarySibling(finalPath);
        mkdirSync(temp);
        progress.line(`jars: fetching ${coordinates} (log: ${logFile})`);
        const started = Date.now();
        const code = await runLogged(
          mvn,
          [
            '-B',
            '-q',
            '-C',
            `-Dmaven.repo.local=${repo}`,
            '-Dstyle.color=never',
            `${DEPENDENCY_PLUGIN}:copy`,
            `-Dartifact=${coordinates}:jar`,
            `-DoutputDirectory=${temp}`,
          ],
          {
            logFile,
            cwd: temp,
            onTick: (ms) => progress.line(`jars: still fetching ${jar.artifact} (${seconds(ms)})`),
          },
        );
        const fetched = join(temp, jarFileName(jar));
        const problem = await checkFetchedJar(code, fetched, expectedSha1(repo, jar), readdirSafe(temp));
        if (problem) {
          rmSync(temp, { recursive: true, force: true });
          throw new UserError(
            `fetching ${coordinates} failed: ${problem}; last lines of ${logFile}:\n${tailOfFile(logFile)}`,
            'fix the cause above (network access to Maven Central, disk space) and run `ddb-lake setup` again',
          );
        }
        publish(fetched, finalPath);
        rmSync(temp, { recursive: true, force: true });
        progress.line(`jars: ${jarFileName(jar)} ready in ${seconds(Date.now() - started)}`);
      }
      return missing.length;
    },
    (owner) => progress.line(`jars: waiting for another setup (pid ${owner.pid}) that is fetching them`),
  );
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

async function checkFetchedJar(
  exitCode: number,
  file: string,
  sha1: string | undefined,
  files: string[],
): Promise<string | undefined> {
  if (exitCode !== 0) return `mvn exited with ${exitCode}`;
  if (!existsSync(file)) return `mvn produced no ${file} (found: ${files.join(', ') || 'nothing'})`;
  if (!sha1) return 'Maven recorded no SHA-1 for it in its local repository';
  const actual = await sha1OfFile(file);
  if (actual !== sha1) return `SHA-1 ${actual} does not match the expected ${sha1}`;
  if (!looksLikeCompleteZip(file)) return 'it is not a complete jar (zip)';
  return undefined;
}
