import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../core/errors';
import { VERSIONS } from '../../core/toolchain';
import { publish, removeTemporaries, temporarySibling, withCacheLock } from './cache';
import { capture, findOnPath, isExecutableFile, runLogged, tailOfFile } from '../../core/process';
import type { Progress } from './progress';
import { seconds } from './progress';
import { parseTemporalVersion, temporalCliAcceptable, type TemporalCliVersion } from './versions';

/** Module path of the CLI; later tags carry a `replace` directive and cannot be go-installed. */
export const TEMPORAL_CLI_MODULE = `github.com/temporalio/cli/cmd/temporal@${VERSIONS.temporalCli}`;

export interface TemporalCli {
  path: string;
  version: TemporalCliVersion;
  source: 'TEMPORAL_CLI' | 'cache' | 'PATH' | 'built';
}

export function cachedTemporalCliPath(cache: string): string {
  return join(cache, 'temporal-cli', VERSIONS.temporalCli, 'temporal');
}

function probe(path: string): TemporalCliVersion | undefined {
  const r = capture(path, ['--version']);
  return r.status === 0 ? parseTemporalVersion(r.output) : undefined;
}

/** The CLI to use without building anything: $TEMPORAL_CLI, our cached build, or a new-enough one on PATH. */
export function findTemporalCli(cache: string): TemporalCli | undefined {
  const explicit = process.env.TEMPORAL_CLI;
  if (explicit) {
    const version = isExecutableFile(explicit) ? probe(explicit) : undefined;
    if (!version)
      throw new UserError(
        `TEMPORAL_CLI=${explicit} is not a working Temporal CLI`,
        'point TEMPORAL_CLI at a `temporal` binary, or unset it to use the cached build',
      );
    return { path: explicit, version, source: 'TEMPORAL_CLI' };
  }
  const cached = cachedTemporalCliPath(cache);
  if (isExecutableFile(cached)) {
    const version = probe(cached);
    if (version) return { path: cached, version, source: 'cache' };
  }
  const onPath = findOnPath('temporal');
  if (onPath) {
    const version = probe(onPath);
    if (version && temporalCliAcceptable(version).ok) return { path: onPath, version, source: 'PATH' };
  }
  return undefined;
}

/** Explain why a `temporal` on PATH was passed over (shown once, during setup). */
export function describeRejectedPathCli(): string | undefined {
  const onPath = findOnPath('temporal');
  if (!onPath) return undefined;
  const version = probe(onPath);
  if (!version) return `${onPath} does not print a Temporal CLI version`;
  const verdict = temporalCliAcceptable(version);
  return verdict.ok ? undefined : `${onPath} is not new enough: ${verdict.reason}`;
}

/**
 * Build the pinned CLI with `go install` into a temporary GOBIN inside the cache, check that the
 * binary runs, then rename it into place: a half-built binary never sits under the final name.
 */
export async function buildTemporalCli(cache: string, progress: Progress): Promise<TemporalCli> {
  const finalPath = cachedTemporalCliPath(cache);
  const root = join(cache, 'temporal-cli');
  mkdirSync(root, { recursive: true });
  return withCacheLock(
    cache,
    'temporal-cli',
    async () => {
      if (isExecutableFile(finalPath)) {
        const version = probe(finalPath);
        if (version) return { path: finalPath, version, source: 'cache' as const };
      }
      removeTemporaries(root);
      const gobin = temporarySibling(join(root, VERSIONS.temporalCli));
      mkdirSync(gobin, { recursive: true });
      const logFile = join(cache, 'logs', 'temporal-cli-build.log');
      mkdirSync(join(cache, 'logs'), { recursive: true });
      progress.line(
        `Temporal CLI: building ${VERSIONS.temporalCli} with \`go install ${TEMPORAL_CLI_MODULE}\` (a few minutes the first time; log: ${logFile})`,
      );
      const started = Date.now();
      const code = await runLogged('go', ['install', TEMPORAL_CLI_MODULE], {
        logFile,
        env: { ...process.env, GOBIN: gobin },
        onTick: (ms) => progress.line(`Temporal CLI: still building (${seconds(ms)})`),
      });
      const built = join(gobin, 'temporal');
      const version = code === 0 && isExecutableFile(built) ? probe(built) : undefined;
      if (!version) {
        rmSync(gobin, { recursive: true, force: true });
        throw new UserError(
          `building the Temporal CLI failed (exit ${code}); last lines of ${logFile}:\n${tailOfFile(logFile)}`,
          'fix the cause above (Go version, network access to the Go module proxy, disk space) and run `ddb-lake setup` again, or set TEMPORAL_CLI to an existing binary',
        );
      }
      publish(built, finalPath);
      rmSync(gobin, { recursive: true, force: true });
      progress.line(`Temporal CLI: built in ${seconds(Date.now() - started)} → ${finalPath}`);
      return { path: finalPath, version, source: 'built' as const };
    },
    (owner) => progress.line(`Temporal CLI: waiting for another setup (pid ${owner.pid}) that is building it`),
  );
}
