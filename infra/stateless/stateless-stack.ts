import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { type FunctionUrl, FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  DEFAULT_LOG_RETENTION_DAYS,
  DEFAULT_MARKET_SOURCE,
  DEFAULT_MARKET_WORLD_CONCURRENCY,
  DEFAULT_SNAPSHOT_SOURCE,
  type ExitEngineProps,
  MARKET_DETAIL_TYPE,
  SNAPSHOT_DETAIL_TYPE,
  validateSource,
} from '#infra/config.js';
import { BusPolicy } from '#infra/constructs/bus-policy.js';
import { ControlBusPipe } from '#infra/constructs/controlbus-pipe.js';
import { EngineFunction } from '#infra/constructs/engine-function.js';
import { GATEWAY_QUEUE_RETENTION, GatewaySubscriptions } from '#infra/constructs/gateway-subscriptions.js';
import { Monitoring } from '#infra/constructs/monitoring.js';
import { OpsPolicies } from '#infra/constructs/ops-policies.js';
import { OutboxSweeper } from '#infra/constructs/outbox-sweeper.js';
import { RuleSetStore } from '#infra/constructs/ruleset-store.js';
import { cdkEventPattern } from '#infra/event-patterns.js';
import type { StatefulStack } from '#infra/stateful/stateful-stack.js';
import { EXIT_ENGINE_SOURCE } from '#lib/contracts/exit-signal.js';
import { MARKET_REEVALUATION_DETAIL_TYPE } from '#lib/contracts/market-reevaluation.js';
import { marketReevaluationRoute, marketRoute, snapshotRoute } from '#lib/contracts/routes.js';
import { grantEngineAccess, PUBLISHED_DETAIL_TYPES } from './engine-access.js';

/**
 * Inbound snapshots are worth retrying for an hour at most: a hub snapshot lives 900 s by default, and an
 * expired one is recorded and refused anyway, so longer retries only delay the dead-letter signal to ops.
 */
export const INBOUND_TARGET_RETRY = { retryAttempts: 8, maxEventAge: Duration.hours(1) } as const;

/**
 * How long a per-world market request may wait in the per-world function's async queue before ops hear of
 * it: 2,000 worlds at the default 16 at a time take well under a minute, so five means something is wrong.
 */
export const MARKET_WORLD_MAX_QUEUE_AGE = Duration.minutes(5);

export interface StatelessStackProps extends StackProps {
  readonly stateful: StatefulStack;
  readonly engine: ExitEngineProps;
}

/**
 * Everything that can be replaced at will: functions, rules, queues, policies, alarms, dashboard.
 * It reads the stateful stack's tables and bus through ordinary cross-stack references; the bus policy that
 * names the engine roles lives here (not with the bus) because those roles do.
 */
export class StatelessStack extends Stack {
  readonly evaluateSnapshot: EngineFunction;
  readonly evaluateMarket: EngineFunction;
  readonly evaluateMarketWorld: EngineFunction;
  readonly approvalTimeout: EngineFunction;
  readonly opsCommand: EngineFunction;
  readonly outboxSweeper: OutboxSweeper;
  readonly opsCommandUrl: FunctionUrl;
  readonly gateway: GatewaySubscriptions;
  readonly opsPolicies: OpsPolicies;
  /** Who may publish rule sets without a deploy (the store is the state table's RULESET# items). */
  readonly ruleSetStore: RuleSetStore;
  readonly monitoring: Monitoring;
  readonly busPolicy: BusPolicy;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { stateful, engine } = props;
    const bus = stateful.bus;
    const logs = {
      logRetention: (engine.logRetentionDays ?? DEFAULT_LOG_RETENTION_DAYS) as RetentionDays,
      logKey: stateful.logsKey,
    };
    const monitoredWorlds = engine.monitoredWorlds ?? [];

