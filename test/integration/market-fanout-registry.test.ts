import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbEngineStore } from '#lib/adapters/dynamodb/engine-store.js';
import type { SnapshotData } from '#lib/contracts/risk-snapshot.js';
import type { LatestSnapshot } from '#lib/engine/ports.js';
import { latestRecord } from '#lib/engine/records.js';
import { localDocumentClient } from '#lib/local/dynamodb-server.js';
import { freshTables } from './support/tables.js';

/**
 * The world registry the market fan-out lists (latest-snapshot-items.ts) must say what each world's
 * latest record keeps also when two snapshots of one world, stored under different rule sets, race:
 * a world listed as keeping only its weights while its record keeps the positions would never be
 * asked on a market event. The race is made real, not simulated: a second client on the same
 * DynamoDB holds the slower writer's record update back until the faster writer has finished.
 */

const T0 = Date.parse('2025-03-10T21:00:00Z');
type Kept = LatestSnapshot['body_kept'];

function snapshot(world: string, asOfMs: number): SnapshotData {
  return {
    world_id: world,
    as_of: new Date(asOfMs).toISOString(),
    version: `v${asOfMs}`,
    weights: { a: 1 },
    ttl_sec: 600,
  };
}

function advance(store: DynamoDbEngineStore, world: string, asOfMs: number, kept: Kept) {
  const data = snapshot(world, asOfMs);
  return store.advanceLatestSnapshot(latestRecord(data, `t-${world}-${asOfMs}`, `ce-${asOfMs}`, kept), data);
}

describe('world registry under racing snapshots (DynamoDB Local)', () => {
  let fast: DynamoDbEngineStore;
  let slow: DynamoDbEngineStore;
  let clients: DynamoDBClient[] = [];
  /** Runs once, just before the slow store's next UpdateItem (its latest-record update) is sent. */
  let beforeSlowUpdate: (() => Promise<unknown>) | undefined;

  beforeAll(async () => {
    const t = await freshTables('it-registry-');
    const slowClient = localDocumentClient(inject('dynamoEndpoint')).use((next) => async (call) => {
      const hook = beforeSlowUpdate;
      if (hook && call.operation === 'UpdateItem') {
        beforeSlowUpdate = undefined;
        await hook();
      }
      return next(call);
    });
    clients = [t.client];
    fast = new DynamoDbEngineStore(t.storeClient, t.tables, t.transactions);
    slow = new DynamoDbEngineStore(slowClient, t.tables, t.transactions);
  });
  afterAll(() => {
    for (const c of clients) c.destroy();
  });

  const listed = async (world: string) =>
    (await fast.listWorldsForMarket()).find((w) => w.world_id === world);

  it('a slower older snapshot that registered what it keeps and then lost the record gives the registry back', async () => {
    const world = 'w-race-lost';
    await advance(fast, world, T0, 'positions');
    // The older snapshot, stored under a rule set without market rules, registers 'weights' first...
    beforeSlowUpdate = () => advance(fast, world, T0 + 2, 'positions');
    // ...and loses the record to a newer one that keeps the positions (and saw nothing to register).
    expect(await advance(slow, world, T0 + 1, 'weights')).toBe('older');
    expect(beforeSlowUpdate).toBeUndefined();
    expect((await fast.getLatestSnapshot(world))?.body_kept).toBe('positions');
    expect(await listed(world)).toEqual({ world_id: world, body_kept: 'positions' });
  });

  it('a newer snapshot whose record moved under it to one keeping something else registers what it keeps', async () => {
    const world = 'w-race-moved';
    await advance(fast, world, T0, 'positions');
    // The newer snapshot reads a record keeping what it keeps (nothing to register)...
    beforeSlowUpdate = () => advance(fast, world, T0 + 1, 'weights');
    // ...meanwhile an older one, stored under a rule set without market rules, registers 'weights' and
    // writes the record; the newer one's update then replaces it.
    expect(await advance(slow, world, T0 + 2, 'positions')).toBe('advanced');
    expect(beforeSlowUpdate).toBeUndefined();
    expect((await fast.getLatestSnapshot(world))?.body_kept).toBe('positions');
    expect(await listed(world)).toEqual({ world_id: world, body_kept: 'positions' });
  });

  it('an older snapshot arriving after a newer one changes neither the record nor the registry', async () => {
    const world = 'w-race-late';
    await advance(fast, world, T0 + 1, 'positions');
    expect(await advance(fast, world, T0, 'weights')).toBe('older');
    expect(await listed(world)).toEqual({ world_id: world, body_kept: 'positions' });
  });
});
