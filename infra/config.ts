import type { Node } from 'constructs';

export { MARKET_SNAPSHOT_DETAIL_TYPE as MARKET_DETAIL_TYPE } from '#lib/contracts/market-snapshot.js';
/** Where the engine's own facts about the AWS side live: bus and metric names (event routes: lib/contracts/routes.ts). */
export {
  DEFAULT_MARKET_SOURCE,
  DEFAULT_SNAPSHOT_SOURCE,
  RISK_SNAPSHOT_DETAIL_TYPE as SNAPSHOT_DETAIL_TYPE,
} from '#lib/contracts/routes.js';
/**
 * Per-world market re-evaluations at once (the per-world function's reserved concurrency) unless
 * `marketWorldConcurrency` says otherwise: 2,000 worlds at ~100 ms each take ~13 s at 16, while DynamoDB
 * and the account's other functions keep their share.
 */
export const DEFAULT_MARKET_WORLD_CONCURRENCY = 16;
/** Days the function log groups keep their events unless `logRetentionDays` says otherwise. */
export const DEFAULT_LOG_RETENTION_DAYS = 30;
export const DEFAULT_EVENT_BUS_NAME = 'exit-engine';
export const POWERTOOLS_SERVICE_NAME = 'exit-engine';
export const METRICS_NAMESPACE = 'ExitEngine';
/** The compiled rule sets the bundle step writes beside the code; Lambda unpacks code into /var/task. */
export const BUNDLED_RULESETS_PATH = '/var/task/rulesets.json';

/** An HTTPS gateway reached through an EventBridge API destination. */
export interface HttpsSubscription {
  /** The gateway's HTTPS endpoint (EventBridge posts each event's JSON to it). */
  readonly endpointUrl: string;
  /** Secrets Manager secret (ARN or name) holding the API key the connection sends. */
  readonly secretArnOrName: string;
  /** Header the API key travels in. */
  readonly apiKeyHeader?: string;
  /** JSON key inside the secret when the secret is a JSON document; whole secret string otherwise. */
  readonly secretJsonField?: string;
  /** Invocations per second EventBridge allows towards the endpoint. */
  readonly rateLimitPerSecond?: number;
}

/** Upstream's ControlBus (a Kafka topic) bridged to our bus by an EventBridge Pipe. */
export interface ControlBusSource {
  /** The topic upstream's ControlBusProducer writes to (upstream's default is `policy`). */
  readonly topic: string;
  /** An Amazon MSK cluster (IAM authentication)... */
  readonly mskClusterArn?: string;
  /** ...or self-managed Kafka: bootstrap servers `host:port`, with a SASL/SCRAM-512 credential. */
  readonly bootstrapServers?: readonly string[];
  /** Secrets Manager secret ARN holding `{"username","password"}` for self-managed Kafka. */
  readonly credentialsSecretArn?: string;
  /** Self-managed Kafka inside a VPC: the subnets and security groups the pipe connects from. */
  readonly subnetIds?: readonly string[];
  readonly securityGroupIds?: readonly string[];
  /** Consumer group the pipe reads as (default `exit-engine`). */
  readonly consumerGroupId?: string;
}