    this.evaluateSnapshot = new EngineFunction(this, 'EvaluateSnapshot', {
      entry: 'functions/evaluate-snapshot.ts',
      ...logs,
      description: 'Evaluates each hub risk snapshot against the world rule set',
      asyncFailureQueue: true,
    });
    this.evaluateMarket = new EngineFunction(this, 'EvaluateMarket', {
      entry: 'functions/evaluate-market.ts',
      ...logs,
      description: 'Stores market data and requests one re-evaluation per world it concerns',
      asyncFailureQueue: true,
    });
    // Each world its own async invocation (own retries, own on-failure queue); the reservation bounds how
    // many worlds a global market event evaluates at once, the rest wait in Lambda's async queue.
    this.evaluateMarketWorld = new EngineFunction(this, 'EvaluateMarketWorld', {
      entry: 'functions/evaluate-market-world.ts',
      ...logs,
      description: "Re-evaluates one world's latest fresh snapshot on market data",
      asyncFailureQueue: true,
      reservedConcurrentExecutions: engine.marketWorldConcurrency ?? DEFAULT_MARKET_WORLD_CONCURRENCY,
    });
    this.approvalTimeout = new EngineFunction(this, 'ApprovalTimeout', {
      entry: 'functions/approval-timeout.ts',
      ...logs,
      description: 'Applies the default action to proposed signals whose approval timed out',
      asyncFailureQueue: true,
      timeout: Duration.seconds(50),
    });
    this.opsCommand = new EngineFunction(this, 'OpsCommand', {
      entry: 'functions/ops-command.ts',
      ...logs,
      description: 'Ops approve, reject, mute and unmute, behind an IAM-authenticated function URL',
      timeout: Duration.seconds(15),
    });
    const inboundFailures = new Queue(this, 'InboundDeliveryFailures', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.outboxSweeper = new OutboxSweeper(this, 'OutboxSweeper', {
      deadLetterQueue: inboundFailures,
      ...logs,
    });
    // The functions that evaluate and publish signals; the market function does neither (see below).
    const engineFunctions = [
      this.evaluateSnapshot,
      this.evaluateMarketWorld,
      this.approvalTimeout,
      this.opsCommand,
      this.outboxSweeper.fn,
    ];

    grantEngineAccess(this, {
      stateful,
      engine,
      engineFunctions,
      evaluateMarket: this.evaluateMarket,
      snapshotReaders: [this.evaluateSnapshot, this.evaluateMarketWorld, this.approvalTimeout],
      hubReaders: [this.evaluateSnapshot, this.evaluateMarketWorld],
    });
    const controlBusPipe = engine.controlBus
      ? new ControlBusPipe(this, 'ControlBusPipe', { bus, source: engine.controlBus })
      : undefined;

    const snapshotSource = validateSource(
      'snapshotSource',
      engine.snapshotSource ?? DEFAULT_SNAPSHOT_SOURCE,
      EXIT_ENGINE_SOURCE,
    );
    const marketSource = validateSource(
      'marketSource',
      engine.marketSource ?? DEFAULT_MARKET_SOURCE,
      EXIT_ENGINE_SOURCE,
    );
    if (marketSource === snapshotSource) {
      throw new Error(`marketSource: '${marketSource}' must differ from snapshotSource`);
    }
    this.busPolicy = new BusPolicy(this, 'BusPolicy', {
      bus,
      streams: [
        {
          name: 'ExitEngine',
          source: EXIT_ENGINE_SOURCE,
          detailTypes: PUBLISHED_DETAIL_TYPES,
          producers: engineFunctions.map((fn) => fn.role.roleArn),
          allowProducers: false,
          // Our source, with the internal request type only (MarketReevaluation below says so).
          sourceAlsoPutBy: [this.evaluateMarket.role.roleArn],
        },
        {
          // The per-world requests: only the market function, and only under our source (above).
          name: 'MarketReevaluation',
          source: EXIT_ENGINE_SOURCE,
          detailTypes: [MARKET_REEVALUATION_DETAIL_TYPE],
          producers: [this.evaluateMarket.role.roleArn],
          allowProducers: false,
          protectsSource: false,
        },
        {
          name: 'Snapshot',
          source: snapshotSource,
          detailTypes: [SNAPSHOT_DETAIL_TYPE],
          producers: [
            ...(engine.snapshotProducerPrincipals ?? []),
            ...(engine.controlBusPipeRoleArn ? [engine.controlBusPipeRoleArn] : []),
            // The ControlBus bridge puts the hub's snapshots on the bus as its own role.
            ...(controlBusPipe ? [controlBusPipe.role.roleArn] : []),
          ],
          allowProducers: true,
        },
        {
          name: 'Market',
          source: marketSource,
          detailTypes: [MARKET_DETAIL_TYPE],
          producers: [...(engine.marketProducerPrincipals ?? [])],
          allowProducers: true,
        },
      ],
    });

    // The sweep reports snapshot freshness per monitored world (what the silence alarms watch), and only those.
    if (monitoredWorlds.length > 0)
      this.approvalTimeout.setEnv('MONITORED_WORLDS', monitoredWorlds.join(','));

    Validations.of(inboundFailures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the dead-letter queue of the inbound rule targets (EventBridge DeadLetterConfig).',
    });

    const snapshotRule = new Rule(this, 'SnapshotRule', {
      eventBus: bus,
      description: 'risk_snapshot_updated from the risk signal hub to the evaluator',
      eventPattern: cdkEventPattern(snapshotRoute({ snapshotSource })),
      targets: [
        new targets.LambdaFunction(this.evaluateSnapshot.function, {
          deadLetterQueue: inboundFailures,
          ...INBOUND_TARGET_RETRY,
        }),
      ],
    });
    const marketRule = new Rule(this, 'MarketRule', {
      eventBus: bus,
      description: 'market_snapshot_updated to the market re-evaluator',
      eventPattern: cdkEventPattern(marketRoute({ marketSource })),
      targets: [
        new targets.LambdaFunction(this.evaluateMarket.function, {
          deadLetterQueue: inboundFailures,
          ...INBOUND_TARGET_RETRY,
        }),
      ],
    });
    const marketWorldRule = new Rule(this, 'MarketWorldRule', {
      eventBus: bus,
      description: 'market_reevaluation_requested (one per world) to the per-world market re-evaluator',
      eventPattern: cdkEventPattern(marketReevaluationRoute()),
      targets: [
        new targets.LambdaFunction(this.evaluateMarketWorld.function, {
          deadLetterQueue: inboundFailures,
          ...INBOUND_TARGET_RETRY,
        }),
      ],
    });
    // Schedules run on the account's default bus, whatever bus the engine uses for its events.
    const approvalSchedule = new Rule(this, 'ApprovalTimeoutSchedule', {
      description: 'Every minute: settle proposed signals whose approval window has passed',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [
        new targets.LambdaFunction(this.approvalTimeout.function, {
          deadLetterQueue: inboundFailures,
          retryAttempts: 2,
          // The next tick is a minute away; an older tick is worthless.
          maxEventAge: Duration.minutes(5),
        }),
      ],
    });

