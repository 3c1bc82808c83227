import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { synthEngine } from './synth.js';

const GATEWAY_PATTERN = { source: ['qmtl.services.exit_engine'], 'detail-type': ['exit_signal_emitted'] };
const GATEWAY_BUS = 'arn:aws:events:eu-west-1:111122223333:event-bus/gateway';
const HTTPS = { endpointUrl: 'https://gateway.example.com/hook', secretArnOrName: 'gateway/api-key' };

function gatewayTargets(
  template: ReturnType<typeof synthEngine>['statelessTemplate'],
): Record<string, unknown>[] {
  const rules = Object.values(
    template.findResources('AWS::Events::Rule', { Properties: { EventPattern: GATEWAY_PATTERN } }),
  );
  expect(rules).toHaveLength(1);
  return (rules[0]?.Properties.Targets ?? []) as Record<string, unknown>[];
}

describe('GatewaySubscriptions', () => {
  it('delivers exit_signal_emitted to an encrypted, TLS-only SQS queue with its own DLQ by default', () => {
    const { statelessTemplate: template } = synthEngine();
    const targets = gatewayTargets(template);
    expect(targets).toHaveLength(1);
    expect(targets[0]).toMatchObject({
      Arn: { 'Fn::GetAtt': [expect.stringMatching(/^GatewayQueue[0-9A-F]/), 'Arn'] },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/^GatewayDeliveryFailures/), 'Arn'] } },
      RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GatewayQueueDeadLetters'), 'Arn'] },
        maxReceiveCount: 5,
      },
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: Match.stringLikeRegexp('^GatewayQueue[0-9A-F]') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: Match.arrayWith(['sqs:SendMessage']),
            Condition: {
              ArnEquals: {
                'aws:SourceArn': { 'Fn::GetAtt': [Match.stringLikeRegexp('^GatewayRule'), 'Arn'] },
              },
            },
          }),
        ]),
      },
    });
    template.hasOutput('GatewayQueueUrl', {});
  });

  it('can leave the queue out', () => {
    const { statelessTemplate: template } = synthEngine({
      gatewayQueue: false,
      gatewayTargetBusArn: GATEWAY_BUS,
    });
    const targets = gatewayTargets(template);
    expect(targets).toHaveLength(1);
    expect(targets[0]?.Arn).toBe(GATEWAY_BUS);
    expect(template.findOutputs('GatewayQueueUrl')).toEqual({});
  });

  it('posts to an HTTPS endpoint through an API destination whose key comes from Secrets Manager', () => {
    const { statelessTemplate: template } = synthEngine({
      gatewayHttps: { ...HTTPS, apiKeyHeader: 'X-Gateway-Key' },
    });
    template.hasResourceProperties('AWS::Events::Connection', {
      AuthorizationType: 'API_KEY',
      AuthParameters: {
        ApiKeyAuthParameters: {
          ApiKeyName: 'X-Gateway-Key',
          ApiKeyValue: Match.stringLikeRegexp(
            '^\\{\\{resolve:secretsmanager:gateway/api-key:SecretString:::\\}\\}$',
          ),
        },
      },
    });
    template.hasResourceProperties('AWS::Events::ApiDestination', {
      InvocationEndpoint: HTTPS.endpointUrl,
      HttpMethod: 'POST',
      InvocationRateLimitPerSecond: 10,
    });
    const targets = gatewayTargets(template);
    expect(targets).toHaveLength(2);
    expect(targets).toContainEqual(
      expect.objectContaining({
        Arn: { 'Fn::GetAtt': [expect.stringMatching(/^GatewayHttpsDestination/), 'Arn'] },
        RoleArn: expect.anything(),
        DeadLetterConfig: expect.anything(),
        RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
      }),
    );
  });

  it('forwards to an event bus in another account through a role that may put only there', () => {
    const { statelessTemplate: template } = synthEngine({ gatewayTargetBusArn: GATEWAY_BUS });
    const targets = gatewayTargets(template);
    expect(targets).toContainEqual(
      expect.objectContaining({
        Arn: GATEWAY_BUS,
        RoleArn: expect.anything(),
        DeadLetterConfig: expect.anything(),
      }),
    );
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Action: 'events:PutEvents', Effect: 'Allow', Resource: GATEWAY_BUS }] },
    });
  });

  it('combines all three deliveries on one rule', () => {
    const { statelessTemplate: template } = synthEngine({
      gatewayHttps: HTTPS,
      gatewayTargetBusArn: GATEWAY_BUS,
    });
    expect(gatewayTargets(template)).toHaveLength(3);
  });
});
