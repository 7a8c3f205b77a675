/**
 * verify's "the stream has landed" check on the local poller's status (client/verify/landing-progress.ts):
 * landed only when every shard of the table's current stream reached its end in a read sent after the
 * start and nothing read is left undelivered; a stale status, another landing, an old poller are said.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalEnvironment } from '../../core/environment';
import { writePollerStatus, type PollerStatus } from '../../stack/poller/status';
import { ESM_DEFAULTS } from '../../stack/poller/settings';
import { PollerLandingProgress } from '../../client/verify/landing-progress';

const STREAM = 'arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2026-11-27T00:00:00.000';
const LANDING = 's3://ddb-lake-local/landing/T/';

function status(
  shards: Partial<PollerStatus['tables'][string]['shards'][number]>[],
  over: Partial<PollerStatus> = {},
  landing = LANDING,
): PollerStatus {
  const now = new Date().toISOString();
  return {
    pid: 1,
    startedAt: now,
    updatedAt: now,
    settings: ESM_DEFAULTS,
    tables: {
      T: {
        landing,
        streamArn: STREAM,
        streamViewType: 'NEW_AND_OLD_IMAGES',
        shards: shards.map((s, i) => ({
          streamArn: STREAM,
          shardId: `shard-${i}`,
          state: 'reading',
          recordsBehind: 0,
          secondsBehind: 0,
          caughtUp: true,
          deliveredRecords: 10,
          deliveredBatches: 1,
          retries: 0,
          discardedRecords: 0,
          ...s,
        })),
      },
    },
    ...over,
  };
}

test('landed once every open shard was read to its end after the start, with nothing pending', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'esm-'));
  try {
    const env = { kind: 'local', stateDir: dir } as LocalEnvironment;
    const progress = new PollerLandingProgress(env, 'T', LANDING, dir);
    const start = Date.now();
    const before = new Date(start - 1000).toISOString();
    const after = new Date(start + 100).toISOString();

    assert.match((await progress.check(start)).detail, /no poller status/);

    await writePollerStatus(dir, status([{ caughtUpAt: before }]));
    assert.equal((await progress.check(start)).landedAtMs, null, 'a read from before the start proves nothing');

    await writePollerStatus(dir, status([{ caughtUpAt: after, recordsBehind: 3 }]));
    const pending = await progress.check(start);
    assert.equal(pending.landedAtMs, null);
    assert.match(pending.detail, /3 record\(s\) read and not yet landed/);

    await writePollerStatus(
      dir,
      status([
        { caughtUpAt: after },
        { state: 'finished', caughtUpAt: before },
        { streamArn: `${STREAM}-old`, caughtUpAt: before },
      ]),
    );
    const landed = await progress.check(start);
    assert.ok(landed.landedAtMs !== null && landed.landedAtMs >= start - 5);
    assert.equal(await progress.changedSince(start), false);

    await writePollerStatus(dir, status([{ caughtUpAt: after, deliveredRecords: 11 }]));
    assert.equal(await progress.changedSince(start), true, 'a record delivered after the check: the table changed');

    await writePollerStatus(dir, status([{ caughtUpAt: after }], {}, 's3://elsewhere/T/'));
    assert.match(
      (await progress.check(start)).fatal ?? '',
      /lands T's changes in s3:\/\/elsewhere\/T\/, but the pipeline reads/,
    );

    await writePollerStatus(
      dir,
      status([{ caughtUpAt: after }], { updatedAt: new Date(start - 60_000).toISOString() }),
    );
    assert.match((await progress.check(start)).detail, /the poller is not running/);

    await writePollerStatus(dir, status([{ caughtUpAt: undefined }]));
    assert.match((await progress.check(start)).detail, /older than this ddb-lake/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
