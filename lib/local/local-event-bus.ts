/**
 * A local EventBridge: speaks the EventBridge JSON 1.1 API (PutEvents, TestEventPattern,
 * CreateEventBus) on 127.0.0.1 so the real `@aws-sdk/client-eventbridge` works against it by
 * `endpoint`, and routes events to in-process targets by real pattern semantics.
 *
 * Delivery mirrors EventBridge → Lambda asynchronous invocation: PutEvents returns before targets
 * run, a failing target is retried with backoff up to its retry policy and then dead-lettered, and
 * no target failure reaches the caller or the bus.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compileEventPattern, type EventPatternMatcher, InvalidEventPatternError } from './event-pattern.js';

/** The envelope EventBridge delivers to targets (same shape as `aws-lambda`'s EventBridgeEvent). */
export interface EventBridgeEvent<TDetailType extends string = string, TDetail = unknown> {
  version: string;
  id: string;
  'detail-type': TDetailType;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: TDetail;
}

/** One PutEvents entry, as the SDK sends it (Time is epoch seconds on the wire, a Date in code). */
export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Resources?: string[];
  EventBusName?: string;
  Time?: Date | number | string;
  TraceHeader?: string;
}

/** Per-entry PutEvents result, in request order: an id, or an error code and message. */
export type PutEventsResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

/** The PutEvents response body. */
export interface PutEventsResult {
  FailedEntryCount: number;
  Entries: PutEventsResultEntry[];
}

/** A rule target: called once per matching event, asynchronously; a rejection triggers a retry. */
export interface LocalTarget {
  readonly id: string;
  readonly invoke: (event: EventBridgeEvent) => Promise<unknown>;
}

/** How often and how long a failing target is retried before its event is dead-lettered. */
export interface RetryPolicy {
  /** Retries after the first attempt; EventBridge defaults to 185, here 2 keeps tests fast. */
  maximumRetryAttempts?: number;
  /** Give up once the event is older than this (EventBridge default: 24 h). */
  maximumEventAgeSeconds?: number;
}

/** A rule on a bus: an event pattern and the targets it routes to. */
export interface LocalRule {
  name: string;
  eventBusName?: string;
  eventPattern: object | string;
  targets: LocalTarget[];
  retryPolicy?: RetryPolicy;
}

/** An event whose target kept failing, with the last error. */
export interface DeadLetter {
  readonly event: EventBridgeEvent;
  readonly ruleName: string;
  readonly targetId: string;
  readonly attempts: number;
  readonly error: unknown;
}

/** Construction options; all have local-friendly defaults. */
export interface LocalEventBusOptions {
  /** Region stamped on events when the request does not say (SigV4 scope wins over HTTP). */
  region?: string;
  /** Account stamped on events. */
  account?: string;
  /** First retry delay in ms; doubles per attempt (EventBridge backs off exponentially with jitter). */
  retryBaseDelayMs?: number;
  /** Cap on a single retry delay in ms. */
  retryMaxDelayMs?: number;
}

/** A request-level API error, sent as `{ __type, message }` with HTTP 400. */
export class EventBridgeApiError extends Error {
  override readonly name = 'EventBridgeApiError';
  constructor(
    readonly type: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
  }
}

// PutEvents limits: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
const MAX_ENTRIES = 10;
const MAX_ENTRY_BYTES = 256 * 1024;
const MAX_BODY_BYTES = 16 * 1024 * 1024;
const DEFAULT_BUS = 'default';
const DEFAULT_MAX_EVENT_AGE_SECONDS = 24 * 60 * 60;

interface CompiledRule {
  readonly name: string;
  readonly match: EventPatternMatcher;
  readonly targets: readonly LocalTarget[];
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeSeconds: number;
}

/** In-process EventBridge with an HTTP front end; see the module comment. */
export class LocalEventBus {
  private readonly buses = new Map<string, Map<string, CompiledRule>>([[DEFAULT_BUS, new Map()]]);
  private readonly listeners: Array<(event: EventBridgeEvent) => void> = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly retryTimers = new Map<NodeJS.Timeout, () => void>();
  private readonly dead: DeadLetter[] = [];
  private readonly region: string;
  private readonly account: string;
  private readonly retryBaseDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private injected: { count: number; errorCode: string; source?: string } = {
    count: 0,
    errorCode: 'InternalFailure',
  };
  private server: Server | undefined;
  private stopping = false;

