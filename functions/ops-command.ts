import { loadConfig } from '#lib/config.js';
import { createOpsHandler } from '#lib/handlers/ops-handler.js';
import { wireEngine } from '#lib/runtime/wire.js';
import { wireDynamoDb } from '#lib/runtime/wire-dynamodb.js';
import { wireOps } from '#lib/runtime/wire-ops.js';
import { wireTracing } from '#lib/runtime/wire-tracing.js';

/** Lambda entry for the ops Function URL (AWS_IAM): wiring only; config is validated at cold start. */
const config = loadConfig();
// One DynamoDB client for the engine's stores and the ops store.
const dynamo = wireDynamoDb(config);
const ops = wireOps(config, wireEngine(config, dynamo), dynamo);

// The Tracer is loaded and patches http(s) before the first invocation (nothing to wait for outside Lambda).
await wireTracing({ dynamo });

export const handler = createOpsHandler({ ops, clock: () => Date.now() });
