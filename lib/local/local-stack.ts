import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { createTables, tableNames } from '#lib/adapters/dynamodb/create-tables.js';
import type { TableNames } from '#lib/adapters/dynamodb/engine-store.js';
import { type EngineConfig, loadConfig } from '#lib/config.js';
import {
  gatewayRoute,
  marketReevaluationRoute,
  marketRoute,
  type RouteSources,
  snapshotRoute,
} from '#lib/contracts/routes.js';
import { type EngineDeps, ExitEngine, type Outcome } from '#lib/engine/engine.js';
import type { OpsService } from '#lib/engine/ops.js';
import { createMarketHandler, type MarketOutcome } from '#lib/handlers/market-handler.js';
import { createMarketWorldHandler } from '#lib/handlers/market-world-handler.js';
import { createSnapshotHandler } from '#lib/handlers/snapshot-handler.js';
import type { RuleSetRegistry } from '#lib/rules/ruleset-loader.js';
import { ReloadingRuleSetDirectory } from '#lib/rulesets/reloading-directory.js';
import { wireEngine, wireMarketRequests } from '#lib/runtime/wire.js';
import { wireDynamoDb } from '#lib/runtime/wire-dynamodb.js';
import { wireOps } from '#lib/runtime/wire-ops.js';
import { acquireDataDirLock } from './data-dir-lock.js';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type LocalDynamoDb,
  startLocalDynamoDb,
} from './dynamodb-server.js';
import { type EventBridgeEvent, LocalEventBus } from './local-event-bus.js';
import { ReservedConcurrency } from './reserved-concurrency.js';
import { type ResumeResult, resumePendingOutboxes } from './resume-outboxes.js';

/** The bus the local stack creates (as the CDK stack creates `exit-engine`). */
export const LOCAL_BUS_NAME = 'exit-engine-local';
/**
 * Retries of a failed delivery (20 ms doubling, capped at 1 s: ~3 s in all). Enough for a
 * concurrent duplicate to outwait the invocation that holds its claim on a loaded machine;
 * EventBridge itself retries for up to 24 hours.
 */
export const LOCAL_MAX_RETRIES = 8;
/** Per-world market re-evaluations at once, as the CDK stack's default reserved concurrency. */
export const LOCAL_MARKET_WORLD_CONCURRENCY = 16;

/** Routes as on AWS: snapshots only from the configured hub source (see lib/contracts/routes.ts). */
export interface LocalStackOptions extends RouteSources {
  /** Use this DynamoDB (tests share one); otherwise start DynamoDB Local, or dynalite without Java. */
  dynamoEndpoint?: string;
  /** Whether the given endpoint supports transactions (dynalite does not). */
  dynamoTransactions?: boolean;
  preferDynalite?: boolean;
  tablePrefix?: string;
  rulesetsPath?: string;
  /** Rule sets already loaded (`local --rules FILE`); wins over `rulesetsPath`. */
  ruleSets?: RuleSetRegistry;
  /**
   * Keep DynamoDB Local's tables in this folder (its -dbPath) so a restarted runtime resumes where
   * it stopped; one runtime per folder (a lock file with the pid).
   */
  dataDir?: string;
  /** How many recent outcomes and emitted events `outcomes`/`emitted` keep (memory stays bounded). */
  recentLimit?: number;
  /** `event-time` replays history: each event is evaluated as of its own EventBridge time. */
  clock?: 'wall' | 'event-time' | ((event: { time?: string }) => number);
  /** Replace engine dependencies (tests inject faults into the publisher this way). */
  overrides?: (deps: EngineDeps) => Partial<EngineDeps>;
  busPort?: number;
  /** An S3-compatible endpoint for `s3://` refs (tests); without it local runs refuse s3 refs. */
  s3Endpoint?: string;
  /** Upstream's hub API, to resolve refs the engine cannot read itself (`redis://`, ...). */
  hubUrl?: string;
  /** The hub's bearer token, if it wants one (local runs take it from EXIT_ENGINE_HUB_TOKEN). */
  hubToken?: string;
  /** Where relative `file://` refs (upstream's default `.risk_blobs/...`) are read from. */
  fileRefRoot?: string;
  /** Retries of the engine rules' deliveries (EventBridge → Lambda async retries). */
  maximumRetryAttempts?: number;
  /** The per-world market re-evaluator's reserved concurrency (LOCAL_MARKET_WORLD_CONCURRENCY). */
  marketWorldConcurrency?: number;
}

