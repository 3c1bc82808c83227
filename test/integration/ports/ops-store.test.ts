import { inject } from 'vitest';
import { dynamoOpsStore } from '#test/support/ports/dynamodb-subjects.js';
import { opsStoreContract } from '#test/support/ports/ops-store-contract.js';

/** The DynamoDB ops store, on fresh tables of DynamoDB Local for every test. */
opsStoreContract('DynamoDbOpsStore', () =>
  dynamoOpsStore(inject('dynamoEndpoint'), inject('dynamoKind') === 'dynamodb-local'),
);
