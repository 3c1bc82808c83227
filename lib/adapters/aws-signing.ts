import { createHash, createHmac } from 'node:crypto';

/**
 * AWS Signature Version 4 (header form, AWS4-HMAC-SHA256) on node:crypto. It replaces
 * `@smithy/signature-v4`, whose every step it follows (canonical path, query and headers, the headers it
 * never signs, the signing-key cache) and against which it is tested request for request
 * (test/unit/aws-signing.test.ts, with AWS's published test-suite vectors beside): smithy's signer and
 * the `@smithy/core` pieces it imports were ~13 KB of what a cold start loads, parsed and run at init, and
 * it set itself up on the first request, all for three or four hashes per request.
 */

/** AWS credentials as Lambda puts them in the environment. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The function's own credentials, from the environment Lambda gives it (read on each call: they rotate). */
export function environmentCredentials(env: NodeJS.ProcessEnv = process.env): AwsCredentials {
  return {
    accessKeyId: env.AWS_ACCESS_KEY_ID ?? '',
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '',
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
}

export interface SignedRequest {
  service: string;
  region: string;
  credentials: AwsCredentials;
  method: 'GET' | 'POST';
  url: URL;
  headers?: Record<string, string>;
  body?: string;
  /**
   * S3 signs the path as sent (already escaped once, not normalized); every other service normalizes it
   * and escapes it again (SigV4's "double encoding"). Default: true, as for every service but S3.
   */
  uriEscapePath?: boolean;
  /** The signing time; default now. */
  date?: Date;
}

/**
 * The request's headers with SigV4's (Authorization, X-Amz-Date, X-Amz-Content-Sha256, the session
 * token), Host included: what to send. A caller's `x-amz-content-sha256` (S3's `UNSIGNED-PAYLOAD`) is
 * signed as the payload's hash instead of the body's.
 */
export function signedHeaders(request: SignedRequest): Record<string, string> {
  const { url } = request;
  return signRequest(
    {
      method: request.method,
      path: url.pathname,
      query: [...url.searchParams],
      headers: { host: url.host, ...request.headers },
      ...(request.body === undefined ? {} : { body: request.body }),
    },
    {
      credentials: request.credentials,
      region: request.region,
      service: request.service,
      date: request.date ?? new Date(),
      uriEscapePath: request.uriEscapePath ?? true,
    },
  );
}

/** What SigV4 signs of a request. */
export interface SigningInput {
  method: string;
  /** The path as sent (escaped once, as `URL.pathname` is). */
  path: string;
  /** Query parameters, decoded, in any order; a name may repeat. */
  query: ReadonlyArray<readonly [string, string]>;
  /** Header names in any case, Host included. */
  headers: Readonly<Record<string, string>>;
  body?: string | Uint8Array;
}

export interface SigningContext {
  credentials: AwsCredentials;
  region: string;
  service: string;
  date: Date;
  uriEscapePath: boolean;
  /**
   * Sends and signs X-Amz-Content-Sha256 (the payload's hash) when the caller did not set it. Default
   * true, as smithy's signer and the SDK's clients do; S3 requires it, other services accept it.
   */
  applyChecksum?: boolean;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Headers the signer always sets itself: a caller's are dropped (smithy's `prepareRequest`). */
const GENERATED = new Set(['authorization', 'x-amz-date', 'date']);
/** Headers a proxy or the client may change on the way: never signed (smithy's list, and `proxy-*`, `sec-*`). */
const UNSIGNABLE = new Set([
  'authorization',
  'cache-control',
  'connection',
  'expect',
  'from',
  'keep-alive',
  'max-forwards',
  'pragma',
  'referer',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-amzn-trace-id',
]);

/** Signs one request: its headers (the generated ones replaced) plus SigV4's, as `SignatureV4#sign` returns them. */
export function signRequest(input: SigningInput, context: SigningContext): Record<string, string> {
  const { credentials, region, service } = context;
  const canonical = canonicalRequest(input, context);
  const stringToSign = `${ALGORITHM}\n${canonical.longDate}\n${canonical.scope}\n${sha256Hex(canonical.text)}`;
  const key = signingKey(credentials.secretAccessKey, canonical.longDate.slice(0, 8), region, service);
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
  const { headers } = canonical;
  headers.authorization = `${ALGORITHM} Credential=${credentials.accessKeyId}/${canonical.scope}, SignedHeaders=${canonical.signedHeaders}, Signature=${signature}`;
  return headers;
}

/** A request's canonical form, and the headers to send with it (all but Authorization). */
export interface CanonicalRequest {
  text: string;
  signedHeaders: string;
  headers: Record<string, string>;
  /** X-Amz-Date: `20261202T065900Z`. */
  longDate: string;
  /** The credential scope: `20261202/eu-west-1/dynamodb/aws4_request`. */
  scope: string;
}

/** SigV4's canonical request: method, path, query, signed headers and their list, payload hash. */
export function canonicalRequest(input: SigningInput, context: SigningContext): CanonicalRequest {
  const longDate = context.date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
  const scope = `${longDate.slice(0, 8)}/${context.region}/${context.service}/aws4_request`;

  const headers: Record<string, string> = {};
  let payloadHash: string | undefined;
  for (const name of Object.keys(input.headers)) {
    const lower = name.toLowerCase();
    if (GENERATED.has(lower)) continue;
    const value = input.headers[name] as string;
    headers[name] = value;
    if (lower === 'x-amz-content-sha256' && payloadHash === undefined) payloadHash = value;
  }
  headers['x-amz-date'] = longDate;
  if (context.credentials.sessionToken) headers['x-amz-security-token'] = context.credentials.sessionToken;
  if (payloadHash === undefined) {
    payloadHash = input.body === undefined ? EMPTY_SHA256 : sha256Hex(input.body);
    if (context.applyChecksum ?? true) headers['x-amz-content-sha256'] = payloadHash;
  }

  const signed = canonicalHeaders(headers);
  const names = [...signed.keys()].sort();
  const signedHeaders = names.join(';');
  const text = [
    input.method,
    canonicalPath(input.path, context.uriEscapePath),
    canonicalQuery(input.query),
    ...names.map((name) => `${name}:${signed.get(name)}`),
    '',
    signedHeaders,
    payloadHash,
  ].join('\n');
  return { text, signedHeaders, headers, longDate, scope };
}

/** RFC 3986 escaping (unreserved characters kept), as SigV4 wants it: encodeURIComponent plus `!'()*`. */
export function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The path as S3 wants it (as sent), or normalized (`.`, `..`, empty segments) and escaped again. */
function canonicalPath(sent: string, uriEscapePath: boolean): string {
  // Absolute, as an HTTP request's path is (smithy's HttpRequest makes it so).
  const path = sent.startsWith('/') ? sent : `/${sent}`;
  if (!uriEscapePath) return path;
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(escapeUri(segment));
  }
  const trail = segments.length > 0 && path.endsWith('/') ? '/' : '';
  return `/${segments.join('/')}${trail}`;
}

