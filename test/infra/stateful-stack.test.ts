import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '#infra/constructs/engine-function.js';
import { toDraft4 } from '#infra/schema-draft4.js';
import { PUBLISHED_SCHEMAS } from '#infra/stateful/stateful-stack.js';
import { TABLES } from '#lib/adapters/dynamodb/tables.js';
import { synthEngine } from './synth.js';

describe('StatefulStack', () => {
  const { statefulTemplate: template } = synthEngine();

  it('creates the exit-engine event bus by default', () => {
    template.resourceCountIs('AWS::Events::EventBus', 1);
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'exit-engine' });
    template.hasOutput('EventBusName', {});
    template.hasOutput('EventBusArn', {});
  });

  it('attaches to an existing bus by name instead of creating one', () => {
    const { statefulTemplate, statelessTemplate } = synthEngine({ existingEventBusName: 'qmtl-bus' });
    statefulTemplate.resourceCountIs('AWS::Events::EventBus', 0);
    statefulTemplate.hasOutput('EventBusName', { Value: 'qmtl-bus' });
    statelessTemplate.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: 'qmtl-bus',
      EventPattern: { 'detail-type': ['risk_snapshot_updated'] },
    });
  });

  it('builds the three tables from lib/adapters/dynamodb/tables.ts', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 3);
    for (const definition of TABLES) {
      const keySchema = [
        { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
        ...(definition.sortKey ? [{ AttributeName: definition.sortKey.name, KeyType: 'RANGE' }] : []),
      ];
      template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: Match.objectLike({
          KeySchema: keySchema,
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
          DeletionProtectionEnabled: true,
          // SSEEnabled without a key id: the AWS-managed aws/dynamodb KMS key.
          SSESpecification: { SSEEnabled: true },
          ...(definition.globalIndexes.length > 0
            ? {
                GlobalSecondaryIndexes: Match.arrayWith(
                  definition.globalIndexes.map((index) =>
                    Match.objectLike({
                      IndexName: index.indexName,
                      KeySchema: [
                        { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
                        ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' }] : []),
                      ],
                      Projection: index.include
                        ? { ProjectionType: 'INCLUDE', NonKeyAttributes: index.include }
                        : { ProjectionType: 'ALL' },
                    }),
                  ),
                ),
              }
            : {}),
        }),
      });
      template.hasOutput(`${definition.id}TableName`, {});
    }
  });

  it('keeps a rotating customer key the alarm topic can be published under by CloudWatch', () => {
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            }),
          ]),
        },
      }),
    });
  });

  it('retains the bus, the schema registry and its schemas when the stack is deleted', () => {
    for (const type of [
      'AWS::Events::EventBus',
      'AWS::EventSchemas::Registry',
      'AWS::EventSchemas::Schema',
    ]) {
      const found = Object.values(template.findResources(type));
      expect(found.length, type).toBeGreaterThan(0);
      for (const resource of found) {
        expect(resource, type).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      }
    }
  });

  it('keeps a rotating, retained customer key for the log groups, usable only by CloudWatch Logs of this account and region', () => {
    const keys = Object.entries(template.findResources('AWS::KMS::Key')).filter(([id]) =>
      id.startsWith('LogsKey'),
    );
    expect(keys).toHaveLength(1);
    const [, key] = keys[0]!;
    expect(key).toMatchObject({ DeletionPolicy: 'Retain', Properties: { EnableKeyRotation: true } });
    const logs = (key.Properties.KeyPolicy.Statement as Record<string, unknown>[]).filter(
      (s) => s.Sid === 'AllowCloudWatchLogsOfThisAccount',
    );
    expect(logs).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
        Condition: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':logs:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':log-group:*',
                ],
              ],
            },
          },
        },
      }),
    ]);
  });

  it('publishes our three event schemas to an EventBridge schema registry', () => {
    template.resourceCountIs('AWS::EventSchemas::Registry', 1);
    template.resourceCountIs('AWS::EventSchemas::Schema', PUBLISHED_SCHEMAS.length);
    for (const type of PUBLISHED_SCHEMAS) {
      const file = readFileSync(join(PROJECT_ROOT, 'schemas', `${type}.schema.json`), 'utf8');
      template.hasResourceProperties('AWS::EventSchemas::Schema', {
        SchemaName: `qmtl.services.exit_engine@${type}`,
        Type: 'JSONSchemaDraft4',
        Content: JSON.stringify(toDraft4(JSON.parse(file))),
      });
    }
  });

  it('publishes exit_signal_emitted exactly as the upstream contract defines it', () => {
    const ours = JSON.parse(
      readFileSync(join(PROJECT_ROOT, 'schemas', 'exit_signal_emitted.schema.json'), 'utf8'),
    );
    const upstream = JSON.parse(
      readFileSync(join(PROJECT_ROOT, 'contracts', 'qmtl', 'event_exit_signal_emitted.schema.json'), 'utf8'),
    );
    expect(ours).toEqual(upstream);
  });
});
