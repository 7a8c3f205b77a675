import { PutMetricDataCommand, type CloudWatchClient, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { METRIC_NAMES, METRICS_NAMESPACE, PIPELINE_DIMENSION } from '../../core/aws-deployment';
import { MetricsWindow, type CycleFigures, type MetricsSample, type PipelineMetrics } from '../pipeline-metrics';

export interface CloudWatchMetricsOptions {
  /** At most one PutMetricData per pipeline this often (default 60 s). */
  everyMs?: number;
  clock?: { now(): number };
  /** A failed publication (default: one warning on stderr per 10 minutes). */
  onError?: (err: unknown) => void;
}

/**
 * Publishes the pipeline metrics with CloudWatch PutMetricData (namespace DdbLake, dimension
 * Pipeline). Sends run in the background: a slow or failing CloudWatch never holds up a cycle or
 * the heartbeat of a waiting activity; a failure is reported, and the stalled alarm notices the silence.
 */
export class CloudWatchMetrics implements PipelineMetrics {
  private readonly window: MetricsWindow;
  private readonly clock: { now(): number };
  private readonly onError: (err: unknown) => void;
  private readonly sending = new Set<Promise<void>>();

  constructor(
    private readonly cloudwatch: CloudWatchClient,
    options: CloudWatchMetricsOptions = {},
  ) {
    this.window = new MetricsWindow(options.everyMs);
    this.clock = options.clock ?? Date;
    this.onError = options.onError ?? warnEvery(10 * 60_000);
  }

  heartbeat(pipeline: string): void {
    this.publish(this.window.note(pipeline, this.clock.now()));
  }

  cycle(pipeline: string, figures: CycleFigures): void {
    this.publish(this.window.note(pipeline, this.clock.now(), figures));
  }

  /** Resolves once every publication started so far has ended (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.all([...this.sending]);
  }

  private publish(sample: MetricsSample | null): void {
    if (!sample) return;
    const sent: Promise<void> = this.cloudwatch
      .send(new PutMetricDataCommand({ Namespace: METRICS_NAMESPACE, MetricData: metricData(sample) }))
      .then(
        () => undefined,
        (err: unknown) => this.onError(err),
      )
      .finally(() => this.sending.delete(sent));
    this.sending.add(sent);
  }
}

export function metricData(sample: MetricsSample): MetricDatum[] {
  const base = { Dimensions: [{ Name: PIPELINE_DIMENSION, Value: sample.pipeline }], Timestamp: new Date(sample.atMs) };
  const data: MetricDatum[] = [{ ...base, MetricName: METRIC_NAMES.heartbeat, Value: 1, Unit: 'Count' }];
  if (sample.lagSeconds !== null)
    data.push({ ...base, MetricName: METRIC_NAMES.lagSeconds, Value: sample.lagSeconds, Unit: 'Seconds' });
  if (sample.backlogFiles !== null)
    data.push({ ...base, MetricName: METRIC_NAMES.backlogFiles, Value: sample.backlogFiles, Unit: 'Count' });
  return data;
}

function warnEvery(intervalMs: number): (err: unknown) => void {
  let lastMs = -Infinity;
  return (err) => {
    if (Date.now() - lastMs < intervalMs) return;
    lastMs = Date.now();
    const e = err as { name?: string; message?: string };
    console.error(
      `ddb-lake worker: could not publish the pipeline metrics to CloudWatch (${e?.name ?? 'Error'}: ${e?.message ?? String(err)}); the stalled alarm will fire while this lasts (docs/aws.md, "Alarms")`,
    );
  };
}
