import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { LOCAL_BUS_NAME } from '#lib/local/local-stack.js';
import { killedPublisher } from './support/killed-publisher.js';
import { usePipeline } from './support/pipeline.js';
import { putEntry } from './support/snapshots.js';

/** Today's time: signal rows expire (TTL) a retention period after their event time. */
const AS_OF = new Date(Date.now() - 60_000).toISOString();

describe('exactly one publication (DynamoDB Local + local EventBridge + the Lambda handler)', () => {
  const faults = killedPublisher();
  const p = usePipeline({ name: 'once', clock: 'event-time', overrides: faults.overrides });
  const emittedFor = (world: string) => p.emitted(world);
  const outcomesFor = (world: string) => p.outcomes(world);

  it('publishes once for a burst of 64 concurrent identical deliveries', async () => {
    const world = 'w-burst';
    const entry = putEntry({ world, version: 'v1', asOf: AS_OF, varLevel: 0.034 }, LOCAL_BUS_NAME);
    // Seven PutEvents calls at once (at most 10 entries each): 64 copies routed concurrently.
    const calls = Array.from({ length: 7 }, (_, i) =>
      p.client.send(new PutEventsCommand({ Entries: Array(i < 6 ? 10 : 4).fill(entry) })),
    );
    for (const out of await Promise.all(calls)) expect(out.FailedEntryCount).toBe(0);
    await p.stack.bus.drain();
    expect(emittedFor(world)).toHaveLength(1);
    const outcomes = outcomesFor(world);
    expect(outcomes.filter((o) => o === 'published')).toHaveLength(1);
    // Every copy ended as the one publication, a duplicate, or a dead letter (a retry budget
    // spent waiting on the claim): none published a second time.
    expect(outcomes.every((o) => o === 'published' || o === 'duplicate')).toBe(true);
    const stored = await p.read.signals(world);
    expect(stored).toHaveLength(3);
    expect(stored.every((s) => s.status === 'published')).toBe(true);
  }, 120_000);

  it('completes an outbox whose publisher died, through the sweeper once its lease ran out', async () => {
    const world = 'w-stuck';
    faults.die = 1;
    const spec = { world, version: 'v1', asOf: AS_OF, varLevel: 0.034 };
    await p.send(putEntry(spec, LOCAL_BUS_NAME));
    // The delivery's retries find the outbox held by the dead invocation's lease: nothing is sent.
    expect(emittedFor(world)).toHaveLength(0);
    expect(outcomesFor(world).every((o) => o === 'duplicate')).toBe(true);
    const pending = (await p.read.state()).find(
      (i) => i.world_id === world && String(i.sk).startsWith('EVAL#') && i.outbox_status === 'pending',
    );
    expect(pending?.outbox_pending).toBe('PENDING');

    // Before the lease ends the sweeper leaves it alone; after, it publishes it once.
    expect(
      await p.stack.engine.sweepOutboxes({ invocationId: 'sweep-1', remainingMs: () => 60_000 }),
    ).toMatchObject({
      found: 0,
      published: 0,
      failed: 0,
    });
    faults.offsetMs = 120_000;
    const swept = await p.stack.engine.sweepOutboxes({ invocationId: 'sweep-2', remainingMs: () => 60_000 });
    expect(swept).toMatchObject({ published: 1, failed: 0 });
    await p.stack.bus.drain();
    expect(emittedFor(world)).toHaveLength(1);
    expect((await p.read.signals(world)).every((s) => s.status === 'published')).toBe(true);
    // Published outboxes leave the sparse index: the next sweep finds nothing of this world.
    const again = await p.stack.engine.sweepOutboxes({ invocationId: 'sweep-3', remainingMs: () => 60_000 });
    expect(again.published).toBe(0);
    faults.offsetMs = 0;
  }, 120_000);

  it('publishes once when PutEvents fails, then recovers on the delivery’s retry', async () => {
    const world = 'w-recover';
    p.stack.bus.injectPutEventsFailures({ count: 4, source: 'qmtl.services.exit_engine' });
    const spec = { world, version: 'v1', asOf: AS_OF, varLevel: 0.034 };
    await p.send(putEntry(spec, LOCAL_BUS_NAME));
    expect(outcomesFor(world)).toEqual(['completed_on_retry']);
    expect(emittedFor(world)).toHaveLength(1);
  }, 120_000);
});
