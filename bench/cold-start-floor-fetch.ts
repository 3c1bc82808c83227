import { awsJsonClient } from '#lib/adapters/aws-json.js';
import { environmentCredentials } from '#lib/adapters/signed-fetch.js';

/**
 * The fetch floor (bench/cold-start.ts): a function that does nothing but one DynamoDB GetItem through
 * the functions' own AWS call (lib/adapters/aws-json.ts: SigV4-signed, over the runtime's `fetch`),
 * bundled exactly as the functions are. Its init is nearly nothing; its first call pays what a function
 * without the SDK still pays once per process: Node's `fetch` (undici, loaded on the first call), the
 * signer and its hashing, the first connection. So init plus first call is the floor under a cold
 * invocation of a function whose AWS calls go over `fetch`.
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
