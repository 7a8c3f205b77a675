/** The worker's one-line log entries (worker/log-format.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLogEntry } from '../../worker/log-format';

const at = BigInt(Date.UTC(2026, 10, 27, 13, 0, 0, 250)) * 1_000_000n;

test('one line: time, level, message, the fields that matter; SDK bookkeeping left out', () => {
  const line = formatLogEntry({
    level: 'INFO',
    message: 'job running',
    timestampNanos: at,
    meta: {
      sdkComponent: 'activity',
      taskQueue: 'ddb-lake',
      namespace: 'default',
      taskToken: 'CiQw…',
      isLocal: false,
      activityId: '6',
      workflowRunId: 'x',
      workflowType: 'pipelineWorkflow',
      attempt: 1,
      workflowId: 'tx1',
      runKey: 'tx1-e973e42a-inc-000001-a1',
      note: 'two words',
    },
  });
  assert.equal(
    line,
    '2026-11-27T13:00:00.250Z INFO  job running attempt=1 workflowId=tx1 runKey=tx1-e973e42a-inc-000001-a1 note="two words"',
  );
});

test('an error is appended by name and message; its stack only at ERROR', () => {
  const err = new Error('pipeline "tx1" cannot start:\n  - table: missing');
  err.name = 'ApplicationFailure';
  const warn = formatLogEntry({
    level: 'WARN',
    message: 'Activity failed',
    timestampNanos: at,
    meta: { activityType: 'validatePipeline', error: err },
  });
  assert.equal(
    warn,
    '2026-11-27T13:00:00.250Z WARN  Activity failed activityType=validatePipeline: ApplicationFailure: pipeline "tx1" cannot start:\n      - table: missing',
  );
  const error = formatLogEntry({ level: 'ERROR', message: 'boom', timestampNanos: at, meta: { error: err } });
  assert.match(
    error,
    /^2026-11-27T13:00:00.250Z ERROR boom: ApplicationFailure: pipeline "tx1" cannot start:\n {6}- table: missing\n {4}at /,
  );
});
