import { describe, expect, it } from 'vitest';
import { InMemoryMarketReevaluationQueue } from '#lib/adapters/memory/memory-market-queue.js';
import { InMemoryPublisher } from '#lib/adapters/memory/memory-publisher.js';
import { InMemoryEngineStore } from '#lib/adapters/memory/memory-store.js';
import { MarketSnapshotCloudEventSchema } from '#lib/contracts/market-snapshot.js';
import { RiskSnapshotCloudEventSchema } from '#lib/contracts/risk-snapshot.js';
import { ExitEngine } from '#lib/engine/engine.js';
import { futureDatedReasons, MAX_FUTURE_SKEW_MS } from '#lib/engine/future-dated.js';
import { parseRuleSet, RuleSetRegistry } from '#lib/rules/ruleset-loader.js';
import { cloudEvent } from '#test/integration/support/snapshots.js';
import { testEngineDeps } from '#test/support/engine-deps.js';

/** Inputs dated in the future would count as fresh (negative age): refused past the clock skew, recorded. */

const NOW = Date.parse('2025-03-10T21:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function engine(store: InMemoryEngineStore, publisher: InMemoryPublisher) {
  return new ExitEngine(
    testEngineDeps({
      store,
      publisher,
      ruleSets: new RuleSetRegistry([
        parseRuleSet(
          'world: default\nrules:\n  - id: var_enforce\n    kind: var_limit\n    limit: 0.025\n',
          'x.yaml',
        ),
      ]),
      wallClock: () => NOW,
    }),
  );
}

function market(asOf: string) {
  return MarketSnapshotCloudEventSchema.parse({
    specversion: '1.0',
    id: 'm1',
    source: 'qmtl.services.market_data',
    type: 'market_snapshot_updated',
    time: asOf,
    datacontenttype: 'application/json',
    correlation_id: 'market:global:m1',
    data: {
      scope: 'global',
      as_of: asOf,
      indicators: { vix: 45 },
      event_version: 1,
      idempotency_key: 'market_snapshot_updated:global:m1:1',
    },
  });
}

describe('futureDatedReasons', () => {
  it('allows the clock skew and names each field beyond it', () => {
    expect(futureDatedReasons({ 'data.as_of': iso(NOW + MAX_FUTURE_SKEW_MS) }, NOW)).toEqual([]);
    expect(
      futureDatedReasons({ 'data.as_of': iso(NOW - 86_400_000), 'data.created_at': undefined }, NOW),
    ).toEqual([]);
    const [reason] = futureDatedReasons({ 'data.created_at': iso(NOW + 3_600_000) }, NOW);
    expect(reason).toMatch(
      /^data\.created_at: 2025-03-10T22:00:00\.000Z is 3600 s ahead of the engine's clock/,
    );
    expect(reason).toContain('at most 300 s of clock skew');
  });
});

describe('ExitEngine refuses future-dated inputs', () => {
  it('records a snapshot dated an hour ahead as a rejection naming the field, and never stores it as the latest', async () => {
    const store = new InMemoryEngineStore();
    const publisher = new InMemoryPublisher();
    const ce = RiskSnapshotCloudEventSchema.parse(
      cloudEvent({ world: 'w1', version: 'v1', asOf: iso(NOW + 3_600_000), varLevel: 0.03 }),
    );
    const outcome = await engine(store, publisher).handleSnapshot({
      cloudEvent: ce,
      deliveryId: 'eb-1',
      invocationId: 'inv-1',
      nowMs: NOW,
    });
    expect(outcome).toMatchObject({ outcome: 'rejected', world_id: 'w1' });
    const reasons = outcome.outcome === 'rejected' ? outcome.reasons : [];
    expect(reasons.map((r) => r.split(':')[0])).toEqual(['data.as_of', 'data.created_at']);
    expect(await store.getLatestSnapshot('w1')).toBeUndefined();
    const [record] = store.allAudit();
    expect(record).toMatchObject({ kind: 'rejection', category: 'future_dated', world_id: 'w1' });
    expect(publisher.published()).toEqual([]);
  });

  it('evaluates a snapshot within the clock skew as usual', async () => {
    const store = new InMemoryEngineStore();
    const publisher = new InMemoryPublisher();
    const ce = RiskSnapshotCloudEventSchema.parse(
      cloudEvent({ world: 'w1', version: 'v1', asOf: iso(NOW + 60_000), varLevel: 0.03 }),
    );
    const outcome = await engine(store, publisher).handleSnapshot({
      cloudEvent: ce,
      deliveryId: 'eb-1',
      invocationId: 'inv-1',
      nowMs: NOW,
    });
    expect(outcome.outcome).toBe('published');
  });

  it('refuses market data dated ahead, so a future VIX never sits in the store as fresh', async () => {
    const store = new InMemoryEngineStore();
    const queue = new InMemoryMarketReevaluationQueue();
    const result = await engine(store, new InMemoryPublisher()).handleMarket(
      {
        cloudEvent: market(iso(NOW + 600_000)),
        deliveryId: 'eb-m1',
        invocationId: 'inv-1',
        nowMs: NOW,
      },
      queue,
    );
    expect(result.market).toBe('rejected');
    expect(queue.take()).toEqual([]);
    expect(result.outcomes).toMatchObject([{ outcome: 'rejected', world_id: 'market:global' }]);
    expect((await store.loadMarket(['global'])).size).toBe(0);
    expect(store.allAudit()[0]).toMatchObject({ category: 'future_dated', kind: 'rejection' });
  });
});
