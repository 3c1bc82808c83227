import { afterAll } from 'vitest';
import { type LocalDynamoDb, startLocalDynamoDb } from '#lib/local/dynamodb-server.js';
import { dynamoEngineStore, dynamoOpsStore } from '#test/support/ports/dynamodb-subjects.js';
import { engineStoreContract } from '#test/support/ports/engine-store-contract.js';
import { opsStoreContract } from '#test/support/ports/ops-store-contract.js';

/**
 * The dynalite fallback (`exit-engine local` without Java) is kept, so it is tested: both stores'
 * contracts run on dynalite, where the writes a transaction would group are applied one by one.
 */
let server: Promise<LocalDynamoDb> | undefined;
const endpoint = async () => {
  server ??= startLocalDynamoDb({ prefer: 'dynalite' });
  return (await server).endpoint;
};
afterAll(async () => {
  await (await server)?.stop();
});

engineStoreContract(
  'DynamoDbEngineStore on dynalite (no transactions)',
  async () => dynamoEngineStore(await endpoint(), false),
  { atomicCommit: false },
);
opsStoreContract('DynamoDbOpsStore on dynalite (no transactions)', async () =>
  dynamoOpsStore(await endpoint(), false),
);
