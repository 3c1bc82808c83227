import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IRule } from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '#infra/config.js';

/** Metric names the engine emits (Powertools Metrics, namespace ExitEngine) and the alarms read. */
export const ENGINE_METRICS = {
  rejectedEvents: 'RejectedEvents',
  pendingApprovalAge: 'PendingApprovalAgeSeconds',
  secondsSinceLastSnapshot: 'SecondsSinceLastSnapshot',
  signalsEmitted: 'SignalsEmitted',
  evaluationLatency: 'EvaluationLatency',
  ruleBreaches: 'RuleBreaches',
  /** Handler failures that are not designed retries (lib/observability.ts). */
  unexpectedFailures: 'UnexpectedFailures',
} as const;

export interface MonitoringProps {
  readonly functions: Readonly<Record<string, IFunction>>;
  /** Functions invoked asynchronously (EventBridge, schedules): their async queue and destination are watched. */
  readonly asyncFunctions: readonly string[];
  /**
   * Functions throttled by design (a reserved concurrency smaller than their bursts: the per-world market
   * re-evaluator): no throttle alarm, which would page on every global market event; instead an alarm when
   * an event waited in the async queue longer than the given age (the reservation is too small, or the
   * function keeps failing and retrying).
   */
  readonly throttledByDesign?: Readonly<Record<string, Duration>>;
  /** Rules whose target invocations (and dead-lettering) must not fail, by a readable name. */
  readonly rules: Readonly<Record<string, IRule>>;
  /** Tables whose throttling is an alarm, by a readable name. */
  readonly tables: Readonly<Record<string, ITable>>;
  /** The gateway's queue and how long it keeps a message: an unread message is an alarm long before it expires. */
  readonly gatewayQueue?: { readonly queue: IQueue; readonly retention: Duration };
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
    // A topic policy replaces SNS's default one, so CloudWatch must be allowed explicitly, and only for
    // alarms of this account and region (confused-deputy guard: aws:SourceAccount and aws:SourceArn).
    const stack = Stack.of(this);
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
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

    const anyAbove = (alarmId: string, description: string, metric: cw.IMetric): cw.Alarm =>
      alarm(alarmId, {
        alarmDescription: description,
        metric,
        threshold: 0,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      });
    const sum = { period: Duration.minutes(1), statistic: 'Sum' } as const;

    // Lambda's `Errors` counts designed retries too (every concurrent duplicate throws
    // EvaluationInProgressError), so the error alarm watches the handlers' own count of unexpected failures.
    anyAbove(
      'UnexpectedFailures',
      'A handler failed for a reason that is not a designed retry: read the function logs ("invocation failed").',
      insights(
        `SELECT SUM(${ENGINE_METRICS.unexpectedFailures}) FROM "${METRICS_NAMESPACE}"`,
        'unexpected failures',
      ),
    );
    for (const [name, maxWait] of Object.entries(props.throttledByDesign ?? {})) {
      const fn = props.functions[name];
      if (!fn) throw new Error(`throttledByDesign: ${name} is not one of the functions`);
      alarm(`AsyncEventAge-${name}`, {
        alarmDescription: `Function ${name} left an event waiting over ${maxWait.toSeconds()}s in its async queue: its reserved concurrency is too small for the load, or it keeps failing.`,
        metric: fn.metric('AsyncEventAge', { period: Duration.minutes(1), statistic: 'Maximum' }),
        threshold: maxWait.toMilliseconds(),
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      });
    }
    for (const [name, fn] of Object.entries(props.functions)) {
      if (props.throttledByDesign?.[name]) continue;
      anyAbove(
        `Throttles-${name}`,
        `Function ${name} is throttled: events queue up and may age out.`,
        fn.metricThrottles(sum),
      );
    }
    for (const name of props.asyncFunctions) {
      const fn = props.functions[name];
      if (!fn) throw new Error(`asyncFunctions: ${name} is not one of the functions`);
      anyAbove(
        `AsyncEventsDropped-${name}`,
        `Function ${name} dropped asynchronous events without running them (too old or retries exhausted with no destination).`,
        fn.metric('AsyncEventsDropped', sum),
      );
      anyAbove(
        `DestinationDeliveryFailures-${name}`,
        `Function ${name} could not deliver a failed event to its on-failure queue: that event is lost.`,
        fn.metric('DestinationDeliveryFailures', sum),
      );
    }
    for (const [name, rule] of Object.entries(props.rules)) {
      const ruleQuery = (metric: string) =>
        insights(
          `SELECT SUM(${metric}) FROM "AWS/Events" WHERE RuleName = '${rule.ruleName}'`,
          `${name} ${metric}`,
        );
      anyAbove(
        `FailedInvocations-${name}`,
        `Rule ${name} failed to invoke its target after all retries (the event went to its dead-letter queue).`,
        ruleQuery('FailedInvocations'),
      );
      anyAbove(
        `InvocationsFailedToBeSentToDlq-${name}`,
        `Rule ${name} could not even dead-letter a failed event: that event is lost.`,
        ruleQuery('InvocationsFailedToBeSentToDlq'),
      );
    }
    for (const [name, table] of Object.entries(props.tables)) {
      anyAbove(
        `ThrottledRequests-${name}`,
        `Table ${name} is throttling requests (any operation).`,
        insights(
          `SELECT SUM(ThrottledRequests) FROM "AWS/DynamoDB" WHERE TableName = '${table.tableName}'`,
          `${name} throttled requests`,
        ),
      );
      anyAbove(
        `ThrottleEvents-${name}`,
        `Table ${name} (or one of its indexes) throttled reads or writes.`,
        new cw.MathExpression({
          expression: 'r + w',
          label: `${name} read + write throttle events`,
          period: Duration.minutes(1),
          usingMetrics: {
            r: table.metric('ReadThrottleEvents', sum),
            w: table.metric('WriteThrottleEvents', sum),
          },
        }),
      );
    }
    if (props.gatewayQueue) {
      const { queue, retention } = props.gatewayQueue;
      const limit = Math.floor(retention.toSeconds() / 2);
      alarm('GatewayQueueOldestMessage', {
        alarmDescription: `The gateway has left a message unread for over ${limit}s; SQS deletes it after ${retention.toSeconds()}s.`,
        metric: queue.metricApproximateAgeOfOldestMessage({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: limit,
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
            title: 'Unexpected failures (errors that are not designed retries)',
            left: [search(ENGINE_METRICS.unexpectedFailures, 'Sum', '')],
            width: 12,
          }),
          new cw.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 12 }),
        ],
      ],
    });
  }
}
