import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the stand-in received it. */
export interface ScriptedRequest {
  headers: IncomingHttpHeaders;
  /** The X-Amz-Target header (`DynamoDB_20120810.GetItem`, `AWSEvents.PutEvents`). */
  target: string;
  text: string;
  /** The body parsed as JSON ({} when empty). */
  body: unknown;
}

/** How the stand-in answers one request: an answer (a body that is not a string is sent as JSON), a hang, or a dropped connection. */
export type ScriptedReply =
  | { status: number; body: unknown; headers?: Record<string, string> }
  | 'hang'
  | 'drop';

/** A reply, or one computed from the request it answers. */
export type ScriptStep = ScriptedReply | ((request: ScriptedRequest) => ScriptedReply);

export interface ScriptedAwsService {
  /** `http://127.0.0.1:{port}` */
  endpoint: string;
  /** Every request received, in order. */
  requests: ScriptedRequest[];
  /** The replies to the next requests, in order (each used once). */
  script: ScriptStep[];
  /** Answers a request when the script is empty. */
  otherwise: ScriptStep;
  close(): Promise<void>;
}

/**
 * An AWS JSON-protocol service stand-in on loopback, for what the real services cannot be made to do here
 * (throttle, fail, hang, drop a connection) or to compare what two clients send for the same call. Each
 * answer carries `x-amzn-requestid: req-{n}` (n = the request's position, from 1) unless its headers say
 * otherwise.
 */
export async function startScriptedAwsService(
  contentType: 'application/x-amz-json-1.0' | 'application/x-amz-json-1.1',
): Promise<ScriptedAwsService> {
  const hung: ServerResponse[] = [];
  const service: ScriptedAwsService = {
    endpoint: '',
    requests: [],
    script: [],
    otherwise: { status: 200, body: {} },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hung) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const request: ScriptedRequest = {
        headers: req.headers,
        target: String(req.headers['x-amz-target']),
        text,
        body: text === '' ? {} : JSON.parse(text),
      };
      service.requests.push(request);
      const step = service.script.shift() ?? service.otherwise;
      const reply = typeof step === 'function' ? step(request) : step;
      if (reply === 'hang') return void hung.push(res);
      if (reply === 'drop') return void req.socket.destroy();
      res.writeHead(reply.status, {
        'content-type': contentType,
        'x-amzn-requestid': `req-${service.requests.length}`,
        ...reply.headers,
      });
      res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  service.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return service;
}
