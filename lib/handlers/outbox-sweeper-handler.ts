import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { ExitEngine } from '#lib/engine/engine.js';
import { RetryableError } from '#lib/engine/errors.js';
import type { SweepReport } from '#lib/engine/outbox.js';
import { logger, metrics } from '#lib/observability.js';

/** How many stuck outboxes one run takes on; the next run (a minute later) takes the rest. */
export const SWEEP_BATCH = 100;

/**
 * The every-minute outbox sweep: publishes, through the same fenced path as a redelivery, every
 * pending outbox whose publish lease ran out (its invocation died, or its publish failed past
 * Lambda's retries); the engine reports `OldestPendingOutboxAgeSeconds` for the stuck-outbox alarm.
 */
export function createOutboxSweeperHandler(deps: { engine: ExitEngine }) {
  const handle = async (_event: unknown, context: Context): Promise<SweepReport> => {
    const report = await deps.engine.sweepOutboxes({
      invocationId: context.awsRequestId,
      remainingMs: () => context.getRemainingTimeInMillis(),
      limit: SWEEP_BATCH,
    });
    logger.info('outbox sweep', { ...report });
    // What was published stays published; a failure is thrown so the error alarm sees it.
    if (report.failed > 0) throw new RetryableError(`${report.failed} stuck outboxes could not be published`);
    return report;
  };
  return middy(handle)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}
