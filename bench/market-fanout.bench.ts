/**
 * A global market event over 2,000 worlds (issue 10, "Scale and cost"), through the real path on
 * DynamoDB Local and the local bus: the market handler (Lambda's 30 s context, counting down as
 * Lambda's does) stores the data and puts one `market_reevaluation_requested` per world on the bus
 * (10 per PutEvents call); the bus routes each to the per-world handler, which runs at most its
 * reserved concurrency (LOCAL_MARKET_WORLD_CONCURRENCY) at once, each request its own delivery with
 * its own retries. Two figures: the market invocation's time (it evaluates nothing, so it must be
 * far inside the timeout; timed with the per-world evaluations held back, since on AWS they run in other
 * Lambdas, not in its process) and the time from its start until every world's evaluation completed.
 *
 * Each world holds one calm 3-strategy snapshot under the default rule set plus a VIX rule, stored as
 * the engine stores it (its positions: the VIX rule is the one a market event can change), so every
 * world is asked (a world under the default rule set alone keeps only its weights and is not asked:
 * lib/engine/market-trigger.ts) and every re-evaluation is a silent partial evaluation (claim,
 * re-run the VIX rule, commit): the figure is the fan-out's own cost.
 */
import './quiet-powertools.js';
import { randomUUID } from 'node:crypto';
import { DynamoDbEngineStore } from '#lib/adapters/dynamodb/engine-store.js';
import { digest } from '#lib/engine/ids.js';
import { latestRecord } from '#lib/engine/records.js';
import { projectionFor } from '#lib/engine/snapshot-reuse.js';
import { createMarketHandler, type MarketOutcome } from '#lib/handlers/market-handler.js';
import { LOCAL_REGION, localDocumentClient } from '#lib/local/dynamodb-server.js';
import {
  LOCAL_FUNCTION_TIMEOUT_MS,
  LOCAL_MARKET_WORLD_CONCURRENCY,
  lambdaContext,
  startLocalStack,
} from '#lib/local/local-stack.js';
import { RuleSetRegistry } from '#lib/rules/ruleset-loader.js';
import { wireMarketRequests } from '#lib/runtime/wire.js';
import type { BenchFigure } from './types.js';
import { defaultWithVix } from './vix-rule-set.js';

const V = (0.014 / 2.3263478740408408) ** 2 / 0.38;

function snapshot(world: string, asOfMs: number) {
  const asOf = new Date(asOfMs).toISOString();
  return {
    world_id: world,
    as_of: asOf,
    version: 'v1',
    weights: { alpha: 0.5, beta: 0.3, gamma: 0.2 },
    covariance: { 'alpha,alpha': V, 'beta,beta': V, 'gamma,gamma': V },
    provenance: { actor: 'risk-hub', stage: 'live' },
    hash: `sha256:${world}-v1`,
    ttl_sec: 86_400,
    created_at: asOf,
    event_version: 1,
  };
}

function marketEvent(asOf: string) {
  const id = `mkt-${randomUUID()}`;
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'market_snapshot_updated',
    source: 'qmtl.services.market_data',
    account: '000000000000',
    time: asOf,
    region: LOCAL_REGION,
    resources: [],
    detail: {
      specversion: '1.0',
      id,
      source: 'qmtl.services.market_data',
      type: 'market_snapshot_updated',
      time: asOf,
      datacontenttype: 'application/json',
      correlation_id: `market:global:${id}`,
      data: {
        scope: 'global',
        as_of: asOf,
        indicators: { vix: 18, vix3m: 21 },
        event_version: 1,
        idempotency_key: `market_snapshot_updated:global:${id}:1`,
      },
    },
  };
}

