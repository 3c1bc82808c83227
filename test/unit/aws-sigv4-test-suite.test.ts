import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  canonicalRequest,
  escapeUri,
  type SigningContext,
  type SigningInput,
  signRequest,
} from '#lib/adapters/aws-signing.js';

/**
 * AWS's published SigV4 test suite (test/fixtures/aws-sigv4-test-suite/README.md says where it comes from):
 * each case's request, signed by our signer, gives the suite's canonical request, string to sign and
 * Authorization header.
 */

const SUITE = join(import.meta.dirname, '../fixtures/aws-sigv4-test-suite');
const cases = readdirSync(SUITE, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

interface Context {
  credentials: { access_key_id: string; secret_access_key: string; token?: string };
  normalize: boolean;
  region: string;
  service: string;
  sign_body: boolean;
  timestamp: string;
}

/** request.txt: `METHOD TARGET HTTP/1.1`, `Name:value` lines (an indented line continues the last), blank, body. */
function parseRequest(text: string): {
  method: string;
  target: string;
  headers: Record<string, string>;
  body?: string;
} {
  const [head = '', body] = text.split(/\n\n/, 2) as [string, string | undefined];
  const [requestLine = '', ...lines] = head.split('\n');
  const match = /^(\S+) (.*) HTTP\/1\.1$/.exec(requestLine);
  if (!match) throw new Error(`request line not understood: ${requestLine}`);
  const headers: Record<string, string> = {};
  let last = '';
  for (const line of lines) {
    if (line === '') continue;
    if (/^\s/.test(line)) {
      headers[last] += `\n${line}`;
      continue;
    }
    const colon = line.indexOf(':');
    last = line.slice(0, colon);
    headers[last] = line.slice(colon + 1);
  }
  return { method: match[1]!, target: match[2]!, headers, ...(body ? { body } : {}) };
}

function read(name: string, file: string): string {
  return readFileSync(join(SUITE, name, file), 'utf8');
}

/** The case as our signer takes it: a normalized case's path raw (we escape it), an unnormalized one as sent (S3's way). */
function signingCase(name: string): { input: SigningInput; context: SigningContext } {
  const context = JSON.parse(read(name, 'context.json')) as Context;
  const request = parseRequest(read(name, 'request.txt'));
  const [path = '', rawQuery] = request.target.split('?', 2) as [string, string | undefined];
  const query = (rawQuery ?? '')
    .split('&')
    .filter(Boolean)
    .map((pair): [string, string] => {
      const eq = pair.indexOf('=');
      const [key, value] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
      return [decodeURIComponent(key), decodeURIComponent(value)];
    });
  return {
    input: {
      method: request.method,
      path: context.normalize ? path : path.split('/').map(escapeUri).join('/'),
      query,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
    },
    context: {
      credentials: {
        accessKeyId: context.credentials.access_key_id,
        secretAccessKey: context.credentials.secret_access_key,
        ...(context.credentials.token ? { sessionToken: context.credentials.token } : {}),
      },
      region: context.region,
      service: context.service,
      date: new Date(context.timestamp),
      uriEscapePath: context.normalize,
      applyChecksum: context.sign_body,
    },
  };
}

describe('signRequest against the AWS SigV4 test suite', () => {
  it('has the cases the README lists', () => {
    expect(cases).toHaveLength(23);
  });

  it.each(cases)('%s: canonical request, string to sign, Authorization', (name) => {
    const { input, context } = signingCase(name);
    const canonical = canonicalRequest(input, context);
    expect(canonical.text).toBe(read(name, 'header-canonical-request.txt'));
    const [, date, scope] = read(name, 'header-string-to-sign.txt').split('\n');
    expect([canonical.longDate, canonical.scope]).toEqual([date, scope]);

    const headers = signRequest(input, context);
    const expected = read(name, 'header-signed-request.txt');
    expect(headers.authorization).toBe(/^Authorization:(.*)$/m.exec(expected)?.[1]);
    expect(headers['x-amz-date']).toBe(/^X-Amz-Date:(.*)$/m.exec(expected)?.[1]);
    expect(headers['x-amz-security-token']).toBe(/^X-Amz-Security-Token:(.*)$/m.exec(expected)?.[1]);
  });
});
