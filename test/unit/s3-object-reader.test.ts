import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpS3ObjectReader, S3ReadError } from '#lib/adapters/refs/s3-object-reader.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

/**
 * What S3 does with a request before answering: recompute the SigV4 signature from what arrived (the
 * path as sent, the headers it names as signed) with the caller's secret, and compare. A reader that
 * signs one thing and sends another fails here.
 */
async function signatureMatches(req: IncomingMessage): Promise<boolean> {
  const auth = req.headers.authorization ?? '';
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(auth)?.[1]?.split(';') ?? [];
  const date = req.headers['x-amz-date'] as string;
  const signingDate = new Date(
    `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
  );
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) headers[name] = String(req.headers[name]);
  const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
  const signer = new SignatureV4({
    service: 's3',
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET },
    sha256: Sha256,
    uriEscapePath: false,
  });
  const expected = await signer.sign(
    {
      method: req.method ?? 'GET',
      protocol: 'http:',
      hostname: url.hostname,
      path: url.pathname,
      query: {},
      headers,
    },
    { signingDate },
  );
  return expected.headers.authorization === auth;
}

/**
 * S3 cannot run here: a loopback stand-in that checks the signature and answers as S3's REST API does,
 * and, on a few keys, misbehaves as a network can (a body with no announced size that does not stop, a
 * connection dropped mid-body, a body that stalls).
 */
describe('HttpS3ObjectReader (signed GetObject over node:http)', () => {
  const objects: Record<string, string> = {
    '/risk-bucket/worlds/w%201/cov.json': '{"a,a":0.0004}',
    '/risk-bucket/big.json': 'x'.repeat(2_000),
  };
  const seen: { path: string; verified: boolean; token?: string; payloadHash?: string }[] = [];
  let failWith: { status: number; code: string } | undefined;
  /** How the last misbehaving answer ended: whether the stand-in wrote all it meant to, and how much. */
  let misbehaved: Promise<{ finished: boolean; bytesWritten: number }> | undefined;
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    seen.push({
      path,
      verified: await signatureMatches(req),
      token: req.headers['x-amz-security-token'] as string | undefined,
      payloadHash: req.headers['x-amz-content-sha256'] as string | undefined,
    });
    if (path === '/risk-bucket/endless.json' || path === '/risk-bucket/stalls.json') {
      const endless = path.endsWith('endless.json');
      // Endless: chunked, no content-length, up to 64 MB unless the reader hangs up. Stalls: announces
      // 2,000 bytes, sends 1,000, then nothing.
      res.writeHead(200, endless ? { 'content-type': 'application/json' } : { 'content-length': 2_000 });
      misbehaved = new Promise((settle) => {
        let bytesWritten = 0;
        res.on('close', () => settle({ finished: res.writableFinished, bytesWritten }));
        const chunk = 'x'.repeat(16 * 1024);
        const more = () => {
          if (res.destroyed) return;
          if (!endless) {
            res.write('x'.repeat(1_000));
            bytesWritten = 1_000;
            return;
          }
          if (bytesWritten >= 64 * 1024 * 1024) return void res.end();
          bytesWritten += chunk.length;
          if (res.write(chunk)) setImmediate(more);
          else res.once('drain', more);
        };
        more();
      });
      return;
    }
    if (path === '/risk-bucket/dropped.json') {
      res.writeHead(200, { 'content-length': 2_000 });
      res.write('x'.repeat(1_000), () => req.socket.destroy());
      return;
    }
    const body = objects[path];
    if (failWith || body === undefined) {
      const { status, code } = failWith ?? { status: 404, code: 'NoSuchKey' };
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code} happened</Message></Error>`,
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  let endpoint = '';
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  const reader = (sessionToken?: string) =>
    new HttpS3ObjectReader({
      region: 'eu-west-1',
      endpoint,
      credentials: () => ({
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: SECRET,
        ...(sessionToken ? { sessionToken } : {}),
      }),
    });

  it('reads an object path-style with a signature S3 would accept, key escaped once', async () => {
    seen.length = 0;
    failWith = undefined;
    expect(await reader('session-1').getText('risk-bucket', 'worlds/w 1/cov.json', 1_000)).toBe(
      '{"a,a":0.0004}',
    );
    expect(seen).toEqual([
      {
        path: '/risk-bucket/worlds/w%201/cov.json',
        verified: true,
        token: 'session-1',
        payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      },
    ]);
  });

  it('answers NoSuchKey as final, with S3 error code', async () => {
    failWith = undefined;
    const error = await reader()
      .getText('risk-bucket', 'nope.json', 1_000)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3ReadError);
    expect(error).toMatchObject({ code: 'NoSuchKey', retryable: false });
  });

  it('answers AccessDenied as final and throttling or 5xx as retryable', async () => {
    failWith = { status: 403, code: 'AccessDenied' };
    await expect(reader().getText('risk-bucket', 'big.json', 10_000)).rejects.toMatchObject({
      code: 'AccessDenied',
      retryable: false,
    });
    failWith = { status: 503, code: 'SlowDown' };
    await expect(reader().getText('risk-bucket', 'big.json', 10_000)).rejects.toMatchObject({
      code: 'SlowDown',
      retryable: true,
    });
    failWith = undefined;
  });

  it('refuses an object over the size limit before reading it', async () => {
    await expect(reader().getText('risk-bucket', 'big.json', 1_000)).rejects.toMatchObject({
      code: 'TooLarge',
      retryable: false,
      message: '2000 bytes, over the 1000-byte limit',
    });
  });

  it('stops reading a body without content-length at the limit and hangs up', async () => {
    const error = await reader()
      .getText('risk-bucket', 'endless.json', 100_000)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3ReadError);
    expect(error).toMatchObject({
      code: 'TooLarge',
      retryable: false,
      message: 'more than 100000 bytes, over the 100000-byte limit',
    });
    // The stand-in saw the connection closed long before its 64 MB were written.
    const end = await misbehaved!;
    expect(end.finished).toBe(false);
    expect(end.bytesWritten).toBeLessThan(64 * 1024 * 1024);
  });

  it('reports a connection dropped mid-body as a retryable network error, not a short object', async () => {
    await expect(reader().getText('risk-bucket', 'dropped.json', 10_000)).rejects.toMatchObject({
      name: 'S3ReadError',
      code: 'NetworkError',
      retryable: true,
    });
  });

  it('times out a body that stalls mid-way, as retryable, and hangs up', async () => {
    const slow = new HttpS3ObjectReader({
      region: 'eu-west-1',
      endpoint,
      timeoutMs: 300,
      credentials: () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET }),
    });
    await expect(slow.getText('risk-bucket', 'stalls.json', 10_000)).rejects.toMatchObject({
      code: 'NetworkError',
      retryable: true,
      message: 'timed out after 300 ms',
    });
    expect(await misbehaved!).toEqual({ finished: false, bytesWritten: 1_000 });
  });

  it('reports an unreachable endpoint as retryable', async () => {
    const closed = new HttpS3ObjectReader({
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:1',
      credentials: () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET }),
    });
    await expect(closed.getText('risk-bucket', 'k.json', 1_000)).rejects.toMatchObject({
      code: 'NetworkError',
      retryable: true,
    });
  });

  it('addresses AWS virtual-hosted style, and path style for bucket names with dots', () => {
    const aws = new HttpS3ObjectReader({
      region: 'eu-west-1',
      credentials: () => ({ accessKeyId: 'a', secretAccessKey: 'b' }),
    });
    expect(aws.objectUrl('risk-bucket', 'worlds/w(1)/cov.json').href).toBe(
      'https://risk-bucket.s3.eu-west-1.amazonaws.com/worlds/w%281%29/cov.json',
    );
    expect(aws.objectUrl('risk.bucket', 'a b.json').href).toBe(
      'https://s3.eu-west-1.amazonaws.com/risk.bucket/a%20b.json',
    );
  });
});
