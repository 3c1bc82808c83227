import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbEngineStore } from '#lib/adapters/dynamodb/engine-store.js';
import { DynamoDbOpsStore } from '#lib/adapters/dynamodb/ops-store.js';
import type { EngineStore, EvaluationCommit, SignalItem } from '#lib/engine/ports.js';
import { latestRecord } from '#lib/engine/records.js';
import { useFreshTables } from './support/tables.js';

const W = 'w1';
const T0 = Date.parse('2025-03-10T21:00:00Z');

async function advance(store: EngineStore, asOfMs: number, version: string) {
  const asOf = new Date(asOfMs).toISOString();
  const data = { world_id: W, as_of: asOf, version, weights: { a: 1 } };
  return store.advanceLatestSnapshot(latestRecord(data, `t-${version}`, `ce-${version}`), data);
}

function commit(key: string, owner: string, asOfMs: number): EvaluationCommit {
  return {
    world_id: W,
    evaluation_key: key,
    lease_owner: owner,
    publish_lease_until: T0 + 60_000,
    snapshot_as_of_ms: asOfMs,
    outcome: 'no_signal',
    episodes: [],
    audit: {
      world_id: W,
      record_id: `r-${key}`,
      kind: 'evaluation',
      recorded_at: '2025-03-10T21:00:31.000Z',
    },
    events: [],
    signal_items: [],
  };
}

const signal: SignalItem = {
  signal_id: 'sig-1',
  world_id: W,
  strategy_id: 'a',
  action: 'reduce',
  reduction_ratio: 0.4,
  reason: 'var_limit_breach',
  status: 'proposed',
  mode: 'approval',
  emitted_at: '2025-03-10T21:00:31.000Z',
  as_of: '2025-03-10T21:00:00Z',
  snapshot_version: 'v1',
  evaluation_key: 'k',
  rule_ids: ['var_99_limit'],
  severity: 'blocking',
  tags: [],
  metrics: {},
  ruleset_version: 'sha256:x',
  expires_at: 0,
};

