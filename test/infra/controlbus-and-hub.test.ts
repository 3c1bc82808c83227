import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { propsFromContext } from '#infra/config.js';
import { CONTROLBUS_FILTER_PATTERN, CONTROLBUS_INPUT_TEMPLATE } from '#lib/controlbus/pipe-definition.js';
import { actionsOf, roleStatements, synthEngine, text } from './synth.js';

const MSK = 'arn:aws:kafka:eu-west-1:111122223333:cluster/qmtl/0f9e8d7c-1111-2222-3333-444455556666-1';
const KAFKA_SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:qmtl/kafka-AbCdEf';

describe('ControlBusPipe (upstream ControlBus → our bus)', () => {
  it('creates no pipe unless asked', () => {
    synthEngine({}).statelessTemplate.resourceCountIs('AWS::Pipes::Pipe', 0);
  });

  it('reads the MSK topic, keeps only risk_snapshot_updated and makes the CloudEvent the detail', () => {
    const { statelessTemplate: t } = synthEngine({ controlBus: { topic: 'policy', mskClusterArn: MSK } });
    t.hasResourceProperties('AWS::Pipes::Pipe', {
      Source: MSK,
      SourceParameters: {
        FilterCriteria: { Filters: [{ Pattern: JSON.stringify(CONTROLBUS_FILTER_PATTERN) }] },
        ManagedStreamingKafkaParameters: { TopicName: 'policy', ConsumerGroupID: 'exit-engine' },
      },
      Target: Match.anyValue(),
      TargetParameters: {
        InputTemplate: CONTROLBUS_INPUT_TEMPLATE,
        EventBridgeEventBusParameters: {
          DetailType: '$.value.type',
          Source: '$.value.source',
          Time: '$.value.time',
        },
      },
      LogConfiguration: { Level: 'ERROR', CloudwatchLogsLogDestination: Match.anyValue() },
    });
    expect(JSON.parse(JSON.stringify(CONTROLBUS_FILTER_PATTERN))).toEqual({
      value: { type: ['risk_snapshot_updated'] },
    });
    const statements = roleStatements(t, 'ControlBusPipeRole');
    const put = statements.find((s) => s.Sid === 'PutOnEngineBus')!;
    expect(actionsOf(put)).toEqual(['events:PutEvents']);
    const consume = statements.find((s) => s.Sid === 'ConsumeHubTopic')!;
    expect(text(consume.Resource)).toContain(':topic/qmtl/0f9e8d7c-1111-2222-3333-444455556666-1/policy');
    expect(text(consume.Resource)).toContain(
      ':group/qmtl/0f9e8d7c-1111-2222-3333-444455556666-1/exit-engine',
    );
    expect(statements.some((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')))).toBe(false);
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({ Principal: { Service: 'pipes.amazonaws.com' }, Condition: Match.anyValue() }),
        ],
      },
    });
  });

  it('reads self-managed Kafka with its SASL/SCRAM secret from inside the VPC', () => {
    const { statelessTemplate: t } = synthEngine({
      controlBus: {
        topic: 'policy',
        bootstrapServers: ['b1.kafka.internal:9096', 'b2.kafka.internal:9096'],
        credentialsSecretArn: KAFKA_SECRET,
        subnetIds: ['subnet-1', 'subnet-2'],
        securityGroupIds: ['sg-1'],
      },
    });
    t.hasResourceProperties('AWS::Pipes::Pipe', {
      Source: 'smk://b1.kafka.internal:9096',
      SourceParameters: {
        SelfManagedKafkaParameters: {
          AdditionalBootstrapServers: ['b2.kafka.internal:9096'],
          Credentials: { SaslScram512Auth: KAFKA_SECRET },
          Vpc: { Subnets: ['subnet-1', 'subnet-2'], SecurityGroup: ['sg-1'] },
        },
      },
    });
    const secret = roleStatements(t, 'ControlBusPipeRole').find((s) => s.Sid === 'ReadKafkaCredential')!;
    expect(actionsOf(secret)).toEqual(['secretsmanager:GetSecretValue']);
    expect(secret.Resource).toBe(KAFKA_SECRET);
  });

  it('passes cdk-nag with the pipe and the hub token', () => {
    const { stateless } = synthEngine({
      controlBus: { topic: 'policy', mskClusterArn: MSK },
      hubBaseUrl: 'https://worldservice.example.com',
      hubTokenSecretName: 'qmtl/hub-token',
    });
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stateless);
    const errors = report.violations.filter((v) => v.severity === 'error');
    expect(
      errors.map((v) => `${v.ruleName} @ ${v.violatingResources.map((r) => r.constructPath).join(', ')}`),
    ).toEqual([]);
  });

  it('reads the context keys and names the one that is wrong', () => {
    const props = (context: Record<string, string>) => propsFromContext(new App({ context }).node);
    expect(props({ controlBusTopic: 'policy', controlBusMskClusterArn: MSK }).controlBus).toEqual({
      topic: 'policy',
      mskClusterArn: MSK,
    });
    expect(() => props({ controlBusMskClusterArn: MSK })).toThrow(/controlBusTopic: required/);
    expect(() => props({ controlBusTopic: 'policy', controlBusBootstrapServers: 'b:9096' })).toThrow(
      /needs controlBusSecretArn/,
    );
    expect(() => props({ hubBaseUrl: 'redis://hub' })).toThrow(/context hubBaseUrl/);
  });
});

describe('hub API for refs', () => {
  it('gives the evaluators the hub URL and the token secret, readable and nothing more', () => {
    const { statelessTemplate: t } = synthEngine({
      hubBaseUrl: 'https://worldservice.example.com',
      hubTokenSecretName: 'qmtl/hub-token',
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          HUB_BASE_URL: 'https://worldservice.example.com',
          HUB_TOKEN_SECRET_NAME: 'qmtl/hub-token',
        }),
      },
    });
    for (const role of ['EvaluateSnapshotRole', 'EvaluateMarketWorldRole']) {
      const read = roleStatements(t, role).find((s) => s.Sid === 'ReadHubToken')!;
      expect(actionsOf(read)).toEqual(['secretsmanager:GetSecretValue']);
      expect(text(read.Resource)).toContain(':secret:qmtl/hub-token-??????');
    }
    // The market function only stores market data and requests per-world evaluations: it reads no refs.
    for (const role of ['OpsCommand', 'EvaluateMarketRole'])
      expect(roleStatements(t, role).some((s) => s.Sid === 'ReadHubToken')).toBe(false);
  });
});
