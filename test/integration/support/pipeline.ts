import { randomUUID } from 'node:crypto';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { expect, inject } from 'vitest';
import type { ExitSignalEvent } from '#lib/contracts/exit-signal.js';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '#lib/local/local-stack.js';

/** The local pipeline on the suite's DynamoDB Local (or dynalite), in tables of its own, with a real SDK client on its bus. */
export interface Pipeline {
  readonly stack: LocalStack;
  readonly client: EventBridgeClient;
  /** Puts one entry with the SDK client, checks the bus took it, and waits until every delivery is done. */
  put(entry: PutEventsRequestEntry): Promise<void>;
  /** The `exit_signal_emitted` events the engine put on the bus for `world`. */
  emitted(world: string): ExitSignalEvent[];
  stop(): Promise<void>;
}

export async function startPipeline(
  options: Omit<LocalStackOptions, 'dynamoEndpoint' | 'dynamoTransactions' | 'tablePrefix'>,
): Promise<Pipeline> {
  const stack = await startLocalStack({
    dynamoEndpoint: inject('dynamoEndpoint'),
    dynamoTransactions: inject('dynamoKind') === 'dynamodb-local',
    tablePrefix: `it-${randomUUID().slice(0, 8)}-`,
    ...options,
  });
  const client = new EventBridgeClient({ endpoint: stack.busEndpoint, region: 'us-east-1' });
  return {
    stack,
    client,
    async put(entry) {
      const out = await client.send(new PutEventsCommand({ Entries: [entry] }));
      expect(out.FailedEntryCount).toBe(0);
      await stack.bus.drain();
    },
    emitted: (world) =>
      stack.emitted.map((e) => e.detail as ExitSignalEvent).filter((e) => e.data.world_id === world),
    async stop() {
      client.destroy();
      await stack.stop();
    },
  };
}
