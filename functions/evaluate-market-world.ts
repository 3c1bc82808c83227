import { loadConfig } from '#lib/config.js';
import { ExitEngine } from '#lib/engine/engine.js';
import { createMarketWorldHandler } from '#lib/handlers/market-world-handler.js';
import { wireEngine } from '#lib/runtime/wire.js';
import { wireDynamoDb } from '#lib/runtime/wire-dynamodb.js';
import { wireTracing } from '#lib/runtime/wire-tracing.js';

/**
 * Lambda entry for `market_reevaluation_requested`: one world's re-evaluation on market data, each
 * its own async invocation (own retries, own dead letter). Wiring only; config is validated at cold start.
 */
const config = loadConfig();
const dynamo = wireDynamoDb(config);
const engine = new ExitEngine(wireEngine(config, dynamo));

// The Tracer is loaded and patches http(s) before the first invocation (nothing to wait for outside Lambda).
await wireTracing({ dynamo });

export const handler = createMarketWorldHandler({ engine, clock: () => Date.now() });
