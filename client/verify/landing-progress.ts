/**
 * How far the landing zone has caught up with the table's stream: the first half of "the pipeline has
 * caught up with the table's last change at time T" (docs/verify.md). One small interface, a local
 * implementation (the local poller's status) and an AWS one (the landing zone itself).
 */
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { awsClientConfig } from '../../core/aws';
import { parseS3Uri } from '../../core/s3-uri';
import type { Environment, LocalEnvironment } from '../../core/environment';
import { minuteFolder } from '../../core/landing';
import { readPollerStatus, type PollerStatus } from '../../stack/poller/status';

export interface LandingCheck {
  /**
   * Set once the landing zone holds a file for every stream record of the table written before T:
   * the instant that was known to be true (a landing file written before it is in the landing zone).
   */
  landedAtMs: number | null;
  /** One line for the progress display: what is still awaited, or how it was established. */
  detail: string;
  /** A problem waiting cannot fix (e.g. the stream lands somewhere the pipeline does not read). */
  fatal?: string;
}

export interface LandingProgress {
  /** How this implementation decides (shown in the report): `poller` or `landing-quiet`. */
  readonly method: 'poller' | 'landing-quiet';
  /** Has every stream record written before `sinceMs` landed? */
  check(sinceMs: number): Promise<LandingCheck>;
  /** After the comparison: did the table change after `sinceMs` (null when this cannot tell)? */
  changedSince(sinceMs: number): Promise<boolean | null>;
  close(): void;
}

export function landingProgressFor(
  env: Environment,
  table: string,
  landingUri: string,
  quietSeconds: number,
): LandingProgress {
  return env.kind === 'local'
    ? new PollerLandingProgress(env, table, landingUri)
    : new QuietLandingProgress(env, landingUri, quietSeconds);
}

/** A poller status older than this means the poller is not running. */
const STALE_STATUS_MS = 15_000;

/**
 * Local: the poller (`ddb-lake poller`, started by `up`) reads every shard of the table's stream and
 * writes `<state>/esm/status.json` every 2 s. Every record written before T has landed once, for every
 * shard of the table's current stream, a GetRecords sent after T reached the shard's end
 * (`caughtUpAt` ≥ T) and nothing read is left undelivered (`recordsBehind` 0) — as of the status's
 * `updatedAt`, which becomes the landed instant.
 */
export class PollerLandingProgress implements LandingProgress {
  readonly method = 'poller' as const;
  /** Records each shard had delivered when the stream was found landed. */
  private delivered: Map<string, number> | null = null;

  private readonly esmDir: string;

  constructor(
    env: LocalEnvironment,
    private readonly table: string,
    private readonly landingUri: string,
    esmDir?: string,
  ) {
    this.esmDir = esmDir ?? join(env.stateDir, 'esm');
  }

  async check(sinceMs: number): Promise<LandingCheck> {
    const status = readPollerStatus(this.esmDir);
    if (!status)
      return {
        landedAtMs: null,
        detail: `no poller status in ${this.esmDir} (is the poller running? \`ddb-lake up\` starts it)`,
      };
    const updatedMs = Date.parse(status.updatedAt);
    if (status.stoppedAt || Date.now() - updatedMs > STALE_STATUS_MS)
      return {
        landedAtMs: null,
        detail: `the poller is not running (last status ${status.updatedAt}); \`ddb-lake up\` restarts it`,
      };
    const t = status.tables[this.table];
    if (!t || !t.streamArn)
      return {
        landedAtMs: null,
        detail: `the poller has not picked up table ${this.table} yet${t?.note ? ` (${t.note})` : ''}`,
      };
    if (t.landing && slash(t.landing) !== slash(this.landingUri))
      return {
        landedAtMs: null,
        detail: 'landing mismatch',
        fatal: `the poller lands ${this.table}'s changes in ${t.landing}, but the pipeline reads ${this.landingUri}: they never reach the lake`,
      };
    const shards = t.shards.filter((s) => s.streamArn === t.streamArn && s.state !== 'finished' && s.state !== 'gone');
    const behind = shards.filter(
      (s) => !(s.caughtUpAt && Date.parse(s.caughtUpAt) >= sinceMs && s.recordsBehind === 0),
    );
    if (shards.some((s) => s.caughtUp && s.caughtUpAt === undefined))
      return {
        landedAtMs: null,
        detail:
          'the running poller is older than this ddb-lake (its status has no caughtUpAt): restart the stack (`ddb-lake down && ddb-lake up`)',
      };
    if (behind.length > 0) {
      const pending = behind.reduce((n, s) => n + s.recordsBehind, 0);
      return {
        landedAtMs: null,
        detail: `stream: ${pending} record(s) read and not yet landed${pending === 0 ? ' (reading)' : ''}`,
      };
    }
    this.delivered = deliveredOf(status, this.table);
    return {
      landedAtMs: updatedMs,
      detail: `stream: every record before the start has landed (poller, ${status.updatedAt})`,
    };
  }