/** Everything a deployer can set without editing a stack; every field has a safe default. */
export interface ExitEngineProps {
  /** Attach to this existing bus instead of creating one. */
  readonly existingEventBusName?: string;
  /** Name of the bus we create when no existing bus is given. */
  readonly eventBusName?: string;
  /** `source` the hub publishes `risk_snapshot_updated` with. */
  readonly snapshotSource?: string;
  /** `source` market indicators arrive with (the market rule matches only it); DEFAULT_MARKET_SOURCE when absent. */
  readonly marketSource?: string;
  /**
   * IAM principal ARNs (roles, users; an assumed role is matched by its role ARN) allowed to put
   * `risk_snapshot_updated` or events with the snapshot source on the bus. Everyone else is refused by the
   * bus policy; with none configured, no one can (fail closed).
   */
  readonly snapshotProducerPrincipals?: readonly string[];
  /** As `snapshotProducerPrincipals`, for `market_snapshot_updated` and the market source. */
  readonly marketProducerPrincipals?: readonly string[];
  /**
   * Role of the ControlBus → EventBridge pipe (Kafka bridge) when one delivers hub snapshots: it is added
   * to the snapshot producers. A stack that builds the pipe passes its role here.
   */
  readonly controlBusPipeRoleArn?: string;
  /**
   * Reserved concurrency of the per-world market re-evaluator (DEFAULT_MARKET_WORLD_CONCURRENCY): how many
   * worlds a market event re-evaluates at once. It bounds the load a global market event puts on DynamoDB,
   * and it is taken from the account's concurrency pool (Lambda refuses a reservation that leaves fewer than
   * 100 unreserved executions). Requests beyond it wait in Lambda's async queue (up to the event age).
   */
  readonly marketWorldConcurrency?: number;
  /** Days the function log groups keep events (a CloudWatch Logs retention value); default 30. */
  readonly logRetentionDays?: number;
  /**
   * Emit per-world metric dimensions (signals emitted, snapshot freshness). Off by default: one metric
   * series per world makes CloudWatch the largest cost at a few hundred worlds; the world id is in the
   * EMF properties and logs either way. `monitoredWorlds` silence alarms need it and turn it on.
   */
  readonly perWorldMetrics?: boolean;
  /** Create the gateway SQS queue subscription (default true). */
  readonly gatewayQueue?: boolean;
  /** Also deliver to an HTTPS endpoint. */
  readonly gatewayHttps?: HttpsSubscription;
  /** Also deliver to an event bus in another account (its ARN). */
  readonly gatewayTargetBusArn?: string;
  /** Email subscribed to the alarm topic. */
  readonly alarmEmail?: string;
  /** Worlds that must see a hub snapshot at least every `snapshotIntervalSeconds`. */
  readonly monitoredWorlds?: readonly string[];
  /** Expected longest gap between two hub snapshots of a monitored world. */
  readonly snapshotIntervalSeconds?: number;
  /** Alarm when the oldest pending approval is older than this. */
  readonly approvalAgeAlarmSeconds?: number;
  /** Alarm when an exit signal outbox stays pending (unpublished) longer than this; default 900. */
  readonly stuckOutboxAlarmSeconds?: number;
  /** Buckets whose objects `s3://` refs in snapshots may point at (read-only). */
  readonly snapshotRefBuckets?: readonly string[];
  /** Name of the EventBridge schema registry we publish our schemas to. */
  readonly schemaRegistryName?: string;
  /** Upstream's hub API: refs the engine cannot read itself (`redis://`, files) are resolved through it. */
  readonly hubBaseUrl?: string;
  /** Secrets Manager secret (name) holding the hub's bearer token. */
  readonly hubTokenSecretName?: string;
  /** Bridge upstream's ControlBus topic to our bus with an EventBridge Pipe. */
  readonly controlBus?: ControlBusSource;
}

function text(node: Node, key: string): string | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  return String(value);
}

function flag(node: Node, key: string): boolean | undefined {
  const value = text(node, key);
  if (value === undefined) return undefined;
  if (/^(true|1|yes)$/i.test(value)) return true;
  if (/^(false|0|no)$/i.test(value)) return false;
  throw new Error(`context ${key}: expected true or false, got "${value}"`);
}

function seconds(node: Node, key: string): number | undefined {
  const value = text(node, key);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`context ${key}: expected a positive whole number of seconds, got "${value}"`);
  return n;
}

function wholeNumber(node: Node, key: string): number | undefined {
  const value = text(node, key);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`context ${key}: expected a whole number ≥ 1, got "${value}"`);
  return n;
}

function days(node: Node, key: string): number | undefined {
  const value = seconds(node, key);
  if (value === undefined) return undefined;
  if (!LOG_RETENTION_DAYS.includes(value)) {
    throw new Error(
      `context ${key}: CloudWatch Logs keeps ${LOG_RETENTION_DAYS.join(', ')} days; got ${value}`,
    );
  }
  return value;
}

/** The retention periods CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

const SOURCE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,255}$/;

/**
 * Checks an inbound `source`: a literal name (no wildcard, not empty), not AWS's reserved `aws.` prefix
 * and not the engine's own source. Throws naming the field.
 */
export function validateSource(field: string, value: string, engineSource: string): string {
  if (!SOURCE_PATTERN.test(value)) {
    throw new Error(`${field}: '${value}' is not an event source name (letters, digits, . _ / - only)`);
  }
  if (value.startsWith('aws.')) throw new Error(`${field}: '${value}' is reserved for AWS services`);
  if (value === engineSource) throw new Error(`${field}: '${value}' is the engine's own outbound source`);
  return value;
}

const PRINCIPAL_ARN = /^arn:aws[a-z-]*:(iam|sts)::\d{12}:[A-Za-z0-9+=,.@_/:-]+$/;

function principals(node: Node, key: string): string[] | undefined {
  const values = list(node, key);
  for (const value of values ?? []) {
    if (!PRINCIPAL_ARN.test(value)) {
      throw new Error(
        `context ${key}: '${value}' is not an IAM principal ARN (arn:aws:iam::<account>:role/<name>)`,
      );
    }
  }
  return values;
}

function list(node: Node, key: string): string[] | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  // `-c key=a,b` arrives as a string; cdk.json can hold a real array.
  const items = Array.isArray(value) ? value.map(String) : String(value).split(',');
  return items.map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * Reads the deployment props from CDK context (`-c key=value` or cdk.json), so a deployer configures the
 * stacks without editing them. Unknown values fail synth with the key named.
 */
