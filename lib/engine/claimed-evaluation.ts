import type { EngineEvent } from '#lib/contracts/exit-signal.js';
import type { SnapshotData } from '#lib/contracts/risk-snapshot.js';
import { loadRuleKinds } from '#lib/rules/kinds/index.js';
import { marketLoadScopes, marketViewsForWorld } from '#lib/rules/market-views.js';
import { prepareSnapshot } from '#lib/rules/prepare.js';
import type { RuleSet } from '#lib/rules/rule-schema.js';
import { buildExitSignalEvents, buildProposedEvents } from './build-event.js';
import { type EngineContext, type Outcome, retentionOf } from './engine-context.js';
import { ConcurrentUpdateError, EvaluationInProgressError, RefResolutionError } from './errors.js';
import { evaluateRuleSet, openApprovalSince } from './evaluate.js';
import { type Invocation, rowsBeforePublish } from './outbox.js';
import type { EvaluationRecord } from './ports.js';
import { evaluationAudit, expiry, signalItem } from './records.js';
import { resolveSnapshotRefs } from './resolve-refs.js';

/**
 * One evaluation under its claim, whichever trigger (hub, market, freshness sweep) asked for it:
 * claim, resolve refs, evaluate, commit episodes + audit + outbox in one write (re-evaluating on a
 * conflict), store the signals, publish through the outbox. A completed evaluation seen again only
 * finishes its outbox.
 */

const MAX_COMMIT_ATTEMPTS = 4;

/** One evaluation of a world's snapshot, as the triggers (hub or market) hand it over. */
export interface EvaluationRequest {
  world: string;
  evaluationKey: string;
  ruleSet: RuleSet;
  data: SnapshotData;
  inv: Invocation;
  nowMs: number;
  snapshotEventVersion: number;
  provenance: Record<string, unknown>;
  auditId: string;
  /** A later evaluation of the snapshot: the rules it re-runs, the others' episodes carried (evaluate.ts). */
  rerun?: ReadonlySet<string>;
}

/** Claims the evaluation, runs it, and gives the claim back if it fails. */
export async function evaluateClaimed(ctx: EngineContext, a: EvaluationRequest): Promise<Outcome> {
  const claim = await ctx.outbox.claim(a.world, a.evaluationKey, a.inv);
  if (!claim.claimed) {
    if (claim.current?.status === 'completed') {
      const record = await ctx.deps.store.getEvaluation(a.world, a.evaluationKey);
      if (record) return finishExisting(ctx, record, a.inv);
    }
    ctx.deps.metrics.count('ConcurrentDuplicates', 1);
    throw new EvaluationInProgressError(
      `evaluation ${a.evaluationKey.slice(0, 16)} of world ${a.world} is in progress elsewhere; retry after its lease`,
    );
  }
  try {
    return await evaluateOwned(ctx, a);
  } catch (error) {
    // Whatever failed, the retry must not wait out our lease (a committed claim is unaffected).
    await ctx.outbox.releaseClaim(a.world, a.evaluationKey, a.inv).catch(() => undefined);
    throw error;
  }
}

