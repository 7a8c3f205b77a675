/**
 * The chaos run of bench/chaos.ts, short: on a stack of its OWN (it SIGKILLs the worker, restarts
 * Temporal and the poller, which would break the shared test stack), ~2.5 min of writes at 10/s with
 * every fault kind once; then the lake must equal the table, exactly the injected bad lines must be
 * quarantined, no batch may run twice and no two jobs may overlap. Ports DDB_LAKE_TEST_CHAOS_TEMPORAL_PORT
 * (17533), DDB_LAKE_TEST_CHAOS_TEMPORAL_UI_PORT (18533), DDB_LAKE_TEST_CHAOS_AWS_PORT (15555); state
 * `.ddb-lake/test-chaos` (test/run.ts also stops it at the end of `npm test`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO_ROOT } from '../core/toolchain';
import { formatChaosTable, formatFaultLog } from '../tools/chaos/report';
import { runChaos } from '../tools/chaos/run';

export const TEST_CHAOS_STATE = join(REPO_ROOT, '.ddb-lake', 'test-chaos');

const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

test(
  'chaos: every fault kind once under live writes — the lake equals the table, bad lines quarantined exactly, no duplicate or overlapping job',
  { timeout: 20 * 60_000 },
  async () => {
    const result = await runChaos({
      stateDir: TEST_CHAOS_STATE,
      ports: {
        temporal: port('DDB_LAKE_TEST_CHAOS_TEMPORAL_PORT', 17533),
        temporalUi: port('DDB_LAKE_TEST_CHAOS_TEMPORAL_UI_PORT', 18533),
        aws: port('DDB_LAKE_TEST_CHAOS_AWS_PORT', 15555),
      },
      rate: 10,
      durationSeconds: 150,
      each: 1,
      seed: 'test-chaos',
      initial: 500,
      updateRatio: 0.3,
      deleteRatio: 0.05,
      ttlRate: 0.5,
      intervalSeconds: 2,
      sweepEveryCycles: 3,
      keepStack: false,
      cleanState: true,
      say: (line) => console.log(`[chaos]${line}`),
    });
    console.log(`[chaos] faults:\n${formatFaultLog(result)}`);
    console.log(formatChaosTable(result));
    const failed = result.checks.filter((c) => !c.ok);
    assert.deepEqual(
      failed.map((c) => `${c.name}: ${c.value} (expected ${c.expected})`),
      [],
    );
    assert.ok(
      result.writes.ttlRemoves > 0 && result.writes.deletes > 0 && result.writes.updates > 0,
      'every kind of change was written',
    );
    assert.ok(
      result.quarantined.injected > 0 && result.writes.handLanded > 0,
      'bad lines and late changes were injected',
    );
    assert.equal(result.verify.result, 'equal');
  },
);
