import { Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../config.js';

/** Metric names the engine emits (Powertools Metrics, namespace ExitEngine) and the alarms read. */
export const ENGINE_METRICS = {
  rejectedEvents: 'RejectedEvents',
  pendingApprovalAge: 'PendingApprovalAgeSeconds',
  secondsSinceLastSnapshot: 'SecondsSinceLastSnapshot',
  signalsEmitted: 'SignalsEmitted',
  evaluationLatency: 'EvaluationLatency',
  ruleBreaches: 'RuleBreaches',
} as const;

export interface MonitoringProps {
  readonly functions: Readonly<Record<string, IFunction>>;
  /** Every dead-letter queue, by a readable name: any message in one is an alarm. */
  readonly deadLetterQueues: Readonly<Record<string, IQueue>>;
  readonly topicKey: IKey;
  readonly alarmEmail?: string;
  readonly approvalAgeAlarmSeconds: number;
  readonly monitoredWorlds: readonly string[];
  readonly snapshotIntervalSeconds: number;
}

/**
 * Metrics Insights query over every dimension set of an engine metric. Powertools adds a `service`
 * dimension (and the engine may add more); a plain metric alarm would silently watch the wrong series if
 * the dimensions ever changed, a query over the namespace cannot.
 */
function insights(query: string, label: string): cw.MathExpression {
  return new cw.MathExpression({ expression: query, period: Duration.minutes(1), label, usingMetrics: {} });
}

/**
 * What ops watch: an alarm topic (KMS-encrypted, optional email), alarms for dead letters, function errors
 * and throttles, rejected inbound events, stale approvals and silent worlds, and one dashboard.
 */
export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly dashboard: cw.Dashboard;
  readonly alarms: cw.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);

    this.topic = new Topic(this, 'AlarmTopic', {
      displayName: 'Exit engine alarms',
      masterKey: props.topicKey,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    const action = new SnsAction(this.topic);
    const alarm = (alarmId: string, alarmProps: cw.AlarmProps): cw.Alarm => {
      const created = new cw.Alarm(this, alarmId, alarmProps);
      created.addAlarmAction(action);
      created.addOkAction(action);
      this.alarms.push(created);
      return created;
    };

    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      alarm(`DeadLetters-${name}`, {
        alarmDescription: `Dead-letter queue ${name} holds messages: read them, fix the cause, redrive.`,
        metric: queue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: 'Maximum',
        }),
        threshold: 0,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      });
    }

    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(`Errors-${name}`, {
        alarmDescription: `Function ${name} is failing invocations.`,
        metric: fn.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }),
        threshold: 0,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      });
      alarm(`Throttles-${name}`, {
        alarmDescription: `Function ${name} is throttled: events queue up and may age out.`,
        metric: fn.metricThrottles({ period: Duration.minutes(1), statistic: 'Sum' }),
        threshold: 0,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      });
    }

    alarm('RejectedEvents', {
      alarmDescription:
        'Inbound events were rejected (invalid, expired or unresolvable): see the audit table.',
      metric: insights(
        `SELECT SUM(${ENGINE_METRICS.rejectedEvents}) FROM "${METRICS_NAMESPACE}"`,
        'rejected events',
      ),
      threshold: 0,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });

    alarm('PendingApprovalAge', {
      alarmDescription: `A proposed signal has waited for approval longer than ${props.approvalAgeAlarmSeconds}s.`,
      metric: insights(
        `SELECT MAX(${ENGINE_METRICS.pendingApprovalAge}) FROM "${METRICS_NAMESPACE}"`,
        'oldest pending approval (s)',
      ),
      threshold: props.approvalAgeAlarmSeconds,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });

    for (const world of props.monitoredWorlds) {
      alarm(`SnapshotSilence-${world}`, {
        alarmDescription: `World ${world} has had no hub snapshot for more than ${props.snapshotIntervalSeconds}s.`,
        metric: insights(
          `SELECT MAX(${ENGINE_METRICS.secondsSinceLastSnapshot}) FROM "${METRICS_NAMESPACE}" WHERE world = '${world.replaceAll("'", "''")}'`,
          `seconds since last snapshot: ${world}`,
        ),
        threshold: props.snapshotIntervalSeconds,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        // No data means nothing reports on the world at all: that is the silence this alarm exists for.
        treatMissingData: cw.TreatMissingData.BREACHING,
      });
    }

    const search = (metric: string, statistic: string, label: string): cw.MathExpression =>
      new cw.MathExpression({
        expression: `SEARCH('{${METRICS_NAMESPACE}} MetricName="${metric}"', '${statistic}', 300)`,
        label,
        usingMetrics: {},
      });

    this.dashboard = new cw.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(1),
      widgets: [
        [
          new cw.GraphWidget({
            title: 'Signals emitted by world and reason',
            left: [search(ENGINE_METRICS.signalsEmitted, 'Sum', '')],
            width: 12,
          }),
          new cw.GraphWidget({
            title: 'Rule breaches',
            left: [search(ENGINE_METRICS.ruleBreaches, 'Sum', '')],
            width: 12,
          }),
        ],
        [
          new cw.GraphWidget({
            title: 'Evaluation latency (ms)',
            left: [
              search(ENGINE_METRICS.evaluationLatency, 'p50', 'p50'),
              search(ENGINE_METRICS.evaluationLatency, 'p99', 'p99'),
            ],
            width: 12,
          }),
          new cw.GraphWidget({
            title: 'Rejected events / oldest pending approval',
            left: [search(ENGINE_METRICS.rejectedEvents, 'Sum', '')],
            right: [search(ENGINE_METRICS.pendingApprovalAge, 'Maximum', '')],
            width: 12,
          }),
        ],
        [
          new cw.GraphWidget({
            title: 'Function errors',
            left: Object.entries(props.functions).map(([name, fn]) =>
              fn.metricErrors({ label: name, statistic: 'Sum', period: Duration.minutes(5) }),
            ),
            width: 12,
          }),
          new cw.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 12 }),
        ],
      ],
    });
  }
}
