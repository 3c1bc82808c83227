import { randomUUID } from 'node:crypto';
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandOutput,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { expect, inject } from 'vitest';
import { tableNames } from '#lib/adapters/dynamodb/create-tables.js';
import type { TableNames } from '#lib/adapters/dynamodb/engine-store.js';
import type { ExitSignalEvent } from '#lib/contracts/exit-signal.js';
import type { EngineDeps, Outcome } from '#lib/engine/engine.js';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '#lib/local/local-stack.js';
import { describeFixture } from './describe-fixture.js';
import { tableReader } from './tables.js';

/** The local pipeline on the suite's DynamoDB Local (or dynalite), in tables of its own, with a real SDK client on its bus. */
export interface Pipeline {
  readonly stack: LocalStack;
  readonly client: EventBridgeClient;
  /** Reads the pipeline's tables as an operator would (consistent reads of the base tables). */
  readonly read: ReturnType<typeof tableReader>;
  /** Puts the entries in one call with the SDK client, checks the bus took them all, and waits until every delivery is done. */
  put(...entries: PutEventsRequestEntry[]): Promise<void>;
  /** Puts the entries in one call and waits for the deliveries, leaving the answer to the caller. */
  send(...entries: PutEventsRequestEntry[]): Promise<PutEventsCommandOutput>;
  /** The `exit_signal_emitted` events the engine put on the bus for `world`. */
  emitted(world: string): ExitSignalEvent[];
  /** The handler outcomes for `world`, retries included, in order. */
  outcomes(world: string): Outcome['outcome'][];
  stop(): Promise<void>;
}

/** What a test may choose of the local stack; the DynamoDB endpoint and the table prefix are the suite's. */
export interface PipelineOptions
  extends Omit<LocalStackOptions, 'dynamoEndpoint' | 'dynamoTransactions' | 'tablePrefix' | 'overrides'> {
  /** Names the tables (`it-<name>-<random>-`), so a run's leftovers say which file made them. */
  name?: string;
  /**
   * `false` runs the stores' ordered writes (dynalite's path) even on DynamoDB Local; by default the
   * pipeline uses transactions where the emulator has them.
   */
  transactions?: boolean;
  /** Replaces engine dependencies (fault injection); `tables` are the pipeline's, for a store of the test's own. */
  overrides?: (deps: EngineDeps, tables: TableNames) => Partial<EngineDeps>;
}

export async function startPipeline(options: PipelineOptions = {}): Promise<Pipeline> {
  const { name = 'pipeline', transactions, overrides, ...rest } = options;
  const tablePrefix = `it-${name}-${randomUUID().slice(0, 8)}-`;
  const stack = await startLocalStack({
    dynamoEndpoint: inject('dynamoEndpoint'),
    dynamoTransactions: (transactions ?? true) && inject('dynamoKind') === 'dynamodb-local',
    tablePrefix,
    ...(overrides ? { overrides: (deps: EngineDeps) => overrides(deps, tableNames(tablePrefix)) } : {}),
    ...rest,
  });
  const client = new EventBridgeClient({ endpoint: stack.busEndpoint, region: 'us-east-1' });
  const read = tableReader(stack);
  const send = async (...entries: PutEventsRequestEntry[]) => {
    const out = await client.send(new PutEventsCommand({ Entries: entries }));
    await stack.bus.drain();
    return out;
  };
  return {
    stack,
    client,
    read,
    async put(...entries) {
      expect((await send(...entries)).FailedEntryCount).toBe(0);
    },
    send,
    emitted: (world) =>
      stack.emitted.map((e) => e.detail as ExitSignalEvent).filter((e) => e.data.world_id === world),
    outcomes: (world) => stack.outcomes.filter((o) => o.world_id === world).map((o) => o.outcome),
    async stop() {
      client.destroy();
      read.destroy();
      await stack.stop();
    },
  };
}

/** A pipeline for the enclosing `describe`: started in its `beforeAll`, stopped in its `afterAll` (see describeFixture). */
export function usePipeline(options: PipelineOptions | (() => PipelineOptions) = {}): Pipeline {
  return describeFixture(
    () => startPipeline(typeof options === 'function' ? options() : options),
    (pipeline) => pipeline.stop(),
  );
}
