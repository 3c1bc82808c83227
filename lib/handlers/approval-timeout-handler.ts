import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { assertSweepComplete, type OpsService, type SweepResult } from '../engine/ops.js';
import { logger, metrics } from '../observability.js';

export interface ApprovalTimeoutDeps {
  ops: OpsService;
  clock: () => number;
}

/**
 * The every-minute sweep: applies each rule's default to proposed signals past their deadline,
 * completes approved ones whose publish did not, and reports `PendingApprovalAgeSeconds` (the age
 * of the oldest signal still waiting for a person) for the approval-queue alarm.
 */
export function createApprovalTimeoutHandler(deps: ApprovalTimeoutDeps) {
  const handle = async (_event: unknown, _context: Context): Promise<SweepResult> => {
    const result = await deps.ops.expireDue(deps.clock());
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