/** A running local pipeline: DynamoDB, the bus with its rules, and the engine behind them. */
export interface LocalStack {
  busEndpoint: string;
  dynamoEndpoint: string;
  dynamoKind: LocalDynamoDb['kind'] | 'external';
  ttl: boolean;
  tables: TableNames;
  config: EngineConfig;
  bus: LocalEventBus;
  engine: ExitEngine;
  /** The ops use cases over the same tables and bus (approve, reject, the timeout sweep, mutes). */
  ops: OpsService;
  /** The recent exit_signal_emitted events the bus saw, in order (the newest `recentLimit`..2×). */
  emitted: EventBridgeEvent[];
  /** The recent handler outcomes, in order, retries included (the newest `recentLimit`..2×). */
  outcomes: Outcome[];
  /** Calls `listener` for every handler outcome from now on. */
  onOutcome(listener: (outcome: Outcome) => void): () => void;
  /** Calls `listener` for every exit_signal_emitted event from now on. */
  onEmitted(listener: (event: EventBridgeEvent) => void): () => void;
  /** Completes outboxes a previous run committed but did not publish (see resume-outboxes.ts). */
  resumePendingOutboxes(): Promise<ResumeResult[]>;
  /** The per-world market re-evaluator's reserved concurrency (the bench holds it to time the market function alone). */
  marketWorldConcurrency: ReservedConcurrency;
  /** The DynamoDB Local JVM's pid, when this stack started one. */
  jvmPid?: number;
  /** The pid of a killed runtime whose stale data-dir lock this stack took over. */
  staleLockFrom?: number;
  /** The rule-set folder, reloaded when a file in it changes; absent with a single `ruleSets` given. */
  rulesDir?: ReloadingRuleSetDirectory;
  /** Sets the environment a Lambda would get, for code that reads it (the CLI). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts the embedded default: local DynamoDB, local EventBridge, the same handler as Lambda. */
export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  if (opts.dataDir !== undefined && opts.dynamoEndpoint !== undefined)
    throw new Error(
      'dataDir and dynamoEndpoint exclude each other: the data dir is for the DynamoDB Local this starts',
    );
  const lock = opts.dataDir === undefined ? undefined : acquireDataDirLock(opts.dataDir);
  let dynamo: LocalDynamoDb | undefined;
  try {
    dynamo = opts.dynamoEndpoint
      ? undefined
      : await startLocalDynamoDb({
          ...(opts.preferDynalite ? { prefer: 'dynalite' as const } : {}),
          ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
        });
  } catch (error) {
    lock?.release();
    throw error;
  }
  const dynamoEndpoint = opts.dynamoEndpoint ?? dynamo!.endpoint;
  const transactions = opts.dynamoEndpoint ? (opts.dynamoTransactions ?? true) : dynamo!.transactions;
  const bus = new LocalEventBus({ region: LOCAL_REGION, retryBaseDelayMs: 20 });
  let started = false;
  try {
    const { endpoint: busEndpoint } = await bus.start(
      opts.busPort !== undefined ? { port: opts.busPort } : {},
    );
    started = true;
    bus.createEventBus(LOCAL_BUS_NAME);
    const tables = tableNames(opts.tablePrefix ?? 'exit-engine-local-');
    const env: Record<string, string> = {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      SIGNALS_TABLE_NAME: tables.signals,
      STATE_TABLE_NAME: tables.state,
      AUDIT_TABLE_NAME: tables.audit,
      EVENT_BUS_NAME: LOCAL_BUS_NAME,
      RULESETS_PATH: opts.rulesetsPath ?? 'rulesets',
      // A `rules publish` to this runtime takes effect within a second.
      RULESET_CACHE_TTL_SEC: '1',
      DYNAMODB_ENDPOINT: dynamoEndpoint,
      EVENTBRIDGE_ENDPOINT: busEndpoint,
      EXIT_ENGINE_DYNAMODB_TRANSACTIONS: String(transactions),
      ...(opts.s3Endpoint ? { S3_ENDPOINT: opts.s3Endpoint } : {}),
      ...(opts.hubUrl ? { HUB_BASE_URL: opts.hubUrl } : {}),
      ...(opts.hubToken ? { HUB_TOKEN: opts.hubToken } : {}),
      ...(opts.fileRefRoot ? { FILE_REF_ROOT: opts.fileRefRoot } : {}),
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR',
    };
    // The SDK clients read region and credentials from the environment, as in Lambda.
    // Options an earlier stack in this process set must not carry over to this one.
    for (const key of ['HUB_BASE_URL', 'HUB_TOKEN', 'FILE_REF_ROOT'])
      if (!(key in env)) delete process.env[key];
    Object.assign(process.env, env);
    const config = loadConfig({ ...process.env, ...env });
    const client = new DynamoDBClient({
      endpoint: dynamoEndpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    const { ttl } = await createTables(client, tables);
    client.destroy();

    const rulesDir = opts.ruleSets ? undefined : new ReloadingRuleSetDirectory(config.RULESETS_PATH);
    // One DynamoDB client for the engine's stores and the ops store, as in the functions.
    const dynamoClient = wireDynamoDb(config);
    const base = wireEngine(config, dynamoClient, opts.ruleSets ? { ruleSets: opts.ruleSets } : {}, rulesDir);
    const deps = { ...base, ...(opts.overrides?.(base) ?? {}) };
    const engine = new ExitEngine(deps);
    const clock = opts.clock ?? 'wall';
    const clockFn =
      typeof clock === 'function'
        ? clock
        : clock === 'event-time'
          ? (e: { time?: string }) => (e.time ? Date.parse(e.time) : Date.now())
          : () => Date.now();
    const handler = createSnapshotHandler({ engine, clock: clockFn });
    const recentLimit = opts.recentLimit ?? 1_000;
    const outcomes: Outcome[] = [];
    const emitted: EventBridgeEvent[] = [];
    const outcomeListeners = new Set<(outcome: Outcome) => void>();
    const emittedListeners = new Set<(event: EventBridgeEvent) => void>();
    const recordOutcome = (outcome: Outcome) => {
      keepRecent(outcomes, outcome, recentLimit);
      for (const listener of outcomeListeners) listener(outcome);
    };

    bus.putRule({
      name: 'risk-snapshot-to-engine',
      eventBusName: LOCAL_BUS_NAME,
      eventPattern: snapshotRoute(opts),
      retryPolicy: { maximumRetryAttempts: opts.maximumRetryAttempts ?? LOCAL_MAX_RETRIES },
      targets: [
        {
          id: 'evaluate-snapshot',
          invoke: async (event) => {
            const outcome = (await withDeadline(LOCAL_FUNCTION_TIMEOUT_MS, (context) =>
              handler(event as never, context),
            )('evaluate-snapshot')) as Outcome;
            recordOutcome(outcome);
            return outcome;
          },
        },
      ],
    });
    // The market function puts one request per world on the bus through the real SDK client, as in
    // Lambda; a rule routes each to the per-world function, which runs at most its reserved concurrency.
    const marketHandler = createMarketHandler({
      engine,
      requests: wireMarketRequests(config),
      clock: clockFn,
    });
    bus.putRule({
      name: 'market-data-to-engine',
      eventBusName: LOCAL_BUS_NAME,
      eventPattern: marketRoute(opts),
      retryPolicy: { maximumRetryAttempts: opts.maximumRetryAttempts ?? LOCAL_MAX_RETRIES },
      targets: [
        {
          id: 'evaluate-market',
          invoke: async (event) => {
            const result = (await withDeadline(LOCAL_FUNCTION_TIMEOUT_MS, (context) =>
              marketHandler(event as never, context),
            )('evaluate-market')) as MarketOutcome;
            for (const outcome of result.outcomes) recordOutcome(outcome);
            return result;
          },
        },
      ],
    });
    const marketWorldHandler = createMarketWorldHandler({ engine, clock: clockFn });
    const reserved = new ReservedConcurrency(opts.marketWorldConcurrency ?? LOCAL_MARKET_WORLD_CONCURRENCY);
    bus.putRule({
      name: 'market-reevaluation-to-engine',
      eventBusName: LOCAL_BUS_NAME,
      eventPattern: marketReevaluationRoute(),
      retryPolicy: { maximumRetryAttempts: opts.maximumRetryAttempts ?? LOCAL_MAX_RETRIES },
      targets: [
        {
          id: 'evaluate-market-world',
          invoke: (event) =>
            reserved.run(async () => {
              const outcome = (await withDeadline(LOCAL_FUNCTION_TIMEOUT_MS, (context) =>
                marketWorldHandler(event as never, context),
              )('evaluate-market-world')) as Outcome;
              recordOutcome(outcome);
              return outcome;
            }),
        },
      ],
    });
    bus.putRule({
      name: 'exit-signals-to-gateway',
      eventBusName: LOCAL_BUS_NAME,
      eventPattern: gatewayRoute(),
      targets: [
        {
          id: 'gateway-recorder',
          invoke: async (event) => {
            keepRecent(emitted, event, recentLimit);
            for (const listener of emittedListeners) listener(event);
          },
        },
      ],
    });

    return {
      busEndpoint,
      dynamoEndpoint,
      dynamoKind: dynamo?.kind ?? 'external',
      ttl,
      tables,
      config,
      bus,
      engine,
      ops: wireOps(config, deps, dynamoClient),
      marketWorldConcurrency: reserved,
      emitted,
      outcomes,
      onOutcome: (listener) => listen(outcomeListeners, listener),
      onEmitted: (listener) => listen(emittedListeners, listener),
      async resumePendingOutboxes() {
        const resumeClient = new DynamoDBClient({
          endpoint: dynamoEndpoint,
          region: LOCAL_REGION,
          credentials: LOCAL_CREDENTIALS,
        });
        try {
          const results = await resumePendingOutboxes(engine, resumeClient, tables.state);
          await bus.drain();
          return results;
        } finally {
          resumeClient.destroy();
        }
      },
      ...(dynamo?.jvmPid !== undefined ? { jvmPid: dynamo.jvmPid } : {}),
      ...(lock?.staleFrom !== undefined ? { staleLockFrom: lock.staleFrom } : {}),
      ...(rulesDir ? { rulesDir } : {}),
      env,
      async stop() {
        await bus.stop();
        await dynamo?.stop();
        lock?.release();
      },
    };
  } catch (error) {
    if (started) await bus.stop();
    await dynamo?.stop();
    lock?.release();
    throw error;
  }
}

/** The engine functions' timeout, as the CDK construct sets it. */
export const LOCAL_FUNCTION_TIMEOUT_MS = 30_000;

/** A Lambda invocation ran past its timeout (Lambda would have stopped it). */
export class InvocationTimeoutError extends Error {
  override readonly name = 'InvocationTimeoutError';
}

/**
 * Runs a handler as Lambda would: a context whose remaining time counts down to the deadline, and
 * a failed invocation (retried by the bus) once the deadline passes. A process cannot be stopped
 * mid-call here as Lambda stops one, so what the abandoned call still does is fenced by the engine
 * (it refuses to publish without time and a lease left), exactly as it must be in AWS.
 */
export function withDeadline<T>(timeoutMs: number, run: (context: Context) => Promise<T>) {
  return async (functionName: string): Promise<T> => {
    const context = lambdaContext(functionName, timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new InvocationTimeoutError(`${functionName} timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([run(context), deadline]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** The Lambda context a local invocation gets: a fresh request id, time counting down to its deadline. */
export function lambdaContext(functionName: string, timeoutMs = LOCAL_FUNCTION_TIMEOUT_MS): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Appends, dropping the oldest half once the list holds twice the limit (amortised O(1)). */
function keepRecent<T>(list: T[], item: T, limit: number): void {
  list.push(item);
  if (list.length >= 2 * limit) list.splice(0, list.length - limit);
}

function listen<T>(set: Set<T>, listener: T): () => void {
  set.add(listener);
  return () => set.delete(listener);
}
