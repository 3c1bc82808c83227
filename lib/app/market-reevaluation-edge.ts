import { eventBridgeEvent } from '#lib/contracts/eventbridge.js';
import { MarketReevaluationCloudEventSchema } from '#lib/contracts/market-reevaluation.js';

/**
 * A `market_reevaluation_requested` delivery (the engine's own per-world request) as Lambda receives
 * it (its own module: see edge.ts).
 */
export const MarketReevaluationEventSchema = eventBridgeEvent(MarketReevaluationCloudEventSchema);