    this.opsCommandUrl = this.opsCommand.function.addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM });

    this.gateway = new GatewaySubscriptions(this, 'Gateway', {
      bus,
      ...(engine.gatewayQueue === undefined ? {} : { queue: engine.gatewayQueue }),
      ...(engine.gatewayHttps ? { https: engine.gatewayHttps } : {}),
      ...(engine.gatewayTargetBusArn ? { targetBusArn: engine.gatewayTargetBusArn } : {}),
    });

    this.opsPolicies = new OpsPolicies(this, 'OpsPolicies', {
      readableTables: [stateful.signals, stateful.audit],
      stackNames: [stateful.stackName, this.stackName],
      opsCommand: this.opsCommand.function,
    });

    this.ruleSetStore = new RuleSetStore(this, 'RuleSetStore', {
      stateTable: stateful.state.table,
      auditTable: stateful.audit.table,
      stackNames: [stateful.stackName, this.stackName],
    });

    const deadLetterQueues: Record<string, Queue> = {
      InboundDelivery: inboundFailures,
      GatewayDelivery: this.gateway.deliveryFailures,
    };
    if (this.gateway.queueDeadLetters) deadLetterQueues.GatewayQueue = this.gateway.queueDeadLetters;
    for (const [name, fn] of Object.entries({
      EvaluateSnapshot: this.evaluateSnapshot,
      EvaluateMarket: this.evaluateMarket,
      EvaluateMarketWorld: this.evaluateMarketWorld,
      ApprovalTimeout: this.approvalTimeout,
      SweepOutboxes: this.outboxSweeper.fn,
    })) {
      if (fn.failureQueue) deadLetterQueues[`${name}AsyncFailures`] = fn.failureQueue;
    }

    this.monitoring = new Monitoring(this, 'Monitoring', {
      functions: {
        EvaluateSnapshot: this.evaluateSnapshot.function,
        EvaluateMarket: this.evaluateMarket.function,
        EvaluateMarketWorld: this.evaluateMarketWorld.function,
        ApprovalTimeout: this.approvalTimeout.function,
        OpsCommand: this.opsCommand.function,
        SweepOutboxes: this.outboxSweeper.fn.function,
      },
      asyncFunctions: ['EvaluateSnapshot', 'EvaluateMarket', 'EvaluateMarketWorld', 'ApprovalTimeout'],
      // A global market event queues more worlds than the reservation runs at once: throttling is the design.
      throttledByDesign: { EvaluateMarketWorld: MARKET_WORLD_MAX_QUEUE_AGE },
      rules: {
        SnapshotRule: snapshotRule,
        MarketRule: marketRule,
        MarketWorldRule: marketWorldRule,
        ApprovalTimeoutSchedule: approvalSchedule,
        GatewayRule: this.gateway.rule,
      },
      tables: {
        Signals: stateful.signals.table,
        State: stateful.state.table,
        Audit: stateful.audit.table,
      },
      ...(this.gateway.queue
        ? { gatewayQueue: { queue: this.gateway.queue, retention: GATEWAY_QUEUE_RETENTION } }
        : {}),
      deadLetterQueues,
      topicKey: stateful.opsKey,
      ...(engine.alarmEmail ? { alarmEmail: engine.alarmEmail } : {}),
      approvalAgeAlarmSeconds: engine.approvalAgeAlarmSeconds ?? 3600,
      monitoredWorlds,
      snapshotIntervalSeconds: engine.snapshotIntervalSeconds ?? 3600,
    });

    if (this.gateway.queue) {
      new CfnOutput(this, 'GatewayQueueUrl', { value: this.gateway.queue.queueUrl });
      new CfnOutput(this, 'GatewayQueueArn', { value: this.gateway.queue.queueArn });
    }
    new CfnOutput(this, 'OpsCommandUrl', { value: this.opsCommandUrl.url });
    new CfnOutput(this, 'OpsReadPolicyArn', { value: this.opsPolicies.read.managedPolicyArn });
    new CfnOutput(this, 'OpsApprovePolicyArn', { value: this.opsPolicies.approve.managedPolicyArn });
    new CfnOutput(this, 'RulesPublishPolicyArn', { value: this.ruleSetStore.publishPolicy.managedPolicyArn });
    this.outboxSweeper.alarmOnAge(this.monitoring.topic, engine.stuckOutboxAlarmSeconds ?? 900);
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
  }
}
