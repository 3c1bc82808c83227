/**
 * A global market event over 2,000 worlds (issue 10, "Scale and cost"), through the real market
 * handler on DynamoDB Local: one invocation with Lambda's 30 s timeout (the context counts down as
 * Lambda's does), and, when the fan-out stops for lack of time (it keeps MARKET_TIME_RESERVE_MS back
 * for the evaluations it started and throws a retryable error), the retries Lambda would make, each a
 * fresh 30 s, until every world is evaluated. A retry re-reads each finished world's claim (one read)
 * and evaluates only the rest.
 *
 * Each world holds one calm 3-strategy snapshot under the default rule set, so every re-evaluation is
 * a full silent evaluation (claim, evaluate, commit) and the figure is the fan-out's own cost.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbEngineStore } from '#lib/adapters/dynamodb/engine-store.js';
import type { Outcome } from '#lib/engine/engine.js';
import { digest } from '#lib/engine/ids.js';
import { latestRecord } from '#lib/engine/records.js';
import { createMarketHandler, type MarketOutcome } from '#lib/handlers/market-handler.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#lib/local/dynamodb-server.js';
import { LOCAL_FUNCTION_TIMEOUT_MS, lambdaContext, startLocalStack } from '#lib/local/local-stack.js';
import { loadRuleSetDirectory } from '#lib/rules/ruleset-loader.js';
import type { BenchFigure } from './types.js';

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
  const stack = await startLocalStack({ clock: 'wall', tablePrefix: 'fanout-' });
  const client = new DynamoDBClient({
    endpoint: stack.dynamoEndpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    if (stack.dynamoKind !== 'dynamodb-local')
      throw new Error(`the fan-out bench needs DynamoDB Local (Java); got ${stack.dynamoKind}`);
    const store = new DynamoDbEngineStore(client, stack.tables, true);
    const asOfMs = Date.now() - 60_000;
    const ids = Array.from({ length: worlds }, (_, i) => `fan-${String(i).padStart(4, '0')}`);
    const seeded = performance.now();
    await pool(ids, 16, async (w) => {
      const data = snapshot(w, asOfMs);
      await store.advanceLatestSnapshot(latestRecord(data, `t-${w}`, `ce-${w}`), data);
    });
    console.log(`seeded ${worlds} worlds in ${Math.round(performance.now() - seeded)} ms`);

    const event = marketEvent(new Date().toISOString());
    const rulesVersion = loadRuleSetDirectory('rulesets').forWorld('any')!.version;
    // The market evaluation's key as the engine derives it (engine.ts, reevaluateOnMarket).
    const completed = async (w: string) =>
      (await store.getEvaluation(w, digest('market', w, event.detail.id, rulesVersion)))?.status ===
      'completed';
    const handler = createMarketHandler({ engine: stack.engine, clock: () => Date.now() });
    const done = new Set<string>();
    const invocations: { ms: number; evaluated: number; ok: boolean }[] = [];
    // Lambda retries a failed async invocation twice; the bench goes on past that to say how many it needs.
    for (let attempt = 1; attempt <= 40 && done.size < worlds; attempt++) {
      const context = lambdaContext('evaluate-market', LOCAL_FUNCTION_TIMEOUT_MS);
      const before = done.size;
      const started = performance.now();
      let ok = true;
      const seen = new Set<string>();
      try {
        const result = (await handler(event as never, context)) as MarketOutcome;
        for (const o of result.outcomes as Outcome[]) if (o.outcome !== 'rejected') seen.add(o.world_id);
      } catch (error) {
        ok = false;
        console.log(`invocation ${attempt}: ${(error as Error).message}`);
      }
      const ms = performance.now() - started;
      // What is evaluated is what has a completed claim, whichever way the invocation ended.
      await pool(ids, 16, async (w) => {
        if (!done.has(w) && (seen.has(w) || (await completed(w)))) done.add(w);
      });
      invocations.push({ ms, evaluated: done.size - before, ok });
      console.log(
        `invocation ${attempt}: ${Math.round(ms)} ms, ${done.size - before} worlds evaluated (${done.size}/${worlds}), ${ok ? 'succeeded' : 'failed for a retry'}`,
      );
    }
    const first = invocations[0]!;
    const totalMs = invocations.reduce((n, i) => n + i.ms, 0);
    return [
      {
        name: `market fan-out, ${worlds} worlds, 16 at a time: first invocation (${first.evaluated} worlds evaluated${first.ok ? '' : ', then out of time'})`,
        unit: 'ms',
        median: Math.round(first.ms),
        budget: `< ${LOCAL_FUNCTION_TIMEOUT_MS} ms (Lambda timeout)`,
        ok: first.ok && first.ms < LOCAL_FUNCTION_TIMEOUT_MS,
      },
      {
        name: `market fan-out, ${worlds} worlds: invocations until every world is evaluated (${Math.round(totalMs)} ms in all)`,
        unit: 'invocations',
        median: done.size === worlds ? invocations.length : Number.POSITIVE_INFINITY,
        budget: '≤ 3 (one try + Lambda’s 2 async retries)',
        ok: done.size === worlds && invocations.length <= 3,
      },
    ];
  } finally {
    client.destroy();
    await stack.stop();
  }
}