  constructor(options: LocalEventBusOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.account = options.account ?? '000000000000';
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 10;
    this.retryMaxDelayMs = options.retryMaxDelayMs ?? 1_000;
  }

  /** Listens on host:port (127.0.0.1, ephemeral port by default) and returns the endpoint URL. */
  async start(opts: { port?: number; host?: string } = {}): Promise<{ endpoint: string }> {
    if (this.server) throw new Error('LocalEventBus already started');
    const host = opts.host ?? '127.0.0.1';
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        sendError(
          res,
          error instanceof EventBridgeApiError
            ? error
            : new EventBridgeApiError('InternalException', (error as Error).message, 500),
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
    this.server = server;
    this.stopping = false;
    const { port } = server.address() as AddressInfo;
    return { endpoint: `http://${host.includes(':') ? `[${host}]` : host}:${port}` };
  }

  /** Closes the server and every socket and cancels pending retries, leaving no handle open. */
  async stop(): Promise<void> {
    this.stopping = true;
    // A retry waiting on its backoff gives up now (and is dead-lettered) rather than keep a timer alive.
    for (const [timer, wake] of this.retryTimers) {
      clearTimeout(timer);
      wake();
    }
    this.retryTimers.clear();
    const server = this.server;
    this.server = undefined;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    }
  }

  /** Creates a custom event bus (idempotent locally; EventBridge would say it already exists). */
  createEventBus(name: string): void {
    if (!/^[/.\-_A-Za-z0-9]{1,256}$/.test(name)) throw new Error(`invalid event bus name '${name}'`);
    if (!this.buses.has(name)) this.buses.set(name, new Map());
  }

  /** Adds or replaces a rule; the pattern is validated as EventBridge's PutRule would. */
  putRule(rule: LocalRule): void {
    const busName = rule.eventBusName ?? DEFAULT_BUS;
    const bus = this.buses.get(busName);
    if (!bus) throw new Error(`Event bus ${busName} does not exist.`);
    bus.set(rule.name, {
      name: rule.name,
      match: compileEventPattern(rule.eventPattern),
      targets: [...rule.targets],
      maximumRetryAttempts: rule.retryPolicy?.maximumRetryAttempts ?? 2,
      maximumEventAgeSeconds: rule.retryPolicy?.maximumEventAgeSeconds ?? DEFAULT_MAX_EVENT_AGE_SECONDS,
    });
  }

