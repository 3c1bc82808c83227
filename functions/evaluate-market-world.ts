import { loadConfig } from '#lib/config.js';
import { ExitEngine } from '#lib/engine/engine.js';
import { createMarketWorldHandler } from '#lib/handlers/market-world-handler.js';
import { tracingReady } from '#lib/observability.js';
import { wireEngine } from '#lib/runtime/wire.js';

/**
 * Lambda entry for `market_reevaluation_requested`: one world's re-evaluation on market data, each
 * its own async invocation (own retries, own dead letter). Wiring only; config is validated at cold start.
 */
const engine = new ExitEngine(wireEngine(loadConfig()));

// The Tracer is loaded and patches http(s) before the first invocation (nothing to wait for outside Lambda).
await tracingReady();

export const handler = createMarketWorldHandler({ engine, clock: () => Date.now() });
