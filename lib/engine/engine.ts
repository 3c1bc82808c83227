import { marketLoadScopes, marketStorageScopes, marketViewsForWorld } from '#lib/rules/market-views.js';
import { dueStalenessRules, sweepRuleSet } from '#lib/rules/staleness-sweep.js';
import type { EngineEvent } from '../contracts/exit-signal.js';
import {
  concernsWorld,
  type MarketSnapshotCloudEvent,
  toMarketScopeView,
} from '../contracts/market-snapshot.js';
import {
  type RiskSnapshotCloudEvent,
  type SnapshotData,
  snapshotExpiresAt,
} from '../contracts/risk-snapshot.js';
import { prepareSnapshot } from '../rules/prepare.js';
import type { RuleSet } from '../rules/rule-schema.js';
import type { RuleSetRegistry } from '../rules/ruleset-loader.js';
import type { MarketScopeView } from '../rules/types.js';
import { buildExitSignalEvents, buildProposedEvent } from './build-event.js';
import {
  ConcurrentUpdateError,
  EvaluationInProgressError,
  RecordTooLargeError,
  RefResolutionError,
  RetryableError,
} from './errors.js';
import { evaluateRuleSet } from './evaluate.js';
import { digest } from './ids.js';
import { type Invocation, OutboxProtocol } from './outbox.js';
import type {
  AdvanceResult,
  AuditRecord,
  EngineLogger,
  EngineMetrics,
  EngineStore,
  EvaluationRecord,
  RefResolver,
  SignalPublisher,
} from './ports.js';
import { evaluationAudit, expiry, type Retention, signalItem } from './records.js';
import { boundedRejection, minimalRejection } from './rejections.js';
import { resolveSnapshotRefs } from './resolve-refs.js';

/** Everything the engine needs from outside, passed in (no globals, no clock reads). */
export interface EngineDeps {
  store: EngineStore;
  publisher: SignalPublisher;
  refs: RefResolver;
  ruleSets: RuleSetRegistry;
  metrics: EngineMetrics;
  logger: EngineLogger;
  engineVersion: string;
  /** How long a claim protects an evaluation from a concurrent duplicate. */
  leaseMs: number;
  /** The longest one publish may take (PutEvents calls start and end inside it); default 10 s. */
  publishWindowMs?: number;
  /** Allowance for host clocks disagreeing, added to every publish lease; default 1 s. */
  clockSkewMs?: number;
  /** Worlds a market event re-evaluates at once; default 16. */
  marketConcurrency?: number;
  signalRetentionDays: number;
  auditRetentionDays: number;
  marketMaxAgeMs: number;
  /** Wall-clock time for leases, which must expire in real time even when replaying history. */
  wallClock?: () => number;
}

/** What happened to one delivery; the handler maps it to logs and metrics, never to a retry. */
export type Outcome =
  | { outcome: 'published'; world_id: string; event_id: string; signals: number; stored: number }
  | { outcome: 'stored_only'; world_id: string; stored: number }
  | { outcome: 'no_signal'; world_id: string }
  | { outcome: 'duplicate'; world_id: string }
  | { outcome: 'completed_on_retry'; world_id: string; event_id: string }
  | { outcome: 'out_of_order'; world_id: string; latest_as_of: string }
  | { outcome: 'superseded'; world_id: string }
  | { outcome: 'expired'; world_id: string; expired_at: string }
  | { outcome: 'rejected'; world_id: string; reasons: string[] }
  | { outcome: 'no_ruleset'; world_id: string }
  | { outcome: 'handed_over'; world_id: string };

/** A hub snapshot delivery: the validated CloudEvent and the EventBridge delivery facts. */
export interface SnapshotDelivery {
  cloudEvent: RiskSnapshotCloudEvent;
  /** The EventBridge event id (stable across EventBridge's own retries). */
  deliveryId: string;
  /** Who is evaluating (Lambda request id): the owner of the claim. */
  invocationId: string;
  /** Time left in the invocation (Lambda's `getRemainingTimeInMillis`); none: no deadline. */
  remainingMs?: () => number;
  nowMs: number;
}

/** Without a deadline (replay, the CLI), the invocation is taken to last this long. */
const DEFAULT_INVOCATION_MS = 30_000;
const MAX_COMMIT_ATTEMPTS = 4;

export { UNKNOWN_WORLD } from './rejections.js';
/** Audit records about market data (not a world) are filed under `market:<scope>`. */
export const MARKET_AUDIT_PREFIX = 'market:';

