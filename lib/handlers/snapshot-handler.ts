import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { ParsedResult } from '@aws-lambda-powertools/parser/types';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { oversizeReason } from '#lib/app/edge.js';
import { SnapshotEventSchema } from '#lib/app/snapshot-edge.js';
import type { Outcome } from '#lib/engine/engine.js';
import { logger, metrics, observeInvocation } from '#lib/observability.js';
import { type EdgeDeps, recordParseFailure } from './edge.js';
import { parseEvent } from './parse-event.js';

type SnapshotEvent = z.infer<typeof SnapshotEventSchema>;

/** The engine, and the clock: wall time in Lambda, the event's own time when replaying history. */
export type SnapshotHandlerDeps = EdgeDeps;

/**
 * The `risk_snapshot_updated` handler: validates at the edge (Powertools parser, safeParse so a bad
 * event is recorded instead of retried), calls the engine, maps the outcome to logs.
 */
export function createSnapshotHandler(deps: SnapshotHandlerDeps) {
  const handle = async (event: ParsedResult<unknown, SnapshotEvent>, context: Context): Promise<Outcome> => {
    metrics.addMetric('SnapshotEventsReceived', MetricUnit.Count, 1);
    if (!event.success) return recordParseFailure(event, deps);
    const e = event.data;
    const oversize = oversizeReason(e.detail);
    if (oversize) {
      return deps.engine.recordRejection({
        worldId: e.detail.data.world_id,
        deliveryId: e.id,
        time: e.time,
        reasons: [oversize],
        category: 'oversize',
        raw: {
          id: e.id,
          time: e.time,
          'detail-type': e['detail-type'],
          source: e.source,
          detail_bytes: Buffer.byteLength(JSON.stringify(e.detail)),
        },
        nowMs: deps.clock(e),
      });
    }
    const outcome = await deps.engine.handleSnapshot({
      cloudEvent: e.detail,
      deliveryId: e.id,
      invocationId: context.awsRequestId,
      remainingMs: () => context.getRemainingTimeInMillis(),
      nowMs: deps.clock(e),
    });
    logger.info('snapshot handled', { ...outcome });
    return outcome;
  };

  return middy(handle)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(observeInvocation())
    .use(parseEvent(SnapshotEventSchema));
}
