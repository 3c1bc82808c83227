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
    // inbound delivery, gateway delivery, gateway queue DLQ, three async-failure queues
    expect(dlqAlarms).toHaveLength(6);
    for (const props of dlqAlarms) {
      expect(props).toMatchObject({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
  });

  it('alarms on errors and throttles of each function', () => {
    expect(alarm('MonitoringErrors')).toHaveLength(4);
    expect(alarm('MonitoringThrottles')).toHaveLength(4);
    for (const props of [...alarm('MonitoringErrors'), ...alarm('MonitoringThrottles')]) {
      expect(props).toMatchObject({ Namespace: 'AWS/Lambda', Threshold: 0 });
    }
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
