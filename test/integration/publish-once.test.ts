import { randomUUID } from 'node:crypto';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ExitSignalEvent } from '#lib/contracts/exit-signal.js';
import type { SignalPublisher } from '#lib/engine/ports.js';
import { LOCAL_BUS_NAME, type LocalStack, startLocalStack } from '#lib/local/local-stack.js';
import { putEntry } from './support/snapshots.js';
import { tableReader } from './support/tables.js';

/**
 * Wraps the real publisher. `die` makes the next publish vanish the way a killed invocation does:
 * nothing reaches the bus and nothing is handed back, so the outbox stays held until its lease ends.
 */
function dyingPublisher(real: SignalPublisher) {
  const control = { die: 0 };
  const publisher: SignalPublisher = {
    async publish(events, options) {
      if (control.die > 0) {
        control.die--;
        throw new Error('simulated: the invocation was killed during PutEvents');
      }
      return real.publish(events, options);
    },
  };
  return { publisher, control };
}

/** Today's time: signal rows expire (TTL) a retention period after their event time. */
const AS_OF = new Date(Date.now() - 60_000).toISOString();

describe('exactly one publication (DynamoDB Local + local EventBridge + the Lambda handler)', () => {
  let stack: LocalStack;
  let client: EventBridgeClient;
  let read: ReturnType<typeof tableReader>;
  let dying: ReturnType<typeof dyingPublisher>['control'];
  /** Moves the engine's wall clock forward, as time passing would (leases expire on it). */
  const clock = { offsetMs: 0 };

  beforeAll(async () => {
    stack = await startLocalStack({
      dynamoEndpoint: inject('dynamoEndpoint'),
      dynamoTransactions: inject('dynamoKind') === 'dynamodb-local',
      tablePrefix: `it-once-${randomUUID().slice(0, 8)}-`,
      clock: 'event-time',
      overrides: (deps) => {
        const wrapped = dyingPublisher(deps.publisher);
        dying = wrapped.control;
        return { publisher: wrapped.publisher, wallClock: () => Date.now() + clock.offsetMs };
      },
    });
    client = new EventBridgeClient({ endpoint: stack.busEndpoint, region: 'us-east-1' });
    read = tableReader(stack);
  }, 60_000);

  afterAll(async () => {
    client?.destroy();
    read?.destroy();
    await stack?.stop();
  });

  const emittedFor = (world: string) =>
    stack.emitted.map((e) => e.detail as ExitSignalEvent).filter((e) => e.data.world_id === world);
  const outcomesFor = (world: string) =>
    stack.outcomes.filter((o) => o.world_id === world).map((o) => o.outcome);

  it('publishes once for a burst of 64 concurrent identical deliveries', async () => {
    const world = 'w-burst';
    const entry = putEntry({ world, version: 'v1', asOf: AS_OF, varLevel: 0.034 }, LOCAL_BUS_NAME);
    // Seven PutEvents calls at once (at most 10 entries each): 64 copies routed concurrently.
    const calls = Array.from({ length: 7 }, (_, i) =>
      client.send(new PutEventsCommand({ Entries: Array(i < 6 ? 10 : 4).fill(entry) })),
    );
    for (const out of await Promise.all(calls)) expect(out.FailedEntryCount).toBe(0);
    await stack.bus.drain();
    expect(emittedFor(world)).toHaveLength(1);
    const outcomes = outcomesFor(world);
    expect(outcomes.filter((o) => o === 'published')).toHaveLength(1);
    // Every copy ended as the one publication, a duplicate, or a dead letter (a retry budget
    // spent waiting on the claim): none published a second time.
    expect(outcomes.every((o) => o === 'published' || o === 'duplicate')).toBe(true);
    const stored = await read.signals(world);
    expect(stored).toHaveLength(3);
    expect(stored.every((s) => s.status === 'published')).toBe(true);
  }, 120_000);

  it('completes an outbox whose publisher died, through the sweeper once its lease ran out', async () => {
    const world = 'w-stuck';
    dying.die = 1;
    const spec = { world, version: 'v1', asOf: AS_OF, varLevel: 0.034 };
    await client.send(new PutEventsCommand({ Entries: [putEntry(spec, LOCAL_BUS_NAME)] }));
    await stack.bus.drain();
    // The delivery's retries find the outbox held by the dead invocation's lease: nothing is sent.
    expect(emittedFor(world)).toHaveLength(0);
    expect(outcomesFor(world).every((o) => o === 'duplicate')).toBe(true);
    const pending = (await read.state()).find(
      (i) => i.world_id === world && String(i.sk).startsWith('EVAL#') && i.outbox_status === 'pending',
    );
    expect(pending?.outbox_pending).toBe('PENDING');

    // Before the lease ends the sweeper leaves it alone; after, it publishes it once.
    expect(
      await stack.engine.sweepOutboxes({ invocationId: 'sweep-1', remainingMs: () => 60_000 }),
    ).toMatchObject({
      found: 0,
      published: 0,
      failed: 0,
    });
    clock.offsetMs = 120_000;
    const swept = await stack.engine.sweepOutboxes({ invocationId: 'sweep-2', remainingMs: () => 60_000 });
    expect(swept).toMatchObject({ published: 1, failed: 0 });
    await stack.bus.drain();
    expect(emittedFor(world)).toHaveLength(1);
    expect((await read.signals(world)).every((s) => s.status === 'published')).toBe(true);
    // Published outboxes leave the sparse index: the next sweep finds nothing of this world.
    const again = await stack.engine.sweepOutboxes({ invocationId: 'sweep-3', remainingMs: () => 60_000 });
    expect(again.published).toBe(0);
    clock.offsetMs = 0;
  }, 120_000);

  it('publishes once when PutEvents fails, then recovers on the delivery’s retry', async () => {
    const world = 'w-recover';
    stack.bus.injectPutEventsFailures({ count: 4, source: 'qmtl.services.exit_engine' });
    const spec = { world, version: 'v1', asOf: AS_OF, varLevel: 0.034 };
    await client.send(new PutEventsCommand({ Entries: [putEntry(spec, LOCAL_BUS_NAME)] }));
    await stack.bus.drain();
    expect(outcomesFor(world)).toEqual(['completed_on_retry']);
    expect(emittedFor(world)).toHaveLength(1);
  }, 120_000);
});
