import { marketLoadScopes, marketStorageScopes, marketViewsForWorld } from '#lib/rules/market-views.js';
import { dueStalenessRules, sweepRuleSet } from '#lib/rules/staleness-sweep.js';
import type { EngineEvent, ExitSignalEvent } from '../contracts/exit-signal.js';
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
import { buildExitSignalEvent, buildProposedEvent } from './build-event.js';
import { ConcurrentUpdateError, EvaluationInProgressError, RefResolutionError } from './errors.js';
import { type DecidedSignal, type EvaluationResult, evaluateRuleSet } from './evaluate.js';
import { deterministicUuid, digest } from './ids.js';
import type {
  AdvanceResult,
  AuditRecord,
  EngineLogger,
  EngineMetrics,
  EngineStore,
  EvaluationRecord,
  RefResolver,
  SignalItem,
  SignalPublisher,
  SignalStatus,
} from './ports.js';
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
  | { outcome: 'no_ruleset'; world_id: string };

/** A hub snapshot delivery: the validated CloudEvent and the EventBridge delivery facts. */
export interface SnapshotDelivery {
  cloudEvent: RiskSnapshotCloudEvent;
  /** The EventBridge event id (stable across EventBridge's own retries). */
  deliveryId: string;
  /** Who is evaluating (Lambda request id): the owner of the claim. */
  invocationId: string;
  nowMs: number;
}

const MAX_COMMIT_ATTEMPTS = 4;
/** Rejections whose world cannot be read are filed under this world id. */
export const UNKNOWN_WORLD = '_unknown';
/** Audit records about market data (not a world) are filed under `market:<scope>`. */
export const MARKET_AUDIT_PREFIX = 'market:';
const MAX_STORED_RAW_CHARS = 300_000;
const DAY_SECONDS = 86_400;

/** One evaluation of a world's snapshot, as the triggers (hub or market) hand it over. */
interface EvaluationRequest {
  world: string;
  evaluationKey: string;
  ruleSet: RuleSet;
  data: SnapshotData;
  invocationId: string;
  nowMs: number;
  snapshotEventVersion: number;
  provenance: Record<string, unknown>;
  auditId: string;
}

