import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeMarketReevaluationQueue } from '#lib/adapters/eventbridge/market-reevaluation-queue.js';
import { eventBridgeClient, MAX_PUT_EVENTS_BYTES } from '#lib/adapters/eventbridge/put-events.js';
import { EventBridgeSignalPublisher } from '#lib/adapters/eventbridge/signal-publisher.js';
import type { EngineEvent } from '#lib/contracts/exit-signal.js';
import { EXIT_ENGINE_SOURCE } from '#lib/contracts/exit-signal-ids.js';
import { PublishError } from '#lib/engine/errors.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#lib/local/dynamodb-server.js';
import { type EventBridgeEvent, LocalEventBus } from '#lib/local/local-event-bus.js';
import { type PublisherSubject, publisherContract } from '#test/support/ports/publisher-contract.js';

const BUS = 'exit-engine-test';
const noSleep = { sleep: async () => {} };

/** Our local EventBridge on loopback (the real PutEvents wire protocol), and every event it accepted. */
async function localBus(): Promise<{ bus: LocalEventBus; endpoint: string; seen: EventBridgeEvent[] }> {
  const bus = new LocalEventBus();
  bus.createEventBus(BUS);
  const seen: EventBridgeEvent[] = [];
  bus.onEvent((e) => seen.push(e));
  const { endpoint } = await bus.start();
  return { bus, endpoint, seen };
}

/** The client the functions build (lib/runtime/wire.ts): PutEvents over aws-json, no SDK. */
const clientFor = (endpoint: string) =>
  eventBridgeClient({ endpoint, region: LOCAL_REGION, credentials: () => LOCAL_CREDENTIALS, ...noSleep });

/** The publisher against our local EventBridge over HTTP, with its fault injection failing entries. */
publisherContract('EventBridgeSignalPublisher on the local bus', async (): Promise<PublisherSubject> => {
  const { bus, endpoint, seen } = await localBus();
  return {
    publisher: new EventBridgeSignalPublisher(clientFor(endpoint), BUS, noSleep),
    delivered: async () =>
      seen.map((e) => ({ source: e.source, detailType: e['detail-type'], detail: e.detail })),
    failNextEntries: (count, errorCode) => bus.injectPutEventsFailures({ count, errorCode }),
    close: () => bus.stop(),
  };
});

/** An event whose PutEvents entry is exactly `bytes` long as EventBridge counts it (Time 14 + Source + DetailType + Detail). */
function eventOfEntrySize(id: string, bytes: number): EngineEvent {
  const type = 'exit_signal_emitted';
  const base = { id, type, time: '2026-12-02T00:00:00.000Z', data: { pad: '' } };
  const overhead = 14 + EXIT_ENGINE_SOURCE.length + type.length + JSON.stringify(base).length;
  return { ...base, data: { pad: 'x'.repeat(bytes - overhead) } } as unknown as EngineEvent;
}

describe('EventBridgeSignalPublisher at the 256 KB PutEvents limit, on the local bus', () => {
  let bus: LocalEventBus;
  let publisher: EventBridgeSignalPublisher;
  let seen: EventBridgeEvent[];
  beforeEach(async () => {
    const local = await localBus();
    ({ bus, seen } = local);
    publisher = new EventBridgeSignalPublisher(clientFor(local.endpoint), BUS, noSleep);
  });
  afterEach(() => bus.stop());

  it('puts an entry of exactly 256 KB', async () => {
    await publisher.publish([eventOfEntrySize('at-limit', MAX_PUT_EVENTS_BYTES)]);
    expect(seen.map((e) => (e.detail as { id: string }).id)).toEqual(['at-limit']);
  });

  it('refuses an entry one byte over, definitely: the bus answered and put nothing', async () => {
    const error = await publisher
      .publish([eventOfEntrySize('over', MAX_PUT_EVENTS_BYTES + 1)])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).ambiguous).toBe(false);
    expect((error as PublishError).failed.map((f) => f.errorCode)).toEqual(['InvalidArgument']);
    expect(seen).toEqual([]);
  });

  it('splits entries that fit one by one but not together (one byte over 256 KB) into two calls', async () => {
    // Together they are 256 KB + 1 as EventBridge counts (Time 14 bytes each included): the bus refuses
    // such a request whole (ValidationException), so both arrive only if the publisher split them.
    const half = MAX_PUT_EVENTS_BYTES / 2;
    await publisher.publish([eventOfEntrySize('a', half), eventOfEntrySize('b', half + 1)]);
    expect(seen.map((e) => (e.detail as { id: string }).id)).toEqual(['a', 'b']);
  });
});

describe('EventBridgeMarketReevaluationQueue on the local bus', () => {
  let bus: LocalEventBus;
  let endpoint: string;
  let seen: EventBridgeEvent[];
  beforeEach(async () => {
    ({ bus, endpoint, seen } = await localBus());
  });
  afterEach(() => bus.stop());

  const requests = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      worldId: `w${i}`,
      marketEventId: 'mkt-1',
      marketScope: 'global',
      marketAsOf: '2026-12-02T00:00:00Z',
      requestedAtMs: Date.parse('2026-12-02T00:00:01Z'),
    }));

  it('puts one market_reevaluation_requested event per world, more than one call takes, each once', async () => {
    const queue = new EventBridgeMarketReevaluationQueue(clientFor(endpoint), BUS, {
      ...noSleep,
      concurrentCalls: 2,
    });
    await queue.request(requests(25));
    expect(seen).toHaveLength(25);
    expect(new Set(seen.map((e) => e['detail-type']))).toEqual(new Set(['market_reevaluation_requested']));
    expect(seen.map((e) => (e.detail as { data: { world_id: string } }).data.world_id).sort()).toEqual(
      requests(25)
        .map((r) => r.worldId)
        .sort(),
    );
    expect(seen.every((e) => e.time === '2026-12-02T00:00:01Z')).toBe(true);
  });

  it('tries every call before throwing the entries that kept failing', async () => {
    bus.injectPutEventsFailures({ count: 3, errorCode: 'InternalFailure' });
    const queue = new EventBridgeMarketReevaluationQueue(clientFor(endpoint), BUS, {
      ...noSleep,
      maxAttempts: 1,
      concurrentCalls: 1,
    });
    const error = await queue.request(requests(25)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).failed).toHaveLength(3);
    expect(seen).toHaveLength(22);
  });
});
