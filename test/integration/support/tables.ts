import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import type { DynamoDocumentClient } from '#lib/adapters/dynamodb/client/document-client.js';
import { createTables, tableNames } from '#lib/adapters/dynamodb/create-tables.js';
import type { TableNames } from '#lib/adapters/dynamodb/engine-store.js';
import { fromStoredRow } from '#lib/adapters/dynamodb/signal-rows.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localDocumentClient } from '#lib/local/dynamodb-server.js';
import type { LocalStack } from '#lib/local/local-stack.js';
import { describeFixture } from './describe-fixture.js';

/** Reads the tables the way an operator would, to check what the pipeline stored. */
export function tableReader(stack: LocalStack) {
  const doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: stack.dynamoEndpoint, region: 'us-east-1' }),
  );
  return {
    /** From the base table with a consistent read: an index may lag the write it reflects. */
    async signals(world: string): Promise<Record<string, unknown>[]> {
      const items: Record<string, unknown>[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const out = await doc.send(
          new ScanCommand({
            TableName: stack.tables.signals,
            FilterExpression: 'world_id = :w',
            ExpressionAttributeValues: { ':w': world },
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start);
      // With the status where the store puts it for every row (closed ones keep it in `final_status`).
      return items
        .map(fromStoredRow)
        .sort((a, b) => String(a.emitted_at).localeCompare(String(b.emitted_at)));
    },
    async audit(world: string): Promise<Record<string, unknown>[]> {
      const out = await doc.send(
        new QueryCommand({
          TableName: stack.tables.audit,
          ConsistentRead: true,
          KeyConditionExpression: 'world_id = :w',
          ExpressionAttributeValues: { ':w': world },
        }),
      );
      return out.Items ?? [];
    },
    async state(): Promise<Record<string, unknown>[]> {
      const out = await doc.send(new ScanCommand({ TableName: stack.tables.state }));
      return out.Items ?? [];
    },
    destroy: () => doc.destroy(),
  };
}

/** Clients on the run's DynamoDB Local and a fresh set of the engine's tables. */
export interface FreshTables {
  /** The SDK's client (table creation) and document client: tests seed and read items through the SDK. */
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  /** The stores' own document client, as the functions build it. */
  storeClient: DynamoDocumentClient;
  tables: TableNames;
  transactions: boolean;
}

/** A client on the run's DynamoDB Local and a fresh set of the engine's tables under their own prefix. */
export async function freshTables(prefix: string): Promise<FreshTables> {
  const client = new DynamoDBClient({
    endpoint: inject('dynamoEndpoint'),
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const tables = tableNames(`${prefix}${randomUUID().slice(0, 8)}-`);
  await createTables(client, tables);
  return {
    client,
    doc: DynamoDBDocumentClient.from(client),
    storeClient: localDocumentClient(inject('dynamoEndpoint')),
    tables,
    transactions: inject('dynamoKind') === 'dynamodb-local',
  };
}

/** Fresh tables for the enclosing `describe`: created in its `beforeAll`, the SDK client destroyed in its `afterAll`. */
export function useFreshTables(prefix: string): FreshTables {
  return describeFixture(
    () => freshTables(prefix),
    (fresh) => fresh.client.destroy(),
  );
}
