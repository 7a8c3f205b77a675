/**
 * Recorded histories replay against the current workflow code; deliberately nondeterministic changes
 * fail replay with a message that says what differs.
 *
 * - test/fixtures/pipeline-history.json: a run on the dev server with fake external parts (see
 *   test/support/record-history.ts), recorded BEFORE the `cycle-from-start` patch: it proves that
 *   histories of the old code path still replay.
 * - test/fixtures/pipeline-loop-history.json: a real run of the whole loop on the local stack (real
 *   Spark jobs, live writes, pause/resume, the worker SIGKILLed mid-job), recorded by
 *   test/integration/pipeline-loop.test.ts with DDB_LAKE_RECORD_LOOP_FIXTURE=1 on the current code.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { historyFromJson } from '../client/history-json';
import { replayHistory } from '../client/replay';
import { main } from '../client/cli';
import { REPO_ROOT } from '../core/toolchain';

const FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'pipeline-history.json');
const history = () => historyFromJson(JSON.parse(readFileSync(FIXTURE, 'utf8')));
/** Every payload of the history, decoded (payloads are base64 in the JSON). */
const payloadText = () =>
  [...readFileSync(FIXTURE, 'utf8').matchAll(/"data": "([A-Za-z0-9+/=]+)"/g)]
    .map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'))
    .join('\n');
const variant = (name: string) =>
  bundleWorkflowCode({
    workflowsPath: require.resolve(`./support/nondeterministic/${name}`),
    logger: new DefaultLogger('WARN'),
  });

const LOOP_FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'pipeline-loop-history.json');

describe('replay of a real run (test/fixtures/pipeline-loop-history.json)', () => {
  const loopHistory = () => historyFromJson(JSON.parse(readFileSync(LOOP_FIXTURE, 'utf8')));

  test('it is a real run of the current code: Spark job runs, a pause, a worker killed mid-job', () => {
    const events = loopHistory().events!;
    const json = readFileSync(LOOP_FIXTURE, 'utf8');
    const payloads = [...json.matchAll(/"data": "([A-Za-z0-9+/=]+)"/g)]
      .map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'))
      .join('\n');
    for (const activity of ['validatePipeline', 'startExport', 'prepareInitialLoad', 'planIncremental', 'runJob'])
      assert.ok(json.includes(`"${activity}"`), activity);
    assert.match(payloads, /"runId":"local-[a-z0-9-]+"/, 'runs of the local spark-submit runner');
    assert.match(payloads, /"commitInstant":"\d{17}"/, 'Hudi commits');
    assert.match(payloads, /"id":"cycle-from-start"/, 'recorded by the patched code');
    assert.ok(json.includes('"signalName": "pause"') && json.includes('"signalName": "resume"'));
    const retried = events.filter((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1);
    assert.equal(retried.length, 1);
    assert.match(retried[0]!.activityTaskStartedEventAttributes!.lastFailure!.message!, /heartbeat timeout/i);
  });

  test('replays cleanly against the current workflow code', async () => {
    const r = await replayHistory(loopHistory());
    assert.equal(r.ok, true, r.explanation ?? '');
    assert.ok(r.events > 100);
  });
});

const MAINTENANCE_FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'pipeline-maintenance-history.json');

describe('replay of a run with table maintenance (test/fixtures/pipeline-maintenance-history.json)', () => {
  const text = () => readFileSync(MAINTENANCE_FIXTURE, 'utf8');

  test('it is a run of the patched code: a compaction that failed once and its retry, a pause', () => {
    const json = text();
    const payloads = [...json.matchAll(/"data": "([A-Za-z0-9+/=]+)"/g)]
      .map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'))
      .join('\n');
    assert.match(payloads, /"id":"table-maintenance"/, 'the patch marker');
    assert.ok(json.includes('"prepareMaintenance"'), 'the maintenance manifest activity');
    assert.match(payloads, /-cmp-000001-a1/);
    assert.match(payloads, /-cmp-000001-a2/, 'the retried compaction');
    assert.match(
      payloads,
      /"compaction":\{"maxIoMb":64,"compact":true,"clean":true/,
      "the compaction manifest's bounds",
    );
    assert.ok(json.includes('"signalName": "pause"') && json.includes('"signalName": "resume"'));
  });

  test('replays cleanly against the current workflow code', async () => {
    const r = await replayHistory(historyFromJson(JSON.parse(text())));
    assert.equal(r.ok, true, r.explanation ?? '');
    assert.ok(r.events > 100);
  });
});

describe('replay', () => {
  test('the recorded history covers every phase, a retry, signals, updates and continueAsNew', () => {
    const types = history().events!.map((e) => e.eventType);
    const json = readFileSync(FIXTURE, 'utf8');
    for (const activity of [
      'validatePipeline',
      'startExport',
      'awaitExport',
      'prepareInitialLoad',
      'planIncremental',
      'runJob',
    ])
      assert.ok(json.includes(`"${activity}"`), activity);
    assert.ok(payloadText().includes('simulated job failure'), 'a failed job');
    assert.match(payloadText(), /-inc-000002-a2/, 'its retry under a new run key');
    assert.ok(json.includes('"runNow"') && json.includes('"setInterval"'), 'updates');
    assert.ok(json.includes('"pause"') && json.includes('"resume"'), 'signals');
    assert.ok(types.length > 100);
    assert.match(json, /EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW/);
  });

  test('replays cleanly against the current workflow code', async () => {
    const r = await replayHistory(history());
    assert.equal(r.ok, true, r.explanation ?? '');
    assert.ok(r.events > 100);
  });

  test('`ddb-lake replay --history` passes on it', async () => {
    const saved = process.exitCode;
    process.exitCode = undefined;
    try {
      assert.equal(await main(['node', 'ddb-lake', 'replay', '--history', FIXTURE]), 0);
    } finally {
      process.exitCode = saved;
    }
  });

  test('a timer added before the first step fails replay, explained in words', async () => {
    const r = await replayHistory(history(), { workflowBundle: await variant('timer-first') });
    assert.equal(r.ok, false);
    assert.match(r.explanation!, /does not reproduce the recorded history/);
    assert.match(r.explanation!, /at event 5 the history has: activity validatePipeline scheduled/);
    assert.match(r.explanation!, /the current code instead: starts a timer/);
  });

  test('an extra activity shifts the steps: the message names both activities', async () => {
    const r = await replayHistory(history(), { workflowBundle: await variant('extra-activity') });
    assert.equal(r.ok, false);
    assert.match(r.explanation!, /the history scheduled activity startExport/);
    assert.match(r.explanation!, /the current code schedules activity validatePipeline there instead/);
  });
});
