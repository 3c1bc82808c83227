import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';

/**
 * The SDK floor (bench/pipeline.bench.ts, bench/cold-invocation.ts): a function that only builds the
 * DynamoDB document client and, invoked, makes one GetItem, bundled exactly as the functions are. Its
 * init is what the SDK and the Node built-ins it loads cost before any of our code runs; init plus its
 * first call is what the SDK client costs a cold invocation. Once no function carries the SDK it is the
 * figure the fetch floor (bench/cold-start-floor-fetch.ts) is read against: what the change saved at most.
 */
export const documentClient = DynamoDBDocumentClient.from(
  new DynamoDBClient(process.env.DYNAMODB_ENDPOINT ? { endpoint: process.env.DYNAMODB_ENDPOINT } : {}),
);

/** One GetItem of a key that does not exist, on the state table. */
export async function handler(): Promise<{ found: boolean }> {
  const out = await documentClient.send(
    new GetCommand({ TableName: process.env.STATE_TABLE_NAME, Key: { pk: 'floor', sk: 'floor' } }),
  );
  return { found: out.Item !== undefined };
}
