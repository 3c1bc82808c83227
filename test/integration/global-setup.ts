import type { TestProject } from 'vitest/node';
import { javaAvailable, type LocalDynamoDb, startLocalDynamoDb } from '#lib/local/dynamodb-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    dynamoKind: string;
  }
}

let dynamo: LocalDynamoDb | undefined;

/**
 * One DynamoDB Local for the whole integration run (each test file uses its own table prefix).
 * CI has Java, so the transactional and TTL paths run on the real emulator; without Java the
 * suite still runs on dynalite, where transactions are replaced by ordered writes.
 */
export async function setup(project: TestProject): Promise<void> {
  if (process.env.CI && !javaAvailable()) {
    throw new Error(
      'CI must run the integration tests on DynamoDB Local: install Java 17+ (dynalite lacks transactions and TTL)',
    );
  }
  dynamo = await startLocalDynamoDb();
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('dynamoKind', dynamo.kind);
}

export async function teardown(): Promise<void> {
  await dynamo?.stop();
}
