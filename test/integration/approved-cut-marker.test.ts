import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbEngineStore } from '#lib/adapters/dynamodb/engine-store.js';
import { DynamoDbOpsStore } from '#lib/adapters/dynamodb/ops-store.js';
import { catalogFrom, OpsService } from '#lib/engine/ops.js';
import type { SignalItem } from '#lib/engine/ports.js';
import { useFreshTables } from './support/tables.js';

/**
 * An approved cut is seen by the engine at once, not only when the signals table's by-world index
 * catches up: DynamoDB Local updates its indexes synchronously, so the lag is simulated by putting the
 * base row back to `proposed` behind the index's back, after a real approval through OpsService.
 */
const W = 'w-marker';
const T0 = Date.parse('2025-03-10T21:00:00Z');

const proposal: SignalItem = {
  signal_id: 'sig-marker-1',
  world_id: W,
  strategy_id: 'alpha',
  action: 'exit',
  reduction_ratio: 1,
  reason: 'var_limit_breach',
  status: 'proposed',
  mode: 'approval',
  emitted_at: '2025-03-10T21:00:31.000Z',
  as_of: '2025-03-10T21:00:00Z',
  snapshot_version: 'v1',
  evaluation_key: 'k-marker',
  rule_ids: ['var_approval'],
  severity: 'blocking',
  tags: [],
  metrics: {},
  ruleset_version: 'sha256:x',
  expires_at: 0,
};

describe('approved-cut markers (DynamoDB Local)', () => {
  let engine: DynamoDbEngineStore;
  let ops: OpsService;

  const db = useFreshTables('it-marker-');
  beforeAll(async () => {
    engine = new DynamoDbEngineStore(db.storeClient, db.tables, db.transactions);
    ops = new OpsService({
      store: new DynamoDbOpsStore(db.storeClient, db.tables, db.transactions),
      catalog: catalogFrom({ forWorld: () => undefined }, engine),
      publisher: { publish: async () => undefined },
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      metrics: { count: () => undefined, measure: () => undefined },
      engineVersion: 'test',
      leaseMs: 1_000,
      auditRetentionDays: 30,
    });
  }, 60_000);

  it('an approval writes a marker the engine reads consistently, whatever the index says', async () => {
    await engine.putSignals([proposal]);
    expect(await engine.loadApprovedCuts(W, '2025-03-10T00:00:00Z')).toEqual([]);
    const out = await ops.approve(proposal.signal_id, {
      actor: 'alice',
      reason: 'confirmed',
      nowMs: T0 + 60_000,
    });
    expect(out.outcome).toBe('published');
    const expected = [{ strategy_id: 'alpha', rule_ids: ['var_approval'], emitted_at: proposal.emitted_at }];
    expect(await engine.loadApprovedCuts(W, '2025-03-10T00:00:00Z')).toEqual(expected);

    // The index (and its base row) not showing the approval yet: the marker still does.
    await db.doc.send(
      new UpdateCommand({
        TableName: db.tables.signals,
        Key: { signal_id: proposal.signal_id },
        UpdateExpression: 'SET #s = :p',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':p': 'proposed' },
      }),
    );
    expect(await engine.loadApprovedCuts(W, '2025-03-10T00:00:00Z')).toEqual(expected);
    // Cuts approved before the episode opened are not its concern.
    expect(await engine.loadApprovedCuts(W, '2025-03-10T21:01:00Z')).toEqual([]);
  });
});
