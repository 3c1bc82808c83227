import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedSecret, SecretReadError } from '#lib/adapters/secrets/secret-reader.js';

/** Secrets Manager cannot run here: a loopback stand-in answering GetSecretValue as its JSON API does. */
describe('cachedSecret (signed GetSecretValue over fetch)', () => {
  const seen: { target?: string; authorization?: string; body: string }[] = [];
  let status = 200;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({
        target: req.headers['x-amz-target'] as string,
        authorization: req.headers.authorization,
        body,
      });
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        status === 200
          ? JSON.stringify({ SecretString: 'hub-token-1' })
          : '{"__type":"ResourceNotFoundException"}',
      );
    });
  });
  let endpoint = '';
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  const options = () => ({
    region: 'eu-west-1',
    endpoint,
    credentials: () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }),
  });

  it('reads the secret once with a SigV4-signed request and caches it', async () => {
    seen.length = 0;
    status = 200;
    const token = cachedSecret('qmtl/hub-token', options());
    expect(await token()).toBe('hub-token-1');
    expect(await token()).toBe('hub-token-1');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.target).toBe('secretsmanager.GetSecretValue');
    expect(seen[0]!.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/secretsmanager\//,
    );
    expect(JSON.parse(seen[0]!.body)).toEqual({ SecretId: 'qmtl/hub-token' });
  });

  it('does not cache a failure: the next call asks again', async () => {
    seen.length = 0;
    status = 400;
    const token = cachedSecret('qmtl/missing', options());
    await expect(token()).rejects.toBeInstanceOf(SecretReadError);
    status = 200;
    expect(await token()).toBe('hub-token-1');
    expect(seen).toHaveLength(2);
  });
});
