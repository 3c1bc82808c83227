import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, type IEventBus } from 'aws-cdk-lib/aws-events';
import { CfnRegistry, CfnSchema } from 'aws-cdk-lib/aws-eventschemas';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { DEFAULT_EVENT_BUS_NAME, type ExitEngineProps } from '#infra/config.js';
import { PROJECT_ROOT } from '#infra/constructs/engine-function.js';
import { toDraft4 } from '#infra/schema-draft4.js';
import { TABLES, type TableDefinition } from '#lib/adapters/dynamodb/tables.js';
import { EXIT_ENGINE_SOURCE } from '#lib/contracts/exit-signal.js';

/** The event types we own and publish to the schema registry, each read from `schemas/<type>.schema.json`. */
export const PUBLISHED_SCHEMAS = [
  'exit_signal_emitted',
  'exit_signal_proposed',
  'market_snapshot_updated',
] as const;

/** A table built from its shared definition, with the definition kept beside it for grants and env vars. */
export interface EngineTable {
  readonly table: dynamodb.Table;
  readonly definition: TableDefinition;
}

function attributeType(type: 'S' | 'N'): dynamodb.AttributeType {
  return type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER;
}

/**
 * What outlives a deployment: the three tables, the event bus, the key the alarm topic is encrypted with,
 * and the schema registry. Kept apart from the functions so a stateless change can never replace a table,
 * and retained on stack deletion.
 */
export class StatefulStack extends Stack {
  readonly signals: EngineTable;
  readonly state: EngineTable;
  readonly audit: EngineTable;
  readonly bus: IEventBus;
  /** Whether the bus is ours (created here) or a deployer's existing bus we attach to. */
  readonly busIsOwned: boolean;
  /** Customer key for the alarm topic: CloudWatch cannot publish to a topic under the AWS-managed SNS key. */
  readonly opsKey: Key;
  /** Customer key the function log groups are encrypted with. */
  readonly logsKey: Key;

  constructor(scope: Construct, id: string, engine: ExitEngineProps, props?: StackProps) {
    super(scope, id, props);

    const [signals, state, audit] = TABLES.map((definition) => ({
      definition,
      table: this.buildTable(definition),
    }));
    if (!signals || !state || !audit)
      throw new Error('lib/adapters/dynamodb/tables.ts must define three tables');
    this.signals = signals;
    this.state = state;
    this.audit = audit;

    if (engine.existingEventBusName) {
      this.bus = EventBus.fromEventBusName(this, 'Bus', engine.existingEventBusName);
      this.busIsOwned = false;
    } else {
      this.bus = new EventBus(this, 'Bus', {
        eventBusName: engine.eventBusName ?? DEFAULT_EVENT_BUS_NAME,
        description: 'QMTL risk events in, exit engine recommendations out',
      });
      // Deleting the stack must not delete the bus other teams' rules and producers hang on.
      this.bus.applyRemovalPolicy(RemovalPolicy.RETAIN);
      this.busIsOwned = true;
    }

    this.opsKey = new Key(this, 'OpsKey', {
      description: 'Exit engine: encrypts the alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });
    // CloudWatch alarms publish to the encrypted topic; the service needs the key to do so.
    this.opsKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );

    this.logsKey = new Key(this, 'LogsKey', {
      description: 'Exit engine: encrypts the function log groups',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });
    // CloudWatch Logs encrypts with the key on the log groups' behalf; the encryption context names the log
    // group, so the grant covers this account's log groups in this region and nothing else.
    this.logsKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsOfThisAccount',
        principals: [new iam.ServicePrincipal(`logs.${this.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': this.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );

    this.buildSchemaRegistry(engine.schemaRegistryName ?? 'exit-engine');

    for (const { table, definition } of [signals, state, audit]) {
      new CfnOutput(this, `${definition.id}TableName`, {
        value: table.tableName,
        description: `${definition.envVar} for the ops CLI`,
      });
    }
    new CfnOutput(this, 'EventBusName', { value: this.bus.eventBusName });
    new CfnOutput(this, 'EventBusArn', { value: this.bus.eventBusArn });
  }

  private buildTable(definition: TableDefinition): dynamodb.Table {
    const table = new dynamodb.Table(this, `${definition.id}Table`, {
      partitionKey: { name: definition.partitionKey.name, type: attributeType(definition.partitionKey.type) },
      ...(definition.sortKey
        ? { sortKey: { name: definition.sortKey.name, type: attributeType(definition.sortKey.type) } }
        : {}),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      // AWS-managed key: encrypted at rest, and ops readers need no key grant of their own.
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: definition.ttlAttribute,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of definition.globalIndexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey.name, type: attributeType(index.partitionKey.type) },
        ...(index.sortKey
          ? { sortKey: { name: index.sortKey.name, type: attributeType(index.sortKey.type) } }
          : {}),
        ...(index.include
          ? { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: index.include }
          : { projectionType: dynamodb.ProjectionType.ALL }),
      });
    }
    return table;
  }

  private buildSchemaRegistry(registryName: string): void {
    const registry = new CfnRegistry(this, 'SchemaRegistry', {
      registryName,
      description: 'Events the exit engine publishes or defines; generate code bindings from here.',
    });
    // Retained like the rest of this stack: code bindings and consumers' references outlive a deployment.
    registry.applyRemovalPolicy(RemovalPolicy.RETAIN);
    for (const type of PUBLISHED_SCHEMAS) {
      const file = join(PROJECT_ROOT, 'schemas', `${type}.schema.json`);
      let content: string;
      try {
        // Parsed and translated at synth: a malformed or untranslatable schema fails here, not at deploy.
        content = JSON.stringify(toDraft4(JSON.parse(readFileSync(file, 'utf8'))));
      } catch (error) {
        throw new Error(`schema ${file} is missing or not JSON: ${(error as Error).message}`);
      }
      const schema = new CfnSchema(this, `Schema-${type}`, {
        registryName: registry.attrRegistryName,
        schemaName: `${EXIT_ENGINE_SOURCE}@${type}`,
        type: 'JSONSchemaDraft4',
        description: `${type} (CloudEvents 1.0 envelope carried as the EventBridge detail)`,
        content,
      });
      schema.applyRemovalPolicy(RemovalPolicy.RETAIN);
    }
  }
}
