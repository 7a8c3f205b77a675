/** `ddb-lake status` for a person (client/status-format.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStatus } from '../../client/status-format';
import type { StatusDocument } from '../../client/pipeline-client';
import type { RunRecord } from '../../workflows/definitions';

const now = Date.parse('2026-11-27T11:07:20.000Z');
const run = (
  runKey: string,
  files: number,
  read: number | null,
  kind: RunRecord['kind'] = 'incremental',
  error: string | null = null,
): RunRecord => ({
  runKey,
  kind,
  status: error ? 'failed' : 'succeeded',
  files,
  lateFiles: 0,
  startedAt: '2026-11-27T11:06:55.000Z',
  finishedAt: '2026-11-27T11:07:07.123Z',
  durationSeconds: 12.1,
  recordsRead: read,
  upserted: read === null ? null : read - 10,
  deleted: read === null ? null : 9,
  rejected: read === null ? null : 0,
  error,
});

const status: StatusDocument = {
  schemaVersion: 1,
  pipeline: 'transaction',
  table: 'Transaction',
  phase: 'incremental',
  step: 'job',
  paused: false,
  stalled: null,
  intervalSeconds: 10,
  startedAt: '2026-11-27T11:00:00.000Z',
  export: {
    exportArn: 'arn:…',
    status: 'COMPLETED',
    exportTime: '2026-11-27T11:00:00.000Z',
    itemCount: 7269,
    root: 's3://ddb-lake-local/export/',
    adopted: false,
  },
  watermark: {
    closedThrough: '2026-11-27-11-05',
    openFolders: [{ folder: '2026-11-27-11-06', filesTaken: 4 }],
    sweptAt: null,
  },
  appliedThrough: '2026-11-27T11:07:03.120Z',
  lagSeconds: 4.2,
  backlog: { files: 1, oldestLastModified: null, more: false },
  currentRun: {
    runKey: 'transaction-1a2b3c4d-inc-000042-a1',
    kind: 'incremental',
    files: 3,
    startedAt: '2026-11-27T11:07:12.000Z',
  },
  nextCycleAt: null,
  retry: null,
  lastRuns: [
    run('transaction-1a2b3c4d-inc-000041-a1', 3, 1200),
    run(
      'transaction-1a2b3c4d-inc-000040-a1',
      1,
      null,
      'incremental',
      'job transaction-1a2b3c4d-inc-000040-a1 failed: Py4JJavaError: boom\n  at …',
    ),
    run('transaction-1a2b3c4d-init-a1', 0, 7269, 'initialLoad'),
  ],
  lastError: {
    at: '2026-11-27T11:05:00.000Z',
    phase: 'incremental',
    runKey: 'transaction-1a2b3c4d-inc-000040-a1',
    message: 'job failed: Py4JJavaError: boom',
  },
  counters: {
    cycles: 120,
    emptyCycles: 80,
    jobsSucceeded: 42,
    jobsFailed: 1,
    failures: 1,
    filesApplied: 180,
    lateFilesApplied: 1,
    recordsRead: 12000,
    upserted: 11000,
    deleted: 90,
    rejected: 0,
    continuedAsNew: 0,
    rebackfills: 0,
  },
  workflow: { cyclesSinceContinueAsNew: 120, historyLength: 1391 },
  execution: {
    workflowId: 'transaction',
    runId: '01a21cbd-9619-7479-a955-345ecc713dbf',
    status: 'RUNNING',
    startTime: '2026-11-27T11:00:00.000Z',
    closeTime: null,
    historyLength: 1391,
    closeReason: null,
  },
};

test('a running pipeline: what runs now and for how long, the watermark, lag, totals, and the last runs as aligned rows', () => {
  const text = formatStatus(status, now);
  assert.equal(
    text,
    [
      'pipeline transaction (table Transaction) — incremental, running a job',
      '  running     transaction-1a2b3c4d-inc-000042-a1 (incremental, 3 files) for 8 s, since 2026-11-27T11:07:12Z',
      '  watermark   closed through 2026-11-27-11-05; open: 2026-11-27-11-06 (4 files)',
      '  lag         4.2 s (every landing file written before 2026-11-27T11:07:03Z is in the lake); backlog 1 file',
      '  export      COMPLETED, 7269 items as of 2026-11-27T11:00:00Z',
      '  interval    10 s',
      '  totals      120 cycles (80 empty), 42 jobs ok, 1 failed, 1 failure; 180 files applied (1 late)',
      '              records 12000 read, 11000 upserted, 90 deleted, 0 rejected; continued as new 0×',
      '  last runs   newest first: input, records read / upserted / deleted / rejected, wall time, end',
      '    transaction-1a2b3c4d-inc-000041-a1  succeeded  3 files  1200 / 1190 / 9 / 0  12.1 s  2026-11-27T11:07:07Z',
      '    transaction-1a2b3c4d-inc-000040-a1  failed     1 file   no summary           12.1 s  2026-11-27T11:07:07Z',
      '      job transaction-1a2b3c4d-inc-000040-a1 failed: Py4JJavaError: boom',
      '    transaction-1a2b3c4d-init-a1        succeeded  export   7269 / 7259 / 9 / 0  12.1 s  2026-11-27T11:07:07Z',
      '  last error  2026-11-27T11:05:00Z transaction-1a2b3c4d-inc-000040-a1: job failed: Py4JJavaError: boom',
      '  workflow    run 01a21cbd-9619-7479-a955-345ecc713dbf, 1391 history events, started 2026-11-27T11:00:00Z',
    ].join('\n'),
  );
});

test('sleeping, paused-requested and stalled heads', () => {
  const sleeping = formatStatus(
    { ...status, step: 'sleep', currentRun: null, nextCycleAt: '2026-11-27T11:07:26.000Z', paused: true },
    now,
  );
  assert.match(
    sleeping,
    /^pipeline transaction \(table Transaction\) — incremental, waiting for the next cycle \(next in 6 s\) — pause requested \(the running step finishes first\)\n/,
  );
  const stalled = formatStatus(
    {
      ...status,
      step: 'stalled',
      currentRun: null,
      stalled: { since: '2026-11-27T11:06:00.000Z', phase: 'incremental', runKey: 'r-a5', attempts: 5, error: 'boom' },
    },
    now,
  );
  assert.match(
    stalled,
    /\n {2}STALLED since 2026-11-27T11:06:00.000Z after 5 attempt\(s\) of r-a5:\n {4}boom\n {4}nothing is skipped: fix the cause, then `ddb-lake resume transaction`\n/,
  );
});

test('the lake line and a compaction run (docs/table-types.md)', () => {
  const text = formatStatus(
    {
      ...status,
      currentRun: {
        runKey: 'transaction-1a2b3c4d-cmp-000005-a1',
        kind: 'compaction',
        files: 0,
        startedAt: status.currentRun!.startedAt,
      },
      lastRuns: [run('transaction-1a2b3c4d-cmp-000004-a1', 0, 0, 'compaction')],
      counters: { ...status.counters!, compactions: 4, cleans: 0 },
      lake: {
        type: 'MERGE_ON_READ',
        deltaCommitsSinceCompaction: 10,
        logBytesSinceCompaction: 3 * 1024 * 1024,
        commitsSinceClean: 10,
        due: 'compaction',
        last: {
          runKey: 'transaction-1a2b3c4d-cmp-000004-a1',
          kind: 'compaction',
          finishedAt: '2026-11-27T11:01:02.500Z',
          fileGroupsCompacted: 6,
          filesCleaned: 12,
        },
      },
    },
    now,
  );
  assert.match(
    text,
    /\n {2}running {5}transaction-1a2b3c4d-cmp-000005-a1 \(compacting \/ cleaning the table\) for 8 s/,
  );
  assert.match(
    text,
    /\n {2}lake {8}merge-on-read, 10 delta commits \(3\.0 MB of logs\) since the last compaction; last compaction transaction-1a2b3c4d-cmp-000004-a1 at 2026-11-27T11:01:02Z; compaction due before the next batch\n/,
  );
  assert.match(text, /continued as new 0×; 4 compactions, 0 cleans\n/);
  assert.match(text, /transaction-1a2b3c4d-cmp-000004-a1 {2}succeeded {2}table/);
});
