import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbOpsStore } from '#lib/adapters/dynamodb/ops-store.js';
import { loadConfig } from '#lib/config.js';
import { OpsService } from '#lib/engine/ops.js';
import { createOpsHandler } from '#lib/handlers/ops-handler.js';
import { wireEngine } from '#lib/runtime/wire.js';

/** Lambda entry for the ops Function URL (AWS_IAM): wiring only; config is validated at cold start. */
const config = loadConfig();
const engine = wireEngine(config);
const ops = new OpsService({
  store: new DynamoDbOpsStore(
    new DynamoDBClient(config.DYNAMODB_ENDPOINT ? { endpoint: config.DYNAMODB_ENDPOINT } : {}),
    { signals: config.SIGNALS_TABLE_NAME, state: config.STATE_TABLE_NAME, audit: config.AUDIT_TABLE_NAME },
    process.env.EXIT_ENGINE_DYNAMODB_TRANSACTIONS !== 'false',
  ),
  publisher: engine.publisher,
  logger: engine.logger,
  metrics: engine.metrics,
  engineVersion: engine.engineVersion,
  leaseMs: engine.leaseMs,
  auditRetentionDays: config.AUDIT_RETENTION_DAYS,
});

export const handler = createOpsHandler({ ops, clock: () => Date.now() });
