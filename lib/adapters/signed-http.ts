// The modules, not their `request` bindings: Powertools' Tracer patches `http.request` / `https.request` on
// the module objects (captureHTTPsGlobal) after this module is imported, and a named ESM import of a
// built-in keeps the function it saw first.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { type SignedRequest, signedHeaders } from './signed-fetch.js';

/** A whole answer: status, headers (lower-case names), body text. */
export interface HttpAnswer {
  status: number;
  header(name: string): string | undefined;
  text: string;
}

// Connections kept open between calls and invocations, as the SDK's handler keeps them.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 50 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 50 }),
};

/**
 * One SigV4-signed request over node:http(s), its answer read whole. Not `fetch`: Node loads undici and
 * compiles its WebAssembly HTTP parser on the first `fetch` of a process (~100 ms of CPU measured here),
 * which would land on a cold start's first invocation. node:https is what the SDK's handler used, and
 * Powertools' Tracer records its requests as subsegments as it did the SDK's.
 * Network errors, time-outs and aborts reject; HTTP errors are the caller's to read.
 */
export async function signedHttpRequest(
  request: SignedRequest & { signal: AbortSignal },
): Promise<HttpAnswer> {
  const headers = await signedHeaders(request);
  const { url, signal } = request;
  const send = url.protocol === 'https:' ? https.request : http.request;
  const agent = url.protocol === 'https:' ? agents['https:'] : agents['http:'];
  if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
  signal.throwIfAborted();
  return new Promise<HttpAnswer>((resolve, reject) => {
    const req = send(url, { method: request.method, headers, agent, signal }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      // An abort or a reset mid-body closes without 'end' (or ends incomplete): never resolve a cut body.
      res.on('close', () => {
        if (!res.complete) reject(new Error('the connection closed before the answer was complete'));
      });
      res.on('end', () => {
        if (!res.complete) return;
        resolve({
          status: res.statusCode ?? 0,
          header: (name) => {
            const value = res.headers[name.toLowerCase()];
            return Array.isArray(value) ? value.join(', ') : value;
          },
          text: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    req.on('error', reject);
    req.end(request.body);
  });
}
