import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbEngineStore } from '#lib/adapters/dynamodb/engine-store.js';
import type { SnapshotData } from '#lib/contracts/risk-snapshot.js';
import type { EvaluationCommit } from '#lib/engine/ports.js';
import { latestRecord } from '#lib/engine/records.js';
import { useFreshTables } from './support/tables.js';

const T0 = Date.parse('2025-03-10T21:00:00Z');

/** A 20-strategy snapshot of ~20 KB: the size the compact record must not carry. */
function bigSnapshot(world: string, asOfMs: number, version: string): SnapshotData {
  const ids = Array.from({ length: 20 }, (_, i) => `strategy-${i}`);
  return {
    world_id: world,
    as_of: new Date(asOfMs).toISOString(),
    version,
    weights: Object.fromEntries(ids.map((id) => [id, 1 / 20])),
    realized_returns: Object.fromEntries(
      ids.map((id, i) => [id, Array.from({ length: 50 }, (_, t) => Math.sin(i * 7 + t) * 0.0123456789)]),
    ),
    hash: `sha256:${version}`,
    ttl_sec: 900,
    created_at: new Date(asOfMs + 1000).toISOString(),
    event_version: 1,
  };
}

function commit(world: string, key: string, asOfMs: number): EvaluationCommit {
  return {
    world_id: world,
    evaluation_key: key,
    lease_owner: 'inv-1',
    publish_lease_until: 0,
    snapshot_as_of_ms: asOfMs,
    outcome: 'no_signal',
    episodes: [],
    audit: {
      world_id: world,
      record_id: `r-${key}`,
      kind: 'evaluation',
      recorded_at: '2025-03-10T21:00:31Z',
    },
    events: [],
    signal_items: [],
  };
}

/** The latest-snapshot record on DynamoDB Local: compact, and records of the old full layout still read. */
describe('latest-snapshot record (DynamoDB Local)', () => {
  let store: DynamoDbEngineStore;
  const db = useFreshTables('it-latest-');
  const raw = async (world: string, sk = 'LATEST') =>
    (
      await db.doc.send(
        new GetCommand({
          TableName: db.tables.state,
          Key: { pk: `WORLD#${world}`, sk },
          ConsistentRead: true,
        }),
      )
    ).Item;

  beforeAll(async () => {
    store = new DynamoDbEngineStore(db.storeClient, db.tables, db.transactions);
  }, 60_000);

  it('keeps the record under 1 KB for a ~20 KB snapshot, the body gzipped beside it', async () => {
    const data = bigSnapshot('w-big', T0, 'v1');
    expect(JSON.stringify(data).length).toBeGreaterThan(15_000);
    await store.advanceLatestSnapshot(latestRecord(data, 't-v1', 'ce-v1'), data);
    const record = await raw('w-big');
    expect(JSON.stringify(record).length).toBeLessThan(1024);
    expect(record).not.toHaveProperty('data_json');
    const body = await raw('w-big', String(record?.snapshot_ref));
    expect((body?.body as Uint8Array | undefined)?.byteLength ?? Number.POSITIVE_INFINITY).toBeLessThan(
      JSON.stringify(data).length / 2,
    );
    expect(body?.expires_at).toEqual(expect.any(Number));
    const latest = await store.getLatestSnapshot('w-big');
    expect(await store.getSnapshotData(latest!)).toEqual(data);
    expect(await store.listWorlds()).toContain('w-big');
  });

  it('keeps a body of the weights alone (under 1 KB) when told to, and the whole body again when not', async () => {
    const world = 'w-weights';
    const first = bigSnapshot(world, T0, 'v1');
    await store.advanceLatestSnapshot(latestRecord(first, 't-v1', 'ce-v1', 'weights'), first);
    const record = await raw(world);
    expect(record?.body_kept).toBe('weights');
    const body = await raw(world, String(record?.snapshot_ref));
    expect((body?.body as Uint8Array | undefined)?.byteLength ?? Number.POSITIVE_INFINITY).toBeLessThan(1024);
    const latest = (await store.getLatestSnapshot(world))!;
    expect(latest.body_kept).toBe('weights');
    expect(await store.getSnapshotData(latest)).toBeUndefined();
    expect(await store.getSnapshotWeights(latest)).toEqual(first.weights);

    // The rule set changed: the next snapshot keeps its whole body, and the record forgets body_kept.
    const second = bigSnapshot(world, T0 + 1000, 'v2');
    await store.advanceLatestSnapshot(latestRecord(second, 't-v2', 'ce-v2'), second);
    expect(await raw(world)).not.toHaveProperty('body_kept');
    expect(await store.getSnapshotData((await store.getLatestSnapshot(world))!)).toEqual(second);
  });

  it('reads a record of the old full layout, checks commits against it, and compacts it on the next snapshot', async () => {
    const world = 'w-legacy';
    const old = bigSnapshot(world, T0, 'v1');
    // As the store wrote it before the record was compact.
    await db.doc.send(
      new PutCommand({
        TableName: db.tables.state,
        Item: {
          pk: `WORLD#${world}`,
          sk: 'LATEST',
          world_id: world,
          as_of: old.as_of,
          as_of_ms: T0,
          version: 'v1',
          trigger_key: 't-v1',
          source_event_id: 'ce-v1',
          data_json: JSON.stringify(old),
        },
      }),
    );
    await db.doc.send(
      new PutCommand({ TableName: db.tables.state, Item: { pk: 'WORLDS', sk: world, world_id: world } }),
    );

    const latest = await store.getLatestSnapshot(world);
    expect(latest).toMatchObject({
      version: 'v1',
      as_of_ms: T0,
      expires_at_ms: Date.parse(old.created_at!) + 900_000,
      head: { world_id: world, version: 'v1', hash: 'sha256:v1', event_version: 1 },
    });
    expect(await store.getSnapshotData(latest!)).toEqual(old);

    // The commit's 'still the latest' check works on the old record.
    await store.claimEvaluation(world, 'e1', 'inv-1', T0 + 60_000, T0);
    expect(await store.commitEvaluation(commit(world, 'e1', T0))).toBe('committed');
    expect((await store.getLatestSnapshot(world))?.evaluated_as_of_ms).toBe(T0);

    // An older snapshot still loses against it; the next one replaces and compacts it.
    const older = bigSnapshot(world, T0 - 1000, 'v0');
    expect(await store.advanceLatestSnapshot(latestRecord(older, 't-v0', 'ce-v0'), older)).toBe('older');
    const next = bigSnapshot(world, T0 + 1000, 'v2');
    expect(await store.advanceLatestSnapshot(latestRecord(next, 't-v2', 'ce-v2'), next)).toBe('advanced');
    const record = await raw(world);
    expect(record).not.toHaveProperty('data_json');
    expect(record?.evaluated_as_of_ms).toBe(T0);
    expect(JSON.stringify(record).length).toBeLessThan(1024);
    expect(await store.getSnapshotData((await store.getLatestSnapshot(world))!)).toEqual(next);
    // A reader still holding the old record learns the world moved on, rather than reading v2 as v1.
    expect(await store.getSnapshotData(latest!)).toBeUndefined();
  });
});
