/**
 * Pure parsing of the version lines the prerequisites print, and the rules that decide whether a
 * found tool is good enough. Kept free of I/O so it is unit-tested on real sample outputs.
 */

/** A dotted numeric version, e.g. [1, 29, 1]. */
export type Version = number[];

/** Parse "1.29.1", "go1.25.0", "v1.5.1", "3.11.7rc1" into numbers; undefined if none found. */
export function parseVersion(text: string): Version | undefined {
  const m = /(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(text);
  if (!m) return undefined;
  return [m[1], m[2], m[3]].filter((p): p is string => p !== undefined).map(Number);
}

/** Negative, zero or positive like a comparator; missing parts count as 0 (1.25 == 1.25.0). */
export function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function formatVersion(v: Version): string {
  return v.join('.');
}

/**
 * Java's major version from `java -version` (printed on stderr):
 * `openjdk version "17.0.15" 2025-04-15` → 17; the old scheme `java version "1.8.0_392"` → 8.
 */
export function parseJavaMajor(output: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?[^"]*"/.exec(output);
  if (!m) return undefined;
  const first = Number(m[1]);
  return first === 1 && m[2] !== undefined ? Number(m[2]) : first;
}

/** `go version go1.26.8 linux/amd64` → [1, 26, 8]. */
export function parseGoVersion(output: string): Version | undefined {
  const m = /\bgo(\d+(?:\.\d+){0,2})/.exec(output);
  return m ? parseVersion(m[1]!) : undefined;
}

/** `Python 3.11.7` → [3, 11, 7]. */
export function parsePythonVersion(output: string): Version | undefined {
  const m = /Python (\d+\.\d+(?:\.\d+)?)/.exec(output);
  return m ? parseVersion(m[1]!) : undefined;
}

export interface TemporalCliVersion {
  /** The CLI's own version; `0.0.0-DEV` for a build from source with `go install`. */
  cli: string;
  /** The Temporal server version embedded in the CLI (what `server start-dev` runs). */
  server?: string;
  /** True for a build from source, whose CLI version says nothing (it prints 0.0.0-DEV). */
  devBuild: boolean;
}

/** `temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)` or `temporal version 0.0.0-DEV (Server 1.29.1, …)`. */
export function parseTemporalVersion(output: string): TemporalCliVersion | undefined {
  const m = /temporal version (\S+)/.exec(output);
  if (!m) return undefined;
  const cli = m[1]!;
  const server = /\(Server (\d+\.\d+\.\d+)/.exec(output)?.[1];
  return { cli, server, devBuild: /^0\.0\.0/.test(cli) };
}

/**
 * The rule for a Temporal CLI we did not build: what matters is the dev server it embeds, so a
 * CLI is new enough when its embedded server is at least the one in our pinned CLI (v1.5.1 →
 * Server 1.29.1). A build from source reports CLI 0.0.0-DEV, so its CLI version cannot be
 * compared; its server version can. A CLI that prints no server version is judged by its own
 * version (at least the pinned one), and a dev build without a server version is rejected.
 */
export const TEMPORAL_MIN = { cli: [1, 5, 1] as Version, server: [1, 29, 1] as Version };

export function temporalCliAcceptable(v: TemporalCliVersion): { ok: boolean; reason: string } {
  if (v.server) {
    const server = parseVersion(v.server)!;
    const ok = compareVersions(server, TEMPORAL_MIN.server) >= 0;
    return {
      ok,
      reason: `embeds Temporal Server ${v.server}${ok ? '' : ` (need ≥ ${formatVersion(TEMPORAL_MIN.server)})`}`,
    };
  }
  if (v.devBuild) return { ok: false, reason: `development build ${v.cli} that does not say which server it embeds` };
  const cli = parseVersion(v.cli);
  const ok = cli !== undefined && compareVersions(cli, TEMPORAL_MIN.cli) >= 0;
  return { ok, reason: `CLI ${v.cli}${ok ? '' : ` (need ≥ ${formatVersion(TEMPORAL_MIN.cli)})`}` };
}
