import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { METRIC_NAMES, METRICS_NAMESPACE, PIPELINE_DIMENSION } from '../core/aws-deployment';
import type { PipelineTarget } from './targets';

const MINUTE = Duration.minutes(1);

/** Lag above the bound in this many of the last LAG_MINUTES minutes raises the lag alarms. */
const LAG_MINUTES = 5;
const LAG_BREACHING_MINUTES = 3;

/**
 * The stack's alarms, all notifying one SNS topic (subscribe to it: docs/aws.md, "Alarms"):
 * per pipeline, stalled (no heartbeat), lag (the oldest landing file not yet in the lake), stream
 * lag (changes waiting in the stream: the capture side, which the lag cannot see) and lost
 * on-failure records.
 */
export class PipelineAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, pipelines: { target: PipelineTarget; handler: lambda.IFunction }[]) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'ddb-lake alarms', enforceSSL: true });
    for (const { target, handler } of pipelines) {
      const name = target.config.name;
      const { lagSeconds, stalledMinutes } = target.config.alarms;
      const metric = (metricName: string, statistic: string) =>
        new cloudwatch.Metric({
          namespace: METRICS_NAMESPACE,
          metricName,
          dimensionsMap: { [PIPELINE_DIMENSION]: name },
          statistic,
          period: MINUTE,
        });
      const scoped = new Construct(this, target.logicalName);
      this.add(
        new cloudwatch.Alarm(scoped, 'Stalled', {
          alarmDescription: `ddb-lake ${name}: no work for ${stalledMinutes} minutes — stalled (\`ddb-lake status ${name}\` says why), paused, stopped, or no worker running`,
          metric: metric(METRIC_NAMES.heartbeat, 'SampleCount'),
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          threshold: 1,
          evaluationPeriods: stalledMinutes,
          // Silence is the symptom: no worker, no heartbeat.
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        }),
      );
      this.add(
        new cloudwatch.Alarm(scoped, 'Lag', {
          alarmDescription: `ddb-lake ${name}: a change has waited more than ${lagSeconds} s in the landing zone without reaching the lake`,
          metric: metric(METRIC_NAMES.lagSeconds, 'Maximum'),
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          threshold: lagSeconds,
          evaluationPeriods: LAG_MINUTES,
          datapointsToAlarm: LAG_BREACHING_MINUTES,
          // No cycle, no figure: the stalled alarm covers that.
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
      this.add(
        new cloudwatch.Alarm(scoped, 'StreamLag', {
          alarmDescription: `ddb-lake ${name}: changes have waited more than ${lagSeconds} s in the stream of ${target.config.table} (the stream Lambda is failing or behind)`,
          metric: handler.metric('IteratorAge', { statistic: 'Maximum', period: MINUTE }),
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          threshold: lagSeconds * 1000,
          evaluationPeriods: LAG_MINUTES,
          datapointsToAlarm: LAG_BREACHING_MINUTES,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
      this.add(
        new cloudwatch.Alarm(scoped, 'DiscardedBatchNotRecorded', {
          alarmDescription: `ddb-lake ${name}: the stream mapping discarded a batch and could not record it in the on-failure bucket — changes are missing: \`ddb-lake rebackfill ${name}\``,
          metric: handler.metric('DestinationDeliveryFailures', { statistic: 'Sum', period: MINUTE }),
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          threshold: 0,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }
  }

  private add(alarm: cloudwatch.Alarm): void {
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