  /** Subscribes to every accepted event (before routing), e.g. to write `--emitted-out`. */
  onEvent(listener: (event: EventBridgeEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Resolves once every delivery, including retries and events put by targets, has finished. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Events whose target kept failing past its retry policy, oldest first. */
  deadLetters(): readonly DeadLetter[] {
    return [...this.dead];
  }

  /**
   * Makes the next `count` otherwise-valid entries fail with `errorCode`, as a PutEvents partial
   * failure; with `source`, only entries from that source count (so a test's own puts go through).
   */
  injectPutEventsFailures({
    count,
    errorCode = 'InternalFailure',
    source,
  }: {
    count: number;
    errorCode?: string;
    source?: string;
  }): void {
    this.injected = { count, errorCode, ...(source !== undefined ? { source } : {}) };
  }

  /** Publishes entries without HTTP, with PutEvents validation and routing; request-level errors throw EventBridgeApiError. */
  publishLocal(entries: readonly PutEventsEntry[], region = this.region): PutEventsResult {
    if (entries.length === 0 || entries.length > MAX_ENTRIES) {
      throw new EventBridgeApiError(
        'ValidationException',
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length ` +
          `between 1 and ${MAX_ENTRIES} (got ${entries.length})`,
      );
    }
    const checked = entries.map((entry) => checkEntry(entry, this.buses));
    const acceptedBytes = checked.reduce((sum, c) => sum + ('size' in c ? c.size : 0), 0);
    if (acceptedBytes > MAX_ENTRY_BYTES) {
      throw new EventBridgeApiError(
        'ValidationException',
        'Total size of the entries in the request is over the limit.',
      );
    }
    const results = checked.map((c, i): PutEventsResultEntry => {
      if ('ErrorCode' in c) return c;
      if (
        this.injected.count > 0 &&
        (this.injected.source === undefined || this.injected.source === entries[i]?.Source)
      ) {
        this.injected.count--;
        return {
          ErrorCode: this.injected.errorCode,
          ErrorMessage: 'Injected failure (LocalEventBus fault injection)',
        };
      }
      const event = this.envelope(entries[i] as PutEventsEntry, c.detail, region);
      this.accept(event, c.busName);
      return { EventId: event.id };
    });
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  private envelope(entry: PutEventsEntry, detail: unknown, region: string): EventBridgeEvent {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType as string,
      source: entry.Source as string,
      account: this.account,
      time: isoSeconds(entry.Time === undefined ? new Date() : toDate(entry.Time)),
      region,
      resources: entry.Resources ?? [],
      detail,
    };
  }

  private accept(event: EventBridgeEvent, busName: string): void {
    for (const listener of this.listeners) {
      try {
        listener(structuredClone(event));
      } catch {
        // A listener is an observer; its failure must not affect the publisher or other listeners.
      }
    }
    const receivedAt = Date.now();
    for (const rule of this.buses.get(busName)?.values() ?? []) {
      if (!rule.match(event)) continue;
      for (const target of rule.targets) this.track(this.deliver(rule, target, event, receivedAt));
    }
  }

  private track(delivery: Promise<void>): void {
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
  }

  private async deliver(
    rule: CompiledRule,
    target: LocalTarget,
    event: EventBridgeEvent,
    receivedAt: number,
  ) {
    // Asynchronous like EventBridge → Lambda: the publisher's PutEvents returns first.
    await new Promise<void>((resolve) => setImmediate(resolve));
    let attempts = 0;
    for (;;) {
      attempts++;
      try {
        await target.invoke(structuredClone(event));
        return;
      } catch (error) {
        const ageSeconds = (Date.now() - receivedAt) / 1000;
        const retriesLeft = attempts <= rule.maximumRetryAttempts;
        if (!retriesLeft || ageSeconds >= rule.maximumEventAgeSeconds || this.stopping) {
          this.dead.push({ event, ruleName: rule.name, targetId: target.id, attempts, error });
          return;
        }
        await this.backoff(attempts);
        if (this.stopping) {
          this.dead.push({ event, ruleName: rule.name, targetId: target.id, attempts, error });
          return;
        }
      }
    }
  }

  private backoff(attempt: number): Promise<void> {
    const delay = Math.min(this.retryMaxDelayMs, this.retryBaseDelayMs * 2 ** (attempt - 1));
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        resolve();
      }, delay);
      this.retryTimers.set(timer, resolve);
    });
  }

  // -------------------------------------------------------------------------------------------
  // HTTP (JSON 1.1, X-Amz-Target dispatch)
  // -------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
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
      sendJson(res, 200, this.dispatch(target, input, regionOf(req) ?? this.region));
    } catch (error) {
      if (error instanceof EventBridgeApiError) sendError(res, error);
      else throw error;
    }
  }

  private dispatch(target: string, input: Record<string, unknown>, region: string): unknown {
    switch (target) {
      case 'AWSEvents.PutEvents': {
        const entries = input.Entries;
        if (!Array.isArray(entries)) {
          throw new EventBridgeApiError(
            'ValidationException',
            "1 validation error detected: 'entries' is required",
          );
        }
        return this.publishLocal(entries as PutEventsEntry[], region);
      }
      case 'AWSEvents.TestEventPattern':
        return { Result: testEventPattern(input) };
      case 'AWSEvents.CreateEventBus': {
        const name = input.Name;
        if (typeof name !== 'string')
          throw new EventBridgeApiError('ValidationException', "'name' is required");
        if (this.buses.has(name))
          throw new EventBridgeApiError(
            'ResourceAlreadyExistsException',
            `Event bus ${name} already exists.`,
          );
        try {
          this.createEventBus(name);
        } catch (error) {
          throw new EventBridgeApiError('ValidationException', (error as Error).message);
        }
        return { EventBusArn: `arn:aws:events:${region}:${this.account}:event-bus/${name}` };
      }
      default:
        throw new EventBridgeApiError(
          'UnknownOperationException',
          `Operation ${target} is not supported by LocalEventBus`,
        );
    }
  }
}

type CheckedEntry =
  | { busName: string; detail: unknown; size: number }
  | { ErrorCode: string; ErrorMessage: string };

function invalidArgument(parameter: string, reason: string): CheckedEntry {
  return {
    ErrorCode: 'InvalidArgument',
    ErrorMessage: `Parameter ${parameter} is not valid. Reason: ${reason}`,
  };
}

/** Validates one entry the way PutEvents does, returning a per-entry error rather than throwing. */
function checkEntry(entry: PutEventsEntry, buses: ReadonlyMap<string, unknown>): CheckedEntry {
  if (typeof entry !== 'object' || entry === null)
    return invalidArgument('Entry', 'Entry must be an object.');
  for (const field of ['Source', 'DetailType', 'Detail'] as const) {
    const value = entry[field];
    if (value === undefined || value === null || value === '')
      return invalidArgument(field, `${field} is a required argument.`);
    if (typeof value !== 'string') return invalidArgument(field, `${field} must be a string.`);
  }
  if (
    entry.Resources !== undefined &&
    (!Array.isArray(entry.Resources) || entry.Resources.some((r) => typeof r !== 'string'))
  )
    return invalidArgument('Resources', 'Resources must be a list of strings.');
  if (entry.Time !== undefined && Number.isNaN(toDate(entry.Time).getTime()))
    return invalidArgument('Time', 'Time is not a valid timestamp.');
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail as string);
  } catch {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  // EventBridge requires Detail to be a JSON object; arrays and scalars are malformed too.
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail))
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  const size = entrySize(entry);
  if (size > MAX_ENTRY_BYTES)
    return invalidArgument(
      'Entry',
      `Entry size ${size} bytes exceeds the limit of ${MAX_ENTRY_BYTES} bytes.`,
    );
  const busName = busNameOf(entry.EventBusName);
  if (!buses.has(busName))
    return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${busName} does not exist.` };
  return { busName, detail, size };
}

/** The documented PutEvents entry size: Time 14 bytes, UTF-8 bytes of Source, DetailType, Detail, Resources. */
export function entrySize(entry: PutEventsEntry): number {
  let size = entry.Time === undefined ? 0 : 14;
  size += Buffer.byteLength(entry.Source ?? '', 'utf8');
  size += Buffer.byteLength(entry.DetailType ?? '', 'utf8');
  if (entry.Detail !== undefined) size += Buffer.byteLength(entry.Detail, 'utf8');
  for (const resource of entry.Resources ?? []) size += Buffer.byteLength(resource, 'utf8');
  return size;
}

function busNameOf(nameOrArn: string | undefined): string {
  if (nameOrArn === undefined || nameOrArn === '') return DEFAULT_BUS;
  const arn = /^arn:[^:]+:events:[^:]*:[^:]*:event-bus\/(.+)$/.exec(nameOrArn);
  return arn?.[1] ?? nameOrArn;
}

function toDate(time: Date | number | string): Date {
  if (time instanceof Date) return time;
  // The JSON 1.1 protocol carries timestamps as epoch seconds.
  if (typeof time === 'number') return new Date(time * 1000);
  return new Date(time);
}

/** ISO 8601 to the second, as EventBridge stamps `time`. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
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
      throw new EventBridgeApiError('InvalidEventPatternException', error.message);
    throw error;
  }
  let event: unknown;
  try {
    event = JSON.parse(eventText);
  } catch {
    throw new EventBridgeApiError('InvalidEventPatternException', 'Event is not valid JSON.');
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
