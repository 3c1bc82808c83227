import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from './node-sha256.js';

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
  /** The request's limit (ms), unless `signal` is given. */
  timeoutMs?: number;
  /** Aborts the request (a caller's deadline combined with its own time-out). */
  signal?: AbortSignal;
  /**
   * S3 signs the path as sent (already escaped once); every other service escapes it again
   * (SigV4's "double encoding"). Default: true, as for every service but S3.
   */
  uriEscapePath?: boolean;
}

/** The request's headers with SigV4's (Authorization, X-Amz-Date, the session token), Host included. */
export async function signedHeaders(request: SignedRequest): Promise<Record<string, string>> {
  const { url } = request;
  const signer = new SignatureV4({
    service: request.service,
    region: request.region,
    credentials: request.credentials,
    sha256: NodeSha256,
    uriEscapePath: request.uriEscapePath ?? true,
  });
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = value;
  const signed = await signer.sign({
    method: request.method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query,
    headers: { host: url.host, ...request.headers },
    ...(request.body === undefined ? {} : { body: request.body }),
  });
  return signed.headers;
}

/**
 * One SigV4-signed request over the runtime's own `fetch`, for reads that stream a large body (an S3
 * object). Network errors and time-outs reject as `fetch` does; HTTP errors are the caller's to read.
 * Node loads `fetch` (undici, its parser compiled from WebAssembly) on first use, ~100 ms of CPU: the AWS
 * calls every invocation makes go over node:https instead (signed-http.ts).
 */
export async function signedFetch(request: SignedRequest): Promise<Response> {
  // fetch sets Host itself from the URL; the value signed is the same.
  const { host: _host, ...headers } = await signedHeaders(request);
  return fetch(request.url, {
    method: request.method,
    headers,
    ...(request.body === undefined ? {} : { body: request.body }),
    signal: request.signal ?? AbortSignal.timeout(request.timeoutMs ?? 10_000),
  });
}
