import { createHash } from 'node:crypto';
import { EXIT_ENGINE_SOURCE } from './exit-signal-ids.js';
import type { MarketReevaluationCloudEvent, MarketReevaluationData } from './market-reevaluation.js';

/**
 * Building a `market_reevaluation_requested` event (its schema: market-reevaluation.ts). No schema
 * here: every function wires the EventBridge re-evaluation queue, and only the one that receives these
 * events should build their schema at its cold start (issue 12 item 5).
 */

export const MARKET_REEVALUATION_DETAIL_TYPE = 'market_reevaluation_requested';

/**
 * The request event for one world. Its id is the same for every request of that world and market event
 * (a digest: world and market ids together could outgrow the event-id bound).
 */
export function marketReevaluationEvent(
  data: MarketReevaluationData,
  timeMs: number,
): MarketReevaluationCloudEvent {
  return {
    specversion: '1.0',
    id: `mr-${createHash('sha256').update(`${data.world_id.length}:${data.world_id}|${data.market_event_id}`).digest('hex').slice(0, 40)}`,
    source: EXIT_ENGINE_SOURCE,
    type: MARKET_REEVALUATION_DETAIL_TYPE,
    time: new Date(timeMs).toISOString(),
    datacontenttype: 'application/json',
    data,
  };
}
