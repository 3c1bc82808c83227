import { type AwsCredentials, signedFetch } from '../signed-fetch.js';

/** A GetObject that failed; `code` is S3's error code (`NoSuchKey`, `AccessDenied`, …) or the HTTP status. */
export class S3ReadError extends Error {
  override readonly name = 'S3ReadError';
  constructor(
    message: string,
    readonly code: string,
    /** Worth another try (throttling, 5xx, network, time-out); false for answers that will not change. */
    readonly retryable: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** S3's answers that another try will not change (the same list the SDK-based reader treated as final). */
const FINAL_CODES = new Set(['NoSuchKey', 'NoSuchBucket', 'AccessDenied']);

export interface S3ObjectReaderOptions {
  region: string;
  /** Read on each request (Lambda's credentials rotate). */
  credentials: () => AwsCredentials;
  /** An S3-compatible endpoint (tests, local runs); objects are then addressed path-style. */
  endpoint?: string;
  /** Per-request time limit. Default 20 s (a 64 MB object over Lambda's network, within its 30 s). */
  timeoutMs?: number;
}

/** Reads whole S3 objects as text: what `s3://` refs need, and nothing else. */
export interface S3ObjectReader {
  /** The object's text; S3ReadError on any failure, and when it is bigger than `maxBytes`. */
  getText(bucket: string, key: string, maxBytes: number): Promise<string>;
}

/** Each path segment escaped as S3 expects (RFC 3986 unreserved kept), the slashes kept. */
function escapeKey(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment).replace(
        /[!'()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join('/');
}

/**
 * GetObject as one SigV4-signed `fetch` (the signing the Secrets Manager reader uses) instead of
 * `@aws-sdk/client-s3`: the client cost ~125 KB of the Lambda bundle and its init on every cold
 * start, for one call that only some snapshots make.
 */
export class FetchS3ObjectReader implements S3ObjectReader {
  constructor(private readonly options: S3ObjectReaderOptions) {}

  /** Virtual-hosted style on AWS (path style for bucket names with dots, which TLS cannot cover). */
  objectUrl(bucket: string, key: string): URL {
    const { endpoint, region } = this.options;
    if (endpoint) return new URL(`${endpoint.replace(/\/+$/, '')}/${bucket}/${escapeKey(key)}`);
    return bucket.includes('.')
      ? new URL(`https://s3.${region}.amazonaws.com/${bucket}/${escapeKey(key)}`)
      : new URL(`https://${bucket}.s3.${region}.amazonaws.com/${escapeKey(key)}`);
  }

  async getText(bucket: string, key: string, maxBytes: number): Promise<string> {
    const url = this.objectUrl(bucket, key);
    let res: Response;
    try {
      res = await signedFetch({
        service: 's3',
        region: this.options.region,
        credentials: this.options.credentials(),
        method: 'GET',
        url,
        // S3 requires the payload hash header; a GET has an empty payload.
        headers: { 'x-amz-content-sha256': EMPTY_SHA256 },
        timeoutMs: this.options.timeoutMs ?? 20_000,
        uriEscapePath: false,
      });
    } catch (error) {
      const reason = (error as Error).name === 'TimeoutError' ? 'timed out' : (error as Error).message;
      throw new S3ReadError(reason, 'NetworkError', true, { cause: error });
    }
    if (!res.ok) {
      const body = await res.text().catch(() => '');
      const code = /<Code>([^<]+)<\/Code>/.exec(body)?.[1] ?? `HTTP ${res.status}`;
      const message = /<Message>([^<]+)<\/Message>/.exec(body)?.[1] ?? res.statusText;
      throw new S3ReadError(`${code}: ${message}`, code, !FINAL_CODES.has(code));
    }
    const length = Number(res.headers.get('content-length') ?? 0);
    if (length > maxBytes) {
      await res.body?.cancel();
      throw new S3ReadError(`${length} bytes, over the ${maxBytes}-byte limit`, 'TooLarge', false);
    }
    try {
      return await res.text();
    } catch (error) {
      throw new S3ReadError(`reading the body: ${(error as Error).message}`, 'NetworkError', true, {
        cause: error,
      });
    }
  }
}

/** SHA-256 of the empty string, the payload hash of a GET. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
