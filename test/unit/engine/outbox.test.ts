import { describe, expect, it } from 'vitest';
import { InMemoryEngineStore } from '#lib/adapters/memory/memory-store.js';
import type { EngineEvent } from '#lib/contracts/exit-signal.js';
import { PublishDeferredError, PublishError } from '#lib/engine/errors.js';
import { type Invocation, OutboxProtocol } from '#lib/engine/outbox.js';
import type { EngineStore, SignalPublisher } from '#lib/engine/ports.js';
import { latestRecord } from '#lib/engine/records.js';

const W = 'w1';
const KEY = 'eval-1';
const T0 = Date.parse('2025-03-10T21:00:00Z');
const WINDOW = 10_000;
const SKEW = 1_000;

const events = ['evt-1', 'evt-2'].map(
  (id) =>
    ({
      id,
      type: 'exit_signal_emitted',
      time: '2025-03-10T21:00:31.000Z',
      data: { signals: [{ strategy_id: 'a', reason: 'var_limit_breach' }] },
    }) as unknown as EngineEvent,
);

/** Records what reached the "bus"; `fail` makes the next call fail as the test says. */
function recordingPublisher() {
  const sent: string[] = [];
  const control: { fail?: (ids: string[]) => Error | undefined } = {};
  const publisher: SignalPublisher = {
    async publish(list) {
      const ids = list.map((e) => e.id);
      const error = control.fail?.(ids);
      control.fail = undefined;
      if (error) throw error;
      sent.push(...ids);
    },
  };
  return { publisher, sent, control };
}

function setup() {
  const store = new InMemoryEngineStore();
  const clock = { now: T0 };
  const bus = recordingPublisher();
  const protocol = new OutboxProtocol({
    store,
    publisher: bus.publisher,
    metrics: { count() {}, measure() {} },
    logger: { info() {}, warn() {}, error() {} },
    leaseMs: 2_000,
    publishWindowMs: WINDOW,
    clockSkewMs: SKEW,
    wallClock: () => clock.now,
  });
  const inv = (id: string, remaining = 30_000): Invocation => ({ id, remainingMs: () => remaining });
  return { store, clock, bus, protocol, inv };
}

/** `owner` claims and commits an outbox with both events, holding the publish lease it computes. */
async function committed(s: ReturnType<typeof setup>, owner: Invocation, store: EngineStore = s.store) {
  const data = { world_id: W, as_of: '2025-03-10T21:00:00Z', version: 'v1', weights: { a: 1 } };
  await store.advanceLatestSnapshot(latestRecord(data, 't', 'ce'), data);
  expect((await s.protocol.claim(W, KEY, owner)).claimed).toBe(true);
  const result = await store.commitEvaluation({
    world_id: W,
    evaluation_key: KEY,
    lease_owner: owner.id,
    publish_lease_until: s.protocol.publishLeaseUntil(owner),
    snapshot_as_of_ms: T0,
    outcome: 'publish',
    episodes: [],
    audit: { world_id: W, record_id: 'r1', kind: 'evaluation', recorded_at: '2025-03-10T21:00:31.000Z' },
    events,
    signal_items: [],
  });
  expect(result).toBe('committed');
}

