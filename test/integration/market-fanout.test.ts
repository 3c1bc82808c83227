import { PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbEngineStore } from '#lib/adapters/dynamodb/engine-store.js';
import { EXIT_ENGINE_SOURCE, type ExitSignalEvent } from '#lib/contracts/exit-signal.js';
import { MARKET_REEVALUATION_DETAIL_TYPE } from '#lib/contracts/market-reevaluation.js';
import type { SnapshotData } from '#lib/contracts/risk-snapshot.js';
import type { Outcome } from '#lib/engine/engine.js';
import { digest } from '#lib/engine/ids.js';
import { latestRecord } from '#lib/engine/records.js';
import { localDocumentClient } from '#lib/local/dynamodb-server.js';
import { LOCAL_BUS_NAME } from '#lib/local/local-stack.js';
import { loadRuleSetDirectory } from '#lib/rules/ruleset-loader.js';
import { usePipeline } from './support/pipeline.js';
import { marketPutEntry, snapshotData } from './support/snapshots.js';

/*
 * A global market event over many worlds through the real path: DynamoDB Local, the local bus, the
 * market handler putting one market_reevaluation_requested per world, the rule routing each to the
 * per-world handler. Every world must be evaluated once and publish its signal once, also when the
 * market event arrives twice at the same time, again later, and when the fan-out itself is retried.
 */

const RULES = 'test/fixtures/rulesets/market';
const AS_OF = Date.parse('2025-06-02T10:00:00Z');

function marketEntry(id: string, atMs: number, vix: number, worlds?: string[]): PutEventsRequestEntry {
  return marketPutEntry(id, new Date(atMs).toISOString(), vix, LOCAL_BUS_NAME, worlds);
}

