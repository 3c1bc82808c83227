import { loadConfig } from '#lib/config.js';
import { ExitEngine } from '#lib/engine/engine.js';
import { createMarketHandler } from '#lib/handlers/market-handler.js';
import { tracingReady } from '#lib/observability.js';
import { wireEngine, wireMarketRequests } from '#lib/runtime/wire.js';

/**
 * Lambda entry for `market_snapshot_updated`: stores the market data and puts one
 * `market_reevaluation_requested` per concerned world on the bus. Wiring only; config is validated
 * at cold start.
 */
const config = loadConfig();
const engine = new ExitEngine(wireEngine(config));
const requests = wireMarketRequests(config);

// The Tracer is loaded and patches http(s) before the first invocation (nothing to wait for outside Lambda).
await tracingReady();

export const handler = createMarketHandler({ engine, requests, clock: () => Date.now() });
