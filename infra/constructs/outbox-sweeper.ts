import { Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '#infra/config.js';
import { EngineFunction, type EngineFunctionProps } from './engine-function.js';

/** The metric the sweeper reports and the stuck-outbox alarm reads. */
export const OLDEST_PENDING_OUTBOX_METRIC = 'OldestPendingOutboxAgeSeconds';

export interface OutboxSweeperProps extends Pick<EngineFunctionProps, 'logRetention' | 'logKey'> {
  /** Where a failed scheduled invocation lands (the inbound dead-letter queue). */
  readonly deadLetterQueue: IQueue;
}

/**
 * The outbox sweeper: a function (the house construct) run every minute on the default bus that
 * publishes pending outboxes whose publish lease ran out, found through the state table's sparse
 * `pending-outboxes` index; and an alarm when an outbox stays pending longer than a threshold.
 */
export class OutboxSweeper extends Construct {
  readonly fn: EngineFunction;

  constructor(scope: Construct, id: string, props: OutboxSweeperProps) {
    super(scope, id);
    this.fn = new EngineFunction(this, 'SweepOutboxes', {
      entry: 'functions/sweep-outboxes.ts',
      description: 'Publishes pending outboxes whose publish lease ran out (fenced, like a redelivery)',
      asyncFailureQueue: true,
      // Room for several fenced publishes (each needs its publish window left in the invocation).
      timeout: Duration.seconds(60),
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      ...(props.logKey ? { logKey: props.logKey } : {}),
    });
    new Rule(this, 'Schedule', {
      description: 'Every minute: complete outboxes a failed or killed invocation left pending',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [
        new targets.LambdaFunction(this.fn.function, {
          deadLetterQueue: props.deadLetterQueue,
          retryAttempts: 2,
          // The next tick is a minute away; an older tick is worthless.
          maxEventAge: Duration.minutes(5),
        }),
      ],
    });
  }

  /** Alarms when the oldest outbox the sweeper could not complete is older than `seconds`. */
  alarmOnAge(topic: ITopic, seconds: number): cw.Alarm {
    const alarm = new cw.Alarm(this, 'StuckOutboxAge', {
      alarmDescription: `An exit signal outbox has been pending for more than ${seconds}s: publishing is failing (see the sweeper's logs).`,
      metric: new cw.MathExpression({
        expression: `SELECT MAX(${OLDEST_PENDING_OUTBOX_METRIC}) FROM "${METRICS_NAMESPACE}"`,
        period: Duration.minutes(1),
        label: 'oldest pending outbox (s)',
        usingMetrics: {},
      }),
      threshold: seconds,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(topic));
    return alarm;
  }
}
