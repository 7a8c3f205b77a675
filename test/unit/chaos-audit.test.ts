import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditJobs, type JobRecord } from '../../tools/chaos/audit';
import { FAULT_KINDS, planFaults } from '../../tools/chaos/schedule';

test('planFaults: each kind `each` times, reproducible by seed, spread over 10-80% of the duration in order', () => {
  const a = planFaults({ seed: 's', durationSeconds: 600, each: 2 });
  assert.deepEqual(a, planFaults({ seed: 's', durationSeconds: 600, each: 2 }));
  assert.notDeepEqual(
    a.map((f) => f.kind),
    planFaults({ seed: 't', durationSeconds: 600, each: 2 }).map((f) => f.kind),
  );
  assert.equal(a.length, FAULT_KINDS.length * 2);
  for (const k of FAULT_KINDS)
    assert.deepEqual(
      a.filter((f) => f.kind === k).map((f) => f.occurrence),
      [0, 1],
    );
  for (let i = 0; i < a.length; i++) {
    assert.ok(a[i]!.atSeconds >= 60 && a[i]!.atSeconds <= 480, `${a[i]!.atSeconds}`);
    if (i) assert.ok(a[i]!.atSeconds > a[i - 1]!.atSeconds);
  }
  assert.deepEqual(planFaults({ seed: 's', durationSeconds: 100, each: 0 }), []);
  assert.throws(() => planFaults({ seed: 's', durationSeconds: 100, each: 1.5 }));
});

const job = (runKey: string, status: string, from: number, to?: number): JobRecord => ({
  runKey,
  runId: runKey,
  kind: 'incremental',
  status,
  startedAt: new Date(from * 1000).toISOString(),
  ...(to === undefined ? {} : { finishedAt: new Date(to * 1000).toISOString() }),
});

test('auditJobs: a retry after a failure is fine; a batch run again after success and overlapping jobs are found', () => {
  const clean = auditJobs([
    job('p-g-inc-000001-a1', 'failed', 0, 5),
    job('p-g-inc-000001-a2', 'succeeded', 10, 20),
    job('p-g-inc-000002-a1', 'succeeded', 20, 30),
  ]);
  assert.deepEqual([clean.duplicateRuns, clean.overlaps, clean.succeeded, clean.failed], [[], [], 2, 1]);
  const bad = auditJobs([
    job('p-g-inc-000001-a1', 'succeeded', 0, 10),
    job('p-g-inc-000001-a2', 'succeeded', 12, 20),
    job('p-g-inc-000002-a1', 'succeeded', 15, 25),
    job('p-g-inc-000003-a1', 'running', 26),
  ]);
  assert.equal(bad.duplicateRuns.length, 1);
  assert.match(bad.duplicateRuns[0]!, /000001-a2 after .*000001-a1 succeeded/);
  assert.equal(bad.overlaps.length, 1);
  assert.match(bad.overlaps[0]!, /000002-a1 .* overlaps .*000001-a2/);
});
