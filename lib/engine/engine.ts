import type { MarketScopeView } from '#lib/rules/types.js';
import { finishExisting } from './claimed-evaluation.js';
import {
  type EngineContext,
  type EngineDeps,
  MARKET_AUDIT_PREFIX,
  type MarketDelivery,
  type MarketReevaluationDelivery,
  type Outcome,
  retentionOf,
  type SnapshotDelivery,
} from './engine-context.js';
import { RecordTooLargeError } from './errors.js';
import { futureDatedReasons } from './future-dated.js';
import { invocation } from './invocation.js';
import { handleMarket, reevaluateOnMarket } from './market-trigger.js';
import { OutboxProtocol } from './outbox.js';
import type { AdvanceResult, MarketReevaluationQueue } from './ports.js';
import { boundedRejection, minimalRejection } from './rejections.js';
import { handleSnapshot } from './snapshot-trigger.js';
import { checkStaleness, type StalenessCheck } from './staleness-trigger.js';

export type {
  EngineDeps,
  MarketReevaluationDelivery,
  Outcome,
  SnapshotDelivery,
} from './engine-context.js';
export { MARKET_AUDIT_PREFIX } from './engine-context.js';
export { UNKNOWN_WORLD } from './rejections.js';

/**
 * The Exit Engine use cases: evaluate a hub snapshot, or re-evaluate on market data. A façade: each
 * path lives in its own module (snapshot-trigger, market-trigger, staleness-trigger, all ending in
 * claimed-evaluation; the outbox protocol in outbox).
 */
export class ExitEngine {
  private readonly ctx: EngineContext;

  constructor(private readonly deps: EngineDeps) {
    const outbox = new OutboxProtocol({
      store: deps.store,
      publisher: deps.publisher,
      metrics: deps.metrics,
      logger: deps.logger,
      leaseMs: deps.leaseMs,
      publishWindowMs: deps.publishWindowMs ?? 10_000,
      clockSkewMs: deps.clockSkewMs ?? 1_000,
      wallClock: deps.wallClock ?? Date.now,
    });
    this.ctx = { deps, outbox };
  }

  /** Completes pending outboxes whose publish lease ran out (the scheduled sweeper). */
  sweepOutboxes(args: { invocationId: string; remainingMs?: () => number; limit?: number }) {
    return this.ctx.outbox.sweep(invocation(args.invocationId, args.remainingMs), args.limit ?? 100);
  }

  /** Validate-resolve-expire-evaluate-dedupe-store-publish for one `risk_snapshot_updated`. */
  handleSnapshot(delivery: SnapshotDelivery): Promise<Outcome> {
    const { data } = delivery.cloudEvent;
    const future = futureDatedReasons(
      { 'data.as_of': data.as_of, 'data.created_at': data.created_at },
      delivery.nowMs,
    );
    if (future.length > 0) return this.rejectFutureDated(data.world_id, delivery, future);
    return handleSnapshot(this.ctx, delivery);
  }

  /** Refuses an input dated beyond the allowed clock skew (future-dated.ts), recorded with its raw event. */
  private rejectFutureDated(
    worldId: string,
    delivery: { cloudEvent: { time: string }; deliveryId: string; nowMs: number },
    reasons: string[],
  ): Promise<Outcome> {
    return this.recordRejection({
      worldId,
      deliveryId: delivery.deliveryId,
      time: delivery.cloudEvent.time,
      reasons,
      category: 'future_dated',
      raw: delivery.cloudEvent,
      nowMs: delivery.nowMs,
    });
  }

  /**
   * Records an inbound event that failed validation: an audit record holding the reasons and the
   * raw event (so an operator can fix and redrive it), a metric, a warning. Never retried.
   */
  async recordRejection(r: {
    worldId: string | undefined;
    deliveryId: string;
    time: string;
    reasons: string[];
    category: string;
    raw: unknown;
    nowMs: number;
  }): Promise<Outcome> {
    const retention = retentionOf(this.ctx, this.deps.auditRetentionDays);
    const full = boundedRejection(r, retention);
    try {
      if (!full) throw new RecordTooLargeError('rejection record over the item limit');
      await this.deps.store.appendAudit(full);
    } catch (error) {
      if (!(error instanceof RecordTooLargeError)) throw error;
      // Even the record of a rejection must land: a minimal one (ids cut short, sizes, category).
      await this.deps.store.appendAudit(minimalRejection(r, retention));
      this.deps.metrics.count('MinimalRejectionRecords', 1);
    }
    const world = full?.world_id ?? minimalRejection(r, retention).world_id;
    this.deps.metrics.count('RejectedEvents', 1, { reason: r.category });
    this.deps.logger.warn('inbound event rejected', {
      world_id: world,
      delivery_id: String(r.deliveryId).slice(0, 256),
      category: r.category,
      reasons: r.reasons.slice(0, 20).map((x) => x.slice(0, 500)),
    });
    return { outcome: 'rejected', world_id: world, reasons: r.reasons.slice(0, 50) };
  }

  /**
   * Market data arrived: keep it as the latest for its scope (never letting older data win), then ask
   * `queue` for one re-evaluation per world it concerns (`reevaluateOnMarketRequest` runs each).
   */
  async handleMarket(
    delivery: MarketDelivery,
    queue: MarketReevaluationQueue,
  ): Promise<{ market: AdvanceResult | 'rejected'; requested: string[]; outcomes: Outcome[] }> {
    const { data } = delivery.cloudEvent;
    const future = futureDatedReasons({ 'data.as_of': data.as_of }, delivery.nowMs);
    if (future.length > 0) {
      const world = `${MARKET_AUDIT_PREFIX}${data.scope}`;
      const rejected = await this.rejectFutureDated(world, delivery, future);
      return { market: 'rejected', requested: [], outcomes: [rejected] };
    }
    return { ...(await handleMarket(this.ctx, delivery, queue)), outcomes: [] };
  }

  /** One world's market re-evaluation, as its own delivery (see `handleMarket`). */
  reevaluateOnMarketRequest(delivery: MarketReevaluationDelivery): Promise<Outcome> {
    return reevaluateOnMarket(this.ctx, {
      worldId: delivery.worldId,
      marketEventId: delivery.marketEventId,
      inv: invocation(delivery.invocationId, delivery.remainingMs),
      nowMs: delivery.nowMs,
    });
  }

  /** The freshness sweep's check for one world (fail closed when the hub goes quiet). */
  checkStaleness(args: StalenessCheck): Promise<Outcome | null> {
    return checkStaleness(this.ctx, args);
  }

  /**
   * Publishes a committed outbox that a crash left pending, through the same fenced path a
   * redelivery takes, taking over a lease that still runs: only for a restarted local runtime, the
   * one runtime on its data directory, whose earlier process (the lease holder) is dead. Undefined
   * when there is no completed evaluation under that key.
   */
  async completePendingOutbox(
    worldId: string,
    evaluationKey: string,
    invocationId: string,
  ): Promise<Outcome | undefined> {
    const record = await this.deps.store.getEvaluation(worldId, evaluationKey);
    if (record?.status !== 'completed') return undefined;
    return finishExisting(this.ctx, record, invocation(invocationId, undefined), { takeOver: true });
  }
}

export type { MarketScopeView };
