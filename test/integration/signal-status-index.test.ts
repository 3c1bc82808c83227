import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbEngineStore } from '#lib/adapters/dynamodb/engine-store.js';
import { DynamoDbOpsStore } from '#lib/adapters/dynamodb/ops-store.js';
import { SIGNALS_BY_STATUS_INDEX } from '#lib/adapters/dynamodb/tables.js';
import type { SignalItem, SignalStatus, SignalTransition } from '#lib/engine/ports.js';
import { signal } from '#test/support/ports/ops-store-contract.js';
import { useFreshTables } from './support/tables.js';

/**
 * The signals table's `by-status` index holds only open rows (proposed, approved): a closed status is
 * stored in `final_status` (lib/adapters/dynamodb/signal-rows.ts). On DynamoDB Local (or dynalite), through
 * the stores: which rows the index holds through each status move, and that rows an older version wrote
 * (every status in `status`) still read, list and move.
 */

const W = 'w-status-index';

const row = (id: string, status: SignalStatus, over: Partial<SignalItem> = {}): SignalItem =>
  signal(id, {
    world_id: W,
    strategy_id: id,
    status,
    emitted_at: `2025-03-10T21:00:00.000Z#${id}`,
    expires_at: 4_102_444_800,
    ...over,
  });

describe('signals table: the by-status index holds open rows only', () => {
  let engine: DynamoDbEngineStore;
  let ops: DynamoDbOpsStore;

  const db = useFreshTables('it-status-index-');
  beforeAll(async () => {
    engine = new DynamoDbEngineStore(db.storeClient, db.tables, db.transactions);
    ops = new DynamoDbOpsStore(db.storeClient, db.tables, db.transactions);
  }, 60_000);

  /** The ids the index holds under a status value, straight from the index. */
  const indexed = async (status: string) =>
    (
      (
        await db.doc.send(
          new QueryCommand({
            TableName: db.tables.signals,
            IndexName: SIGNALS_BY_STATUS_INDEX,
            KeyConditionExpression: '#s = :s',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':s': status },
          }),
        )
      ).Items ?? []
    )
      .map((i) => String(i.signal_id))
      .sort();
  const move = (signal_id: string, from: SignalStatus, set: SignalTransition['set']) =>
    ops.transitionSignal({ signal_id, from, set });
  const stored = async (id: string) =>
    (
      await db.doc.send(
        new GetCommand({ TableName: db.tables.signals, Key: { signal_id: id }, ConsistentRead: true }),
      )
    ).Item;

  it('a row enters the index proposed, moves to approved, and leaves it published, rejected or expired', async () => {
    await engine.putSignals([row('a1', 'proposed'), row('r1', 'proposed'), row('e1', 'proposed')]);
    expect(await indexed('proposed')).toEqual(['a1', 'e1', 'r1']);

    expect(await move('a1', 'proposed', { status: 'approved' })).toBe(true);
    expect(await indexed('proposed')).toEqual(['e1', 'r1']);
    expect(await indexed('approved')).toEqual(['a1']);

    const at = '2025-03-10T21:05:00.000Z';
    expect(await move('a1', 'approved', { status: 'published', published_at: at })).toBe(true);
    expect(await move('r1', 'proposed', { status: 'rejected', decided_at: at })).toBe(true);
    expect(await move('e1', 'proposed', { status: 'expired', decided_at: at })).toBe(true);
    expect(await indexed('approved')).toEqual([]);
    expect(await indexed('proposed')).toEqual([]);
    for (const s of ['published', 'rejected', 'expired']) expect(await indexed(s)).toEqual([]);

    // Stored with the status in final_status, read back (and listed) with it in status.
    expect(await stored('a1')).toMatchObject({ final_status: 'published', published_at: at });
    expect((await stored('a1'))?.status).toBeUndefined();
    expect(await ops.getSignal('a1')).toMatchObject({ status: 'published' });
    expect(await ops.getSignal('a1')).not.toHaveProperty('final_status');
    expect((await ops.listSignals({ status: 'rejected' })).map((s) => s.signal_id)).toEqual(['r1']);
    expect((await ops.listSignals({ world_id: W, status: 'expired' })).map((s) => s.signal_id)).toEqual([
      'e1',
    ]);

    // The conditions still hold: a closed row does not move from an open status, nor an approved one from proposed.
    expect(await move('r1', 'proposed', { status: 'approved' })).toBe(false);
    expect(await move('a1', 'approved', { status: 'expired' })).toBe(false);
    expect((await ops.getSignal('r1'))?.status).toBe('rejected');
  });

  it('rows the engine writes closed (published, shadow, muted) never enter the index', async () => {
    await engine.putSignals([
      row('s1', 'shadow', { mode: 'shadow' }),
      row('m1', 'muted', { mode: 'enforce', mute_id: 'mute-1' }),
    ]);
    await engine.markPublished(
      W,
      'eval-2',
      [row('p1', 'published', { mode: 'enforce' })],
      '2025-03-10T21:06:00Z',
    );
    for (const s of ['shadow', 'muted', 'published']) expect(await indexed(s)).toEqual([]);
    expect(await stored('p1')).toMatchObject({
      final_status: 'published',
      published_at: '2025-03-10T21:06:00Z',
    });
    expect((await ops.listSignals({ status: 'shadow' })).map((s) => s.signal_id)).toEqual(['s1']);
    expect((await ops.listSignals({ world_id: W, status: 'muted' })).map((s) => s.signal_id)).toEqual(['m1']);
    expect((await ops.listSignals({ status: 'published' })).map((s) => s.signal_id)).toContain('p1');
  });

  it('reads, lists and moves rows an older version wrote, with every status in `status`', async () => {
    const old = (r: SignalItem) => db.doc.send(new PutCommand({ TableName: db.tables.signals, Item: r }));
    const world = 'w-old-rows';
    const mk = (id: string, status: SignalStatus) =>
      row(id, status, { world_id: world, emitted_at: `2025-03-09T10:00:00.000Z#${id}` });
    for (const r of [
      mk('old-pub', 'published'),
      mk('old-rej', 'rejected'),
      mk('old-prop', 'proposed'),
      mk('old-appr', 'approved'),
      mk('old-pending', 'pending_publish'),
    ])
      await old(r);
    // Old closed rows stay in the index (nothing rewrites them) and are listed once, by world or not.
    expect(await indexed('published')).toEqual(['old-pub']);
    expect((await ops.listSignals({ status: 'published' })).map((s) => s.signal_id)).toContain('old-pub');
    expect((await ops.listSignals({ world_id: world, status: 'published' })).map((s) => s.signal_id)).toEqual(
      ['old-pub'],
    );
    expect((await ops.listSignals({ world_id: world, status: 'rejected' })).map((s) => s.signal_id)).toEqual([
      'old-rej',
    ]);
    expect((await ops.getSignal('old-rej'))?.status).toBe('rejected');
    expect((await ops.listSignals({ status: 'proposed' })).map((s) => s.signal_id)).toEqual(['old-prop']);

    // Moves of old rows write the new layout: out of the index once closed.
    expect(await move('old-prop', 'proposed', { status: 'rejected' })).toBe(true);
    expect(await move('old-appr', 'approved', { status: 'published' })).toBe(true);
    // A pending row of the old engine is moved on when its outbox completes.
    await engine.markPublished(world, 'eval-old', [mk('old-pending', 'published')], '2025-03-09T10:01:00Z');
    for (const id of ['old-prop', 'old-appr', 'old-pending']) {
      expect((await stored(id))?.status, id).toBeUndefined();
      expect((await stored(id))?.final_status, id).toBeDefined();
    }
    expect(await indexed('proposed')).toEqual([]);
    expect(await indexed('approved')).toEqual([]);
    expect(await indexed('pending_publish')).toEqual([]);
    expect(
      (await ops.listSignals({ world_id: world, status: 'published' })).map((s) => s.signal_id).sort(),
    ).toEqual(['old-appr', 'old-pending', 'old-pub']);
    // A closed old row is not moved again, whichever attribute holds its status.
    expect(await move('old-pub', 'approved', { status: 'expired' })).toBe(false);
  });
});
