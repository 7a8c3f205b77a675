/**
 * The knobs of the local event source mapping, named and defaulted like Lambda's
 * (CreateEventSourceMapping), except where noted.
 */
import { DEFAULT_MAX_WRITE_SECONDS } from '../../lambda/handler';

export interface EsmSettings {
  /**
   * BatchSize: most records per invocation (Lambda: 1-10000, default 100). Ours is 1000: every landing
   * file costs the incremental job a few S3 requests, so fewer, larger files make shorter jobs
   * (bench/freshness, docs/freshness.md).
   */
  batchSize: number;
  /**
   * MaximumBatchingWindowInSeconds: how long to gather records before invoking with a partial
   * batch. Lambda's default is 0, the brief's 10 s; ours is 2 s — 10 s is a sixth of a 60 s
   * freshness budget, 0 makes a file per poll (docs/freshness.md).
   */
  batchWindowSeconds: number;
  /** MaximumRetryAttempts: -1 = retry until it succeeds (Lambda's default). */
  maxRetryAttempts: number;
  /** BisectBatchOnFunctionError. Lambda's default is false; ours is true (isolates a record that crashes the function). */
  bisectBatchOnFunctionError: boolean;
  /** The handler's write deadline (docs/landing.md rule 2). */
  maxWriteSeconds: number;
  /** The function timeout: an invocation still running after this is a function error. */
  functionTimeoutSeconds: number;
  /** Pause between GetRecords calls once a shard is caught up (Lambda polls about 4 times a second). */
  pollIntervalMs: number;
  /** How often tables, streams and shards are (re)discovered. */
  discoverIntervalSeconds: number;
  /** How often `<esm>/status.json` is rewritten. */
  statusIntervalSeconds: number;
}

export const ESM_DEFAULTS: EsmSettings = {
  batchSize: 1000,
  batchWindowSeconds: 2,
  maxRetryAttempts: -1,
  bisectBatchOnFunctionError: true,
  maxWriteSeconds: DEFAULT_MAX_WRITE_SECONDS,
  functionTimeoutSeconds: DEFAULT_MAX_WRITE_SECONDS + 15,
  pollIntervalMs: 250,
  discoverIntervalSeconds: 5,
  statusIntervalSeconds: 2,
};

/** Lambda's payload limit for one invocation (6 MB), estimated from the records' SizeBytes. */
export const MAX_BATCH_BYTES = 6 * 1024 * 1024;

/** Checks settings; returns a list of problems (empty when valid), each naming the setting. */
export function settingsProblems(s: EsmSettings): string[] {
  const problems: string[] = [];
  const int = (name: keyof EsmSettings, min: number, max: number) => {
    const v = s[name] as number;
    if (!Number.isInteger(v) || v < min || v > max)
      problems.push(`${name} must be a whole number from ${min} to ${max} (got ${v})`);
  };
  int('batchSize', 1, 10000);
  if (!(s.batchWindowSeconds >= 0 && s.batchWindowSeconds <= 300))
    problems.push(`batchWindowSeconds must be from 0 to 300 (got ${s.batchWindowSeconds})`);
  int('maxRetryAttempts', -1, 10000);
  int('maxWriteSeconds', 1, 900);
  int('functionTimeoutSeconds', 1, 900);
  int('pollIntervalMs', 10, 60000);
  if (!(s.discoverIntervalSeconds > 0 && s.discoverIntervalSeconds <= 3600))
    problems.push(`discoverIntervalSeconds must be above 0 and at most 3600 (got ${s.discoverIntervalSeconds})`);
  if (!(s.statusIntervalSeconds > 0 && s.statusIntervalSeconds <= 3600))
    problems.push(`statusIntervalSeconds must be above 0 and at most 3600 (got ${s.statusIntervalSeconds})`);
  if (problems.length === 0 && s.functionTimeoutSeconds <= s.maxWriteSeconds)
    problems.push(
      `functionTimeoutSeconds (${s.functionTimeoutSeconds}) must be greater than maxWriteSeconds (${s.maxWriteSeconds})`,
    );
  return problems;
}
