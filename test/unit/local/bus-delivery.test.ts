import { describe, expect, it } from 'vitest';
import { type DeadLetter, LocalEventBus, type UnroutedEvent } from '#lib/local/local-event-bus.js';

const entry = (bus?: string) => ({
  Source: 'qmtl.hub',
  DetailType: 'risk_snapshot_updated',
  Detail: JSON.stringify({ world_id: 'w1' }),
  ...(bus ? { EventBusName: bus } : {}),
});

describe('LocalEventBus delivery', () => {
  it('retries with backoff until the target recovers, without a dead letter', async () => {
    const bus = new LocalEventBus();
    let calls = 0;
    bus.putRule({
      name: 'flaky',
      eventPattern: { source: ['qmtl.hub'] },
      retryPolicy: { maximumRetryAttempts: 5, baseDelayMs: 1, maxDelayMs: 4 },
      targets: [
        {
          id: 't',
          invoke: async () => {
            if (++calls < 4) throw new Error('not yet');
          },
        },
      ],
    });
    bus.publishLocal([entry()]);
    await bus.drain();
    expect(calls).toBe(4);
    expect(bus.deadLetterCount).toBe(0);
  });

  it('dead-letters once the event-age budget is spent, and tells its listeners at once', async () => {
    const bus = new LocalEventBus();
    const heard: DeadLetter[] = [];
    bus.onDeadLetter((d) => heard.push(d));
    let calls = 0;
    bus.putRule({
      name: 'down',
      eventPattern: { source: ['qmtl.hub'] },
      // Many retries allowed, but only 0.2 s of event age: the budget ends it, not the count.
      retryPolicy: {
        maximumRetryAttempts: 1_000,
        maximumEventAgeSeconds: 0.2,
        baseDelayMs: 20,
        maxDelayMs: 50,
      },
      targets: [
        {
          id: 't',
          invoke: async () => {
            calls++;
            throw new Error('503');
          },
        },
      ],
    });
    bus.publishLocal([entry()]);
    await bus.drain();
    expect(heard).toHaveLength(1);
    expect(heard[0]).toMatchObject({ ruleName: 'down', targetId: 't', attempts: calls });
    expect(calls).toBeGreaterThan(1);
    expect(calls).toBeLessThan(1_000);
    expect(bus.deadLetters()).toHaveLength(1);
  });

  it('reports an event that no rule matched, and whether its bus has rules at all', async () => {
    const bus = new LocalEventBus();
    bus.createEventBus('engine');
    bus.putRule({ name: 'r', eventBusName: 'engine', eventPattern: { source: ['other'] }, targets: [] });
    const unrouted: UnroutedEvent[] = [];
    bus.onUnrouted((u) => unrouted.push(u));
    bus.publishLocal([entry(), entry('engine')]);
    await bus.drain();
    expect(unrouted.map((u) => [u.busName, u.rulesOnBus])).toEqual([
      ['default', 0],
      ['engine', 1],
    ]);
  });
});
