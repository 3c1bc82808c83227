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
