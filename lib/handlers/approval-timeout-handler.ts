import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { ExitEngine } from '#lib/engine/engine.js';
import { assertSweepComplete, type OpsService, type SweepResult } from '#lib/engine/ops.js';
import type { EngineStore } from '#lib/engine/ports.js';
import { logger, metrics, observeInvocation } from '#lib/observability.js';

export interface ApprovalTimeoutDeps {
  ops: OpsService;
  /** For the freshness metrics the silence alarms watch. */
  store: Pick<EngineStore, 'listWorlds' | 'getLatestSnapshot'>;
  clock: () => number;
  /**
   * Worlds reported with a `world` dimension (the monitored ones, whose silence alarms need it), or `all`
   * when per-world metrics are on. Every other world only counts towards `OldestSnapshotAgeSeconds`.
   */
  perWorldFreshness?: readonly string[] | 'all';
  /** Fail closed when a hub goes quiet: each world's staleness rules are checked on every sweep. */
  engine?: Pick<ExitEngine, 'checkStaleness'>;
}

/**
 * Age of each world's latest hub snapshot. Worlds in `perWorld` get a dimensioned
 * `SecondsSinceLastSnapshot` each (bounded by configuration); the oldest age over all worlds goes out as
 * one undimensioned `OldestSnapshotAgeSeconds`, so the metric count does not grow with the worlds.
 */
export async function reportSnapshotFreshness(
  store: ApprovalTimeoutDeps['store'],
  nowMs: number,
  perWorld: readonly string[] | 'all' = [],
): Promise<Record<string, number>> {
  const ages: Record<string, number> = {};
  const dimensioned = perWorld === 'all' ? undefined : new Set(perWorld);
  let oldest: number | undefined;
  for (const world of await store.listWorlds()) {
    const latest = await store.getLatestSnapshot(world);
    if (!latest) continue;
    const age = Math.max(0, Math.round((nowMs - latest.as_of_ms) / 1000));
    ages[world] = age;
    oldest = Math.max(oldest ?? 0, age);
    if (dimensioned && !dimensioned.has(world)) continue;
    const single = metrics.singleMetric();
    single.addDimensions({ world });
    single.addMetric('SecondsSinceLastSnapshot', MetricUnit.Seconds, age);
  }
  if (oldest !== undefined) metrics.addMetric('OldestSnapshotAgeSeconds', MetricUnit.Seconds, oldest);
  return ages;
}

/** Runs the engine's staleness check for every world; one world's failure never skips the others. */
export async function checkStaleWorlds(
  engine: Pick<ExitEngine, 'checkStaleness'>,
  worlds: readonly string[],
  nowMs: number,
  invocationId: string,
): Promise<void> {
  const failed: string[] = [];
  for (const worldId of worlds) {
    try {
      const outcome = await engine.checkStaleness({ worldId, invocationId, nowMs });
      if (outcome) logger.info('freshness sweep evaluated a quiet world', { ...outcome });
    } catch (error) {
      failed.push(worldId);
      logger.error('freshness sweep failed for a world', { world_id: worldId, error: String(error) });
    }
  }
  if (failed.length > 0)
    throw new Error(`freshness sweep failed for ${failed.join(', ')}; the next run retries`);
}

/**
 * The every-minute sweep: applies each rule's default to proposed signals past their deadline,
 * completes approved ones whose publish did not, and reports `PendingApprovalAgeSeconds` (the age
 * of the oldest signal still waiting for a person) for the approval-queue alarm, and the snapshot
 * freshness metrics for the alarms that fire when a world's hub snapshots stop coming.
 */
export function createApprovalTimeoutHandler(deps: ApprovalTimeoutDeps) {
  const handle = async (_event: unknown, context: Context): Promise<SweepResult> => {
    const now = deps.clock();
    // Decisions first: the freshness report is only metrics and must never delay a default.
    const result = await deps.ops.expireDue(now);
    const ages = await reportSnapshotFreshness(deps.store, now, deps.perWorldFreshness ?? []);
    if (deps.engine) await checkStaleWorlds(deps.engine, Object.keys(ages), now, context.awsRequestId);
    metrics.addMetric('PendingApprovalAgeSeconds', MetricUnit.Seconds, result.oldest_pending_age_sec);
    metrics.addMetric('PendingApprovals', MetricUnit.Count, result.pending);
    logger.info('approval timeout sweep', {
      emitted: result.emitted.length,
      dropped: result.dropped.length,
      stale: result.stale.length,
      episode_over: result.episode_over.length,
      republished: result.republished.length,
      failed: result.failed,
      pending: result.pending,
      oldest_pending_age_sec: result.oldest_pending_age_sec,
    });
    // What was settled is stored; throwing lets the schedule's retry (and the error alarm) see the rest.
    assertSweepComplete(result);
    return result;
  };

  return middy(handle)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(observeInvocation());
}
