/**
 * One line per worker log entry: `<time> <LEVEL> <message> key=value …`. The SDK's default prints
 * each entry as a multi-line object with fields that say nothing to an operator (task token,
 * namespace, task queue, SDK component, …); those are left out here.
 */
import type { LogEntry } from '@temporalio/worker';

/** Fields every entry carries that do not help reading the log. */
const NOISE = new Set([
  'sdkComponent',
  'taskQueue',
  'namespace',
  'taskToken',
  'workflowType',
  'isLocal',
  'activityId',
  'workflowRunId',
]);

export function formatLogEntry(entry: LogEntry): string {
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  const fields: string[] = [];
  let error: string | undefined;
  for (const [key, value] of Object.entries(entry.meta ?? {})) {
    if (NOISE.has(key) || value === undefined) continue;
    if (key === 'error' || value instanceof Error) {
      error = describe(value, entry.level === 'ERROR');
      continue;
    }
    fields.push(`${key}=${text(value)}`);
  }
  const line = `${time} ${entry.level.padEnd(5)} ${entry.message}${fields.length ? ` ${fields.join(' ')}` : ''}`;
  return error ? `${line}: ${error.split('\n').join('\n    ')}` : line;
}

/** SDK notices that say nothing about our pipelines. */
const DROPPED = new Set(['No Nexus services registered, not polling for Nexus tasks']);

export function logLine(entry: LogEntry): void {
  if (DROPPED.has(entry.message)) return;
  process.stderr.write(`${formatLogEntry(entry)}\n`);
}

function text(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** `Name: message` (a failure's cause appended); the stack only for errors. */
function describe(value: unknown, withStack: boolean): string {
  if (!(value instanceof Error)) return text(value);
  const cause = value.cause instanceof Error ? ` (cause: ${value.cause.name}: ${value.cause.message})` : '';
  const head = `${value.name}: ${value.message}${cause}`;
  const frames = withStack && value.stack ? value.stack.split('\n').filter((l) => /^\s+at /.test(l)) : [];
  return frames.length ? `${head}\n${frames.map((l) => l.trim()).join('\n')}` : head;
}
