import { eventBridgeEvent } from '#lib/contracts/eventbridge.js';
import { RiskSnapshotCloudEventSchema } from '#lib/contracts/risk-snapshot.js';

/** A `risk_snapshot_updated` delivery as Lambda receives it (its own module: see edge.ts). */
export const SnapshotEventSchema = eventBridgeEvent(RiskSnapshotCloudEventSchema);
