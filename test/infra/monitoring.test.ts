import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { synthEngine, text } from './synth.js';

describe('Monitoring', () => {
  const { statelessTemplate: template } = synthEngine({
    alarmEmail: 'risk-ops@example.com',
    monitoredWorlds: ['world-a', 'world-b'],
    snapshotIntervalSeconds: 600,
    approvalAgeAlarmSeconds: 1800,
  });
  const alarms = template.findResources('AWS::CloudWatch::Alarm');
  const alarm = (idPrefix: string) => {
    const found = Object.entries(alarms).filter(([id]) => id.startsWith(idPrefix));
    expect(found.length, idPrefix).toBeGreaterThan(0);
    return found.map(([, resource]) => resource.Properties);
  };

  it('wires every alarm to a KMS-encrypted topic, with the email subscribed', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'risk-ops@example.com',
    });
    for (const props of Object.values(alarms).map((a) => a.Properties)) {
      expect(props.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^MonitoringAlarmTopic/) }]);
    }
  });

  it('alarms on any message in any dead-letter queue', () => {
    const dlqAlarms = alarm('MonitoringDeadLetters');
    // inbound delivery, gateway delivery, gateway queue DLQ, five async-failure queues
    expect(dlqAlarms).toHaveLength(8);
    const names = Object.keys(alarms).join(' ');
    expect(names).toContain('MonitoringDeadLettersEvaluateMarketWorldAsyncFailures');
    for (const props of dlqAlarms) {
      expect(props).toMatchObject({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
  });

  it('lets CloudWatch alarms of this account and region, and no other service or account, publish to the topic', () => {
    const policies = Object.values(template.findResources('AWS::SNS::TopicPolicy'));
    expect(policies).toHaveLength(1);
    const statements = policies[0]?.Properties.PolicyDocument.Statement as Record<string, unknown>[];
    const allow = statements.filter((s) => s.Effect === 'Allow');
    expect(allow).toEqual([
      {
        Sid: 'AllowCloudWatchAlarmsOfThisAccount',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: expect.stringMatching(/^MonitoringAlarmTopic/) },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: {
            'aws:SourceArn': {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':cloudwatch:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':alarm:*',
                ],
              ],
            },
          },
        },
      },
    ]);
    // The TLS-only deny stays.
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('alarms on unexpected failures (not on Lambda Errors, which count designed retries) and on throttles', () => {
    expect(Object.keys(alarms).some((id) => id.startsWith('MonitoringErrors'))).toBe(false);
    for (const props of Object.values(alarms).map((a) => a.Properties)) {
      expect(props.MetricName).not.toBe('Errors');
    }
    const [failures] = alarm('MonitoringUnexpectedFailures');
    expect(failures).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    expect(failures.Metrics[0].Expression).toBe('SELECT SUM(UnexpectedFailures) FROM "ExitEngine"');
    // Six functions, less the per-world market re-evaluator, whose reserved concurrency throttles by design.
    expect(alarm('MonitoringThrottles')).toHaveLength(5);
    expect(Object.keys(alarms).some((id) => id.startsWith('MonitoringThrottlesEvaluateMarketWorld'))).toBe(
      false,
    );
    for (const props of alarm('MonitoringThrottles')) {
      expect(props).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Throttles', Threshold: 0 });
    }
  });

  it('alarms when a per-world market request waits in the async queue over five minutes (throttling is its design)', () => {
    expect(alarm('MonitoringAsyncEventAgeEvaluateMarketWorld')).toEqual([
      expect.objectContaining({
        Namespace: 'AWS/Lambda',
        MetricName: 'AsyncEventAge',
        Statistic: 'Maximum',
        Threshold: 300_000,
        ComparisonOperator: 'GreaterThanThreshold',
        Dimensions: [
          { Name: 'FunctionName', Value: { Ref: expect.stringMatching(/^EvaluateMarketWorldFunction/) } },
        ],
      }),
    ]);
  });

  it.each(['AsyncEventsDropped', 'DestinationDeliveryFailures'])(
    'alarms on %s of each asynchronously invoked function',
    (metric) => {
      const found = alarm(`Monitoring${metric}`);
      expect(found).toHaveLength(4);
      expect(Object.keys(alarms).some((id) => id.startsWith(`Monitoring${metric}EvaluateMarketWorld`))).toBe(
        true,
      );
      for (const props of found) {
        expect(props).toMatchObject({
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Statistic: 'Sum',
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
        });
      }
    },
  );

  it.each(['FailedInvocations', 'InvocationsFailedToBeSentToDlq'])(
    'alarms on EventBridge %s of every rule (inbound, schedule, gateway)',
    (metric) => {
      const found = alarm(`Monitoring${metric}`);
      expect(found).toHaveLength(5);
      for (const props of found) {
        expect(props).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
        const expression = text(props.Metrics[0].Expression);
        expect(expression).toContain(`SELECT SUM(${metric}) FROM \\"AWS/Events\\" WHERE RuleName = '`);
      }
      const rules = found.map((p) => text(p.Metrics[0].Expression)).join(' ');
      for (const rule of [
        'SnapshotRule',
        'MarketRule',
        'MarketWorldRule',
        'ApprovalTimeoutSchedule',
        'GatewayRule',
      ]) {
        expect(rules).toContain(rule);
      }
    },
  );

  it('alarms on DynamoDB throttling of each table: throttled requests and read/write throttle events', () => {
    const requests = alarm('MonitoringThrottledRequests');
    expect(requests).toHaveLength(3);
    for (const props of requests) {
      expect(text(props.Metrics[0].Expression)).toContain(
        'SELECT SUM(ThrottledRequests) FROM \\"AWS/DynamoDB\\" WHERE TableName = ',
      );
    }
    const events = alarm('MonitoringThrottleEvents');
    expect(events).toHaveLength(3);
    for (const props of events) {
      expect(props.Threshold).toBe(0);
      const names = (props.Metrics as { MetricStat?: { Metric: { MetricName: string } } }[])
        .flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric.MetricName] : []))
        .sort();
      expect(names).toEqual(['ReadThrottleEvents', 'WriteThrottleEvents']);
    }
  });

  it("alarms when the gateway leaves a message unread for half the queue's retention", () => {
    const [props] = alarm('MonitoringGatewayQueueOldestMessage');
    expect(props).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Statistic: 'Maximum',
      Threshold: 2 * 86_400,
    });
    const queues = template.findResources('AWS::SQS::Queue');
    const gateway = Object.entries(queues).find(([id]) => /^GatewayQueue[0-9A-F]{8}$/.test(id))?.[1];
    expect(gateway?.Properties.MessageRetentionPeriod).toBe(4 * 86_400);
  });

  it('alarms on any rejected inbound event', () => {
    const [props] = alarm('MonitoringRejectedEvents');
    expect(props).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    expect(props.Metrics[0].Expression).toBe('SELECT SUM(RejectedEvents) FROM "ExitEngine"');
  });

  it('alarms when the oldest pending approval is older than the configured age', () => {
    const [props] = alarm('MonitoringPendingApprovalAge');
    expect(props).toMatchObject({ Threshold: 1800 });
    expect(props.Metrics[0].Expression).toBe('SELECT MAX(PendingApprovalAgeSeconds) FROM "ExitEngine"');
  });

  it('alarms per monitored world when no snapshot arrived within the expected interval', () => {
    const silence = alarm('MonitoringSnapshotSilence');
    expect(silence).toHaveLength(2);
    for (const world of ['world-a', 'world-b']) {
      expect(silence).toContainEqual(
        expect.objectContaining({
          Threshold: 600,
          TreatMissingData: 'breaching',
          Metrics: [
            expect.objectContaining({
              Expression: `SELECT MAX(SecondsSinceLastSnapshot) FROM "ExitEngine" WHERE world = '${world}'`,
            }),
          ],
        }),
      );
    }
  });

  it('has a dashboard of signals by world and reason, evaluation latency and rule breaches', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = text(
      Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]?.Properties.DashboardBody,
    );
    for (const metric of ['SignalsEmitted', 'EvaluationLatency', 'RuleBreaches']) {
      expect(body).toContain(`MetricName=\\\\\\"${metric}\\\\\\"`);
    }
    expect(body).toContain('Signals emitted by world and reason');
  });

  it('creates no world alarms and no email subscription when not asked to', () => {
    const { statelessTemplate } = synthEngine();
    expect(
      Object.keys(statelessTemplate.findResources('AWS::CloudWatch::Alarm')).some((id) =>
        id.includes('Silence'),
      ),
    ).toBe(false);
    statelessTemplate.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});
