import { concernsWorld, toMarketScopeView } from '#lib/contracts/market-snapshot.js';
import { marketStorageScopes } from '#lib/rules/market-views.js';
import { evaluateClaimed, finishExisting } from './claimed-evaluation.js';
import {
  audit,
  type EngineContext,
  MARKET_AUDIT_PREFIX,
  type MarketDelivery,
  type Outcome,
} from './engine-context.js';
import { RetryableError } from './errors.js';
import { digest } from './ids.js';
import { invocation, mapBounded } from './invocation.js';
import type { Invocation } from './outbox.js';
import type { AdvanceResult } from './ports.js';

/**
 * Market data arrived: keep it as the latest for its scope (never letting older data win), then
 * re-evaluate the latest fresh snapshot of every world it concerns, so a market shock between two
 * hub snapshots can trigger an exit.
 */
export async function handleMarket(
  ctx: EngineContext,
  delivery: MarketDelivery,
): Promise<{ market: AdvanceResult; outcomes: Outcome[] }> {
  const { store } = ctx.deps;
  const ce = delivery.cloudEvent;
  const view = toMarketScopeView(ce.data);
  // `data.worlds` names the worlds the data is for (lib/rules/market-views.ts): stored per world.
  const stored = await Promise.all(
    marketStorageScopes(view.scope, ce.data.worlds).map((scope) =>
      store.putMarket({ ...view, scope, source_event_id: ce.id }),
    ),
  );
  const advance = stored.includes('advanced') ? 'advanced' : stored.includes('same') ? 'same' : 'older';
  if (advance === 'older') {
    await audit(ctx, {
      world_id: `${MARKET_AUDIT_PREFIX}${view.scope}`,
      kind: 'out_of_order',
      id: delivery.deliveryId,
      at: ce.time,
      nowMs: delivery.nowMs,
      extra: { source_event_id: ce.id, scope: view.scope, as_of: view.as_of },
    });
    ctx.deps.metrics.count('OutOfOrderMarketData', 1);
    return { market: advance, outcomes: [] };
  }
  const worlds = (ce.data.worlds ?? (await store.listWorlds())).filter((w) => concernsWorld(ce.data, w));
  const inv = invocation(delivery.invocationId, delivery.remainingMs);
  // Bounded fan-out: a global event over thousands of worlds finishes inside the timeout, and a
  // retry re-runs only what is left (completed evaluations dedupe by their claim).
  const outcomes = await mapBounded(worlds, ctx.deps.marketConcurrency ?? 16, inv, (worldId) =>
    reevaluateOnMarket(ctx, { worldId, marketEventId: ce.id, inv, nowMs: delivery.nowMs }),
  );
  return { market: advance, outcomes };
}

/**
 * Re-evaluates a world's latest fresh snapshot because market data for it changed. The
 * evaluation is keyed by the market event, not by the snapshot it meets: a redelivered market
 * event finds its first evaluation (and its pairing with a snapshot) and is a duplicate.
 */
export async function reevaluateOnMarket(
  ctx: EngineContext,
  args: {
    worldId: string;
    marketEventId: string;
    inv: Invocation;
    nowMs: number;
  },
): Promise<Outcome> {
  const { store } = ctx.deps;
  const ruleSet = await ctx.deps.ruleSets.forWorld(args.worldId);
  if (!ruleSet) return { outcome: 'no_ruleset', world_id: args.worldId };
  const evaluationKey = digest('market', args.worldId, args.marketEventId, ruleSet.version);
  const existing = await store.getEvaluation(args.worldId, evaluationKey);
  if (existing?.status === 'completed') return finishExisting(ctx, existing, args.inv);
  const latest = await store.getLatestSnapshot(args.worldId);
  if (!latest) return { outcome: 'no_signal', world_id: args.worldId };
  if (args.nowMs > latest.expires_at_ms) {
    // Fail closed: market data alone never revives an expired snapshot.
    const expiredAt = new Date(latest.expires_at_ms).toISOString();
    return { outcome: 'expired', world_id: args.worldId, expired_at: expiredAt };
  }
  const data = await store.getSnapshotData(latest);
  if (!data) throw new RetryableError(`world ${args.worldId}: its latest snapshot moved while being read`);
  return evaluateClaimed(ctx, {
    world: args.worldId,
    evaluationKey,
    ruleSet,
    data,
    inv: args.inv,
    nowMs: args.nowMs,
    snapshotEventVersion: data.event_version ?? 1,
    provenance: {
      trigger: 'market_snapshot_updated',
      source_event_id: args.marketEventId,
      snapshot_event_id: latest.source_event_id,
    },
    auditId: `${args.marketEventId}:${args.worldId}`,
  });
}