describe('OutboxProtocol (the fenced publish)', () => {
  it('lets the committing invocation publish its outbox once', async () => {
    const s = setup();
    const a = s.inv('a');
    await committed(s, a);
    expect(await s.protocol.publishHeld(W, KEY, events, [], a)).toBe('published');
    expect(s.bus.sent).toEqual(['evt-1', 'evt-2']);
    expect((await s.store.getEvaluation(W, KEY))?.outbox_status).toBe('published');
  });

  it('takes a publish lease past the holder’s own deadline by a whole window and the skew', () => {
    const s = setup();
    expect(s.protocol.publishLeaseUntil(s.inv('a', 30_000))).toBe(T0 + 30_000 + WINDOW + SKEW);
  });

  it('never lets a redelivery take over a lease that is still running', async () => {
    const s = setup();
    const a = s.inv('a');
    await committed(s, a);
    s.clock.now = T0 + 30_000 + WINDOW + SKEW; // the last instant of a's lease
    const record = await s.store.getEvaluation(W, KEY);
    expect(await s.protocol.complete(record!, s.inv('b'))).toBe('in_flight');
    expect(s.bus.sent).toEqual([]);
  });

  it('fences off a taken-over owner: it does not publish once another invocation holds the outbox', async () => {
    const s = setup();
    const a = s.inv('a');
    await committed(s, a);
    // a stalls past its lease; b (a redelivery or the sweeper) takes over and publishes.
    s.clock.now = T0 + 30_000 + WINDOW + SKEW + 1;
    const record = await s.store.getEvaluation(W, KEY);
    expect(await s.protocol.complete(record!, s.inv('b'))).toBe('published');
    // a wakes up with time left in its own view, and tries to publish what it committed.
    expect(await s.protocol.publishHeld(W, KEY, events, [], a)).toBe('lost_lease');
    expect(s.bus.sent).toEqual(['evt-1', 'evt-2']);
  });

  it('fences off a holder whose lease would end inside the publish window', async () => {
    const s = setup();
    const a = s.inv('a');
    await committed(s, a);
    s.clock.now = T0 + 30_000 + 1; // a's deadline passed: less than a window (plus skew) of lease left
    expect(await s.protocol.publishHeld(W, KEY, events, [], a)).toBe('lost_lease');
    expect(s.bus.sent).toEqual([]);
  });

  it('refuses to start a publish with less than a window left in the invocation, and hands it back', async () => {
    const s = setup();
    const a = s.inv('a');
    await committed(s, a);
    const late = { id: 'a', remainingMs: () => WINDOW + SKEW - 1 };
    await expect(s.protocol.publishHeld(W, KEY, events, [], late)).rejects.toBeInstanceOf(
      PublishDeferredError,
    );
    expect(s.bus.sent).toEqual([]);
    const record = await s.store.getEvaluation(W, KEY);
    expect(await s.protocol.complete(record!, s.inv('b'))).toBe('published');
  });

  it('after a definite failure hands the outbox back and never resends what the bus accepted', async () => {
    const s = setup();
    const a = s.inv('a');
    await committed(s, a);
    s.bus.control.fail = () =>
      new PublishError('evt-2 refused', [{ index: 1, errorCode: 'InternalFailure' }], [0]);
    await expect(s.protocol.publishHeld(W, KEY, events, [], a)).rejects.toBeInstanceOf(PublishError);
    const record = await s.store.getEvaluation(W, KEY);
    expect(record?.published_event_ids).toEqual(['evt-1']);
    expect(await s.protocol.complete(record!, s.inv('b'))).toBe('published');
    expect(s.bus.sent).toEqual(['evt-2']);
  });

  it('keeps the lease after an unanswered call, so no one resends before it ends', async () => {
    const s = setup();
    const a = s.inv('a');
    await committed(s, a);
    s.bus.control.fail = () => new PublishError('no answer', [{ index: 0 }], [], true);
    await expect(s.protocol.publishHeld(W, KEY, events, [], a)).rejects.toBeInstanceOf(PublishError);
    const record = await s.store.getEvaluation(W, KEY);
    expect(await s.protocol.complete(record!, s.inv('b'))).toBe('in_flight');
    expect(s.bus.sent).toEqual([]);
  });

  it('sweeps only outboxes whose lease ran out', async () => {
    const s = setup();
    const a = s.inv('a');
    await committed(s, a);
    expect(await s.protocol.sweep(s.inv('sweeper', 60_000), 10)).toMatchObject({
      found: 0,
      published: 0,
      failed: 0,
    });
    s.clock.now = T0 + 60_000;
    expect(await s.protocol.sweep(s.inv('sweeper', 60_000), 10)).toMatchObject({
      found: 1,
      published: 1,
      failed: 0,
    });
    expect(s.bus.sent).toEqual(['evt-1', 'evt-2']);
    expect(await s.store.listStuckOutboxes(T0 + 10 ** 9, 10)).toEqual([]);
  });
});
