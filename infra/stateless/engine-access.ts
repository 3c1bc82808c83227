import type { Stack } from 'aws-cdk-lib';
import { Validations } from 'aws-cdk-lib';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { ExitEngineProps } from '#infra/config.js';
import { everyEntry } from '#infra/constructs/bus-policy.js';
import type { EngineFunction } from '#infra/constructs/engine-function.js';
import type { StatefulStack } from '#infra/stateful/stateful-stack.js';
import {
  EXIT_ENGINE_SOURCE,
  EXIT_SIGNAL_DETAIL_TYPE,
  EXIT_SIGNAL_PROPOSED_DETAIL_TYPE,
} from '#lib/contracts/exit-signal.js';
import { MARKET_REEVALUATION_DETAIL_TYPE } from '#lib/contracts/market-reevaluation.js';

/** Detail types the engine may put on the bus, and nothing else. */
export const PUBLISHED_DETAIL_TYPES = [EXIT_SIGNAL_DETAIL_TYPE, EXIT_SIGNAL_PROPOSED_DETAIL_TYPE] as const;

export interface EngineAccessProps {
  readonly stateful: StatefulStack;
  readonly engine: ExitEngineProps;
  /** The functions that evaluate and publish signals. */
  readonly engineFunctions: readonly EngineFunction[];
  /** Stores market data and requests per-world re-evaluations; evaluates and publishes nothing. */
  readonly evaluateMarket: EngineFunction;
  /** Functions that read a snapshot's `*_ref` objects (the sweep too: staleness rules read the latest snapshot). */
  readonly snapshotReaders: readonly EngineFunction[];
  /** Functions that fetch a snapshot from the hub's API when a reference needs it. */
  readonly hubReaders: readonly EngineFunction[];
}

/**
 * What each engine function may touch: its tables (and how), its environment, what it may put on the bus,
 * the snapshot-ref buckets and the hub token. It creates no construct, only statements on each function's
 * own role and its environment, so moving it out of the stack moved no logical ID.
 */
export function grantEngineAccess(stack: Stack, props: EngineAccessProps): void {
  const { stateful, engine, engineFunctions, evaluateMarket, snapshotReaders, hubReaders } = props;
  const bus = stateful.bus;
  for (const fn of engineFunctions) {
    fn.useTable(stateful.signals.table, stateful.signals.definition, 'readWrite')
      // Mutes and claims are removed when they end; the state table is the engine's own bookkeeping.
      .useTable(stateful.state.table, stateful.state.definition, 'readWriteDelete')
      .useTable(stateful.audit.table, stateful.audit.definition, 'append')
      .setEnv('EVENT_BUS_NAME', bus.eventBusName)
      .setEnv('PER_WORLD_METRICS', engine.perWorldMetrics ? 'true' : 'false');
    allowPutting(fn.role, bus, 'PublishExitEngineEventsOnly', PUBLISHED_DETAIL_TYPES);
  }
  // The market function stores market data (state table), records rejections and out-of-order data
  // (audit) and puts per-world requests: no signal rows, no signals. The signals table's name is in its
  // environment only because the engine's config names every table.
  evaluateMarket
    .useTable(stateful.state.table, stateful.state.definition, 'readWrite')
    .useTable(stateful.audit.table, stateful.audit.definition, 'append')
    .setEnv(stateful.signals.definition.envVar, stateful.signals.table.tableName)
    .setEnv('EVENT_BUS_NAME', bus.eventBusName)
    .setEnv('PER_WORLD_METRICS', engine.perWorldMetrics ? 'true' : 'false');
  allowPutting(evaluateMarket.role, bus, 'RequestMarketReevaluationsOnly', [MARKET_REEVALUATION_DETAIL_TYPE]);
  const buckets = engine.snapshotRefBuckets ?? [];
  if (buckets.length > 0) {
    // The sweep runs staleness rules on the latest snapshot, which may still carry an s3:// ref. One
    // statement for every bucket: IAM refuses a policy whose statements repeat a Sid.
    for (const fn of snapshotReaders) {
      fn.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ReadSnapshotRefs',
          actions: ['s3:GetObject'],
          resources: buckets.map((bucket) => `arn:${stack.partition}:s3:::${bucket}/*`),
        }),
      );
      for (const bucket of buckets) {
        Validations.of(fn.role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${bucket}/*]`,
          reason: `snapshot *_ref objects are arbitrary keys in the deployer-named bucket ${bucket}; read-only.`,
        });
      }
    }
  }

  if (engine.hubBaseUrl) {
    for (const fn of hubReaders) {
      fn.setEnv('HUB_BASE_URL', engine.hubBaseUrl);
      if (engine.hubTokenSecretName) {
        fn.setEnv('HUB_TOKEN_SECRET_NAME', engine.hubTokenSecretName);
        // Only this one secret, only its value; a secret named by name has a random 6-character suffix.
        fn.role.addToPolicy(
          new iam.PolicyStatement({
            sid: 'ReadHubToken',
            actions: ['secretsmanager:GetSecretValue'],
            resources: [
              `arn:${stack.partition}:secretsmanager:${stack.region}:${stack.account}:secret:${engine.hubTokenSecretName}-??????`,
            ],
          }),
        );
        Validations.of(fn.role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${engine.hubTokenSecretName}-??????]`,
          reason:
            "The '-??????' is the random suffix Secrets Manager appends to the hub token secret's name.",
        });
      }
    }
  }
}

/**
 * A role may put only the given detail types, under our own source, on the one bus (see bus-policy.ts):
 * the engine its signals, the market function its per-world requests.
 */
function allowPutting(role: iam.IRole, bus: IEventBus, sid: string, detailTypes: readonly string[]): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid,
      actions: ['events:PutEvents'],
      resources: [bus.eventBusArn],
      conditions: everyEntry([EXIT_ENGINE_SOURCE], detailTypes),
    }),
  );
}
