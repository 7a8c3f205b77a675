/**
 * What the operator asked for (run now, resume, rebackfill, a new interval) and the waits that obey
 * it: paused, between two cycles, backing off after a failure, stalled. Also the step `status` shows.
 * Deterministic (workflow code); owned by PipelineRun, one per run.
 */
import { ApplicationFailure, condition, isCancellation, log } from '@temporalio/workflow';
import type { PipelineConfig } from '../core/config';
import type { PipelineState, Step } from './definitions';
import { describeFailure, failureKind, rootFailure } from './failures';
import { backoffMs } from './state';

export class Control {
  step: Step = 'validate';
  nextCycleAtMs: number | null = null;
  retryAtMs: number | null = null;
  runNowRequested = false;
  resumeRequested = false;
  rebackfillRequested = false;
  /** Bumped by setInterval: a sleep in progress recomputes its end. */
  intervalVersion = 0;

  constructor(
    private readonly config: PipelineConfig,
    private readonly s: PipelineState,
  ) {}

  /**
   * Count a failure (workflows/failures.ts: the workflow owns retries); back off, or stall until
   * `resume` once `retry.maxAttempts` failures came in a row. Nothing is skipped.
   */
  async onFailure(err: unknown, runKey: string | null): Promise<void> {
    if (isCancellation(err)) throw err;
    const s = this.s;
    const message = describeFailure(err);
    const kind = failureKind(err);
    if (kind === 'fatal') throw ApplicationFailure.nonRetryable(message, (rootFailure(err) as ApplicationFailure).type);
    s.failures++;
    s.counters.failures++;
    s.lastError = { at: new Date().toISOString(), phase: s.phase, runKey, message };
    log.warn('pipeline step failed', { phase: s.phase, runKey, failures: s.failures, message });
    if (s.failures >= this.config.retry.maxAttempts || kind === 'stall') {
      s.stalled = { since: new Date().toISOString(), phase: s.phase, runKey, attempts: s.failures, error: message };
      await this.stallUntilResumed();
      s.failures = 0;
      return;
    }
    this.step = 'backoff';
    const delay = backoffMs(this.config.retry, s.failures);
    this.retryAtMs = Date.now() + delay;
    await condition(() => this.runNowRequested || this.rebackfillRequested, delay);
    this.retryAtMs = null;
  }

  /** Hold everything (the state says why) until `resume` or `rebackfill`. */
  async stallUntilResumed(): Promise<void> {
    this.step = 'stalled';
    this.resumeRequested = false;
    await condition(() => this.resumeRequested || this.rebackfillRequested);
    this.resumeRequested = false;
    this.s.stalled = null;
  }

  async whileUnpaused(): Promise<void> {
    if (!this.s.paused) return;
    this.step = 'paused';
    await condition(() => !this.s.paused || this.rebackfillRequested);
  }

  /**
   * Wait until `intervalSeconds` after `fromMs` (the cycle's start; the end on the old path); no
   * timer at all when that time has passed. `runNow`, `pause` and a new interval cut it short.
   */
  async untilNextCycle(fromMs: number): Promise<void> {
    this.step = 'sleep';
    const interrupted = () => this.runNowRequested || this.s.paused || this.rebackfillRequested;
    for (;;) {
      this.nextCycleAtMs = fromMs + this.s.intervalSeconds * 1000;
      const remaining = this.nextCycleAtMs - Date.now();
      if (remaining <= 0 || interrupted()) break;
      const version = this.intervalVersion;
      const woken = await condition(() => interrupted() || this.intervalVersion !== version, remaining);
      if (!woken) break;
    }
    this.nextCycleAtMs = null;
  }
}
