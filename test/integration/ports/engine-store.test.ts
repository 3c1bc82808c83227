import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { createTables, tableNames } from '#lib/adapters/dynamodb/create-tables.js';
import { DynamoDbEngineStore } from '#lib/adapters/dynamodb/engine-store.js';
import type { AuditRecord, SignalItem } from '#lib/engine/ports.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#lib/local/dynamodb-server.js';
import { engineStoreContract } from '#test/support/ports/engine-store-contract.js';

/** The DynamoDB engine store, on fresh tables of DynamoDB Local for every test. */
engineStoreContract('DynamoDbEngineStore', async () => {
  const client = new DynamoDBClient({
    endpoint: inject('dynamoEndpoint'),
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const tables = tableNames(`it-port-engine-${randomUUID().slice(0, 8)}-`);
  await createTables(client, tables);
  const doc = DynamoDBDocumentClient.from(client);
  const scan = async (table: string) => (await doc.send(new ScanCommand({ TableName: table }))).Items ?? [];
  return {
    store: new DynamoDbEngineStore(client, tables, inject('dynamoKind') === 'dynamodb-local'),
    signals: async () =>
      ((await scan(tables.signals)) as SignalItem[]).sort((a, b) => a.signal_id.localeCompare(b.signal_id)),
    audit: async () =>
      ((await scan(tables.audit)) as AuditRecord[]).sort(
        (a, b) => a.world_id.localeCompare(b.world_id) || a.record_id.localeCompare(b.record_id),
      ),
    putMute: async (mute) => {
      await doc.send(
        new PutCommand({
          TableName: tables.state,
          Item: { pk: `WORLD#${mute.world_id}`, sk: `MUTE#${mute.mute_id}`, ...mute },
        }),
      );
    },
    close: async () => client.destroy(),
  };
});
