import { snapshotExpiresAt } from '#lib/contracts/risk-snapshot.js';
import { evaluateClaimed, finishExisting } from './claimed-evaluation.js';
import { audit, type EngineContext, type Outcome, type SnapshotDelivery } from './engine-context.js';
import { digest } from './ids.js';
import { invocation } from './invocation.js';
import { latestRecord } from './records.js';
import { projectionFor } from './snapshot-reuse.js';

/** Validate-resolve-expire-evaluate-dedupe-store-publish for one `risk_snapshot_updated`. */
export async function handleSnapshot(ctx: EngineContext, delivery: SnapshotDelivery): Promise<Outcome> {
  const { store } = ctx.deps;
  const ce = delivery.cloudEvent;
  const data = ce.data;
  const world = data.world_id;
  const triggerKey =
    data.idempotency_key ??
    `risk_snapshot_updated:${world}:${data.hash ?? data.version}:${data.event_version ?? 1}`;
  const ruleSet = await ctx.deps.ruleSets.forWorld(world);
  if (!ruleSet) {
    await audit(ctx, {
      world_id: world,
      kind: 'rejection',
      id: delivery.deliveryId,
      at: ce.time,
      nowMs: delivery.nowMs,
      extra: { reasons: ['no rule set for this world and no default rule set'], source_event_id: ce.id },
    });
    ctx.deps.metrics.count('RejectedEvents', 1, { reason: 'no_ruleset' });
    return { outcome: 'no_ruleset', world_id: world };
  }
  const evaluationKey = digest('snapshot', world, triggerKey, ruleSet.version);

  // A redelivery of an event already evaluated: finish what a crash may have left, else done.
  const inv = invocation(delivery.invocationId, delivery.remainingMs);
  const existing = await store.getEvaluation(world, evaluationKey);
  if (existing?.status === 'completed') return finishExisting(ctx, existing, inv);

  const expiresAtMs = snapshotExpiresAt(data);
  if (delivery.nowMs > expiresAtMs) {
    const expiredAt = new Date(expiresAtMs).toISOString();
    await audit(ctx, {
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
        policy: 'not evaluated (fail closed): a staleness rule acts on the age of the latest fresh snapshot',
      },
    });
    ctx.deps.metrics.count('ExpiredSnapshots', 1);
    ctx.deps.logger.warn('snapshot expired before evaluation; recorded, not evaluated', {
      world_id: world,
      version: data.version,
      expired_at: expiredAt,
    });
    return { outcome: 'expired', world_id: world, expired_at: expiredAt };
  }

  // Only what the rule set's later evaluations read is kept of the body (snapshot-reuse.ts).
  const projection = projectionFor(ruleSet);
  const kept = projection === 'whole' ? undefined : projection;
  const advance = await store.advanceLatestSnapshot(latestRecord(data, triggerKey, ce.id, kept), data);
  if (advance === 'older') {
    const current = await store.getLatestSnapshot(world);
    await audit(ctx, {
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
    ctx.deps.metrics.count('OutOfOrderSnapshots', 1);
    ctx.deps.logger.warn('older snapshot arrived after a newer one; recorded and ignored', {
      world_id: world,
      as_of: data.as_of,
      latest_as_of: current?.as_of,
    });
    return { outcome: 'out_of_order', world_id: world, latest_as_of: current?.as_of ?? '' };
  }

  return evaluateClaimed(ctx, {
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
