import { eventBridgeEvent } from '#lib/contracts/eventbridge.js';
import { MarketSnapshotCloudEventSchema } from '#lib/contracts/market-snapshot.js';

/** A `market_snapshot_updated` delivery as Lambda receives it (its own module: see edge.ts). */
export const MarketEventSchema = eventBridgeEvent(MarketSnapshotCloudEventSchema);
