import type { Node } from 'constructs';

/** Where the engine's own facts about the AWS side live: sources, detail types, metric names. */
export const SNAPSHOT_DETAIL_TYPE = 'risk_snapshot_updated';
export const MARKET_DETAIL_TYPE = 'market_snapshot_updated';
export const DEFAULT_SNAPSHOT_SOURCE = 'qmtl.services.worldservice';
export const DEFAULT_EVENT_BUS_NAME = 'exit-engine';
export const POWERTOOLS_SERVICE_NAME = 'exit-engine';
export const METRICS_NAMESPACE = 'ExitEngine';
/** Folder the rule sets are copied to inside the bundle; Lambda unpacks code into /var/task. */
export const BUNDLED_RULESETS_PATH = '/var/task/rulesets';

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
  /** `source` market indicators arrive with; any source when absent. */
  readonly marketSource?: string;
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
    ...optional('gatewayQueue', flag(node, 'gatewayQueue')),
    ...optional('gatewayHttps', gatewayHttps),
    ...optional('gatewayTargetBusArn', text(node, 'gatewayTargetBusArn')),
    ...optional('alarmEmail', text(node, 'alarmEmail')),
    ...optional('monitoredWorlds', list(node, 'monitoredWorlds')),
    ...optional('snapshotIntervalSeconds', seconds(node, 'snapshotIntervalSeconds')),
    ...optional('approvalAgeAlarmSeconds', seconds(node, 'approvalAgeAlarmSeconds')),
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