/** Runs `fn` over the items, `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

export async function run(opts: { quick?: boolean } = {}): Promise<BenchFigure[]> {
  const worlds = opts.quick ? 200 : 2_000;
  const ruleSet = defaultWithVix();
  const stack = await startLocalStack({
    clock: 'wall',
    tablePrefix: 'fanout-',
    ruleSets: new RuleSetRegistry([ruleSet]),
  });
  const client = localDocumentClient(stack.dynamoEndpoint);
  try {
    if (stack.dynamoKind !== 'dynamodb-local')
      throw new Error(`the fan-out bench needs DynamoDB Local (Java); got ${stack.dynamoKind}`);
    const store = new DynamoDbEngineStore(client, stack.tables, true);
    const asOfMs = Date.now() - 60_000;
    const ids = Array.from({ length: worlds }, (_, i) => `fan-${String(i).padStart(4, '0')}`);
    const seeded = performance.now();
    await pool(ids, 16, async (w) => {
      const data = snapshot(w, asOfMs);
      const kept = projectionFor(ruleSet);
      await store.advanceLatestSnapshot(
        latestRecord(data, `t-${w}`, `ce-${w}`, kept === 'whole' ? undefined : kept),
        data,
      );
    });
    console.log(`seeded ${worlds} worlds in ${Math.round(performance.now() - seeded)} ms`);

    const event = marketEvent(new Date().toISOString());
    const rulesVersion = ruleSet.version;
    // The market evaluation's key as the engine derives it (engine.ts, reevaluateOnMarket).
    const completed = async (w: string) =>
      (await store.getEvaluation(w, digest('market', w, event.detail.id, rulesVersion)))?.status ===
      'completed';
    const handler = createMarketHandler({
      engine: stack.engine,
      requests: wireMarketRequests(stack.config),
      clock: () => Date.now(),
    });
    const evaluated = new Set<string>();
    let otherOutcomes = 0;
    const stopListening = stack.onOutcome((o) => {
      if (o.outcome === 'no_signal' || o.outcome === 'published') evaluated.add(o.world_id);
      else otherOutcomes++;
    });
    // On AWS the market function runs alone in its Lambda; here the evaluations it causes would share its
    // process and starve it, so they wait (queued on the bus, as throttled async events wait in Lambda's
    // queue) until it returns.
    const release = stack.marketWorldConcurrency.hold();
    const started = performance.now();
    let result: MarketOutcome;
    try {
      result = (await handler(event as never, lambdaContext('evaluate-market'))) as MarketOutcome;
    } finally {
      release();
    }
    const marketMs = performance.now() - started;
    console.log(`market invocation: ${Math.round(marketMs)} ms, ${result.requested.length} worlds requested`);
    await stack.bus.drain();
    const allMs = performance.now() - started;
    stopListening();
    // Every world evaluated exactly once: a completed evaluation under the market event's key.
    let completedWorlds = 0;
    await pool(ids, 16, async (w) => {
      if (await completed(w)) completedWorlds++;
    });
    console.log(
      `all evaluated after ${Math.round(allMs)} ms: ${evaluated.size} worlds reported, ${completedWorlds} completed, ${otherOutcomes} other outcomes, ${stack.bus.deadLetterCount} dead letters`,
    );
    const everyWorld =
      evaluated.size === worlds && completedWorlds === worlds && stack.bus.deadLetterCount === 0;
    return [
      {
        name: `market fan-out, ${worlds} worlds: the market invocation (stores the data, puts ${worlds} per-world requests)`,
        unit: 'ms',
        median: Math.round(marketMs),
        budget: `< ${LOCAL_FUNCTION_TIMEOUT_MS} ms (Lambda timeout)`,
        ok: result.requested.length === worlds && marketMs < LOCAL_FUNCTION_TIMEOUT_MS,
      },
      {
        name: `market fan-out, ${worlds} worlds: until every per-world evaluation completed (${LOCAL_MARKET_WORLD_CONCURRENCY} at a time through the local bus)`,
        unit: 'ms',
        median: everyWorld ? Math.round(allMs) : Number.POSITIVE_INFINITY,
        budget:
          'every world evaluated once, no dead letter (each world is its own delivery: no shared timeout)',
        ok: everyWorld,
      },
    ];
  } finally {
    await stack.stop();
  }
}
