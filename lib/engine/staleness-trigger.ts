import { dueStalenessRules, sweepRuleSet } from '#lib/rules/staleness-sweep.js';
import { evaluateClaimed, finishExisting } from './claimed-evaluation.js';
import type { EngineContext, Outcome } from './engine-context.js';
import { digest } from './ids.js';
import { invocation } from './invocation.js';

/** Which world the freshness sweep checks, and for whom. */
export interface StalenessCheck {
  worldId: string;
  invocationId: string;
  nowMs: number;
  /** The sweep's remaining invocation time, for the publish fence. */
  remainingMs?: () => number;
}

/**
 * The freshness sweep's check for one world (fail closed when the hub goes quiet): when its latest
 * snapshot has outlived a snapshot-staleness rule's limit, evaluate those rules alone on it — even
 * expired — so the world gets their action though no event arrives. Once per snapshot and due set.
 */
export async function checkStaleness(ctx: EngineContext, args: StalenessCheck): Promise<Outcome | null> {
  const latest = await ctx.deps.store.getLatestSnapshot(args.worldId);
  const ruleSet = await ctx.deps.ruleSets.forWorld(args.worldId);
  if (!latest || !ruleSet) return null;
  const due = dueStalenessRules(ruleSet, latest.as_of_ms, args.nowMs);
  if (due.length === 0) return null;
  const ids = due.map((r) => r.id);
  const evaluationKey = digest('freshness', args.worldId, latest.trigger_key, ruleSet.version, ...ids);
  const existing = await ctx.deps.store.getEvaluation(args.worldId, evaluationKey);
  const inv = invocation(args.invocationId, args.remainingMs);
  if (existing?.status === 'completed') return finishExisting(ctx, existing, inv);
  // Only now the body: a sweep over quiet worlds reads the compact records alone until a rule is due.
  const data = await ctx.deps.store.getSnapshotData(latest);
  if (!data) {
    ctx.deps.metrics.count('SnapshotBodyMissing', 1);
    ctx.deps.logger.warn(
      'freshness sweep: the snapshot body is no longer stored (or was stored without it, under a rule set without staleness rules); staleness rules not evaluated',
      {
        world_id: args.worldId,
        as_of: latest.as_of,
      },
    );
    return null;
  }
  return evaluateClaimed(ctx, {
    world: args.worldId,
    evaluationKey,
    ruleSet: sweepRuleSet(ruleSet, due),
    data,
    inv,
    nowMs: args.nowMs,
    snapshotEventVersion: data.event_version ?? 1,
    provenance: { trigger: 'freshness_sweep', rules: ids, snapshot_event_id: latest.source_event_id },
    auditId: `freshness:${args.worldId}:${ids.join(',')}`,
  });
}
