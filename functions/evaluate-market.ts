import { loadConfig } from '#lib/config.js';
import { ExitEngine } from '#lib/engine/engine.js';
import { createMarketHandler } from '#lib/handlers/market-handler.js';
import { wireEngine, wireMarketRequests } from '#lib/runtime/wire.js';
import { wireDynamoDb } from '#lib/runtime/wire-dynamodb.js';
import { wireTracing } from '#lib/runtime/wire-tracing.js';

/**
 * Lambda entry for `market_snapshot_updated`: stores the market data and puts one
 * `market_reevaluation_requested` per concerned world on the bus. Wiring only; config is validated
 * at cold start.
 */
const config = loadConfig();
const dynamo = wireDynamoDb(config);
const engine = new ExitEngine(wireEngine(config, dynamo));
const requests = wireMarketRequests(config);

// The Tracer is loaded and patches http(s) before the first invocation (nothing to wait for outside Lambda).
await wireTracing({ dynamo });

export const handler = createMarketHandler({ engine, requests, clock: () => Date.now() });
