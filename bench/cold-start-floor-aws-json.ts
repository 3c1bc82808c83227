import { awsJsonClient } from '#lib/adapters/aws-json.js';
import { environmentCredentials } from '#lib/adapters/aws-signing.js';

/**
 * The floor under a function without the SDK (bench/cold-start.ts): a function that does nothing but one
 * DynamoDB GetItem through the functions' own AWS call (lib/adapters/aws-json.ts: SigV4-signed, over
 * node:https), bundled exactly as the functions are. Its init is nearly nothing; its first call pays what
 * any function that calls AWS pays once per process: the signer and its hashing, the HTTP client's first
 * request, the first connection. So init plus first call is the floor under a cold invocation.
 */
const dynamodb = awsJsonClient(
  {
    signingName: 'dynamodb',
    endpointPrefix: 'dynamodb',
    targetPrefix: 'DynamoDB_20120810',
    jsonVersion: '1.0',
  },
  {
    region: process.env.AWS_REGION ?? 'us-east-1',
    ...(process.env.DYNAMODB_ENDPOINT ? { endpoint: process.env.DYNAMODB_ENDPOINT } : {}),
    credentials: () => environmentCredentials(),
  },
);

/** One GetItem of a key that does not exist, on the state table. */
export async function handler(): Promise<{ found: boolean }> {
  const out = await dynamodb.call<{ Item?: unknown }>('GetItem', {
    TableName: process.env.STATE_TABLE_NAME,
    Key: { pk: { S: 'floor' }, sk: { S: 'floor' } },
  });
  return { found: out.Item !== undefined };
}
