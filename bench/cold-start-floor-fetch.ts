import { environmentCredentials, signedFetch } from '#lib/adapters/signed-fetch.js';

/**
 * The fetch floor (bench/cold-invocation.ts): a function that does nothing but one SigV4-signed DynamoDB
 * GetItem over the runtime's `fetch`, bundled exactly as the functions are. Its init is nearly nothing;
 * its first call pays what a function without the SDK still pays once per process: Node's `fetch`
 * (undici, loaded lazily on the first call), the signer and its hashing, the first connection. So init
 * plus first call is the floor under a cold invocation of a function whose AWS calls go over `fetch`.
 */
export async function handler(): Promise<{ found: boolean }> {
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const response = await signedFetch({
    service: 'dynamodb',
    region,
    credentials: environmentCredentials(),
    method: 'POST',
    url: new URL(process.env.DYNAMODB_ENDPOINT ?? `https://dynamodb.${region}.amazonaws.com`),
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'DynamoDB_20120810.GetItem',
    },
    body: JSON.stringify({
      TableName: process.env.STATE_TABLE_NAME,
      Key: { pk: { S: 'floor' }, sk: { S: 'floor' } },
    }),
    timeoutMs: 10_000,
  });
  const body = (await response.json()) as { Item?: unknown; __type?: string; message?: string };
  if (!response.ok)
    throw new Error(`floor GetItem failed (${response.status}): ${body.__type} ${body.message}`);
  return { found: body.Item !== undefined };
}
