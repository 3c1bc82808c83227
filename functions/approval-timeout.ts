import { loadConfig } from '#lib/config.js';
import { ExitEngine } from '#lib/engine/engine.js';
import { createApprovalTimeoutHandler } from '#lib/handlers/approval-timeout-handler.js';
import { wireEngine } from '#lib/runtime/wire.js';
import { wireDynamoDb } from '#lib/runtime/wire-dynamodb.js';
import { wireOps } from '#lib/runtime/wire-ops.js';
import { wireTracing } from '#lib/runtime/wire-tracing.js';

/** Lambda entry for the every-minute sweep: wiring only; config is validated at cold start. */
const config = loadConfig();
// One DynamoDB client for the engine's stores and the ops store.
const dynamo = wireDynamoDb(config);
const engine = wireEngine(config, dynamo);

// The Tracer is loaded and patches http(s) before the first invocation (nothing to wait for outside Lambda).
await wireTracing({ dynamo });

export const handler = createApprovalTimeoutHandler({
  ops: wireOps(config, engine, dynamo),
  store: engine.store,
  clock: () => Date.now(),
  perWorldFreshness: config.PER_WORLD_METRICS ? 'all' : config.MONITORED_WORLDS,
  engine: new ExitEngine(engine),
});
