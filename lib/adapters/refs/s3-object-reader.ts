import { STATUS_CODES } from 'node:http';
import { type AwsCredentials, escapeUri } from '../aws-signing.js';
import { BodyTooLargeError, callTimeout, type HttpAnswer, signedHttpRequest } from '../signed-http.js';

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
  return key.split('/').map(escapeUri).join('/');
}

/**
 * GetObject as one SigV4-signed request over node:http(s) (signed-http.ts, the signing the Secrets
 * Manager reader uses) instead of `@aws-sdk/client-s3`: the client cost ~125 KB of the Lambda bundle and
 * its init on every cold start, for one call that only some snapshots make. Not `fetch`: a process's
 * first `fetch` loads undici (~100 ms of CPU), which the first snapshot with an `s3://` ref would pay.
 * The body is read up to `maxBytes` and no further: an object announcing more is refused before its body
 * is read, and one that sends more than it announced (or announced nothing) is cut at the limit.
 * A redirect is not followed (S3 answers one for a bucket in another region, with an error body): it is
 * an error with S3's code (`PermanentRedirect`, `TemporaryRedirect`), as `fetch` left a 301 without
 * `Location`.
 */
export class HttpS3ObjectReader implements S3ObjectReader {
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
    const timeoutMs = this.options.timeoutMs ?? 20_000;
    const timeout = callTimeout(timeoutMs);
    let res: HttpAnswer;
    try {
      res = await signedHttpRequest({
        service: 's3',
        region: this.options.region,
        credentials: this.options.credentials(),
        method: 'GET',
        url,
        // S3 requires the payload hash header; a GET has an empty payload.
        headers: { 'x-amz-content-sha256': EMPTY_SHA256 },
        signal: timeout.signal,
        // An error answer's XML is read as well: S3's are a few hundred bytes, and a limit under that
        // would only hide the code (the answer is then classified by its status).
        maxBodyBytes: maxBytes,
        uriEscapePath: false,
      });
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        if (error.status < 200 || error.status >= 300) throw httpError(error.status, '');
        const size =
          error.announced === undefined ? `more than ${maxBytes} bytes` : `${error.announced} bytes`;
        throw new S3ReadError(`${size}, over the ${maxBytes}-byte limit`, 'TooLarge', false, {
          cause: error,
        });
      }
      const reason = timeout.signal.aborted
        ? `timed out after ${timeoutMs} ms`
        : (error as Error).message || (error as Error).name;
      throw new S3ReadError(reason, 'NetworkError', true, { cause: error });
    } finally {
      timeout.clear();
    }
    if (res.status < 200 || res.status >= 300) throw httpError(res.status, res.text);
    return res.text;
  }
}

/** A non-2xx answer as S3ReadError: S3's `<Code>` and `<Message>` when its XML body has them. */
function httpError(status: number, body: string): S3ReadError {
  const code = /<Code>([^<]+)<\/Code>/.exec(body)?.[1] ?? `HTTP ${status}`;
  const message = /<Message>([^<]+)<\/Message>/.exec(body)?.[1] ?? STATUS_CODES[status] ?? '';
  return new S3ReadError(`${code}: ${message}`, code, !FINAL_CODES.has(code));
}

/** SHA-256 of the empty string, the payload hash of a GET. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
