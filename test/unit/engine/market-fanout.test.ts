import { describe, expect, it } from 'vitest';
import { InMemoryMarketReevaluationQueue } from '#lib/adapters/memory/memory-market-queue.js';
import { InMemoryPublisher } from '#lib/adapters/memory/memory-publisher.js';
import { InMemoryEngineStore } from '#lib/adapters/memory/memory-store.js';
import { RiskSnapshotCloudEventSchema } from '#lib/contracts/risk-snapshot.js';
import { ExitEngine } from '#lib/engine/engine.js';
import { marketFanOut } from '#lib/engine/market-trigger.js';
import { parseRuleSet, RuleSetRegistry } from '#lib/rules/ruleset-loader.js';
import { cloudEvent, marketCloudEvent } from '#test/integration/support/snapshots.js';
import { testEngineDeps } from '#test/support/engine-deps.js';

/** handleMarket stores the data and asks for one re-evaluation per concerned world; each runs on its own. */

const T0 = Date.parse('2025-03-10T21:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const RULES = `world: default
rules:
  - id: vix_panic
    kind: volatility_regime
    measure: vix_level
    limit: 40
    clear: 30
    action: { type: exit }
`;

function setup() {
  const store = new InMemoryEngineStore();
  const publisher = new InMemoryPublisher();
  const engine = new ExitEngine(
    testEngineDeps({
      store,
      publisher,
      ruleSets: new RuleSetRegistry([parseRuleSet(RULES, 'x.yaml')]),
      wallClock: () => T0,
    }),
  );
  return { store, publisher, engine, queue: new InMemoryMarketReevaluationQueue() };
}

/** No rule a later evaluation can change: its snapshots keep only their weights. */
const VAR_ONLY = `world: default
rules:
  - id: var_99_limit
    kind: var_limit
    limit: 0.025
    target: 0.02
    action: { type: reduce, sizing: uniform }
`;

const market = marketCloudEvent;

async function seed(engine: ExitEngine, worlds: string[]) {
  for (const world of worlds) {
    const ce = RiskSnapshotCloudEventSchema.parse(cloudEvent({ world, version: 'v1', asOf: iso(T0) }));
    await engine.handleSnapshot({ cloudEvent: ce, deliveryId: `s-${world}`, invocationId: 'i', nowMs: T0 });
  }
}

const delivery = (ce: ReturnType<typeof market>, nowMs: number) => ({
  cloudEvent: ce,
  deliveryId: `eb-${ce.id}`,
  invocationId: 'inv-market',
  nowMs,
});

describe('marketFanOut', () => {
  it('asks the worlds whose record keeps positions or the whole body, not those keeping only weights', () => {
    expect(
      marketFanOut([
        { world_id: 'a', body_kept: 'weights' },
        { world_id: 'b', body_kept: 'positions' },
        { world_id: 'c' },
        { world_id: 'd', body_kept: 'weights' },
      ]),
    ).toEqual({ worlds: ['b', 'c'], skipped: 2 });
    expect(marketFanOut([])).toEqual({ worlds: [], skipped: 0 });
  });
});

describe('ExitEngine.handleMarket (per-world fan-out)', () => {
  it('asks for every known world when the data names none, evaluating none itself', async () => {
    const { engine, queue, publisher } = setup();
    await seed(engine, ['w1', 'w2', 'w3']);
    const result = await engine.handleMarket(delivery(market('m1', T0 + 60_000, 45), T0 + 61_000), queue);
    expect(result).toMatchObject({ market: 'advanced', outcomes: [] });
    expect([...result.requested].sort()).toEqual(['w1', 'w2', 'w3']);
    const requests = queue.take();
    expect(requests.map((r) => r.worldId).sort()).toEqual(['w1', 'w2', 'w3']);
    expect(requests[0]).toEqual({
      worldId: expect.any(String),
      marketEventId: 'm1',
      marketScope: 'global',
      marketAsOf: iso(T0 + 60_000),
      requestedAtMs: T0 + 61_000,
    });
    expect(publisher.exitSignals()).toEqual([]);
  });

  it('asks only for the worlds the data names, once each', async () => {
    const { engine, queue } = setup();
    await seed(engine, ['w1', 'w2', 'w3']);
    await engine.handleMarket(
      delivery(market('m1', T0 + 60_000, 45, ['w2', 'w3', 'w2']), T0 + 61_000),
      queue,
    );
    expect(queue.take().map((r) => r.worldId)).toEqual(['w2', 'w3']);
  });

  it('leaves out the worlds whose latest snapshot keeps only its weights, and counts them', async () => {
    const counted: [string, number | undefined, unknown][] = [];
    const store = new InMemoryEngineStore();
    const engine = new ExitEngine(
      testEngineDeps({
        store,
        publisher: new InMemoryPublisher(),
        ruleSets: new RuleSetRegistry([
          parseRuleSet(VAR_ONLY, 'default.yaml'),
          parseRuleSet(RULES.replace('world: default', 'world: w-vix'), 'w-vix.yaml'),
        ]),
        metrics: {
          count: (name, value, dimensions) => void counted.push([name, value, dimensions]),
          measure() {},
        },
        wallClock: () => T0,
      }),
    );
    const queue = new InMemoryMarketReevaluationQueue();
    await seed(engine, ['w-a', 'w-vix', 'w-b']);
    const global = await engine.handleMarket(delivery(market('m1', T0 + 60_000, 45), T0 + 61_000), queue);
    expect(global.requested).toEqual(['w-vix']);
    expect(queue.take().map((r) => r.worldId)).toEqual(['w-vix']);
    // One count for the event, no world in a dimension.
    expect(counted.filter(([name]) => name.startsWith('MarketReevaluations'))).toEqual([
      ['MarketReevaluationsSkipped', 2, undefined],
      ['MarketReevaluationsRequested', 1, undefined],
    ]);

    // Worlds the data names are asked as named: what their records keep is not read for them.
    await engine.handleMarket(
      delivery(market('m2', T0 + 120_000, 45, ['w-a', 'w-vix']), T0 + 121_000),
      queue,
    );
    expect(queue.take().map((r) => r.worldId)).toEqual(['w-a', 'w-vix']);
  });

  it('asks for nothing when the data is older than what is stored', async () => {
    const { engine, queue } = setup();
    await seed(engine, ['w1']);
    await engine.handleMarket(delivery(market('m2', T0 + 120_000, 20), T0 + 121_000), queue);
    queue.take();
    const older = await engine.handleMarket(delivery(market('m1', T0 + 60_000, 45), T0 + 122_000), queue);
    expect(older).toMatchObject({ market: 'older', requested: [] });
    expect(queue.take()).toEqual([]);
  });

  it('a redelivered market event asks again; each world then publishes once, the repeats are duplicates', async () => {
    const { engine, queue, publisher } = setup();
    await seed(engine, ['w1', 'w2']);
    const ce = market('m1', T0 + 60_000, 45);
    await engine.handleMarket(delivery(ce, T0 + 61_000), queue);
    const again = await engine.handleMarket(delivery(ce, T0 + 62_000), queue);
    expect(again.market).toBe('same');
    const requests = queue.take();
    expect(requests).toHaveLength(4);
    const outcomes = [];
    for (const r of requests)
      outcomes.push(
        await engine.reevaluateOnMarketRequest({
          worldId: r.worldId,
          marketEventId: r.marketEventId,
          deliveryId: `d-${outcomes.length}`,
          invocationId: `inv-${outcomes.length}`,
          nowMs: r.requestedAtMs,
        }),
      );
    expect(outcomes.map((o) => o.outcome).sort()).toEqual([
      'duplicate',
      'duplicate',
      'published',
      'published',
    ]);
    const published = publisher.exitSignals().map((e) => e.data.world_id);
    expect(published.sort()).toEqual(['w1', 'w2']);
  });
});