/** The Exit Engine use cases: evaluate a hub snapshot, or re-evaluate on market data. */
export class ExitEngine {
  constructor(private readonly deps: EngineDeps) {}

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
    const existing = await store.getEvaluation(world, evaluationKey);
    if (existing?.status === 'completed') return this.finishExisting(existing, delivery.invocationId);

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
      invocationId: delivery.invocationId,
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
    const world = r.worldId ?? UNKNOWN_WORLD;
    const rawJson = safeJson(r.raw);
    await this.audit({
      world_id: world,
      kind: 'rejection',
      id: r.deliveryId,
      at: r.time,
      nowMs: r.nowMs,
      extra: {
        category: r.category,
        reasons: r.reasons,
        delivery_id: r.deliveryId,
        raw_event_bytes: Buffer.byteLength(rawJson),
        // Kept whole up to what fits an item, so the event can be fixed and put on the bus again.
        raw_event:
          rawJson.length <= MAX_STORED_RAW_CHARS
            ? rawJson
            : `${rawJson.slice(0, MAX_STORED_RAW_CHARS)}…(truncated)`,
      },
    });
    this.deps.metrics.count('RejectedEvents', 1, { reason: r.category });
    this.deps.logger.warn('inbound event rejected', {
      world_id: world,
      delivery_id: r.deliveryId,
      category: r.category,
      reasons: r.reasons.slice(0, 20),
    });
    return { outcome: 'rejected', world_id: world, reasons: r.reasons };
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
    const outcomes: Outcome[] = [];
    // One world at a time: a retry re-runs them all, and completed evaluations dedupe by claim.
    for (const worldId of worlds) {
      outcomes.push(
        await this.reevaluateOnMarket({
          worldId,
          marketEventId: ce.id,
          invocationId: delivery.invocationId,
          nowMs: delivery.nowMs,
        }),
      );
    }
    return { market: advance, outcomes };
  }

  /** Re-evaluates a world's latest fresh snapshot because market data for it changed. */
  async reevaluateOnMarket(args: {
    worldId: string;
    marketEventId: string;
    invocationId: string;
    nowMs: number;
  }): Promise<Outcome> {
    const { store } = this.deps;
    const latest = await store.getLatestSnapshot(args.worldId);
    if (!latest) return { outcome: 'no_signal', world_id: args.worldId };
    const ruleSet = this.deps.ruleSets.forWorld(args.worldId);
    if (!ruleSet) return { outcome: 'no_ruleset', world_id: args.worldId };
    const evaluationKey = digest(
      'market',
      args.worldId,
      latest.trigger_key,
      args.marketEventId,
      ruleSet.version,
    );
    const existing = await store.getEvaluation(args.worldId, evaluationKey);
    if (existing?.status === 'completed') return this.finishExisting(existing, args.invocationId);
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
      invocationId: args.invocationId,
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
  }): Promise<Outcome | null> {
    const latest = await this.deps.store.getLatestSnapshot(args.worldId);
    const ruleSet = this.deps.ruleSets.forWorld(args.worldId);
    if (!latest || !ruleSet) return null;
    const due = dueStalenessRules(ruleSet, latest.as_of_ms, args.nowMs);
    if (due.length === 0) return null;
    const ids = due.map((r) => r.id);
    const evaluationKey = digest('freshness', args.worldId, latest.trigger_key, ruleSet.version, ...ids);
    const existing = await this.deps.store.getEvaluation(args.worldId, evaluationKey);
    if (existing?.status === 'completed') return this.finishExisting(existing, args.invocationId);
    return this.evaluateClaimed({
      world: args.worldId,
      evaluationKey,
      ruleSet: sweepRuleSet(ruleSet, due),
      data: latest.data,
      invocationId: args.invocationId,
      nowMs: args.nowMs,
      snapshotEventVersion: latest.data.event_version ?? 1,
      provenance: { trigger: 'freshness_sweep', rules: ids, snapshot_event_id: latest.source_event_id },
      auditId: `freshness:${args.worldId}:${ids.join(',')}`,
    });
  }

  private async evaluateClaimed(a: EvaluationRequest): Promise<Outcome> {
    const { store, metrics } = this.deps;
    const claimed = await store.claimEvaluation(
      a.world,
      a.evaluationKey,
      a.invocationId,
      this.wallNow() + this.deps.leaseMs,
      this.wallNow(),
    );
    if (!claimed) {
      const again = await store.getEvaluation(a.world, a.evaluationKey);
      if (again?.status === 'completed') return this.finishExisting(again, a.invocationId);
      metrics.count('ConcurrentDuplicates', 1);
      throw new EvaluationInProgressError(
        `evaluation ${a.evaluationKey.slice(0, 16)} of world ${a.world} is in progress elsewhere; retry after its lease`,
      );
    }
    try {
      return await this.evaluateOwned(a);
    } catch (error) {
      // Whatever failed, the retry must not wait out our lease (a committed claim is unaffected).
      await store.releaseClaim(a.world, a.evaluationKey, a.invocationId).catch(() => undefined);
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
      const event = publishable.length > 0 ? buildExitSignalEvent(eventContext, publishable) : undefined;
      const items = result.signals.map((d) => this.signalItem(d, a, prepared, now, event));
      const proposedItems = items.filter((i) => i.status === 'proposed');
      const proposed = proposedItems.length > 0 ? buildProposedEvent(eventContext, proposedItems) : undefined;
      const events: EngineEvent[] = [...(event ? [event] : []), ...(proposed ? [proposed] : [])];
      const outcomeName = event ? 'publish' : items.length > 0 ? 'stored_only' : 'no_signal';
      const audit = this.evaluationAudit(a, now, prepared.warnings, result, provenance, event, items);
      const committed = await store.commitEvaluation({
        world_id: a.world,
        evaluation_key: a.evaluationKey,
        lease_owner: a.invocationId,
        publish_lease_until: this.wallNow() + this.deps.leaseMs,
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
      if (events.length > 0)
        await this.publishAndMark(a.world, a.evaluationKey, events, items, a.invocationId);
      if (!event) {
        return items.length > 0
          ? { outcome: 'stored_only', world_id: a.world, stored: items.length }
          : { outcome: 'no_signal', world_id: a.world };
      }
      return {
        outcome: 'published',
        world_id: a.world,
        event_id: event.id,
        signals: event.data.signals.length,
        stored: items.length,
      };
    }
    throw new ConcurrentUpdateError(
      `world ${a.world}: episode state kept changing during ${MAX_COMMIT_ATTEMPTS} evaluation attempts`,
    );
  }

  /**
   * Publishes a committed outbox that a crash left pending, through the same fenced path a
   * redelivery takes; undefined when there is no completed evaluation under that key.
   */
  async completePendingOutbox(
    worldId: string,
    evaluationKey: string,
    invocationId: string,
  ): Promise<Outcome | undefined> {
    const record = await this.deps.store.getEvaluation(worldId, evaluationKey);
    if (record?.status !== 'completed') return undefined;
    return this.finishExisting(record, invocationId);
  }

  /** A completed evaluation seen again: publish its outbox if a crash left it pending. */
  private async finishExisting(record: EvaluationRecord, invocationId: string): Promise<Outcome> {
    if (record.outbox_status === 'pending' && record.events && record.events.length > 0) {
      const { store } = this.deps;
      const now = this.wallNow();
      if (
        !(await store.acquirePublish(
          record.world_id,
          record.evaluation_key,
          invocationId,
          now + this.deps.leaseMs,
          now,
        ))
      ) {
        const again = await store.getEvaluation(record.world_id, record.evaluation_key);
        if (again?.outbox_status === 'published') return this.duplicate(record.world_id);
        throw new EvaluationInProgressError(
          `events ${record.events.map((e) => e.id).join(', ')} are being published by another invocation; retry after its lease`,
        );
      }
      const items = record.signal_items ?? [];
      await store.putSignals(items);
      await this.publishAndMark(record.world_id, record.evaluation_key, record.events, items, invocationId);
      this.deps.metrics.count('CompletedOnRetry', 1);
      this.deps.logger.info('completed a publish left pending by an earlier attempt', {
        world_id: record.world_id,
        event_id: record.events[0]!.id,
      });
      return { outcome: 'completed_on_retry', world_id: record.world_id, event_id: record.events[0]!.id };
    }
    return this.duplicate(record.world_id);
  }

  private duplicate(worldId: string): Outcome {
    this.deps.metrics.count('DuplicateDeliveries', 1);
    return { outcome: 'duplicate', world_id: worldId };
  }

  private async publishAndMark(
    world: string,
    evaluationKey: string,
    events: readonly EngineEvent[],
    items: readonly SignalItem[],
    owner: string,
  ) {
    try {
      await this.deps.publisher.publish(events);
    } catch (error) {
      // Hand the outbox back so the retry publishes it at once instead of waiting out our lease.
      await this.deps.store.releasePublish(world, evaluationKey, owner).catch(() => undefined);
      throw error;
    }
    const ids = new Set(events.map((e) => e.id));
    const publishedIds = items
      .filter((i) => i.event_id !== undefined && ids.has(i.event_id))
      .map((i) => i.signal_id);
    await this.deps.store.markPublished(world, evaluationKey, publishedIds, events[0]!.time);
    for (const e of events) {
      if (e.type !== 'exit_signal_emitted') continue;
      for (const s of e.data.signals)
        this.deps.metrics.count('SignalsEmitted', 1, { world, reason: s.reason ?? 'unknown' });
    }
  }

  /** Closes a claim without signals (rejected or superseded), with its audit record. */
  private async commitTerminal(
    a: {
      world: string;
      evaluationKey: string;
      invocationId: string;
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
      lease_owner: a.invocationId,
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
        expires_at: this.expiry(this.deps.auditRetentionDays),
      },
      signal_items: [],
    });
    if (result !== 'committed')
      this.deps.logger.warn('terminal commit did not apply', { world_id: a.world, result });
  }

  private signalItem(
    d: DecidedSignal,
    a: { world: string; evaluationKey: string; ruleSet: RuleSet; nowMs: number },
    snapshot: { as_of: string; version: string; expiresAtMs: number },
    now: string,
    event: ExitSignalEvent | undefined,
  ): SignalItem {
    const status: SignalStatus =
      d.channel === 'enforce'
        ? 'pending_publish'
        : d.channel === 'approval'
          ? 'proposed'
          : d.channel === 'shadow'
            ? 'shadow'
            : 'muted';
    const approval =
      d.channel === 'approval'
        ? (d.approval ?? { timeout_sec: 900, default: 'drop' as const, four_eyes: false })
        : undefined;
    return {
      signal_id: `sig-${deterministicUuid('signal', a.evaluationKey, d.channel, d.signal.strategy_id)}`,
      world_id: a.world,
      strategy_id: d.signal.strategy_id,
      action: d.signal.action,
      reduction_ratio: d.signal.reduction_ratio,
      reason: d.signal.reason,
      status,
      mode: d.channel,
      emitted_at: now,
      as_of: snapshot.as_of,
      snapshot_version: snapshot.version,
      ...(d.channel === 'enforce' && event ? { event_id: event.id } : {}),
      evaluation_key: a.evaluationKey.slice(0, 16),
      rule_ids: d.rule_ids,
      severity: d.severity,
      tags: d.signal.tags,
      metrics: d.signal.metrics,
      ruleset_version: a.ruleSet.version,
      ...(approval
        ? {
            approval: {
              ...approval,
              deadline: new Date(a.nowMs + approval.timeout_sec * 1000).toISOString(),
              snapshot_expires_at: new Date(snapshot.expiresAtMs).toISOString(),
            },
          }
        : {}),
      ...(d.mute ? { mute_id: d.mute.mute_id } : {}),
      expires_at: this.expiry(this.deps.signalRetentionDays),
    };
  }

  private evaluationAudit(
    a: {
      world: string;
      evaluationKey: string;
      ruleSet: RuleSet;
      nowMs: number;
      auditId: string;
      data: SnapshotData;
    },
    now: string,
    warnings: string[],
    result: EvaluationResult,
    provenance: Record<string, unknown>,
    event: ExitSignalEvent | undefined,
    items: readonly SignalItem[],
  ): AuditRecord {
    return {
      world_id: a.world,
      record_id: `${now}#evaluation#${a.auditId}#${a.evaluationKey.slice(0, 16)}`,
      kind: 'evaluation',
      recorded_at: now,
      evaluation_key: a.evaluationKey.slice(0, 16),
      ruleset_version: a.ruleSet.version,
      inputs: {
        snapshot_version: a.data.version,
        snapshot_hash: a.data.hash ?? null,
        as_of: a.data.as_of,
        refs: Object.fromEntries(
          (['covariance_ref', 'realized_returns_ref', 'stress_ref'] as const)
            .filter((k) => a.data[k])
            .map((k) => [k, a.data[k]]),
        ),
      },
      provenance,
      warnings,
      rules: result.outcomes,
      decisions: items.map((i) => ({
        signal_id: i.signal_id,
        strategy_id: i.strategy_id,
        action: i.action,
        reduction_ratio: i.reduction_ratio,
        status: i.status,
        rule_ids: i.rule_ids,
      })),
      published_event_id: event?.id ?? null,
      expires_at: this.expiry(this.deps.auditRetentionDays),
    };
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
      expires_at: this.expiry(this.deps.auditRetentionDays),
    });
  }

  private wallNow(): number {
    return (this.deps.wallClock ?? Date.now)();
  }

  /**
   * Retention runs on the wall clock at write time, never the event's own time: replayed history
   * (evaluated as of its own time) must stay listable for its retention period, not vanish to TTL.
   */
  private expiry(days: number): number {
    return Math.floor(this.wallNow() / 1000) + days * DAY_SECONDS;
  }
}

/** Market scopes a rule set reads: the world's own scope, `global`, and any the rules name. */
function marketScopes(ruleSet: RuleSet, worldId: string): string[] {
  const scopes = new Set<string>(['global', worldId]);
  for (const rule of ruleSet.rules) if ('market_scope' in rule) scopes.add(rule.market_scope);
  return [...scopes];
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export type { MarketScopeView };
