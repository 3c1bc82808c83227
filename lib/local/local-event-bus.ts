/**
 * A local EventBridge: buses, rules and routing by real pattern semantics, behind the EventBridge
 * JSON 1.1 API (bus/api-server.ts) so the real `@aws-sdk/client-eventbridge` works against it by
 * `endpoint`.
 *
 * Delivery mirrors EventBridge → Lambda asynchronous invocation (bus/delivery.ts): PutEvents returns
 * before targets run, a failing target is retried with backoff up to its retry policy and then
 * dead-lettered, and no target failure reaches the caller or the bus.
 */
import { randomUUID } from 'node:crypto';
import { type ApiServer, startApiServer } from './bus/api-server.js';
import {
  type DeadLetter,
  type DeliveryPolicy,
  DeliveryQueue,
  type LocalTarget,
  type RetryPolicy,
} from './bus/delivery.js';
import {
  checkEntry,
  DEFAULT_BUS,
  EventBridgeApiError,
  type EventBridgeEvent,
  isoSeconds,
  MAX_ENTRIES,
  MAX_ENTRY_BYTES,
  type PutEventsEntry,
  type PutEventsResult,
  type PutEventsResultEntry,
  toDate,
} from './bus/put-events.js';
import { compileEventPattern, type EventPatternMatcher } from './event-pattern.js';

export type { DeadLetter, LocalTarget, RetryPolicy } from './bus/delivery.js';
export {
  EventBridgeApiError,
  type EventBridgeEvent,
  entrySize,
  type PutEventsEntry,
  type PutEventsResult,
  type PutEventsResultEntry,
} from './bus/put-events.js';

/** A rule on a bus: an event pattern and the targets it routes to. */
export interface LocalRule {
  name: string;
  eventBusName?: string;
  eventPattern: object | string;
  targets: LocalTarget[];
  retryPolicy?: RetryPolicy;
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

/** An accepted event that no rule on its bus matched: nothing will ever evaluate it. */
export interface UnroutedEvent {
  readonly event: EventBridgeEvent;
  readonly busName: string;
  /** How many rules the bus has (0: the bus has none at all, e.g. the default bus). */
  readonly rulesOnBus: number;
}

const DEFAULT_MAX_EVENT_AGE_SECONDS = 24 * 60 * 60;

interface CompiledRule {
  readonly name: string;
  readonly match: EventPatternMatcher;
  readonly targets: readonly LocalTarget[];
  readonly policy: DeliveryPolicy;
}

/** In-process EventBridge with an HTTP front end; see the module comment. */
export class LocalEventBus {
  readonly region: string;
  readonly account: string;
  private readonly buses = new Map<string, Map<string, CompiledRule>>([[DEFAULT_BUS, new Map()]]);
  private readonly listeners: Array<(event: EventBridgeEvent) => void> = [];
  private readonly unroutedListeners: Array<(unrouted: UnroutedEvent) => void> = [];
  private readonly deliveries = new DeliveryQueue();
  private readonly retryBaseDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private injected: { count: number; errorCode: string; source?: string } = {
    count: 0,
    errorCode: 'InternalFailure',
  };
  private server: ApiServer | undefined;

  constructor(options: LocalEventBusOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.account = options.account ?? '000000000000';
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 10;
    this.retryMaxDelayMs = options.retryMaxDelayMs ?? 1_000;
  }

  /** Listens on host:port (127.0.0.1, ephemeral port by default) and returns the endpoint URL. */
  async start(opts: { port?: number; host?: string } = {}): Promise<{ endpoint: string }> {
    if (this.server) throw new Error('LocalEventBus already started');
    this.server = await startApiServer(this, opts);
    this.deliveries.resume();
    return { endpoint: this.server.endpoint };
  }

  /** Closes the server and every socket and cancels pending retries, leaving no handle open. */
  async stop(): Promise<void> {
    this.deliveries.stop();
    const server = this.server;
    this.server = undefined;
    await server?.close();
  }