/** One evaluation of a world's snapshot, as the triggers (hub or market) hand it over. */
interface EvaluationRequest {
  world: string;
  evaluationKey: string;
  ruleSet: RuleSet;
  data: SnapshotData;
  inv: Invocation;
  nowMs: number;
  snapshotEventVersion: number;
  provenance: Record<string, unknown>;
  auditId: string;
}

/** The Exit Engine use cases: evaluate a hub snapshot, or re-evaluate on market data. */
export class ExitEngine {
  private readonly outbox: OutboxProtocol;

  constructor(private readonly deps: EngineDeps) {
    this.outbox = new OutboxProtocol({
      store: deps.store,
      publisher: deps.publisher,
      metrics: deps.metrics,
      logger: deps.logger,
      leaseMs: deps.leaseMs,
      publishWindowMs: deps.publishWindowMs ?? 10_000,
      clockSkewMs: deps.clockSkewMs ?? 1_000,
      wallClock: deps.wallClock ?? Date.now,
    });
  }

  /** Completes pending outboxes whose publish lease ran out (the scheduled sweeper). */
  sweepOutboxes(args: { invocationId: string; remainingMs?: () => number; limit?: number }) {
    return this.outbox.sweep(invocation(args.invocationId, args.remainingMs), args.limit ?? 100);
  }

