import { environmentCredentials, signedHeaders } from '#lib/adapters/aws-signing.js';

/**
 * A comparison, not a floor (bench/cold-start.ts): the aws-json floor's GetItem, signed the same way
 * (lib/adapters/aws-signing.ts `signedHeaders`) but sent with the runtime's `fetch`, which aws-json does not use: Node
 * loads `fetch` (undici, with its llhttp WebAssembly parser) on a process's first call. The difference
 * between this and the aws-json floor is what `fetch` would cost a cold start, on the Node that runs the
 * bench; re-read it when Lambda's runtime moves to a newer Node.
 */
export async function handler(): Promise<{ found: boolean }> {
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const url = new URL(process.env.DYNAMODB_ENDPOINT ?? `https://dynamodb.${region}.amazonaws.com`);
  const request = {
    service: 'dynamodb',
    region,
    credentials: environmentCredentials(),
    method: 'POST' as const,
    url,
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'DynamoDB_20120810.GetItem',
    },
    body: JSON.stringify({
      TableName: process.env.STATE_TABLE_NAME,
      Key: { pk: { S: 'floor' }, sk: { S: 'floor' } },
    }),
  };
  // fetch sets Host itself from the URL; the value signed is the same.
  const { host: _host, ...headers } = signedHeaders(request);
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body: request.body,
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { Item?: unknown; __type?: string; message?: string };
  if (!response.ok)
    throw new Error(`GetItem over fetch failed (${response.status}): ${body.__type} ${body.message}`);
  return { found: body.Item !== undefined };
}