  /** Creates a custom event bus (idempotent locally; EventBridge would say it already exists). */
  createEventBus(name: string): void {
    if (!/^[/.\-_A-Za-z0-9]{1,256}$/.test(name)) throw new Error(`invalid event bus name '${name}'`);
    if (!this.buses.has(name)) this.buses.set(name, new Map());
  }

  /** True when a bus of that name exists. */
  hasEventBus(name: string): boolean {
    return this.buses.has(name);
  }

  /** Adds or replaces a rule; the pattern is validated as EventBridge's PutRule would. */
  putRule(rule: LocalRule): void {
    const busName = rule.eventBusName ?? DEFAULT_BUS;
    const bus = this.buses.get(busName);
    if (!bus) throw new Error(`Event bus ${busName} does not exist.`);
    const retry = rule.retryPolicy ?? {};
    bus.set(rule.name, {
      name: rule.name,
      match: compileEventPattern(rule.eventPattern),
      targets: [...rule.targets],
      policy: {
        maximumRetryAttempts: retry.maximumRetryAttempts ?? 2,
        maximumEventAgeSeconds: retry.maximumEventAgeSeconds ?? DEFAULT_MAX_EVENT_AGE_SECONDS,
        baseDelayMs: retry.baseDelayMs ?? this.retryBaseDelayMs,
        maxDelayMs: retry.maxDelayMs ?? this.retryMaxDelayMs,
      },
    });
  }

  /**
   * Removes a rule (EventBridge's DeleteRule): events put from now on no longer reach its targets.
   * Deliveries already under way keep their retry policy, as on AWS. False when there was none.
   */
  removeRule(name: string, eventBusName: string = DEFAULT_BUS): boolean {
    return this.buses.get(eventBusName)?.delete(name) ?? false;
  }

  /** Subscribes to every accepted event (before routing), e.g. to write `--emitted-out`. */
  onEvent(listener: (event: EventBridgeEvent) => void): () => void {
    return subscribe(this.listeners, listener);
  }

  /** Subscribes to accepted events that matched no rule on their bus (so none goes unnoticed). */
  onUnrouted(listener: (unrouted: UnroutedEvent) => void): () => void {
    return subscribe(this.unroutedListeners, listener);
  }

  /** Subscribes to dead letters as they happen. */
  onDeadLetter(listener: (letter: DeadLetter) => void): () => void {
    return this.deliveries.onDeadLetter(listener);
  }

  /** Resolves once every delivery, including retries and events put by targets, has finished. */
  drain(): Promise<void> {
    return this.deliveries.drain();
  }

  /** The newest dead letters (up to a bounded number), oldest first; see `deadLetterCount`. */
  deadLetters(): readonly DeadLetter[] {
    return this.deliveries.deadLetters();
  }

  /** Every dead letter since start. */
  get deadLetterCount(): number {
    return this.deliveries.deadLetterCount;
  }

  /** Deliveries running or waiting for a retry. */
  get pendingDeliveries(): number {
    return this.deliveries.pending;
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
    notify(this.listeners, () => structuredClone(event));
    const rules = this.buses.get(busName) ?? new Map<string, CompiledRule>();
    let matched = 0;
    for (const rule of rules.values()) {
      if (!rule.match(event)) continue;
      matched++;
      for (const target of rule.targets) this.deliveries.deliver(rule.name, rule.policy, target, event);
    }
    if (matched === 0) notify(this.unroutedListeners, () => ({ event, busName, rulesOnBus: rules.size }));
  }
}

function subscribe<T>(list: T[], listener: T): () => void {
  list.push(listener);
  return () => {
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
  };
}

function notify<T>(listeners: ReadonlyArray<(value: T) => void>, value: () => T): void {
  for (const listener of listeners) {
    try {
      listener(value());
    } catch {
      // A listener is an observer; its failure must not affect the publisher or other listeners.
    }
  }
}