/** Name=value pairs escaped, sorted by name then value (`X-Amz-Signature` left out), joined with `&`. */
function canonicalQuery(query: ReadonlyArray<readonly [string, string]>): string {
  const pairs: [string, string][] = [];
  for (const [name, value] of query) {
    if (name.toLowerCase() !== 'x-amz-signature') pairs.push([escapeUri(name), escapeUri(value)]);
  }
  pairs.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

/**
 * The signed headers, lower-cased, values with line breaks as spaces, runs of blanks as one, trimmed.
 * Names are taken in sorted order so that of two spellings of one name the last sorted wins, as smithy's.
 */
function canonicalHeaders(headers: Record<string, string>): Map<string, string> {
  const canonical = new Map<string, string>();
  for (const name of Object.keys(headers).sort()) {
    const value = headers[name];
    if (value === undefined || value === null) continue;
    const lower = name.toLowerCase();
    if (UNSIGNABLE.has(lower) || lower.startsWith('proxy-') || lower.startsWith('sec-')) continue;
    canonical.set(
      lower,
      value
        .replace(/[\r\n]/g, ' ')
        .replace(/[ \t]+/g, ' ')
        .replace(/^ | $/g, ''),
    );
  }
  return canonical;
}

function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Derived keys by secret, day, region and service: a rotated secret or a new day derives a new one. */
const signingKeys = new Map<string, Buffer>();
const MAX_SIGNING_KEYS = 50;

/** How many derived keys are cached: at most 50, the oldest dropped first, however many secrets a process sees. */
export function cachedSigningKeys(): number {
  return signingKeys.size;
}

function signingKey(secret: string, shortDate: string, region: string, service: string): Buffer {
  const cacheKey = `${shortDate}\n${region}\n${service}\n${secret}`;
  let key = signingKeys.get(cacheKey);
  if (key) return key;
  key = createHmac('sha256', `AWS4${secret}`).update(shortDate).digest();
  for (const part of [region, service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  if (signingKeys.size >= MAX_SIGNING_KEYS) signingKeys.delete(signingKeys.keys().next().value as string);
  signingKeys.set(cacheKey, key);
  return key;
}
