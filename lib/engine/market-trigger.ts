import { concernsWorld, toMarketScopeView } from '#lib/contracts/market-scope-view.js';
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
import type { Invocation } from './outbox.js';
import type { AdvanceResult, ListedWorld, MarketReevaluationQueue } from './ports.js';
import { covers, keptProjection, projectionFor, rerunRuleIds } from './snapshot-reuse.js';

/**
 * Market data arrived: keep it as the latest for its scope (never letting older data win), then ask
 * for the re-evaluation of every world it concerns that can act on it (`marketFanOut`), one request
 * per world, so a market shock between two hub snapshots can trigger an exit. The worlds are evaluated by their own deliveries
 * (`reevaluateOnMarket`), however many there are: this delivery's cost is one write per scope and one
 * request per world, never an evaluation.
 */
export async function handleMarket(
  ctx: EngineContext,
  delivery: MarketDelivery,
  queue: MarketReevaluationQueue,
): Promise<{ market: AdvanceResult; requested: string[] }> {
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
    return { market: advance, requested: [] };
  }
  // A redelivery ('same') asks again: a request lost to a crash is sent now, one already evaluated
  // finds its completed evaluation under the same key and is a duplicate.
  // Worlds the producer named are asked as named: knowing what each one's record keeps would cost a
  // read per world here, in the one invocation every world's request waits for.
  const listed: ListedWorld[] = ce.data.worlds
    ? [...new Set(ce.data.worlds)].map((world_id) => ({ world_id }))
    : await store.listWorldsForMarket();
  const { worlds, skipped } = marketFanOut(listed.filter((w) => concernsWorld(ce.data, w.world_id)));
  if (skipped > 0) {
    ctx.deps.metrics.count('MarketReevaluationsSkipped', skipped);
    ctx.deps.logger.info(
      'market fan-out: worlds whose latest snapshot kept only its weights are not asked (no rule of theirs reads market data)',
      { source_event_id: ce.id, scope: view.scope, skipped, requested: worlds.length },
    );
  }
  await queue.request(
    worlds.map((worldId) => ({
      worldId,
      marketEventId: ce.id,
      marketScope: view.scope,
      marketAsOf: view.as_of,
      requestedAtMs: delivery.nowMs,
    })),
  );
  ctx.deps.metrics.count('MarketReevaluationsRequested', worlds.length);
  return { market: advance, requested: worlds };
}

/**
 * Which listed worlds a market event is sent to. A world whose latest snapshot record keeps only
 * the weights was stored under a rule set no later evaluation can change (snapshot-reuse.ts): its
 * re-evaluation would end as not needed or, if its rule set gained a market rule since, find no
 * snapshot body to run it on (it acts from its next hub snapshot). Such a world is skipped, so the
 * requests that can act do not queue behind those that cannot.
 */
export function marketFanOut(listed: readonly ListedWorld[]): { worlds: string[]; skipped: number } {
  const worlds: string[] = [];
  for (const w of listed) if (keptProjection(w.body_kept) !== 'weights') worlds.push(w.world_id);
  return { worlds, skipped: listed.length - worlds.length };
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
  const needed = projectionFor(ruleSet);
  if (needed === 'weights') {
    // No rule reads market data or the time: the hub snapshot's own evaluation already decided all
    // this one could (snapshot-reuse.ts). Nothing to claim, commit or record.
    ctx.deps.metrics.count('MarketReevaluationsNotNeeded', 1);
    return { outcome: 'no_signal', world_id: args.worldId };
  }
  const evaluationKey = digest('market', args.worldId, args.marketEventId, ruleSet.version);
  const existing = await store.getEvaluation(args.worldId, evaluationKey);
  if (existing?.status === 'completed') return finishExisting(ctx, existing, args.inv);
  const latest = await store.getLatestSnapshot(args.worldId);
  if (!latest) return { outcome: 'no_signal', world_id: args.worldId };
  if (args.nowMs > latest.expires_at_ms) {
    // Fail closed: market data alone never revives an expired snapshot.
    const expiredAt = new Date(latest.expires_at_ms).toISOString();
    return { outcome: 'expired', world_id: args.worldId, expired_at: expiredAt, trigger: 'market' };
  }
  const kept = keptProjection(latest.body_kept);
  if (!covers(kept, needed)) {
    // Stored under a rule set whose later evaluations read less of the snapshot than the one in force
    // now re-runs. Its rules act from the world's next hub snapshot on, which keeps what they read.
    ctx.deps.metrics.count('SnapshotBodyMissing', 1);
    ctx.deps.logger.warn(
      'market re-evaluation: the latest snapshot was stored without the part of its body the rule set now re-runs (the rule set changed since); not evaluated',
      { world_id: args.worldId, as_of: latest.as_of, ruleset_version: ruleSet.version, kept, needed },
    );
    return { outcome: 'no_signal', world_id: args.worldId };
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
    // Only the rules a later evaluation can change; the others stand as the hub evaluation left them.
    rerun: rerunRuleIds(ruleSet),
  });
}
