import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { environmentCredentials } from '#lib/adapters/signed-fetch.js';

/**
 * A comparison floor (bench/cold-start.ts), not a function of ours: the fetch floor's one signed
 * DynamoDB GetItem, sent with `node:http` / `node:https` instead of `fetch`, bundled the same way. Node
 * loads `fetch` (undici, with its llhttp WebAssembly parser) on the first call; the SDK and this floor use
 * the http module Node has already loaded. The difference between the two floors is what a first call
 * pays for `fetch` itself.
 */
export async function handler(): Promise<{ found: boolean }> {
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const url = new URL(process.env.DYNAMODB_ENDPOINT ?? `https://dynamodb.${region}.amazonaws.com`);
  const body = JSON.stringify({
    TableName: process.env.STATE_TABLE_NAME,
    Key: { pk: { S: 'floor' }, sk: { S: 'floor' } },
  });
  const signer = new SignatureV4({
    service: 'dynamodb',
    region,
    credentials: environmentCredentials(),
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    headers: {
      host: url.host,
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'DynamoDB_20120810.GetItem',
    },
    body,
  });
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = send(url, { method: 'POST', headers: signed.headers, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('floor GetItem timed out')));
    req.on('error', reject);
    req.end(body);
  });
  const parsed = JSON.parse(text) as { Item?: unknown; __type?: string; message?: string };
  if (status !== 200) throw new Error(`floor GetItem failed (${status}): ${parsed.__type} ${parsed.message}`);
  return { found: parsed.Item !== undefined };
}
