import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpsCliError, SignedOpsClient } from '#lib/cli/ops/signed-client.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';

/**
 * What a Lambda function URL with `AWS_IAM` auth does before invoking the function: recompute the SigV4
 * signature from what arrived (method, path and query as sent, the headers named as signed, the body) with
 * the caller's secret — here with `@smithy/signature-v4`, the signer the CLI used before — and compare.
 * Function URLs cannot run here: a loopback stand-in checks the signature and answers as the ops function.
 */
/** The signing time a request's `x-amz-date` (`20261202T102348Z`) names. */
function signedAt(req: IncomingMessage): Date {
  const d = String(req.headers['x-amz-date']);
  return new Date(
    `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`,
  );
}

async function verify(req: IncomingMessage, body: string): Promise<boolean> {
  const auth = req.headers.authorization ?? '';
  const signed = /SignedHeaders=([^,]+)/.exec(auth)?.[1]?.split(';') ?? [];
  const signingDate = signedAt(req);
  const headers: Record<string, string> = {};
  for (const name of signed) headers[name] = String(req.headers[name]);
  const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of url.searchParams) {
    const before = query[name];
    query[name] = before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value];
  }
  const expected = await new SignatureV4({
    service: 'lambda',
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET, sessionToken: 'session-token' },
    sha256: Sha256,
  }).sign(
    {
      method: req.method ?? '',
      protocol: 'http:',
      hostname: url.hostname,
      path: url.pathname,
      query,
      headers,
      body,
    },
    { signingDate },
  );
  return expected.headers.authorization === auth;
}

describe('SignedOpsClient (the ops CLI’s signed function URL calls)', () => {
  const seen: { verified: boolean; signedHeaders: string; body: string }[] = [];
  let answer: { status: number; body: string } = { status: 200, body: '{"ok":true}' };
  // The service's clock, as far from this machine's as a drifting laptop's can be (0: the same).
  let serviceClockMs = 0;
  let sendDate = true;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({
        verified: await verify(req, body),
        signedHeaders: /SignedHeaders=([^,]+)/.exec(req.headers.authorization ?? '')?.[1] ?? '',
        body,
      });
      const now = Date.now() + serviceClockMs;
      res.sendDate = false;
      const headers = {
        'content-type': 'application/json',
        ...(sendDate ? { date: new Date(now).toUTCString() } : {}),
      };
      // As AWS refuses a signature more than 5 minutes from its own clock.
      const d = String(req.headers['x-amz-date']);
      if (Math.abs(now - signedAt(req).getTime()) > 5 * 60_000)
        return void res.writeHead(403, headers).end(
          JSON.stringify({
            message: `Signature expired: ${d} is now earlier than the service's time - 5 min.`,
          }),
        );
      res.writeHead(answer.status, headers).end(answer.body);
    });
  });
  let base = '';
  beforeAll(async () => {
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((closed) => server.close(() => closed())));

  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET, sessionToken: 'session-token' };

  it('sends the command as JSON, signed so that the function URL accepts it (path, query, port, token, body)', async () => {
    answer = { status: 200, body: '{"ok":true,"id":"d-1"}' };
    const client = new SignedOpsClient(
      new URL(`${base}/ops/ü?b=2&a=1&a=0`),
      'eu-west-1',
      async () => credentials,
    );
    const cmd = { command: 'approve', id: 'sig-1', reason: 'checked ✓' } as never;
    await expect(client.send(cmd)).resolves.toEqual({ ok: true, id: 'd-1' });
    const last = seen.at(-1)!;
    expect(last.verified).toBe(true);
    expect(last.signedHeaders).toBe('content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token');
    expect(JSON.parse(last.body)).toEqual({ command: 'approve', id: 'sig-1', reason: 'checked ✓' });
  });

  it('does not pass the stand-in’s check when signed with another secret (the check can fail)', async () => {
    const client = new SignedOpsClient(new URL(`${base}/`), 'eu-west-1', {
      ...credentials,
      secretAccessKey: 'wrong',
    });
    await client.send({ command: 'mutes' } as never);
    expect(seen.at(-1)!.verified).toBe(false);
  });

  it('turns an error answer into an OpsCliError with the function’s message', async () => {
    answer = { status: 403, body: '{"Message":"Forbidden"}' };
    const client = new SignedOpsClient(new URL(`${base}/`), 'eu-west-1', credentials);
    const error = await client.send({ command: 'mutes' } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpsCliError);
    expect((error as Error).message).toBe('403: forbidden: your identity lacks the ops-approve policy');
    expect(seen.at(-1)!.verified).toBe(true);
  });

  it('signs again with the service’s clock when its Date header shows this machine’s clock over 5 minutes off', async () => {
    answer = { status: 200, body: '{"ok":true}' };
    for (const skew of [11 * 60_000, -7 * 60_000]) {
      serviceClockMs = skew;
      const client = new SignedOpsClient(new URL(`${base}/`), 'eu-west-1', credentials);
      const before = seen.length;
      await expect(client.send({ command: 'mutes' } as never)).resolves.toEqual({ ok: true });
      expect(seen.length - before).toBe(2); // refused, then accepted
      expect(seen.at(-1)!.verified).toBe(true);
      // The offset is kept: the next command is accepted at once.
      await client.send({ command: 'mutes' } as never);
      expect(seen.length - before).toBe(3);
    }
    serviceClockMs = 0;
  });

  it('says what the service said when it refuses a signature, and that the clock was tried, naming the skew', async () => {
    serviceClockMs = 9 * 60_000;
    sendDate = false;
    try {
      const client = new SignedOpsClient(new URL(`${base}/`), 'eu-west-1', credentials);
      const error = (await client.send({ command: 'mutes' } as never).catch((e: unknown) => e)) as Error;
      expect(error).toBeInstanceOf(OpsCliError);
      // No Date header: nothing to correct by; the service's own message, not the policy guess.
      expect(error.message).toMatch(/^403: forbidden: Signature expired: \d{8}T\d{6}Z is now earlier/);
    } finally {
      serviceClockMs = 0;
      sendDate = true;
    }
    // Still refused after signing with the service's clock (another secret, say): the skew is named too.
    serviceClockMs = 20 * 60_000;
    try {
      const client = new SignedOpsClient(new URL(`${base}/`), 'eu-west-1', credentials);
      answer = { status: 403, body: '{"Message":"The security token included in the request is invalid"}' };
      const error = (await client.send({ command: 'mutes' } as never).catch((e: unknown) => e)) as Error;
      expect(error.message).toBe(
        "403: forbidden: The security token included in the request is invalid (signed again with the service's clock, which is 20 min ahead of this machine's: set its clock right)",
      );
    } finally {
      serviceClockMs = 0;
      answer = { status: 200, body: '{"ok":true}' };
    }
  });
});
