import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { NodeSha256 } from '#lib/adapters/node-sha256.js';
import { mulberry32 } from '#lib/prng.js';

/** Node's crypto behind the signer, checked against the pure-JavaScript SHA-256 the signer used before. */
describe('NodeSha256 (the SigV4 signer’s hash on node:crypto)', () => {
  const rand = mulberry32(12);
  const sample = (): string | Uint8Array => {
    const n = Math.floor(rand() * 3000);
    if (rand() < 0.5)
      return Array.from({ length: n }, () => String.fromCodePoint(32 + Math.floor(rand() * 3000))).join('');
    return Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
  };

  it('digests and HMACs as @aws-crypto/sha256-js does, over strings and bytes, fed in pieces, after reset', async () => {
    for (let i = 0; i < 60; i++) {
      const secret = i % 2 === 0 ? undefined : sample();
      const parts = [sample(), sample(), sample()];
      const ours = new NodeSha256(secret);
      const reference = new Sha256(secret);
      ours.update('discarded');
      ours.reset();
      for (const part of parts) {
        ours.update(part);
        reference.update(part);
      }
      expect(Buffer.from(await ours.digest()).toString('hex')).toBe(
        Buffer.from(await reference.digest()).toString('hex'),
      );
    }
  });

  it('gives the signer the same Authorization for the same request and time', async () => {
    const credentials = {
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      sessionToken: 't',
    };
    const request = {
      method: 'POST',
      protocol: 'https:',
      hostname: 'dynamodb.eu-west-1.amazonaws.com',
      path: '/',
      headers: { host: 'dynamodb.eu-west-1.amazonaws.com', 'x-amz-target': 'DynamoDB_20120810.PutItem' },
      body: JSON.stringify({ TableName: 'signals', Item: { pk: { S: 'ü€𝄞' } } }),
    };
    const signingDate = new Date('2026-12-02T05:00:00Z');
    const sign = (sha256: typeof Sha256 | typeof NodeSha256) =>
      new SignatureV4({ service: 'dynamodb', region: 'eu-west-1', credentials, sha256 }).sign(request, {
        signingDate,
      });
    const ours = await sign(NodeSha256);
    expect(ours.headers.authorization).toMatch(/Signature=[0-9a-f]{64}$/);
    expect(ours.headers).toEqual((await sign(Sha256)).headers);
  });
});
