import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { createTables, tableNames } from '#lib/adapters/dynamodb/create-tables.js';
import { DynamoDbRuleSetStore } from '#lib/adapters/dynamodb/ruleset-store.js';
import type { AuditRecord } from '#lib/engine/ports.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localDocumentClient } from '#lib/local/dynamodb-server.js';
import { ruleSetStoreContract } from '#test/support/ports/ruleset-store-contract.js';

/** The DynamoDB rule-set store, on fresh tables of DynamoDB Local for every test. */
ruleSetStoreContract('DynamoDbRuleSetStore', async () => {
  const client = new DynamoDBClient({
    endpoint: inject('dynamoEndpoint'),
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const tables = tableNames(`it-port-rules-${randomUUID().slice(0, 8)}-`);
  await createTables(client, tables);
  const doc = DynamoDBDocumentClient.from(client);
  return {
    store: new DynamoDbRuleSetStore(
      localDocumentClient(inject('dynamoEndpoint')),
      tables,
      inject('dynamoKind') === 'dynamodb-local',
    ),
    audit: async () =>
      (((await doc.send(new ScanCommand({ TableName: tables.audit }))).Items ?? []) as AuditRecord[]).sort(
        (a, b) => order(a.record_id) - order(b.record_id),
      ),
    close: async () => client.destroy(),
  };
});

/** The contract's audit ids in the order it writes them (a scan returns them by hash). */
const ORDER = ['a1', 'p1', 'a2', 'w1'];
function order(id: string): number {
  const i = ORDER.indexOf(id);
  return i === -1 ? 99 : i;
}
