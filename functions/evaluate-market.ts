import { loadConfig } from '#lib/config.js';
import { ExitEngine } from '#lib/engine/engine.js';
import { createMarketHandler } from '#lib/handlers/market-handler.js';
import { tracingReady } from '#lib/observability.js';
import { wireEngine } from '#lib/runtime/wire.js';

/** Lambda entry for `market_snapshot_updated`: wiring only; config is validated at cold start. */
const engine = new ExitEngine(wireEngine(loadConfig()));

// X-Ray captures the SDK clients before the first invocation (nothing to wait for outside Lambda).
await tracingReady();

export const handler = createMarketHandler({ engine, clock: () => Date.now() });
