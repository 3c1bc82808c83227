import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { ParsedResult } from '@aws-lambda-powertools/parser/types';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { MarketReevaluationEventSchema } from '#lib/app/market-reevaluation-edge.js';
import type { Outcome } from '#lib/engine/engine.js';
import { logger, metrics, observeInvocation } from '#lib/observability.js';
import { type EdgeDeps, recordParseFailure } from './edge.js';
import { parseEvent } from './parse-event.js';

type MarketReevaluationEvent = z.infer<typeof MarketReevaluationEventSchema>;

/**
 * The `market_reevaluation_requested` handler: one world's re-evaluation after market data for it
 * changed, as the market handler asked for it. Validated at the edge like every input (a malformed
 * request is recorded under its world, never retried). The clock reads the request's own time, which
 * is the market delivery's evaluation time, so a replay evaluates every world as of the market event.
 */
export function createMarketWorldHandler(deps: EdgeDeps) {
  const handle = async (
    event: ParsedResult<unknown, MarketReevaluationEvent>,
    context: Context,
  ): Promise<Outcome> => {
    metrics.addMetric('MarketReevaluationsReceived', MetricUnit.Count, 1);
    if (!event.success) return recordParseFailure(event, deps);
    const e = event.data;
    const outcome = await deps.engine.reevaluateOnMarketRequest({
      worldId: e.detail.data.world_id,
      marketEventId: e.detail.data.market_event_id,
      deliveryId: e.id,
      invocationId: context.awsRequestId,
      remainingMs: () => context.getRemainingTimeInMillis(),
      nowMs: deps.clock({ time: e.detail.time }),
    });
    logger.info('market re-evaluation handled', {
      ...outcome,
      market_event_id: e.detail.data.market_event_id,
    });
    return outcome;
  };

  return middy(handle)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(observeInvocation())
    .use(parseEvent(MarketReevaluationEventSchema));
}