  async changedSince(sinceMs: number): Promise<boolean | null> {
    const status = readPollerStatus(this.esmDir);
    if (!status || this.delivered === null) return null;
    const t = status.tables[this.table];
    if (!t) return null;
    const pending = t.shards.some((s) => s.recordsBehind > 0);
    const readAfter = t.shards.some((s) => s.caughtUpAt !== undefined && Date.parse(s.caughtUpAt) >= sinceMs);
    if (!readAfter) return null;
    const now = deliveredOf(status, this.table);
    return pending || [...now].some(([shard, n]) => n > (this.delivered!.get(shard) ?? 0));
  }

  close(): void {}
}

function deliveredOf(status: PollerStatus, table: string): Map<string, number> {
  return new Map(
    (status.tables[table]?.shards ?? []).map((s) => [
      `${s.streamArn} ${s.shardId}`,
      s.deliveredRecords + s.discardedRecords,
    ]),
  );
}

function slash(uri: string): string {
  return uri.endsWith('/') ? uri : `${uri}/`;
}

/**
 * AWS: the Lambda's event source mapping does not say how far it has read, so the landing zone is
 * watched instead: the landing has caught up with T once no new landing file has appeared for
 * `quietSeconds` (longer than the mapping's batching window plus the handler's write deadline) after
 * T. This is right for a table that is no longer written to — the case verify is for — and needs a
 * longer quiet time for a mapping that is far behind (its iterator age).
 */
export class QuietLandingProgress implements LandingProgress {
  readonly method = 'landing-quiet' as const;
  private readonly s3: S3Client;
  private newestAtStart: number | null | undefined;

  constructor(
    env: Environment,
    private readonly landingUri: string,
    private readonly quietSeconds: number,
  ) {
    this.s3 = new S3Client(awsClientConfig(env));
  }

  async check(sinceMs: number): Promise<LandingCheck> {
    const newest = await this.newestFileMs(sinceMs - 5 * 60_000);
    const quietSince = Math.max(sinceMs, newest ?? 0);
    const now = Date.now();
    if (now - quietSince >= this.quietSeconds * 1000)
      return {
        landedAtMs: quietSince + this.quietSeconds * 1000,
        detail: `landing: no new file for ${this.quietSeconds} s`,
      };
    return {
      landedAtMs: null,
      detail: `landing: waiting for ${this.quietSeconds} s without a new file (${Math.round((now - quietSince) / 1000)} s so far)`,
    };
  }

  async changedSince(sinceMs: number): Promise<boolean | null> {
    const newest = await this.newestFileMs(sinceMs - 5 * 60_000);
    if (this.newestAtStart === undefined) return null;
    return newest !== null && newest > sinceMs + this.quietSeconds * 1000;
  }

  /** LastModified of the newest landing file in the minute folders from `fromMs` on. */
  private async newestFileMs(fromMs: number): Promise<number | null> {
    const { bucket, key } = parseS3Uri(this.landingUri);
    const prefix = key.endsWith('/') || key === '' ? key : `${key}/`;
    let newest: number | null = null;
    let token: string | undefined;
    let pastMinuteFolders = false;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          StartAfter: `${prefix}${minuteFolder(fromMs)}`,
          ContinuationToken: token,
        }),
      );
      for (const o of page.Contents ?? []) {
        // The reserved `_…` folders sort after the minute folders: the walk is over.
        if (o.Key!.slice(prefix.length).startsWith('_')) {
          pastMinuteFolders = true;
          break;
        }
        if (o.LastModified && (newest === null || o.LastModified.getTime() > newest)) newest = o.LastModified.getTime();
      }
      token = page.IsTruncated && !pastMinuteFolders ? page.NextContinuationToken : undefined;
    } while (token);
    if (this.newestAtStart === undefined) this.newestAtStart = newest;
    return newest;
  }

  close(): void {
    this.s3.destroy();
  }
}
