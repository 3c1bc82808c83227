import type { AwsJsonClient } from '#lib/adapters/aws-json.js';
import { environmentCredentials } from '#lib/adapters/aws-signing.js';
import type { DynamoDocumentClient } from '#lib/adapters/dynamodb/client/document-client.js';
import { DynamoDbEngineStore } from '#lib/adapters/dynamodb/engine-store.js';
import { DynamoDbRuleSetStore } from '#lib/adapters/dynamodb/ruleset-store.js';
import { EventBridgeMarketReevaluationQueue } from '#lib/adapters/eventbridge/market-reevaluation-queue.js';
import { eventBridgeClient } from '#lib/adapters/eventbridge/put-events.js';
import { EventBridgeSignalPublisher } from '#lib/adapters/eventbridge/signal-publisher.js';
import { HubRefResolver } from '#lib/adapters/refs/hub-ref-resolver.js';
import { UriRefResolver } from '#lib/adapters/refs/ref-resolver.js';
import { HttpS3ObjectReader } from '#lib/adapters/refs/s3-object-reader.js';
import { cachedSecret } from '#lib/adapters/secrets/secret-reader.js';
import type { EngineConfig } from '#lib/config.js';
import type { EngineDeps } from '#lib/engine/engine.js';
import { dimensionedCounts, engineLogger, engineMetrics } from '#lib/observability.js';
import { readCompiledRuleSets } from '#lib/rules/compiled-rule-sets.js';
import { type FallbackRuleSets, LiveRuleSets } from '#lib/rulesets/live-rule-sets.js';
import { functionRegion } from './wire-dynamodb.js';

/** The engine's release, carried in every signal's provenance. */
export const ENGINE_VERSION = '0.1.0';

/**
 * Builds the engine's dependencies from validated config over the process's DynamoDB client
 * (wire-dynamodb.ts); endpoints differ locally, code does not.
 */
export function wireEngine(
  config: EngineConfig,
  dynamo: DynamoDocumentClient,
  overrides: Partial<EngineDeps> = {},
  bundled?: FallbackRuleSets,
): EngineDeps {
  const local = config.DYNAMODB_ENDPOINT !== undefined;
  dimensionedCounts.perWorld = config.PER_WORLD_METRICS;
  const events = eventBridge(config);
  const s3 =
    local && !config.S3_ENDPOINT
      ? undefined
      : new HttpS3ObjectReader({
          region: functionRegion(),
          credentials: () => environmentCredentials(),
          ...(config.S3_ENDPOINT ? { endpoint: config.S3_ENDPOINT } : {}),
        });
  return {
    store: new DynamoDbEngineStore(
      dynamo,
      { signals: config.SIGNALS_TABLE_NAME, state: config.STATE_TABLE_NAME, audit: config.AUDIT_TABLE_NAME },
      config.EXIT_ENGINE_DYNAMODB_TRANSACTIONS,
    ),
    publisher: new EventBridgeSignalPublisher(events, config.EVENT_BUS_NAME, local ? { baseDelayMs: 5 } : {}),
    refs: new UriRefResolver({
      ...(s3 ? { s3 } : {}),
      allowFiles: local,
      ...(local && config.FILE_REF_ROOT ? { fileRoot: config.FILE_REF_ROOT } : {}),
      ...(config.HUB_BASE_URL ? { hub: hubResolver(config, config.HUB_BASE_URL) } : {}),
    }),
    // Published rule sets first, the bundled ones as the initial versions (a single file given to the
    // local runtime applies to every world as is). A Lambda reads its bundled sets compiled, validated at
    // bundle time; the local runtime passes its YAML folder in `bundled`.
    ruleSets:
      overrides.ruleSets ??
      new LiveRuleSets(
        new DynamoDbRuleSetStore(dynamo, { state: config.STATE_TABLE_NAME, audit: config.AUDIT_TABLE_NAME }),
        bundled ?? readCompiledRuleSets(config.RULESETS_PATH),
        {
          ttlMs: config.RULESET_CACHE_TTL_SEC * 1000,
          maxWorlds: config.RULESET_CACHE_WORLDS,
          clock: Date.now,
          onError: (message, error) => engineLogger.warn(message, { error: (error as Error).message }),
        },
      ),
    metrics: engineMetrics,
    logger: engineLogger,
    engineVersion: ENGINE_VERSION,
    leaseMs: local ? 2_000 : 60_000,
    signalRetentionDays: config.SIGNAL_RETENTION_DAYS,
    auditRetentionDays: config.AUDIT_RETENTION_DAYS,
    marketMaxAgeMs: config.MARKET_DATA_MAX_AGE_SEC * 1000,
    ...overrides,
  };
}

/** Where the market function sends its per-world re-evaluation requests: our own bus. */
export function wireMarketRequests(config: EngineConfig): EventBridgeMarketReevaluationQueue {
  const events = eventBridge(config);
  const local = config.DYNAMODB_ENDPOINT !== undefined;
  return new EventBridgeMarketReevaluationQueue(
    events,
    config.EVENT_BUS_NAME,
    local ? { baseDelayMs: 5 } : {},
  );
}

/**
 * The EventBridge client: PutEvents signed over node:https (lib/adapters/aws-json.ts), no SDK client. Built at cold
 * start: it is a few closures over code the function loads anyway, so a first publish pays no module load.
 * Where tracing is on, each call is an HTTP subsegment of the Tracer's `https` capture.
 */
function eventBridge(config: EngineConfig): AwsJsonClient {
  return eventBridgeClient({
    region: functionRegion(),
    credentials: () => environmentCredentials(),
    ...(config.EVENTBRIDGE_ENDPOINT ? { endpoint: config.EVENTBRIDGE_ENDPOINT } : {}),
  });
}

/** The hub's API for refs, with its token from Secrets Manager (AWS) or the environment (local runs). */
function hubResolver(config: EngineConfig, baseUrl: string): HubRefResolver {
  const secretName = config.HUB_TOKEN_SECRET_NAME;
  const token = secretName
    ? cachedSecret(secretName, {
        region: functionRegion(),
        credentials: () => environmentCredentials(),
      })
    : async () => config.HUB_TOKEN;
  return new HubRefResolver({ baseUrl, token });
}
