import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { createTables, tableNames } from '#lib/adapters/dynamodb/create-tables.js';
import { DynamoDbEngineStore } from '#lib/adapters/dynamodb/engine-store.js';
import { DynamoDbOpsStore } from '#lib/adapters/dynamodb/ops-store.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#lib/local/dynamodb-server.js';
import { opsStoreContract } from '#test/support/ports/ops-store-contract.js';

/** The DynamoDB ops store on fresh tables of DynamoDB Local; the engine's own store writes the signal rows. */
opsStoreContract('DynamoDbOpsStore', async () => {
  const client = new DynamoDBClient({
    endpoint: inject('dynamoEndpoint'),
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const tables = tableNames(`it-port-ops-${randomUUID().slice(0, 8)}-`);
  await createTables(client, tables);
  const transactions = inject('dynamoKind') === 'dynamodb-local';
  const engine = new DynamoDbEngineStore(client, tables, transactions);
  const doc = DynamoDBDocumentClient.from(client);
  return {
    store: new DynamoDbOpsStore(client, tables, transactions),
    putSignals: (items) => engine.putSignals(items),
    putOutbox: async (world, key, events) => {
      await doc.send(
        new PutCommand({
          TableName: tables.state,
          Item: {
            pk: `WORLD#${world}`,
            sk: `EVAL#${key}`,
            outbox_status: 'pending',
            events_json: JSON.stringify(events),
          },
        }),
      );
    },
    close: async () => client.destroy(),
  };
});
