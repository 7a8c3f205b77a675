/**
 * The pipeline's health as metrics, for the alarms the CDK app creates (docs/aws.md, "Alarms"):
 * a heartbeat while the pipeline works, and at each cycle its lag and backlog. Publishing is
 * best-effort: it never fails, delays or changes a cycle (no history, no activity result carries it).
 */
import type { LandingFile } from '../core/planner';

export interface CycleFigures {
  /** Age of the oldest landing file not yet applied when the cycle listed the landing zone; 0 when none waits. */
  lagSeconds: number;
  /** Landing files not yet applied at that moment, including the ones this cycle's job takes. */
  backlogFiles: number;
}

export interface PipelineMetrics {
  /** The pipeline is at work (waiting for its export or job). Never throws, never waits. */
  heartbeat(pipeline: string): void;
  /** A cycle planned its batch (a heartbeat too). Never throws, never waits. */
  cycle(pipeline: string, figures: CycleFigures): void;
}

/** A cycle's figures from what its plan saw: the files it takes and the ones it leaves for later. */
export function cycleFigures(
  listedAtMs: number,
  take: Pick<LandingFile, 'lastModifiedMs'>[],
  left: { files: number; oldestLastModifiedMs: number | null },
): CycleFigures {
  let oldest = left.oldestLastModifiedMs;
  for (const f of take) if (oldest === null || f.lastModifiedMs < oldest) oldest = f.lastModifiedMs;
  return {
    lagSeconds: oldest === null ? 0 : Math.max(0, Math.round((listedAtMs - oldest) / 100) / 10),
    backlogFiles: take.length + left.files,
  };
}

/** What one publication of a pipeline's metrics carries. */
export interface MetricsSample {
  pipeline: string;
  atMs: number;
  /** The largest lag seen since the previous publication (a peak is never averaged away); null without a cycle. */
  lagSeconds: number | null;
  /** The latest backlog seen since the previous publication; null without a cycle. */
  backlogFiles: number | null;
}

/**
 * Turns the frequent notes (every cycle, every heartbeat of a wait: seconds apart) into at most one
 * publication per pipeline per `everyMs`: CloudWatch alarms look at 1-minute periods, and each
 * PutMetricData is billed. The first note of a pipeline is published at once.
 */
export class MetricsWindow {
  private readonly open = new Map<
    string,
    { sentAtMs: number | null; lagSeconds: number | null; backlogFiles: number | null }
  >();

  constructor(private readonly everyMs = 60_000) {}

  /** Notes a heartbeat or a cycle; returns the sample to publish now, or null. */
  note(pipeline: string, nowMs: number, figures?: CycleFigures): MetricsSample | null {
    let w = this.open.get(pipeline);
    if (!w) this.open.set(pipeline, (w = { sentAtMs: null, lagSeconds: null, backlogFiles: null }));
    if (figures) {
      w.lagSeconds = Math.max(w.lagSeconds ?? 0, figures.lagSeconds);
      w.backlogFiles = figures.backlogFiles;
    }
    if (w.sentAtMs !== null && nowMs - w.sentAtMs < this.everyMs) return null;
    const sample = { pipeline, atMs: nowMs, lagSeconds: w.lagSeconds, backlogFiles: w.backlogFiles };
    w.sentAtMs = nowMs;
    w.lagSeconds = null;
    w.backlogFiles = null;
    return sample;
  }
}
