import { loadConfig } from '#lib/config.js';
import { ExitEngine } from '#lib/engine/engine.js';
import { createOutboxSweeperHandler } from '#lib/handlers/outbox-sweeper-handler.js';
import { wireEngine } from '#lib/runtime/wire.js';
import { wireDynamoDb } from '#lib/runtime/wire-dynamodb.js';
import { wireTracing } from '#lib/runtime/wire-tracing.js';

/** Lambda entry for the every-minute outbox sweep: wiring only; config is validated at cold start. */
const config = loadConfig();
const dynamo = wireDynamoDb(config);
const engine = new ExitEngine(wireEngine(config, dynamo));

// The Tracer is loaded and patches http(s) before the first invocation (nothing to wait for outside Lambda).
await wireTracing({ dynamo });

export const handler = createOutboxSweeperHandler({ engine });
