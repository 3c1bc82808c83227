/**
 * The local bus's HTTP front end: the EventBridge JSON 1.1 protocol (X-Amz-Target dispatch) on
 * loopback, so the real `@aws-sdk/client-eventbridge` and the AWS CLI talk to it by endpoint.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compileEventPattern, type EventPatternMatcher, InvalidEventPatternError } from '../event-pattern.js';
import { EventBridgeApiError, type PutEventsEntry, type PutEventsResult } from './put-events.js';

const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** What the API needs from the bus behind it. */
export interface BusOperations {
  readonly region: string;
  readonly account: string;
  publishLocal(entries: readonly PutEventsEntry[], region: string): PutEventsResult;
  hasEventBus(name: string): boolean;
  createEventBus(name: string): void;
}

/** A listening API server and the URL the SDK should use as its endpoint. */
export interface ApiServer {
  endpoint: string;
  close(): Promise<void>;
}

/** Listens on host:port (127.0.0.1, ephemeral port by default) and serves the bus's API. */
export async function startApiServer(
  bus: BusOperations,
  opts: { port?: number; host?: string } = {},
): Promise<ApiServer> {
  const host = opts.host ?? '127.0.0.1';
  const server: Server = createServer((req, res) => {
    handle(bus, req, res).catch((error: unknown) => {
      sendError(
        res,
        error instanceof EventBridgeApiError
          ? error
          : new EventBridgeApiError('InternalException', (error as Error).message, 500, { cause: error }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

async function handle(bus: BusOperations, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const target = req.headers['x-amz-target'];
  const body = await readBody(req);
  if (req.method !== 'POST' || typeof target !== 'string') {
    sendError(
      res,
      new EventBridgeApiError('UnknownOperationException', 'Only POST with X-Amz-Target is supported'),
    );
    return;
  }
  let input: Record<string, unknown>;
  try {
    const parsed: unknown = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
    input = parsed as Record<string, unknown>;
  } catch {
    sendError(res, new EventBridgeApiError('SerializationException', 'Request body is not a JSON object'));
    return;
  }
  try {
    sendJson(res, 200, dispatch(bus, target, input, regionOf(req) ?? bus.region));
  } catch (error) {
    if (error instanceof EventBridgeApiError) sendError(res, error);
    else throw error;
  }
}

function dispatch(
  bus: BusOperations,
  target: string,
  input: Record<string, unknown>,
  region: string,
): unknown {
  switch (target) {
    case 'AWSEvents.PutEvents': {
      const entries = input.Entries;
      if (!Array.isArray(entries)) {
        throw new EventBridgeApiError(
          'ValidationException',
          "1 validation error detected: 'entries' is required",
        );
      }
      return bus.publishLocal(entries as PutEventsEntry[], region);
    }
    case 'AWSEvents.TestEventPattern':
      return { Result: testEventPattern(input) };
    case 'AWSEvents.CreateEventBus': {
      const name = input.Name;
      if (typeof name !== 'string')
        throw new EventBridgeApiError('ValidationException', "'name' is required");
      if (bus.hasEventBus(name))
        throw new EventBridgeApiError('ResourceAlreadyExistsException', `Event bus ${name} already exists.`);
      try {
        bus.createEventBus(name);
      } catch (error) {
        throw new EventBridgeApiError('ValidationException', (error as Error).message, 400, { cause: error });
      }
      return { EventBusArn: `arn:aws:events:${region}:${bus.account}:event-bus/${name}` };
    }
    default:
      throw new EventBridgeApiError(
        'UnknownOperationException',
        `Operation ${target} is not supported by LocalEventBus`,
      );
  }
}

const REQUIRED_TEST_EVENT_FIELDS = ['id', 'account', 'source', 'time', 'region', 'detail-type'] as const;

function testEventPattern(input: Record<string, unknown>): boolean {
  const { EventPattern: pattern, Event: eventText } = input;
  if (typeof pattern !== 'string')
    throw new EventBridgeApiError('ValidationException', "'EventPattern' is required");
  if (typeof eventText !== 'string')
    throw new EventBridgeApiError('ValidationException', "'Event' is required");
  let match: EventPatternMatcher;
  try {
    match = compileEventPattern(pattern);
  } catch (error) {
    if (error instanceof InvalidEventPatternError)
      throw new EventBridgeApiError('InvalidEventPatternException', error.message, 400, { cause: error });
    throw error;
  }
  let event: unknown;
  try {
    event = JSON.parse(eventText);
  } catch (error) {
    throw new EventBridgeApiError('InvalidEventPatternException', 'Event is not valid JSON.', 400, {
      cause: error,
    });
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event))
    throw new EventBridgeApiError('InvalidEventPatternException', 'Event must be a JSON object.');
  // TestEventPattern documents these envelope fields as mandatory.
  const missing = REQUIRED_TEST_EVENT_FIELDS.filter((field) => !(field in event));
  if (missing.length > 0)
    throw new EventBridgeApiError(
      'InvalidEventPatternException',
      `Event is missing required field(s): ${missing.join(', ')}`,
    );
  return match(event);
}

/** The region from the SigV4 credential scope, so events carry the client's configured region. */
function regionOf(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  return typeof auth === 'string' ? /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(auth)?.[1] : undefined;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > MAX_BODY_BYTES)
      throw new EventBridgeApiError('ValidationException', 'Request body too large', 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  extraHeaders: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...extraHeaders,
  });
  res.end(text);
}

function sendError(res: ServerResponse, error: EventBridgeApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(
    res,
    error.statusCode,
    { __type: error.type, message: error.message },
    { 'x-amzn-errortype': error.type },
  );
}
