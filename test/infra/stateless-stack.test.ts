import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { compileEventPattern } from '#lib/local/event-pattern.js';
import { synthEngine } from './synth.js';

const ENGINE_ENV = [
  'SIGNALS_TABLE_NAME',
  'STATE_TABLE_NAME',
  'AUDIT_TABLE_NAME',
  'EVENT_BUS_NAME',
  'RULESETS_PATH',
];

describe('StatelessStack', () => {
  const { statelessTemplate: template } = synthEngine();

  describe('functions', () => {
    it('runs six functions on Node.js 22, arm64, with active tracing and an explicit log group', () => {
      template.resourceCountIs('AWS::Lambda::Function', 6);
      const functions = Object.values(template.findResources('AWS::Lambda::Function'));
      for (const fn of functions) {
        expect(fn.Properties).toMatchObject({
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          TracingConfig: { Mode: 'Active' },
          LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
        });
        expect(fn.Properties.Timeout).toBeLessThanOrEqual(60);
      }
      template.resourceCountIs('AWS::Logs::LogGroup', 6);
      // 30 days unless the `logRetentionDays` context says otherwise, encrypted with the stateful stack's key.
      template.allResourcesProperties('AWS::Logs::LogGroup', {
        RetentionInDays: 30,
        KmsKeyId: { 'Fn::ImportValue': Match.stringLikeRegexp('LogsKey') },
      });
    });

    it('gives every function the table, bus, rule-set and Powertools settings (Tracer on)', () => {
      for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
        const vars = fn.Properties.Environment.Variables as Record<string, unknown>;
        for (const name of ENGINE_ENV) expect(vars[name], name).toBeDefined();
        expect(vars).toMatchObject({
          RULESETS_PATH: '/var/task/rulesets.json',
          POWERTOOLS_SERVICE_NAME: 'exit-engine',
          POWERTOOLS_METRICS_NAMESPACE: 'ExitEngine',
          // The Powertools Tracer captures the SDK clients under the Active tracing asserted above.
          POWERTOOLS_TRACE_ENABLED: 'true',
        });
        // Stack traces are mapped on demand (lib/source-mapped-stack.ts), not by Node at every cold start.
        expect(vars.NODE_OPTIONS).toBeUndefined();
      }
    });

    it('uses roles of its own, without AWS managed policies', () => {
      for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
        expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      }
    });

    it('sends failed async invocations of the event-driven functions to a dead-letter queue', () => {
      template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 5);
      template.allResourcesProperties('AWS::Lambda::EventInvokeConfig', {
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 3600,
        DestinationConfig: {
          OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('AsyncFailures'), 'Arn'] } },
        },
      });
    });

    it('bounds the per-world market re-evaluator by a reserved concurrency, 16 unless configured', () => {
      const reserved = (t: typeof template) =>
        Object.entries(t.findResources('AWS::Lambda::Function'))
          .filter(([, fn]) => fn.Properties.ReservedConcurrentExecutions !== undefined)
          .map(([id, fn]) => [id.replace(/Function.*$/, ''), fn.Properties.ReservedConcurrentExecutions]);
      expect(reserved(template)).toEqual([['EvaluateMarketWorld', 16]]);
      expect(reserved(synthEngine({ marketWorldConcurrency: 40 }).statelessTemplate)).toEqual([
        ['EvaluateMarketWorld', 40],
      ]);
    });

    it('exposes ops-command through an IAM-authenticated function URL', () => {
      template.resourceCountIs('AWS::Lambda::Url', 1);
      template.hasResourceProperties('AWS::Lambda::Url', {
        AuthType: 'AWS_IAM',
        TargetFunctionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OpsCommandFunction'), 'Arn'] },
      });
      template.hasOutput('OpsCommandUrl', {});
    });
  });

  describe('routing', () => {
    it('routes risk_snapshot_updated from the world service to evaluate-snapshot, with retries and a DLQ', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: { source: ['qmtl.services.worldservice'], 'detail-type': ['risk_snapshot_updated'] },
        EventBusName: { 'Fn::ImportValue': Match.stringLikeRegexp('Bus') },
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EvaluateSnapshotFunction'), 'Arn'] },
            DeadLetterConfig: {
              Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^InboundDeliveryFailures'), 'Arn'] },
            },
            RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 8 },
          }),
        ],
      });
    });

    it('takes the snapshot source from props', () => {
      const { statelessTemplate } = synthEngine({ snapshotSource: 'qmtl.services.riskhub' });
      statelessTemplate.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: { source: ['qmtl.services.riskhub'], 'detail-type': ['risk_snapshot_updated'] },
      });
    });

    it('routes market_snapshot_updated to evaluate-market with the same retry and DLQ treatment', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: { 'detail-type': ['market_snapshot_updated'] },
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EvaluateMarketFunction'), 'Arn'] },
            DeadLetterConfig: Match.objectLike({}),
            RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 8 },
          }),
        ],
      });
    });

    it('routes market_reevaluation_requested (our source only) to evaluate-market-world, with retries and a DLQ', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['qmtl.services.exit_engine'],
          'detail-type': ['market_reevaluation_requested'],
        },
        EventBusName: { 'Fn::ImportValue': Match.stringLikeRegexp('Bus') },
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EvaluateMarketWorldFunction'), 'Arn'] },
            DeadLetterConfig: {
              Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^InboundDeliveryFailures'), 'Arn'] },
            },
            RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 8 },
          }),
        ],
      });
    });

    it('routes market_reevaluation_requested to nothing else: no gateway subscription, no other rule', () => {
      const request = {
        version: '0',
        id: 'e-1',
        'detail-type': 'market_reevaluation_requested',
        source: 'qmtl.services.exit_engine',
        account: '123456789012',
        time: '2026-12-01T10:00:00Z',
        region: 'us-east-1',
        resources: [],
        detail: { type: 'market_reevaluation_requested', data: { world_id: 'w1' } },
      };
      const matching = Object.entries(template.findResources('AWS::Events::Rule'))
        .filter(([, rule]) => rule.Properties.EventPattern !== undefined)
        .filter(([, rule]) => compileEventPattern(rule.Properties.EventPattern)(request))
        .map(([id]) => id.replace(/[0-9A-F]{8}$/, ''));
      expect(matching).toEqual(['MarketWorldRule']);
    });

    it('runs approval-timeout every minute on the default bus', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 minute)',
        EventBusName: Match.absent(),
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApprovalTimeoutFunction'), 'Arn'] },
            DeadLetterConfig: Match.objectLike({}),
          }),
        ],
      });
    });

    it('runs the outbox sweeper every minute on the default bus, with a DLQ', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 minute)',
        EventBusName: Match.absent(),
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OutboxSweeperSweepOutboxesFunction'), 'Arn'] },
            DeadLetterConfig: Match.objectLike({}),
          }),
        ],
      });
    });

    it('alarms when an outbox stays pending longer than 15 minutes', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Threshold: 900,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^MonitoringAlarmTopic') }],
        Metrics: [
          Match.objectLike({ Expression: Match.stringLikeRegexp('MAX\\(OldestPendingOutboxAgeSeconds\\)') }),
        ],
      });
    });

    it('keeps every dead-letter queue encrypted and TLS-only', () => {
      for (const queue of Object.values(template.findResources('AWS::SQS::Queue'))) {
        expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
      }
      for (const policy of Object.values(template.findResources('AWS::SQS::QueuePolicy'))) {
        expect(policy.Properties.PolicyDocument.Statement).toEqual(
          expect.arrayContaining([
            expect.objectContaining({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        );
      }
    });
  });
});
