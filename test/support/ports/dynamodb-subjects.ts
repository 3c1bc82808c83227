import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createTables, tableNames } from '#lib/adapters/dynamodb/create-tables.js';
import { DynamoDbEngineStore } from '#lib/adapters/dynamodb/engine-store.js';
import { DynamoDbOpsStore } from '#lib/adapters/dynamodb/ops-store.js';
import { fromStoredRow } from '#lib/adapters/dynamodb/signal-rows.js';
import type { AuditRecord, SignalItem } from '#lib/engine/ports.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localDocumentClient } from '#lib/local/dynamodb-server.js';
import type { EngineStoreSubject } from './engine-store-contract.js';
import type { OpsStoreSubject } from './ops-store-contract.js';

/** The DynamoDB engine store on fresh tables at `endpoint` (DynamoDB Local, or dynalite without transactions). */
export async function dynamoEngineStore(
  endpoint: string,
  transactions: boolean,
): Promise<EngineStoreSubject> {
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const tables = tableNames(`it-port-engine-${randomUUID().slice(0, 8)}-`);
  await createTables(client, tables);
  const doc = DynamoDBDocumentClient.from(client);
  const scan = async (table: string) => (await doc.send(new ScanCommand({ TableName: table }))).Items ?? [];
  return {
    store: new DynamoDbEngineStore(localDocumentClient(endpoint), tables, transactions),
    signals: async () =>
      // In the domain's shape: a closed status is stored in `final_status` (signal-rows.ts).
      ((await scan(tables.signals)).map(fromStoredRow) as unknown as SignalItem[]).sort((a, b) =>
        a.signal_id.localeCompare(b.signal_id),
      ),
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
    snapshotBodies: async () =>
      (await scan(tables.state)).filter((i) => String(i.sk).startsWith('SNAPSHOT#')).length,
    close: async () => client.destroy(),
  };
}

/** The DynamoDB ops store on fresh tables at `endpoint`; the engine's own store writes the signal rows. */
export async function dynamoOpsStore(endpoint: string, transactions: boolean): Promise<OpsStoreSubject> {
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const tables = tableNames(`it-port-ops-${randomUUID().slice(0, 8)}-`);
  await createTables(client, tables);
  const stores = localDocumentClient(endpoint);
  const engine = new DynamoDbEngineStore(stores, tables, transactions);
  const doc = DynamoDBDocumentClient.from(client);
  return {
    store: new DynamoDbOpsStore(stores, tables, transactions),
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
}
