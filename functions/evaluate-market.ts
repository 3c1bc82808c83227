import { loadConfig } from '#lib/config.js';
import { ExitEngine } from '#lib/engine/engine.js';
import { createMarketHandler } from '#lib/handlers/market-handler.js';
import { wireEngine } from '#lib/runtime/wire.js';

/** Lambda entry for `market_snapshot_updated`: wiring only; config is validated at cold start. */
const engine = new ExitEngine(wireEngine(loadConfig()));

export const handler = createMarketHandler({ engine, clock: () => Date.now() });