/** The conditions of the DynamoDB engine store, each with its refusal case, on DynamoDB Local. */
describe('DynamoDbEngineStore conditions (DynamoDB Local)', () => {
  let store: DynamoDbEngineStore;

  const db = useFreshTables('it-conditions-');
  beforeAll(async () => {
    store = new DynamoDbEngineStore(db.storeClient, db.tables, db.transactions);
  }, 60_000);

  it('never overwrites a stored signal row: an approved signal stays approved when an outbox is retried', async () => {
    await store.putSignals([signal]);
    await db.doc.send(
      new UpdateCommand({
        TableName: db.tables.signals,
        Key: { signal_id: 'sig-1' },
        UpdateExpression: 'SET #s = :a',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':a': 'approved' },
      }),
    );
    await store.putSignals([signal]);
    const row = await db.doc.send(
      new UpdateCommand({
        TableName: db.tables.signals,
        Key: { signal_id: 'sig-1' },
        UpdateExpression: 'SET touched = :t',
        ExpressionAttributeValues: { ':t': true },
        ReturnValues: 'ALL_NEW',
      }),
    );
    expect(row.Attributes?.status).toBe('approved');
  });

  it('never takes over a live claim, only an expired one, and says who holds it', async () => {
    expect((await store.claimEvaluation(W, 'e1', 'inv-1', T0 + 1000, T0)).claimed).toBe(true);
    const refused = await store.claimEvaluation(W, 'e1', 'inv-2', T0 + 5000, T0 + 1000);
    expect(refused).toMatchObject({
      claimed: false,
      current: { status: 'in_progress', lease_owner: 'inv-1' },
    });
    expect((await store.claimEvaluation(W, 'e1', 'inv-2', T0 + 5000, T0 + 1001)).claimed).toBe(true);
  });

  it('supersedes a commit only once a newer snapshot’s evaluation committed', async () => {
    expect(await advance(store, T0, 'v1')).toBe('advanced');
    expect(await advance(store, T0, 'v1')).toBe('same');
    expect(await advance(store, T0 - 1, 'v0')).toBe('older');
    await store.claimEvaluation(W, 'old', 'inv-a', T0 + 60_000, T0);
    await store.claimEvaluation(W, 'new', 'inv-b', T0 + 60_000, T0);
    await store.claimEvaluation(W, 'older-still', 'inv-c', T0 + 60_000, T0);
    expect(await advance(store, T0 + 1000, 'v2')).toBe('advanced');
    // v1's evaluation commits although v2 has arrived (no starvation) ...
    expect(await store.commitEvaluation(commit('old', 'inv-a', T0))).toBe('committed');
    // ... v2's commits after it ...
    expect(await store.commitEvaluation(commit('new', 'inv-b', T0 + 1000))).toBe('committed');
    // ... and one of v1 finishing later is superseded.
    expect(await store.commitEvaluation(commit('older-still', 'inv-c', T0))).toBe('superseded');
    expect((await store.getLatestSnapshot(W))?.evaluated_as_of_ms).toBe(T0 + 1000);
  });

  it('fences the publisher: only the owner, with lease to spare, passes', async () => {
    await store.claimEvaluation(W, 'p1', 'inv-1', T0 + 60_000, T0);
    const c = { ...commit('p1', 'inv-1', Number.NaN), events: [{ id: 'evt' } as never], outcome: 'publish' };
    expect(await store.commitEvaluation(c)).toBe('committed');
    expect(await store.fencePublish(W, 'p1', 'inv-2', T0)).toBe(false);
    expect(await store.fencePublish(W, 'p1', 'inv-1', T0 + 60_001)).toBe(false);
    expect(await store.fencePublish(W, 'p1', 'inv-1', T0 + 60_000)).toBe(true);
    expect((await store.acquirePublish(W, 'p1', 'inv-2', T0 + 120_000, T0 + 1)).claimed).toBe(false);
    expect((await store.acquirePublish(W, 'p1', 'inv-2', T0 + 120_000, T0 + 60_001)).claimed).toBe(true);
    expect(await store.fencePublish(W, 'p1', 'inv-1', T0)).toBe(false);
    expect((await store.listStuckOutboxes(T0 + 120_001, 10)).map((s) => s.evaluation_key)).toEqual(['p1']);
    await store.markPublished(W, 'p1', [], '2025-03-10T21:00:31.000Z');
    expect(await store.listStuckOutboxes(T0 + 10 ** 9, 10)).toEqual([]);
  });

  it('keeps the evaluation item small: the outbox body lives in its own items, so publish bookkeeping is cheap', async () => {
    await store.claimEvaluation(W, 'size-1', 'inv-1', T0 + 60_000, T0);
    // Three signals with per-strategy metrics, like one soak evaluation: several KB of outbox.
    const items = ['a', 'b', 'c'].map((id) => ({
      ...signal,
      signal_id: `sig-size-${id}`,
      strategy_id: id,
      metrics: {
        var: 0.04,
        components: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`m${i}`, i])),
      },
    }));
    const events = [{ id: 'evt-size', type: 'exit_signal_emitted', data: { signals: items } } as never];
    const c = { ...commit('size-1', 'inv-1', Number.NaN), events, signal_items: items, outcome: 'publish' };
    expect(await store.commitEvaluation(c)).toBe('committed');
    const raw = await db.doc.send(
      new GetCommand({ TableName: db.tables.state, Key: { pk: `WORLD#${W}`, sk: 'EVAL#size-1' } }),
    );
    const evalBytes = Buffer.byteLength(JSON.stringify(raw.Item));
    const bodyBytes = Buffer.byteLength(JSON.stringify(events)) + Buffer.byteLength(JSON.stringify(items));
    // Under 1 KB (one write unit) however large the outbox: what the fence and the mark rewrite.
    expect(evalBytes).toBeLessThan(1024);
    expect(bodyBytes).toBeGreaterThan(3 * 1024);
    expect((await store.getEvaluation(W, 'size-1'))?.events).toEqual(events);
    await store.markPublished(W, 'size-1', [], '2025-03-10T21:00:31.000Z');
    const after = await db.doc.send(
      new GetCommand({ TableName: db.tables.state, Key: { pk: `WORLD#${W}`, sk: 'EVAL#size-1' } }),
    );
    expect(Buffer.byteLength(JSON.stringify(after.Item))).toBeLessThan(1024);
    expect(after.Item?.outbox_status).toBe('published');
  });

  it('stores the outbox body gzipped, a fraction of its JSON, and reads it back whole', async () => {
    await store.claimEvaluation(W, 'gz-1', 'inv-1', T0 + 60_000, T0);
    const items = Array.from({ length: 20 }, (_, n) => ({
      ...signal,
      signal_id: `sig-gz-${n}`,
      strategy_id: `strategy-${n}`,
      metrics: { var: 0.04, components: { [`strategy-${n}`]: 0.002 }, verdict: 'fired', limit: 0.025 },
    }));
    const events = [
      {
        id: 'evt-gz',
        type: 'exit_signal_proposed',
        data: { event_version: 1, provenance: { actor: 'exit-engine' }, proposals: items },
      } as never,
    ];
    const c = { ...commit('gz-1', 'inv-1', Number.NaN), events, signal_items: items, outcome: 'publish' };
    expect(await store.commitEvaluation(c)).toBe('committed');
    const chunks = await db.doc.send(
      new QueryCommand({
        TableName: db.tables.state,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': `WORLD#${W}`, ':p': 'EVAL#gz-1#OUTBOX#' },
      }),
    );
    expect(chunks.Items).toHaveLength(1);
    const stored = (chunks.Items![0]!.outbox_gz as Uint8Array).byteLength;
    const json = Buffer.byteLength(JSON.stringify(events)) + Buffer.byteLength(JSON.stringify(items));
    expect(stored).toBeLessThan(json / 4);
    const record = await store.getEvaluation(W, 'gz-1');
    expect(record?.events).toEqual(events);
    expect(record?.signal_items).toEqual(items);
    const ops = new DynamoDbOpsStore(db.storeClient, db.tables);
    expect(await ops.proposalContext({ world_id: W, evaluation_key: 'gz-1', signal_id: 'sig-gz-3' })).toEqual(
      {
        event_version: 1,
        provenance: { actor: 'exit-engine' },
      },
    );
  });

  it('still reads an outbox whose chunks an older version wrote in plain JSON', async () => {
    const events = [
      {
        id: 'evt-old',
        type: 'exit_signal_proposed',
        data: { event_version: 1, provenance: { actor: 'old' }, proposals: [signal] },
      },
    ];
    await db.doc.send(
      new PutCommand({
        TableName: db.tables.state,
        Item: {
          pk: `WORLD#${W}`,
          sk: 'EVAL#old-chunks',
          world_id: W,
          status: 'completed',
          lease_owner: 'inv-old',
          lease_until: T0,
          outbox_status: 'pending',
          outbox_chunks: 1,
          outbox_owner: 'inv-old',
        },
      }),
    );
    await db.doc.send(
      new PutCommand({
        TableName: db.tables.state,
        Item: {
          pk: `WORLD#${W}`,
          sk: 'EVAL#old-chunks#OUTBOX#inv-old#0000',
          world_id: W,
          events_json: JSON.stringify(events),
          signal_items_json: JSON.stringify([signal]),
        },
      }),
    );
    const record = await store.getEvaluation(W, 'old-chunks');
    expect(record?.events).toEqual(events);
    expect(record?.signal_items).toEqual([signal]);
    const ops = new DynamoDbOpsStore(db.storeClient, db.tables);
    expect(
      await ops.proposalContext({ world_id: W, evaluation_key: 'old-chunks', signal_id: signal.signal_id }),
    ).toEqual({ event_version: 1, provenance: { actor: 'old' } });
  });
});