describe('market fan-out: one delivery per world through the bus', () => {
  let store: DynamoDbEngineStore;
  const ruleSetVersion = loadRuleSetDirectory(RULES).forWorld('any')!.version;

  const p = usePipeline({ name: 'fanout', rulesetsPath: RULES, clock: 'event-time', recentLimit: 5_000 });
  beforeAll(() => {
    // The test's own store on the pipeline's tables, to seed and read records directly.
    const { stack } = p;
    store = new DynamoDbEngineStore(
      localDocumentClient(stack.dynamoEndpoint),
      stack.tables,
      stack.config.EXIT_ENGINE_DYNAMODB_TRANSACTIONS,
    );
  });

  /** Seeds each world's latest snapshot straight into the store (calm: nothing fires without the VIX). */
  async function seed(worlds: readonly string[]): Promise<void> {
    const asOf = new Date(AS_OF).toISOString();
    for (let i = 0; i < worlds.length; i += 20) {
      await Promise.all(
        worlds.slice(i, i + 20).map((world) => {
          const data = snapshotData({ world, version: 'v1', asOf, ttlSec: 3_600 }) as unknown as SnapshotData;
          return store.advanceLatestSnapshot(latestRecord(data, `seed-${world}`, `ce-${world}`), data);
        }),
      );
    }
  }

  /** What the gateway saw per world for one market event, and what every world's delivery ended in. */
  function tally(worlds: readonly string[], marketId: string, outcomes: readonly Outcome[]) {
    const published = new Map<string, number>();
    for (const e of p.stack.emitted) {
      const ce = e.detail as ExitSignalEvent;
      if (ce.data.provenance?.source_event_id !== marketId) continue;
      published.set(ce.data.world_id, (published.get(ce.data.world_id) ?? 0) + 1);
    }
    const mine = new Set(worlds);
    return {
      lost: worlds.filter((w) => !published.has(w)),
      duplicated: worlds.filter((w) => (published.get(w) ?? 0) > 1),
      publishedOutcomes: outcomes.filter((o) => mine.has(o.world_id) && o.outcome === 'published').length,
      unexpected: outcomes.filter(
        (o) => mine.has(o.world_id) && !['published', 'duplicate', 'completed_on_retry'].includes(o.outcome),
      ),
    };
  }

  async function completedEvaluations(worlds: readonly string[], marketId: string): Promise<number> {
    let n = 0;
    for (const world of worlds) {
      const record = await store.getEvaluation(world, digest('market', world, marketId, ruleSetVersion));
      if (record?.status === 'completed') n++;
    }
    return n;
  }

  it('re-evaluates 200 worlds once each and publishes each signal once, under concurrent and later redelivery', async () => {
    const worlds = Array.from({ length: 200 }, (_, i) => `fan-${String(i).padStart(3, '0')}`);
    await seed(worlds);
    const outcomes: Outcome[] = [];
    const stop = p.stack.onOutcome((o) => outcomes.push(o));
    let requests = 0;
    const stopCounting = p.stack.bus.onEvent((e) => {
      if (e['detail-type'] === MARKET_REEVALUATION_DETAIL_TYPE) requests++;
    });
    const deadBefore = p.stack.bus.deadLetterCount;
    const marketId = 'm-fanout-200';
    const entry = marketEntry(marketId, AS_OF + 5 * 60_000, 45);
    try {
      // Two copies at once (EventBridge's at-least-once: two deliveries, two market invocations).
      const twice = await p.client.send(new PutEventsCommand({ Entries: [entry, entry] }));
      expect(twice.FailedEntryCount).toBe(0);
      await p.stack.bus.drain();
      // And once more, later: a redelivery after everything completed.
      const again = await p.client.send(new PutEventsCommand({ Entries: [entry] }));
      expect(again.FailedEntryCount).toBe(0);
      await p.stack.bus.drain();
    } finally {
      stop();
      stopCounting();
    }

    // Three market deliveries, each asking for every world: 600 per-world deliveries, 200 evaluations.
    expect(requests).toBe(600);
    const t = tally(worlds, marketId, outcomes);
    expect(t.lost).toEqual([]);
    expect(t.duplicated).toEqual([]);
    expect(t.publishedOutcomes).toBe(200);
    expect(t.unexpected).toEqual([]);
    expect(await completedEvaluations(worlds, marketId)).toBe(200);
    expect(p.stack.bus.deadLetterCount - deadBefore).toBe(0);
    const one = p.stack.emitted.find((e) => (e.detail as ExitSignalEvent).data.world_id === 'fan-042');
    expect((one!.detail as ExitSignalEvent).data.provenance).toMatchObject({
      trigger: 'market_snapshot_updated',
      source_event_id: marketId,
    });
  }, 600_000);

  it('a fan-out that failed part-way is retried and re-sends its requests; the re-sent ones dedupe', async () => {
    const worlds = Array.from({ length: 30 }, (_, i) => `retry-${String(i).padStart(2, '0')}`);
    await seed(worlds);
    const outcomes: Outcome[] = [];
    const stop = p.stack.onOutcome((o) => outcomes.push(o));
    let requests = 0;
    const stopCounting = p.stack.bus.onEvent((e) => {
      if (e['detail-type'] === MARKET_REEVALUATION_DETAIL_TYPE) requests++;
    });
    const marketId = 'm-fanout-retry';
    // The first market delivery's PutEvents entries fail (all but the last five, after the
    // publisher's in-call retries), so it fails and the bus retries it.
    p.stack.bus.injectPutEventsFailures({ count: 85, source: EXIT_ENGINE_SOURCE });
    try {
      const out = await p.client.send(
        new PutEventsCommand({ Entries: [marketEntry(marketId, AS_OF + 6 * 60_000, 50, worlds)] }),
      );
      expect(out.FailedEntryCount).toBe(0);
      await p.stack.bus.drain();
    } finally {
      stop();
      stopCounting();
      p.stack.bus.injectPutEventsFailures({ count: 0 });
    }
    // Some requests went out twice (the failed delivery's accepted ones, then the retry's).
    expect(requests).toBeGreaterThan(worlds.length);
    const t = tally(worlds, marketId, outcomes);
    expect(t.lost).toEqual([]);
    expect(t.duplicated).toEqual([]);
    expect(t.publishedOutcomes).toBe(worlds.length);
    expect(await completedEvaluations(worlds, marketId)).toBe(worlds.length);
  }, 300_000);

  it('records a malformed request under its world, naming the field and the problem, and does not retry it', async () => {
    const world = 'fan-malformed';
    const outcomes: Outcome[] = [];
    const stop = p.stack.onOutcome((o) => outcomes.push(o));
    try {
      const out = await p.client.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: LOCAL_BUS_NAME,
              Source: EXIT_ENGINE_SOURCE,
              DetailType: MARKET_REEVALUATION_DETAIL_TYPE,
              Detail: JSON.stringify({
                specversion: '1.0',
                id: 'mr-bad',
                source: EXIT_ENGINE_SOURCE,
                type: MARKET_REEVALUATION_DETAIL_TYPE,
                time: '2025-06-02T10:07:00Z',
                datacontenttype: 'application/json',
                data: { world_id: world, market_scope: 'global', market_as_of: 'yesterday' },
              }),
            },
          ],
        }),
      );
      expect(out.FailedEntryCount).toBe(0);
      await p.stack.bus.drain();
    } finally {
      stop();
    }
    expect(outcomes).toHaveLength(1);
    const [rejected] = outcomes;
    expect(rejected).toMatchObject({ outcome: 'rejected', world_id: world });
    const reasons = (rejected as { reasons: string[] }).reasons.join('\n');
    expect(reasons).toMatch(/detail\.data\.market_event_id: /);
    expect(reasons).toMatch(/detail\.data\.market_as_of: must be an ISO 8601 date-time/);
    const audit = await p.read.audit(world);
    expect(audit).toEqual([expect.objectContaining({ kind: 'rejection', category: 'schema_violation' })]);
  });
});
