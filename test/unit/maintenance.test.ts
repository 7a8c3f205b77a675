/** When the workflow compacts or cleans the table (workflows/maintenance.ts; docs/table-types.md). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maintenanceDue, maintenanceSpec, newTableTracking, trackRun } from '../../workflows/maintenance';
import { testConfig } from '../support/fakes';

const m = testConfig({
  lake: {
    location: '/tmp/l',
    maintenance: { compactAfterDeltaCommits: 3, compactAfterLogMb: 1, cleanAfterCommits: 2, compactMaxIoMb: 64 },
  },
}).lake.maintenance;
const counts = (c: object) => ({
  recordsRead: 1,
  upserted: 1,
  deleted: 0,
  rejected: 0,
  durationSeconds: 1,
  commitInstant: '1',
  ...c,
});

test('merge-on-read: due after N delta commits or past the log bound; a compaction resets it', () => {
  const t = newTableTracking();
  assert.equal(maintenanceDue(t, m), null, 'nothing known yet');
  trackRun(t, 'initialLoad', counts({ tableType: 'MERGE_ON_READ' }));
  trackRun(
    t,
    'incremental',
    counts({ tableType: 'MERGE_ON_READ', deltaCommitsSinceCompaction: 2, logBytesSinceCompaction: 10 }),
  );
  assert.equal(maintenanceDue(t, m), null);
  trackRun(t, 'incremental', counts({ deltaCommitsSinceCompaction: 3, logBytesSinceCompaction: 20 }));
  assert.equal(maintenanceDue(t, m), 'compaction');
  trackRun(t, 'compaction', counts({ commitInstant: null, compactionInstant: '2' }));
  assert.equal(maintenanceDue(t, m), null);
  trackRun(t, 'incremental', counts({ deltaCommitsSinceCompaction: 1, logBytesSinceCompaction: 1024 * 1024 }));
  assert.equal(maintenanceDue(t, m), 'compaction', 'the log bound alone');
  assert.deepEqual(maintenanceSpec('compaction', m), { maxIoMb: 64, compact: true, clean: true, retainCommits: 10 });
});

test('copy-on-write: a clean every N commits; empty batches (no commit) do not count', () => {
  const t = newTableTracking();
  trackRun(t, 'initialLoad', counts({ tableType: 'COPY_ON_WRITE' }));
  trackRun(t, 'incremental', counts({ commitInstant: null }));
  trackRun(t, 'incremental', counts({}));
  assert.equal(maintenanceDue(t, m), null);
  trackRun(t, 'incremental', counts({}));
  assert.equal(maintenanceDue(t, m), 'clean');
  assert.deepEqual(maintenanceSpec('clean', m), { maxIoMb: 64, compact: false, clean: true, retainCommits: 10 });
  trackRun(t, 'compaction', counts({ commitInstant: null, cleanInstant: '3' }));
  assert.equal(maintenanceDue(t, m), null);
});
