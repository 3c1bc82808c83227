import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { ExitEngine } from '../engine/engine.js';
import { assertSweepComplete, type OpsService, type SweepResult } from '../engine/ops.js';
import type { EngineStore } from '../engine/ports.js';
import { logger, metrics } from '../observability.js';

export interface ApprovalTimeoutDeps {
  ops: OpsService;
  /** For the per-world freshness metric the silence alarms watch. */
  store: Pick<EngineStore, 'listWorlds' | 'getLatestSnapshot'>;
  clock: () => number;
  /** Fail closed when a hub goes quiet: each world's staleness rules are checked on every sweep. */
  engine?: Pick<ExitEngine, 'checkStaleness'>;
}

/**
 * The every-minute sweep: applies each rule's default to proposed signals past their deadline,
 * completes approved ones whose publish did not, and reports `PendingApprovalAgeSeconds` (the age
 * of the oldest signal still waiting for a person) for the approval-queue alarm, and per world
 * `SecondsSinceLastSnapshot` for the alarms that fire when a world's hub snapshots stop coming.
 */
/** Age of each world's latest hub snapshot, one dimensioned metric per world. */
export async function reportSnapshotFreshness(
  store: ApprovalTimeoutDeps['store'],
  nowMs: number,
): Promise<Record<string, number>> {
  const ages: Record<string, number> = {};
  for (const world of await store.listWorlds()) {
    const latest = await store.getLatestSnapshot(world);
    if (!latest) continue;
    const age = Math.max(0, Math.round((nowMs - latest.as_of_ms) / 1000));
    ages[world] = age;
    const single = metrics.singleMetric();
    single.addDimensions({ world });
    single.addMetric('SecondsSinceLastSnapshot', MetricUnit.Seconds, age);
  }
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

export function createApprovalTimeoutHandler(deps: ApprovalTimeoutDeps) {
  const handle = async (_event: unknown, context: Context): Promise<SweepResult> => {
    const now = deps.clock();
    // Decisions first: the freshness report is only metrics and must never delay a default.
    const result = await deps.ops.expireDue(now);
    const ages = await reportSnapshotFreshness(deps.store, now);
    if (deps.engine) await checkStaleWorlds(deps.engine, Object.keys(ages), now, context.awsRequestId);
    metrics.addMetric('PendingApprovalAgeSeconds', MetricUnit.Seconds, result.oldest_pending_age_sec);
    metrics.addMetric('PendingApprovals', MetricUnit.Count, result.pending);
    logger.info('approval timeout sweep', {
      emitted: result.emitted.length,
      dropped: result.dropped.length,
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
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}
