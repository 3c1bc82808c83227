import {
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import type { TableNames } from './engine-store.js';
import { TABLES, type TableDefinition } from './tables.js';

/** Table names for a prefix, e.g. `exit-engine-local-` → `exit-engine-local-signals`. */
export function tableNames(prefix: string): TableNames {
  return { signals: `${prefix}signals`, state: `${prefix}state`, audit: `${prefix}audit` };
}

function nameOf(def: TableDefinition, names: TableNames): string {
  return def.id === 'Signals' ? names.signals : def.id === 'State' ? names.state : names.audit;
}

/**
 * Creates the three tables from the same definitions the CDK stack uses (local runs and tests).
 * Existing tables are left alone; TTL is switched on where the backend supports it.
 */
export async function createTables(client: DynamoDBClient, names: TableNames): Promise<{ ttl: boolean }> {
  let ttl = true;
  for (const def of TABLES) {
    const attributes = new Map<string, 'S' | 'N'>();
    const keys = [
      def.partitionKey,
      def.sortKey,
      ...def.globalIndexes.flatMap((i) => [i.partitionKey, i.sortKey]),
    ];
    for (const k of keys) if (k) attributes.set(k.name, k.type);
    const input: CreateTableCommandInput = {
      TableName: nameOf(def, names),
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({
        AttributeName,
        AttributeType,
      })),
      KeySchema: [
        { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
        ...(def.sortKey ? [{ AttributeName: def.sortKey.name, KeyType: 'RANGE' as const }] : []),
      ],
      ...(def.globalIndexes.length > 0
        ? {
            GlobalSecondaryIndexes: def.globalIndexes.map((i) => ({
              IndexName: i.indexName,
              KeySchema: [
                { AttributeName: i.partitionKey.name, KeyType: 'HASH' as const },
                ...(i.sortKey ? [{ AttributeName: i.sortKey.name, KeyType: 'RANGE' as const }] : []),
              ],
              Projection: i.include
                ? { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: i.include }
                : { ProjectionType: 'ALL' as const },
            })),
          }
        : {}),
    };
    try {
      await client.send(new CreateTableCommand(input));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    await waitUntilTableExists(
      { client, maxWaitTime: 60, minDelay: 0.2, maxDelay: 1 },
      { TableName: input.TableName },
    );
    try {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: input.TableName,
          TimeToLiveSpecification: { AttributeName: def.ttlAttribute, Enabled: true },
        }),
      );
    } catch {
      // dynalite has no TTL; DynamoDB Local and AWS do. Retention then only matters locally.
      ttl = false;
    }
  }
  return { ttl };
}