  /** Validate-resolve-expire-evaluate-dedupe-store-publish for one `risk_snapshot_updated`. */
  async handleSnapshot(delivery: SnapshotDelivery): Promise<Outcome> {
    const { store } = this.deps;
    const ce = delivery.cloudEvent;
    const data = ce.data;
    const world = data.world_id;
    const triggerKey =
      data.idempotency_key ??
      `risk_snapshot_updated:${world}:${data.hash ?? data.version}:${data.event_version ?? 1}`;
    const ruleSet = this.deps.ruleSets.forWorld(world);
    if (!ruleSet) {
      await this.audit({
        world_id: world,
        kind: 'rejection',
        id: delivery.deliveryId,
        at: ce.time,
        nowMs: delivery.nowMs,
        extra: { reasons: ['no rule set for this world and no default rule set'], source_event_id: ce.id },
      });
      this.deps.metrics.count('RejectedEvents', 1, { reason: 'no_ruleset' });
      return { outcome: 'no_ruleset', world_id: world };
    }
    const evaluationKey = digest('snapshot', world, triggerKey, ruleSet.version);

    // A redelivery of an event already evaluated: finish what a crash may have left, else done.
    const inv = invocation(delivery.invocationId, delivery.remainingMs);
    const existing = await store.getEvaluation(world, evaluationKey);
    if (existing?.status === 'completed') return this.finishExisting(existing, inv);

    const expiresAtMs = snapshotExpiresAt(data);
    if (delivery.nowMs > expiresAtMs) {
      const expiredAt = new Date(expiresAtMs).toISOString();
      await this.audit({
        world_id: world,
        kind: 'expired',
        id: delivery.deliveryId,
        at: ce.time,
        nowMs: delivery.nowMs,
        extra: {
          source_event_id: ce.id,
          snapshot_version: data.version,
          as_of: data.as_of,
          expired_at: expiredAt,
          policy:
            'not evaluated (fail closed): a staleness rule acts on the age of the latest fresh snapshot',
        },
      });
      this.deps.metrics.count('ExpiredSnapshots', 1);
      this.deps.logger.warn('snapshot expired before evaluation; recorded, not evaluated', {
        world_id: world,
        version: data.version,
        expired_at: expiredAt,
      });
      return { outcome: 'expired', world_id: world, expired_at: expiredAt };
    }

    const latest = {
      world_id: world,
      as_of: data.as_of,
      as_of_ms: Date.parse(data.as_of),
      version: data.version,
      trigger_key: triggerKey,
      source_event_id: ce.id,
      data,
    };
    const advance = await store.advanceLatestSnapshot(latest);
    if (advance === 'older') {
      const current = await store.getLatestSnapshot(world);
      await this.audit({
        world_id: world,
        kind: 'out_of_order',
        id: delivery.deliveryId,
        at: ce.time,
        nowMs: delivery.nowMs,
        extra: {
          source_event_id: ce.id,
          snapshot_version: data.version,
          as_of: data.as_of,
          latest_as_of: current?.as_of,
          latest_version: current?.version,
        },
      });
      this.deps.metrics.count('OutOfOrderSnapshots', 1);
      this.deps.logger.warn('older snapshot arrived after a newer one; recorded and ignored', {
        world_id: world,
        as_of: data.as_of,
        latest_as_of: current?.as_of,
      });
      return { outcome: 'out_of_order', world_id: world, latest_as_of: current?.as_of ?? '' };
    }

    return this.evaluateClaimed({
      world,
      evaluationKey,
      ruleSet,
      data,
      inv,
      nowMs: delivery.nowMs,
      snapshotEventVersion: data.event_version ?? 1,
      provenance: {
        trigger: 'risk_snapshot_updated',
        source_event_id: ce.id,
        delivery_id: delivery.deliveryId,
        correlation_id: ce.correlation_id,
      },
      auditId: delivery.deliveryId,
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
    const retention = this.retention(this.deps.auditRetentionDays);
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
   * Market data arrived: keep it as the latest for its scope (never letting older data win), then
   * re-evaluate the latest fresh snapshot of every world it concerns, so a market shock between two
   * hub snapshots can trigger an exit.
   */
  async handleMarket(delivery: {
    cloudEvent: MarketSnapshotCloudEvent;
    deliveryId: string;
    invocationId: string;
    remainingMs?: () => number;
    nowMs: number;
  }): Promise<{ market: AdvanceResult; outcomes: Outcome[] }> {
    const { store } = this.deps;
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
      await this.audit({
        world_id: `${MARKET_AUDIT_PREFIX}${view.scope}`,
        kind: 'out_of_order',
        id: delivery.deliveryId,
        at: ce.time,
        nowMs: delivery.nowMs,
        extra: { source_event_id: ce.id, scope: view.scope, as_of: view.as_of },
      });
      this.deps.metrics.count('OutOfOrderMarketData', 1);
      return { market: advance, outcomes: [] };
    }
    const worlds = (ce.data.worlds ?? (await store.listWorlds())).filter((w) => concernsWorld(ce.data, w));
    const inv = invocation(delivery.invocationId, delivery.remainingMs);
    // Bounded fan-out: a global event over thousands of worlds finishes inside the timeout, and a
    // retry re-runs only what is left (completed evaluations dedupe by their claim).
    const outcomes = await mapBounded(worlds, this.deps.marketConcurrency ?? 16, inv, (worldId) =>
      this.reevaluateOnMarket({ worldId, marketEventId: ce.id, inv, nowMs: delivery.nowMs }),
    );
    return { market: advance, outcomes };
  }

  /**
   * Re-evaluates a world's latest fresh snapshot because market data for it changed. The
   * evaluation is keyed by the market event, not by the snapshot it meets: a redelivered market
   * event finds its first evaluation (and its pairing with a snapshot) and is a duplicate.
   */
  async reevaluateOnMarket(args: {
    worldId: string;
    marketEventId: string;
    inv: Invocation;
    nowMs: number;
  }): Promise<Outcome> {
    const { store } = this.deps;
    const ruleSet = this.deps.ruleSets.forWorld(args.worldId);
    if (!ruleSet) return { outcome: 'no_ruleset', world_id: args.worldId };
    const evaluationKey = digest('market', args.worldId, args.marketEventId, ruleSet.version);
    const existing = await store.getEvaluation(args.worldId, evaluationKey);
    if (existing?.status === 'completed') return this.finishExisting(existing, args.inv);
    const latest = await store.getLatestSnapshot(args.worldId);
    if (!latest) return { outcome: 'no_signal', world_id: args.worldId };
    const expiresAtMs = snapshotExpiresAt(latest.data);
    if (args.nowMs > expiresAtMs) {
      // Fail closed: market data alone never revives an expired snapshot.
      return { outcome: 'expired', world_id: args.worldId, expired_at: new Date(expiresAtMs).toISOString() };
    }
    return this.evaluateClaimed({
      world: args.worldId,
      evaluationKey,
      ruleSet,
      data: latest.data,
      inv: args.inv,
      nowMs: args.nowMs,
      snapshotEventVersion: latest.data.event_version ?? 1,
      provenance: {
        trigger: 'market_snapshot_updated',
        source_event_id: args.marketEventId,
        snapshot_event_id: latest.source_event_id,
      },
      auditId: `${args.marketEventId}:${args.worldId}`,
    });
  }

  /**
   * The freshness sweep's check for one world (fail closed when the hub goes quiet): when its latest
   * snapshot has outlived a snapshot-staleness rule's limit, evaluate those rules alone on it — even
   * expired — so the world gets their action though no event arrives. Once per snapshot and due set.
   */
  async checkStaleness(args: {
    worldId: string;
    invocationId: string;
    nowMs: number;
    /** The sweep's remaining invocation time, for the publish fence. */
    remainingMs?: () => number;
  }): Promise<Outcome | null> {
    const latest = await this.deps.store.getLatestSnapshot(args.worldId);
    const ruleSet = this.deps.ruleSets.forWorld(args.worldId);
    if (!latest || !ruleSet) return null;
    const due = dueStalenessRules(ruleSet, latest.as_of_ms, args.nowMs);
    if (due.length === 0) return null;
    const ids = due.map((r) => r.id);
    const evaluationKey = digest('freshness', args.worldId, latest.trigger_key, ruleSet.version, ...ids);
    const existing = await this.deps.store.getEvaluation(args.worldId, evaluationKey);
    const inv = invocation(args.invocationId, args.remainingMs);
    if (existing?.status === 'completed') return this.finishExisting(existing, inv);
    return this.evaluateClaimed({
      world: args.worldId,
      evaluationKey,
      ruleSet: sweepRuleSet(ruleSet, due),
      data: latest.data,
      inv,
      nowMs: args.nowMs,
      snapshotEventVersion: latest.data.event_version ?? 1,
      provenance: { trigger: 'freshness_sweep', rules: ids, snapshot_event_id: latest.source_event_id },
      auditId: `freshness:${args.worldId}:${ids.join(',')}`,
    });
  }

  private async evaluateClaimed(a: EvaluationRequest): Promise<Outcome> {
    const claim = await this.outbox.claim(a.world, a.evaluationKey, a.inv);
    if (!claim.claimed) {
      if (claim.current?.status === 'completed') {
        const record = await this.deps.store.getEvaluation(a.world, a.evaluationKey);
        if (record) return this.finishExisting(record, a.inv);
      }
      this.deps.metrics.count('ConcurrentDuplicates', 1);
      throw new EvaluationInProgressError(
        `evaluation ${a.evaluationKey.slice(0, 16)} of world ${a.world} is in progress elsewhere; retry after its lease`,
      );
    }
    try {
      return await this.evaluateOwned(a);
    } catch (error) {
      // Whatever failed, the retry must not wait out our lease (a committed claim is unaffected).
      await this.outbox.releaseClaim(a.world, a.evaluationKey, a.inv).catch(() => undefined);
      throw error;
    }
  }

  private async evaluateOwned(a: EvaluationRequest): Promise<Outcome> {
    const { store, metrics, logger } = this.deps;

    let data: SnapshotData;
    try {
      data = await resolveSnapshotRefs(a.data, this.deps.refs);
    } catch (error) {
      if (error instanceof RefResolutionError && !error.retryable) {
        const reasons = [`${error.field}: ${error.message}`];
        await this.commitTerminal(a, 'rejected', { kind: 'rejection', reasons, source: a.provenance });
        metrics.count('RejectedEvents', 1, { reason: 'unresolvable_ref' });
        logger.warn('snapshot rejected: unresolvable reference', { world_id: a.world, reasons });
        return { outcome: 'rejected', world_id: a.world, reasons };
      }
      throw error;
    }

    const prepared = prepareSnapshot(data);
    const now = new Date(a.nowMs).toISOString();
    for (let attempt = 1; attempt <= MAX_COMMIT_ATTEMPTS; attempt++) {
      const [episodes, mutes, market] = await Promise.all([
        store.loadEpisodes(a.world),
        store.loadMutes(a.world),
        store
          .loadMarket(marketLoadScopes(marketScopes(a.ruleSet, a.world), a.world))
          .then((views) => marketViewsForWorld(views, marketScopes(a.ruleSet, a.world), a.world)),
      ]);
      const started = performance.now();
      const result = evaluateRuleSet({
        ruleSet: a.ruleSet,
        input: { snapshot: prepared, market, nowMs: a.nowMs, marketMaxAgeMs: this.deps.marketMaxAgeMs },
        episodes,
        mutes,
        now,
      });
      metrics.measure('EvaluationLatency', performance.now() - started, 'Milliseconds');
      const marketAsOf = Object.fromEntries([...market].map(([scope, v]) => [scope, v.as_of]));
      const provenance = {
        actor: 'exit-engine',
        stage: prepared.stage ?? 'unknown',
        engine_version: this.deps.engineVersion,
        ruleset_world: a.ruleSet.world,
        ruleset_version: a.ruleSet.version,
        snapshot_hash: prepared.hash ?? null,
        snapshot_as_of: prepared.as_of,
        market_as_of: marketAsOf,
        evaluated_at: now,
        evaluation_key: a.evaluationKey.slice(0, 16),
        ...a.provenance,
      };
      const eventContext = {
        world_id: a.world,
        as_of: prepared.as_of,
        snapshot_version: prepared.version,
        snapshot_event_version: a.snapshotEventVersion,
        evaluation_key: a.evaluationKey,
        now,
        provenance,
      };
      const publishable = result.signals.filter((s) => s.channel === 'enforce');
      const parts = publishable.length > 0 ? buildExitSignalEvents(eventContext, publishable) : [];
      const eventOf = new Map(
        parts.flatMap((e) => e.data.signals.map((s) => [s.strategy_id, e.id] as const)),
      );
      const retention = this.retention(this.deps.signalRetentionDays);
      const items = result.signals.map((d) =>
        signalItem(d, { ...a, data }, now, eventOf.get(d.signal.strategy_id), retention),
      );
      const proposedItems = items.filter((i) => i.status === 'proposed');
      const proposed = proposedItems.length > 0 ? buildProposedEvent(eventContext, proposedItems) : undefined;
      const events: EngineEvent[] = [...parts, ...(proposed ? [proposed] : [])];
      const outcomeName = parts.length > 0 ? 'publish' : items.length > 0 ? 'stored_only' : 'no_signal';
      const audit = evaluationAudit(
        a,
        now,
        prepared.warnings,
        result,
        provenance,
        parts,
        items,
        this.retention(this.deps.auditRetentionDays),
      );
      const committed = await store.commitEvaluation({
        world_id: a.world,
        evaluation_key: a.evaluationKey,
        lease_owner: a.inv.id,
        publish_lease_until: this.outbox.publishLeaseUntil(a.inv),
        snapshot_as_of_ms: prepared.asOfMs,
        outcome: outcomeName,
        episodes: result.episodes,
        audit,
        events,
        signal_items: items,
      });
      if (committed === 'superseded') {
        await this.commitTerminal(a, 'superseded', {
          kind: 'superseded',
          reasons: ['a newer snapshot for this world arrived during evaluation'],
          source: a.provenance,
        });
        metrics.count('OutOfOrderSnapshots', 1);
        return { outcome: 'superseded', world_id: a.world };
      }
      if (committed === 'conflict') {
        logger.info('episode state changed under this evaluation; re-evaluating', {
          world_id: a.world,
          attempt,
        });
        continue;
      }
      for (const outcome of result.outcomes) {
        if (outcome.measure !== null && outcome.measure > outcome.limit) {
          metrics.count('RuleBreaches', 1, { rule: outcome.rule_id });
        }
      }
      await store.putSignals(items);
      for (const item of items) metrics.count('SignalsStored', 1, { status: item.status });
      if (events.length > 0) {
        const published = await this.outbox.publishHeld(a.world, a.evaluationKey, events, items, a.inv);
        if (published === 'lost_lease') return { outcome: 'handed_over', world_id: a.world };
      }
      if (parts.length === 0) {
        return items.length > 0
          ? { outcome: 'stored_only', world_id: a.world, stored: items.length }
          : { outcome: 'no_signal', world_id: a.world };
      }
      return {
        outcome: 'published',
        world_id: a.world,
        event_id: parts[0]!.id,
        signals: publishable.length,
        stored: items.length,
      };
    }
    throw new ConcurrentUpdateError(
      `world ${a.world}: episode state kept changing during ${MAX_COMMIT_ATTEMPTS} evaluation attempts`,
    );
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
    return this.finishExisting(record, invocation(invocationId, undefined), { takeOver: true });
  }

  /** A completed evaluation seen again: publish its outbox if a crash left it pending. */
  private async finishExisting(
    record: EvaluationRecord,
    inv: Invocation,
    options: { takeOver?: boolean } = {},
  ): Promise<Outcome> {
    const result = await this.outbox.complete(record, inv, options);
    if (result === 'published') {
      const eventId = record.events?.[0]?.id ?? '';
      this.deps.metrics.count('CompletedOnRetry', 1);
      this.deps.logger.info('completed a publish left pending by an earlier attempt', {
        world_id: record.world_id,
        event_id: eventId,
      });
      return { outcome: 'completed_on_retry', world_id: record.world_id, event_id: eventId };
    }
    if (result === 'lost_lease') return { outcome: 'handed_over', world_id: record.world_id };
    return this.duplicate(record.world_id);
  }

  private duplicate(worldId: string): Outcome {
    this.deps.metrics.count('DuplicateDeliveries', 1);
    return { outcome: 'duplicate', world_id: worldId };
  }

  /** Closes a claim without signals (rejected or superseded), with its audit record. */
  private async commitTerminal(
    a: {
      world: string;
      evaluationKey: string;
      inv: Invocation;
      nowMs: number;
      auditId: string;
      data: SnapshotData;
    },
    outcome: 'rejected' | 'superseded',
    info: { kind: 'rejection' | 'superseded'; reasons: string[]; source: Record<string, unknown> },
  ): Promise<void> {
    const now = new Date(a.nowMs).toISOString();
    const result = await this.deps.store.commitEvaluation({
      world_id: a.world,
      evaluation_key: a.evaluationKey,
      lease_owner: a.inv.id,
      publish_lease_until: 0,
      events: [],
      snapshot_as_of_ms: Number.NaN,
      outcome,
      episodes: [],
      audit: {
        world_id: a.world,
        record_id: `${now}#${info.kind}#${a.auditId}#${a.evaluationKey.slice(0, 16)}`,
        kind: info.kind,
        recorded_at: now,
        reasons: info.reasons,
        snapshot_version: a.data.version,
        as_of: a.data.as_of,
        ...info.source,
        expires_at: expiry(this.retention(this.deps.auditRetentionDays)),
      },
      signal_items: [],
    });
    if (result !== 'committed')
      this.deps.logger.warn('terminal commit did not apply', { world_id: a.world, result });
  }

  private async audit(r: {
    world_id: string;
    kind: AuditRecord['kind'];
    id: string;
    at: string;
    nowMs: number;
    extra: Record<string, unknown>;
  }) {
    await this.deps.store.appendAudit({
      world_id: r.world_id,
      // Keyed by the delivery's own time and id, so a redelivered event is one record, not two.
      record_id: `${r.at}#${r.kind}#${r.id}`,
      kind: r.kind,
      recorded_at: new Date(r.nowMs).toISOString(),
      ...r.extra,
      expires_at: expiry(this.retention(this.deps.auditRetentionDays)),
    });
  }

  private wallNow(): number {
    return (this.deps.wallClock ?? Date.now)();
  }

  /** Retention from the wall clock at write time (see `Retention`). */
  private retention(days: number): Retention {
    return { days, fromMs: this.wallNow() };
  }
}

function invocation(id: string, remainingMs: (() => number) | undefined): Invocation {
  return { id, remainingMs: remainingMs ?? (() => DEFAULT_INVOCATION_MS) };
}

/**
 * Runs `fn` over the items, at most `limit` at once; stops starting new ones when the invocation
 * is nearly out of time. Every started one finishes; then the first retryable failure (or
 * running out of time) is thrown so the delivery is retried, and what completed dedupes.
 */
async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  inv: Invocation,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  const errors: unknown[] = [];
  let next = 0;
  let outOfTime = false;
  const worker = async () => {
    while (next < items.length) {
      if (inv.remainingMs() < MARKET_TIME_RESERVE_MS) {
        outOfTime = true;
        return;
      }
      const item = items[next++]!;
      try {
        results.push(await fn(item));
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
  if (outOfTime)
    throw new RetryableError(
      `market fan-out: ${items.length - next} of ${items.length} worlds left when the invocation ran low on time`,
    );
  return results;
}

/** Time a market fan-out keeps back for the evaluations it has started. */
const MARKET_TIME_RESERVE_MS = 12_000;

/** Market scopes a rule set reads: the world's own scope, `global`, and any the rules name. */
function marketScopes(ruleSet: RuleSet, worldId: string): string[] {
  const scopes = new Set<string>(['global', worldId]);
  for (const rule of ruleSet.rules) if ('market_scope' in rule) scopes.add(rule.market_scope);
  return [...scopes];
}

export type { MarketScopeView };
