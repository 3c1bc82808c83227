import { inject } from 'vitest';
import { dynamoEngineStore } from '#test/support/ports/dynamodb-subjects.js';
import { engineStoreContract } from '#test/support/ports/engine-store-contract.js';

/** The DynamoDB engine store, on fresh tables of DynamoDB Local for every test. */
engineStoreContract('DynamoDbEngineStore', () =>
  dynamoEngineStore(inject('dynamoEndpoint'), inject('dynamoKind') === 'dynamodb-local'),
);
