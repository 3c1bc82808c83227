// The modules, not their `request` bindings: Powertools' Tracer patches `http.request` / `https.request` on
// the module objects (captureHTTPsGlobal) after this module is imported, and a named ESM import of a
// built-in keeps the function it saw first.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { type SignedRequest, signedHeaders } from './aws-signing.js';

/** A whole answer: status, headers (lower-case names), body text. */
export interface HttpAnswer {
  status: number;
  header(name: string): string | undefined;
  text: string;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: string;
  /** Aborts the request, its body included (a time-out, a caller's deadline). */
  signal: AbortSignal;
  /**
   * The most body bytes read: an answer announcing more (content-length) is refused before its body is
   * read, and one that sends more than that is cut there (the request destroyed), with BodyTooLargeError.
   */
  maxBodyBytes?: number;
}

/** An answer whose body is over the request's `maxBodyBytes`; nothing more of it was read. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  constructor(
    readonly status: number,
    readonly limit: number,
    /** The size the answer announced, when it announced one over the limit; undefined when it was cut. */
    readonly announced: number | undefined,
  ) {
    super(
      announced === undefined
        ? `the answer's body went past the ${limit}-byte limit`
        : `the answer announced ${announced} bytes, over the ${limit}-byte limit`,
    );
  }
}

/**
 * One call's time-out: `signal` aborts with a `TimeoutError` after `ms`, and `clear()`, called once the call
 * is over, stops its timer. Not `AbortSignal.timeout`, whose timer (and the signal) outlive the call for the
 * whole time-out: about 11,000 of them alive at a time in the soak bench (README, Soak).
 */
export function callTimeout(ms: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`no answer in ${ms} ms`, 'TimeoutError')),
    ms,
  );
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

// Connections kept open between calls and invocations, as the SDK's handler keeps them.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 50 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 50 }),
};

/**
 * One request over node:http(s), its answer read whole (up to `maxBodyBytes`). Not `fetch`: Node loads
 * undici and compiles its WebAssembly HTTP parser on the first `fetch` of a process (~100 ms of CPU
 * measured here), which would land on a cold start's first invocation. node:https is what the SDK's
 * handler used, and Powertools' Tracer records its requests as subsegments as it did the SDK's.
 * Redirects are not followed. Network errors, time-outs, aborts and a body cut short reject; HTTP errors
 * are the caller's to read.
 */
export function httpRequest(request: HttpRequest): Promise<HttpAnswer> {
  const { url, signal, maxBodyBytes = Number.POSITIVE_INFINITY } = request;
  const headers = { ...request.headers };
  const send = url.protocol === 'https:' ? https.request : http.request;
  const agent = url.protocol === 'https:' ? agents['https:'] : agents['http:'];
  if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
  signal.throwIfAborted();
  return new Promise<HttpAnswer>((resolve, reject) => {
    const req = send(url, { method: request.method, headers, agent, signal }, (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      const announced = Number(res.headers['content-length']);
      if (announced > maxBodyBytes) {
        reject(new BodyTooLargeError(status, maxBodyBytes, announced));
        req.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxBodyBytes) {
          // Settled first, so the close the destroy causes cannot reject with anything else.
          reject(new BodyTooLargeError(status, maxBodyBytes, undefined));
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      // An abort or a reset mid-body errors ('aborted', ECONNRESET) or closes without 'end': never
      // resolve a cut body.
      const cut = (cause?: Error) =>
        reject(new Error('the connection closed before the answer was complete', { cause }));
      res.on('error', cut);
      res.on('close', () => {
        if (!res.complete) cut();
      });
      res.on('end', () => {
        if (!res.complete) return;
        resolve({
          status,
          header: (name) => {
            const value = res.headers[name.toLowerCase()];
            return Array.isArray(value) ? value.join(', ') : value;
          },
          // As fetch's text(): UTF-8, a leading byte-order mark dropped.
          text: new TextDecoder().decode(Buffer.concat(chunks)),
        });
      });
    });
    req.on('error', reject);
    req.end(request.body);
  });
}

/** httpRequest, SigV4-signed (Authorization, X-Amz-Date, the session token, Host). */
export async function signedHttpRequest(
  request: SignedRequest & { signal: AbortSignal; maxBodyBytes?: number },
): Promise<HttpAnswer> {
  const headers = signedHeaders(request);
  return httpRequest({
    method: request.method,
    url: request.url,
    headers,
    ...(request.body === undefined ? {} : { body: request.body }),
    signal: request.signal,
    ...(request.maxBodyBytes === undefined ? {} : { maxBodyBytes: request.maxBodyBytes }),
  });
}
