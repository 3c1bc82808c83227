import type { DynamoDocumentClient } from '#lib/adapters/dynamodb/client/document-client.js';
import { DynamoDbOpsStore } from '#lib/adapters/dynamodb/ops-store.js';
import type { EngineConfig } from '#lib/config.js';
import type { EngineDeps } from '#lib/engine/engine.js';
import { catalogFrom, OpsService } from '#lib/engine/ops.js';

// Apart from wire.ts so the evaluation Lambdas do not bundle the ops use cases.
/**
 * The ops use cases over the same tables, publishing through the engine's own publisher; `dynamo` is the
 * client the engine's stores were given (one per process).
 */
export function wireOps(config: EngineConfig, engine: EngineDeps, dynamo: DynamoDocumentClient): OpsService {
  return new OpsService({
    store: new DynamoDbOpsStore(
      dynamo,
      { signals: config.SIGNALS_TABLE_NAME, state: config.STATE_TABLE_NAME, audit: config.AUDIT_TABLE_NAME },
      config.EXIT_ENGINE_DYNAMODB_TRANSACTIONS,
    ),
    catalog: catalogFrom(engine.ruleSets, engine.store),
    publisher: engine.publisher,
    logger: engine.logger,
    metrics: engine.metrics,
    engineVersion: engine.engineVersion,
    leaseMs: engine.leaseMs,
    auditRetentionDays: config.AUDIT_RETENTION_DAYS,
  });
}