async function evaluateOwned(ctx: EngineContext, a: EvaluationRequest): Promise<Outcome> {
  const { store, metrics, logger } = ctx.deps;

  let data: SnapshotData;
  try {
    data = await resolveSnapshotRefs(a.data, ctx.deps.refs);
  } catch (error) {
    if (error instanceof RefResolutionError && !error.retryable) {
      const reasons = [`${error.field}: ${error.message}`];
      await commitTerminal(ctx, a, 'rejected', { kind: 'rejection', reasons, source: a.provenance });
      metrics.count('RejectedEvents', 1, { reason: 'unresolvable_ref' });
      logger.warn('snapshot rejected: unresolvable reference', { world_id: a.world, reasons });
      return { outcome: 'rejected', world_id: a.world, reasons };
    }
    throw error;
  }

  const prepared = prepareSnapshot(data);
  const now = new Date(a.nowMs).toISOString();
  // Kinds the default rule set lacks are loaded the first time a rule set uses one, while the reads run.
  const kindsLoaded = loadRuleKinds(a.ruleSet.rules);
  for (let attempt = 1; attempt <= MAX_COMMIT_ATTEMPTS; attempt++) {
    const [episodes, mutes, market] = await Promise.all([
      store.loadEpisodes(a.world),
      store.loadMutes(a.world),
      store
        .loadMarket(marketLoadScopes(marketScopes(a.ruleSet, a.world), a.world))
        .then((views) => marketViewsForWorld(views, marketScopes(a.ruleSet, a.world), a.world)),
      kindsLoaded,
    ]);
    const approvalSince = openApprovalSince(a.ruleSet, episodes);
    const approvedCuts = approvalSince ? await store.loadApprovedCuts(a.world, approvalSince) : [];
    const started = performance.now();
    const result = evaluateRuleSet({
      ruleSet: a.ruleSet,
      input: { snapshot: prepared, market, nowMs: a.nowMs, marketMaxAgeMs: ctx.deps.marketMaxAgeMs },
      episodes,
      mutes,
      approvedCuts,
      now,
      ...(a.rerun ? { rerun: a.rerun } : {}),
    });
    metrics.measure('EvaluationLatency', performance.now() - started, 'Milliseconds');
    const marketAsOf = Object.fromEntries([...market].map(([scope, v]) => [scope, v.as_of]));
    const provenance = {
      actor: 'exit-engine',
      stage: prepared.stage ?? 'unknown',
      engine_version: ctx.deps.engineVersion,
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
    const eventOf = new Map(parts.flatMap((e) => e.data.signals.map((s) => [s.strategy_id, e.id] as const)));
    const retention = retentionOf(ctx, ctx.deps.signalRetentionDays);
    const items = result.signals.map((d) =>
      signalItem(d, { ...a, data }, now, eventOf.get(d.signal.strategy_id), retention),
    );
    const proposedItems = items.filter((i) => i.status === 'proposed');
    const proposed = proposedItems.length > 0 ? buildProposedEvents(eventContext, proposedItems) : [];
    const events: EngineEvent[] = [...parts, ...proposed];
    const outcomeName = parts.length > 0 ? 'publish' : items.length > 0 ? 'stored_only' : 'no_signal';
    const audit = evaluationAudit(
      a,
      now,
      prepared.warnings,
      result,
      provenance,
      parts,
      items,
      retentionOf(ctx, ctx.deps.auditRetentionDays),
    );
    const committed = await store.commitEvaluation({
      world_id: a.world,
      evaluation_key: a.evaluationKey,
      lease_owner: a.inv.id,
      publish_lease_until: ctx.outbox.publishLeaseUntil(a.inv),
      snapshot_as_of_ms: prepared.asOfMs,
      outcome: outcomeName,
      episodes: result.episodes,
      audit,
      events,
      signal_items: items,
    });
    if (committed === 'superseded') {
      await commitTerminal(ctx, a, 'superseded', {
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
    await store.putSignals(rowsBeforePublish(items));
    for (const item of items) metrics.count('SignalsStored', 1, { status: item.status });
    if (events.length > 0) {
      const published = await ctx.outbox.publishHeld(a.world, a.evaluationKey, events, items, a.inv);
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

/** A completed evaluation seen again: publish its outbox if a crash left it pending. */
export async function finishExisting(
  ctx: EngineContext,
  record: EvaluationRecord,
  inv: Invocation,
  options: { takeOver?: boolean } = {},
): Promise<Outcome> {
  const result = await ctx.outbox.complete(record, inv, options);
  if (result === 'published') {
    const eventId = record.events?.[0]?.id ?? '';
    ctx.deps.metrics.count('CompletedOnRetry', 1);
    ctx.deps.logger.info('completed a publish left pending by an earlier attempt', {
      world_id: record.world_id,
      event_id: eventId,
    });
    return { outcome: 'completed_on_retry', world_id: record.world_id, event_id: eventId };
  }
  if (result === 'lost_lease') return { outcome: 'handed_over', world_id: record.world_id };
  return duplicate(ctx, record.world_id);
}

function duplicate(ctx: EngineContext, worldId: string): Outcome {
  ctx.deps.metrics.count('DuplicateDeliveries', 1);
  return { outcome: 'duplicate', world_id: worldId };
}

/** Closes a claim without signals (rejected or superseded), with its audit record. */
async function commitTerminal(
  ctx: EngineContext,
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
  const result = await ctx.deps.store.commitEvaluation({
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
      expires_at: expiry(retentionOf(ctx, ctx.deps.auditRetentionDays)),
    },
    signal_items: [],
  });
  if (result !== 'committed')
    ctx.deps.logger.warn('terminal commit did not apply', { world_id: a.world, result });
}

/** Market scopes a rule set reads: the world's own scope, `global`, and any the rules name. */
function marketScopes(ruleSet: RuleSet, worldId: string): string[] {
  const scopes = new Set<string>(['global', worldId]);
  for (const rule of ruleSet.rules) if ('market_scope' in rule) scopes.add(rule.market_scope);
  return [...scopes];
}
