import * as sdk from '@aws-sdk/client-dynamodb';
import * as lib from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import {
  type DynamoDocumentClient,
  dynamoDocumentClient,
} from '#lib/adapters/dynamodb/client/document-client.js';
import { type ScriptedRequest, startScriptedAwsService } from '#test/support/scripted-aws-service.js';

/**
 * DynamoDB's JSON protocol on loopback, answering whatever the test sets (test/support/scripted-aws-service.ts):
 * both the SDK's client and ours are pointed at it, so what each sends and how each reads the same answer
 * can be compared byte for byte, without a DynamoDB behind it (DynamoDB Local's answers are compared in
 * test/integration/dynamodb-client-differential.test.ts).
 */
export async function startStubDynamoDb(): Promise<{
  endpoint: string;
  requests: ScriptedRequest[];
  /** The answer to every later request. */
  answer(status: number, body: unknown): void;
  close(): Promise<void>;
}> {
  const service = await startScriptedAwsService('application/x-amz-json-1.0');
  return {
    endpoint: service.endpoint,
    requests: service.requests,
    answer(status, body) {
      service.otherwise = { status, body };
    },
    close: () => service.close(),
  };
}

/**
 * lib-dynamodb's document client as the stores configured it (undefined values dropped) and ours, both at
 * `endpoint` with one attempt per call, so each request the stub sees is one call.
 */
export function clientPair(endpoint: string): {
  theirs: lib.DynamoDBDocumentClient;
  mine: DynamoDocumentClient;
} {
  const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };
  return {
    theirs: lib.DynamoDBDocumentClient.from(
      new sdk.DynamoDBClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 }),
      { marshallOptions: { removeUndefinedValues: true } },
    ),
    mine: stubClient(endpoint),
  };
}

/** Our document client at `endpoint` with one attempt per call, so each request the stub sees is one call. */
export function stubClient(endpoint: string, region = 'us-east-1'): DynamoDocumentClient {
  return dynamoDocumentClient({
    endpoint,
    region,
    credentials: () => ({ accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }),
    maxAttempts: 1,
  });
}

/** The stub and both clients for a test file: started before its tests, closed after. */
export function stubbedClients(): {
  stub: Awaited<ReturnType<typeof startStubDynamoDb>>;
  theirs: lib.DynamoDBDocumentClient;
  mine: DynamoDocumentClient;
} {
  const fixture = {} as ReturnType<typeof stubbedClients>;
  beforeAll(async () => {
    fixture.stub = await startStubDynamoDb();
    Object.assign(fixture, clientPair(fixture.stub.endpoint));
  });
  afterAll(async () => {
    fixture.theirs?.destroy();
    await fixture.stub?.close();
  });
  return fixture;
}