export function propsFromContext(node: Node): ExitEngineProps {
  const httpsUrl = text(node, 'gatewayHttpsEndpoint');
  const httpsSecret = text(node, 'gatewayHttpsSecret');
  if ((httpsUrl === undefined) !== (httpsSecret === undefined)) {
    throw new Error('context gatewayHttpsEndpoint and gatewayHttpsSecret must be given together');
  }
  const rate = seconds(node, 'gatewayHttpsRateLimitPerSecond');
  const gatewayHttps: HttpsSubscription | undefined =
    httpsUrl !== undefined && httpsSecret !== undefined
      ? {
          endpointUrl: httpsUrl,
          secretArnOrName: httpsSecret,
          ...optional('apiKeyHeader', text(node, 'gatewayHttpsApiKeyHeader')),
          ...optional('secretJsonField', text(node, 'gatewayHttpsSecretJsonField')),
          ...optional('rateLimitPerSecond', rate),
        }
      : undefined;
  return {
    ...optional('existingEventBusName', text(node, 'existingEventBusName')),
    ...optional('eventBusName', text(node, 'eventBusName')),
    ...optional('snapshotSource', text(node, 'snapshotSource')),
    ...optional('marketSource', text(node, 'marketSource')),
    ...optional('snapshotProducerPrincipals', principals(node, 'snapshotProducerPrincipals')),
    ...optional('marketProducerPrincipals', principals(node, 'marketProducerPrincipals')),
    ...optional('controlBusPipeRoleArn', text(node, 'controlBusPipeRoleArn')),
    ...optional('marketWorldConcurrency', wholeNumber(node, 'marketWorldConcurrency')),
    ...optional('logRetentionDays', days(node, 'logRetentionDays')),
    ...optional('perWorldMetrics', flag(node, 'perWorldMetrics')),
    ...optional('gatewayQueue', flag(node, 'gatewayQueue')),
    ...optional('gatewayHttps', gatewayHttps),
    ...optional('gatewayTargetBusArn', text(node, 'gatewayTargetBusArn')),
    ...optional('alarmEmail', text(node, 'alarmEmail')),
    ...optional('monitoredWorlds', list(node, 'monitoredWorlds')),
    ...optional('snapshotIntervalSeconds', seconds(node, 'snapshotIntervalSeconds')),
    ...optional('approvalAgeAlarmSeconds', seconds(node, 'approvalAgeAlarmSeconds')),
    ...optional('stuckOutboxAlarmSeconds', seconds(node, 'stuckOutboxAlarmSeconds')),
    ...optional('snapshotRefBuckets', list(node, 'snapshotRefBuckets')),
    ...optional('schemaRegistryName', text(node, 'schemaRegistryName')),
    ...optional('hubBaseUrl', hubUrl(node)),
    ...optional('hubTokenSecretName', text(node, 'hubTokenSecretName')),
    ...optional('controlBus', controlBus(node)),
  };
}

function hubUrl(node: Node): string | undefined {
  const value = text(node, 'hubBaseUrl');
  if (value === undefined) return undefined;
  if (!/^https?:\/\/[^/]+/.test(value))
    throw new Error(`context hubBaseUrl: expected the hub's http(s) base URL, got "${value}"`);
  return value;
}

function controlBus(node: Node): ControlBusSource | undefined {
  const topic = text(node, 'controlBusTopic');
  const msk = text(node, 'controlBusMskClusterArn');
  const servers = list(node, 'controlBusBootstrapServers');
  const secret = text(node, 'controlBusSecretArn');
  const subnets = list(node, 'controlBusSubnetIds');
  const groups = list(node, 'controlBusSecurityGroupIds');
  if (topic === undefined) {
    if (msk ?? servers ?? secret ?? subnets ?? groups)
      throw new Error('context controlBusTopic: required with any other controlBus* key');
    return undefined;
  }
  if ((msk === undefined) === (servers === undefined))
    throw new Error(
      'context controlBusTopic: give exactly one of controlBusMskClusterArn or controlBusBootstrapServers',
    );
  if (servers !== undefined && secret === undefined)
    throw new Error(
      'context controlBusBootstrapServers: needs controlBusSecretArn (SASL/SCRAM-512 credential)',
    );
  if ((subnets === undefined) !== (groups === undefined))
    throw new Error('context controlBusSubnetIds and controlBusSecurityGroupIds must be given together');
  return {
    topic,
    ...optional('mskClusterArn', msk),
    ...optional('bootstrapServers', servers),
    ...optional('credentialsSecretArn', secret),
    ...optional('subnetIds', subnets),
    ...optional('securityGroupIds', groups),
    ...optional('consumerGroupId', text(node, 'controlBusConsumerGroupId')),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
