/**
 * The three tables, described once: the CDK stack and the local runtime both build from these, so
 * what runs locally is what deploys.
 *
 * - signals: one item per recommendation per strategy, in plain attribute names ops read in the
 *   console (world_id, strategy_id, action, reduction_ratio, reason, status, emitted_at, ...).
 * - state: the engine's own bookkeeping (latest snapshot per world, evaluation claims, the outbox,
 *   risk episodes, latest market data, mutes), keyed `pk`/`sk`.
 * - audit: append-only records of every evaluation, rejection and ops action, by world and time.
 */

export interface KeyAttribute {
  name: string;
  type: 'S' | 'N';
}

export interface IndexDefinition {
  indexName: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  /** Non-key attributes the index carries (INCLUDE); absent: all of them (ALL). */
  include?: string[];
}

export interface TableDefinition {
  /** Logical id, used for the CDK construct and the local table name suffix. */
  id: 'Signals' | 'State' | 'Audit';
  /** Environment variable the functions read the table name from. */
  envVar: 'SIGNALS_TABLE_NAME' | 'STATE_TABLE_NAME' | 'AUDIT_TABLE_NAME';
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  globalIndexes: IndexDefinition[];
  /** Epoch-seconds attribute after which DynamoDB deletes the item. */
  ttlAttribute: string;
}

export const SIGNALS_BY_WORLD_INDEX = 'by-world';
export const SIGNALS_BY_STATUS_INDEX = 'by-status';
export const TTL_ATTRIBUTE = 'expires_at';
/**
 * Sparse: only an evaluation whose outbox is pending carries `outbox_pending`, so the sweeper
 * reads exactly the stuck outboxes, oldest lease first, and nothing else.
 */
export const STATE_PENDING_OUTBOX_INDEX = 'pending-outboxes';

export const SIGNALS_TABLE: TableDefinition = {
  id: 'Signals',
  envVar: 'SIGNALS_TABLE_NAME',
  partitionKey: { name: 'signal_id', type: 'S' },
  globalIndexes: [
    {
      indexName: SIGNALS_BY_WORLD_INDEX,
      partitionKey: { name: 'world_id', type: 'S' },
      sortKey: { name: 'emitted_at', type: 'S' },
    },
    {
      indexName: SIGNALS_BY_STATUS_INDEX,
      partitionKey: { name: 'status', type: 'S' },
      sortKey: { name: 'emitted_at', type: 'S' },
    },
  ],
  ttlAttribute: TTL_ATTRIBUTE,
};

export const STATE_TABLE: TableDefinition = {
  id: 'State',
  envVar: 'STATE_TABLE_NAME',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalIndexes: [
    {
      indexName: STATE_PENDING_OUTBOX_INDEX,
      partitionKey: { name: 'outbox_pending', type: 'S' },
      sortKey: { name: 'publish_lease_until', type: 'N' },
      include: ['world_id', 'completed_at'],
    },
  ],
  ttlAttribute: TTL_ATTRIBUTE,
};

export const AUDIT_TABLE: TableDefinition = {
  id: 'Audit',
  envVar: 'AUDIT_TABLE_NAME',
  partitionKey: { name: 'world_id', type: 'S' },
  sortKey: { name: 'record_id', type: 'S' },
  globalIndexes: [],
  ttlAttribute: TTL_ATTRIBUTE,
};

export const TABLES: readonly TableDefinition[] = [SIGNALS_TABLE, STATE_TABLE, AUDIT_TABLE];
