import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { ParsedResult } from '@aws-lambda-powertools/parser/types';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { MarketEventSchema } from '#lib/app/market-edge.js';
import type { Outcome } from '#lib/engine/engine.js';
import type { AdvanceResult, MarketReevaluationQueue } from '#lib/engine/ports.js';
import { logger, metrics, observeInvocation } from '#lib/observability.js';
import { type EdgeDeps, recordParseFailure } from './edge.js';
import { parseEvent } from './parse-event.js';

type MarketEvent = z.infer<typeof MarketEventSchema>;

/**
 * What a market delivery did: stored (or not, when older), which worlds it asked to re-evaluate (each
 * is its own delivery), and the outcome of a rejected event.
 */
export type MarketOutcome = { market: AdvanceResult | 'rejected'; requested: string[]; outcomes: Outcome[] };

/** The market handler's dependencies: where the per-world requests go. */
export interface MarketHandlerDeps extends EdgeDeps {
  requests: MarketReevaluationQueue;
}

/**
 * The `market_snapshot_updated` handler: validates at the edge, stores the market view, and asks for
 * one re-evaluation per world the data concerns (market-world-handler.ts runs each).
 */
export function createMarketHandler(deps: MarketHandlerDeps) {
  const handle = async (
    event: ParsedResult<unknown, MarketEvent>,
    context: Context,
  ): Promise<MarketOutcome> => {
    metrics.addMetric('MarketEventsReceived', MetricUnit.Count, 1);
    if (!event.success)
      return { market: 'rejected', requested: [], outcomes: [await recordParseFailure(event, deps)] };
    const e = event.data;
    const result = await deps.engine.handleMarket(
      {
        cloudEvent: e.detail,
        deliveryId: e.id,
        invocationId: context.awsRequestId,
        remainingMs: () => context.getRemainingTimeInMillis(),
        nowMs: deps.clock(e),
      },
      deps.requests,
    );
    logger.info('market data handled', {
      scope: e.detail.data.scope,
      market: result.market,
      worlds_requested: result.requested.length,
    });
    return result;
  };

  return middy(handle)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(observeInvocation())
    .use(parseEvent(MarketEventSchema));
}
