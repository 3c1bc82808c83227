import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { assertSweepComplete, type OpsService, type SweepResult } from '../engine/ops.js';
import type { EngineStore } from '../engine/ports.js';
import { logger, metrics } from '../observability.js';

export interface ApprovalTimeoutDeps {
  ops: OpsService;
  /** For the per-world freshness metric the silence alarms watch. */
  store: Pick<EngineStore, 'listWorlds' | 'getLatestSnapshot'>;
  clock: () => number;
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

export function createApprovalTimeoutHandler(deps: ApprovalTimeoutDeps) {
  const handle = async (_event: unknown, _context: Context): Promise<SweepResult> => {
    const now = deps.clock();
    // Decisions first: the freshness report is only metrics and must never delay a default.
    const result = await deps.ops.expireDue(now);
    await reportSnapshotFreshness(deps.store, now);
    metrics.addMetric('PendingApprovalAgeSeconds', MetricUnit.Seconds, result.oldest_pending_age_sec);
    metrics.addMetric('PendingApprovals', MetricUnit.Count, result.pending);
    logger.info('approval timeout sweep', {
      emitted: result.emitted.length,
      dropped: result.dropped.length,
      stale: result.stale.length,
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
