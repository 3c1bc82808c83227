import * as z from 'zod/mini';
import { EXIT_ENGINE_SOURCE } from './exit-signal.js';
import { MARKET_REEVALUATION_DETAIL_TYPE } from './market-reevaluation-event.js';
import { isoDateTime as isoDateTimeSchema } from './zod-shared.js';

/**
 * The engine's own internal event, `market_reevaluation_requested`: the market function stores market
 * data and asks for one world's re-evaluation with one of these per concerned world, so each world is
 * its own delivery (its own retries, its own dead letter) instead of one invocation doing thousands.
 * Same CloudEvents 1.0 envelope as every other event; only the engine puts it (bus policy), only the
 * market re-evaluation rule routes it (never the gateway's subscriptions).
 */

export { MARKET_REEVALUATION_DETAIL_TYPE };

const isoDateTime = isoDateTimeSchema({
  offset: true,
  message: 'must be an ISO 8601 date-time with a zone (Z or ±hh:mm)',
});
const nonEmpty = z.string({ message: 'must be a string' }).check(z.minLength(1, 'must not be empty'));

/** One world, one market event: what the per-world evaluation needs to find its work. */
export const MarketReevaluationDataSchema = z.strictObject({
  world_id: nonEmpty,
  /** The market CloudEvent's id: part of the evaluation key, so every request for it dedupes. */
  market_event_id: nonEmpty,
  market_scope: nonEmpty,
  market_as_of: isoDateTime,
});
export type MarketReevaluationData = z.infer<typeof MarketReevaluationDataSchema>;

export const MarketReevaluationCloudEventSchema = z.strictObject({
  specversion: z.literal('1.0', { message: "must be '1.0'" }),
  id: nonEmpty,
  source: z.literal(EXIT_ENGINE_SOURCE, { message: `must be '${EXIT_ENGINE_SOURCE}'` }),
  type: z.literal(MARKET_REEVALUATION_DETAIL_TYPE, {
    message: `must be '${MARKET_REEVALUATION_DETAIL_TYPE}'`,
  }),
  /** The evaluation time the market delivery ran at (its clock), so a replay evaluates as of it. */
  time: isoDateTime,
  datacontenttype: z.literal('application/json', { message: "must be 'application/json'" }),
  data: MarketReevaluationDataSchema,
});
export type MarketReevaluationCloudEvent = z.infer<typeof MarketReevaluationCloudEventSchema>;
