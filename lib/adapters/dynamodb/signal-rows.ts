import type { SignalStatus } from '#lib/engine/ports.js';

/**
 * How a signal's status is stored, so that the signals table's `by-status` index holds only the rows
 * a sweep lists by status.
 *
 * `by-status` is keyed on the `status` attribute, and DynamoDB writes an item into a global secondary
 * index only when the item has the index's key attributes. Every row used to carry `status`, so every
 * row cost a write unit in `by-status` when created and two when its status moved, although only the
 * approval sweeps query it, and only for `proposed` and `approved`. Now only those open statuses are
 * stored in `status`; a row in any other status (published, rejected, expired, shadow, muted) carries
 * it in `final_status` instead and is not in the index: a published row costs 2 write units, not 3,
 * and leaving `approved` for `published` removes the row from the index (1) instead of moving it (2).
 *
 * The index's key schema is unchanged, so a deployed table needs no migration: rows an older version
 * wrote with a closed status in `status` stay in the index and still read, list and transition
 * correctly (readers take whichever attribute is present), they merely cost what they cost before.
 */
export const FINAL_STATUS_ATTRIBUTE = 'final_status';

const OPEN_STATUSES: ReadonlySet<SignalStatus> = new Set<SignalStatus>(['proposed', 'approved']);

/** Whether rows in this status are kept in the `by-status` index (the statuses the sweeps list). */
export function isIndexedStatus(status: SignalStatus): boolean {
  return OPEN_STATUSES.has(status);
}

/** A signal row as stored: a closed status moves from `status` to `final_status`. */
export function toStoredRow<T extends { status: SignalStatus }>(row: T): Record<string, unknown> {
  if (isIndexedStatus(row.status)) return row;
  const { status, ...rest } = row;
  return { ...rest, [FINAL_STATUS_ATTRIBUTE]: status };
}

/** A stored row (of either layout) with its status back in `status`. */
export function fromStoredRow(item: Record<string, unknown>): Record<string, unknown> {
  const { [FINAL_STATUS_ATTRIBUTE]: final, ...rest } = item;
  return rest.status === undefined && final !== undefined ? { ...rest, status: final } : rest;
}

/**
 * The update-expression pieces that put a row into `status`: `SET` clauses and `REMOVE` attributes,
 * with the names and values they use (all `#`/`:` placeholders are prefixed `st`).
 */
export function statusUpdate(status: SignalStatus): {
  set: string[];
  remove: string[];
  names: Record<string, string>;
  values: Record<string, unknown>;
} {
  const names = { '#stOpen': 'status', '#stFinal': FINAL_STATUS_ATTRIBUTE };
  return isIndexedStatus(status)
    ? { set: ['#stOpen = :stTo'], remove: ['#stFinal'], names, values: { ':stTo': status } }
    : { set: ['#stFinal = :stTo'], remove: ['#stOpen'], names, values: { ':stTo': status } };
}

/**
 * A condition that the row is in `status`, whichever attribute holds it. An open status only ever
 * lives in `status`; a closed one in `final_status`, or in `status` on a row an older version wrote.
 */
export function statusCondition(status: SignalStatus): {
  expression: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
} {
  return isIndexedStatus(status)
    ? { expression: '#stOpen = :stFrom', names: { '#stOpen': 'status' }, values: { ':stFrom': status } }
    : {
        expression: '(#stOpen = :stFrom OR #stFinal = :stFrom)',
        names: { '#stOpen': 'status', '#stFinal': FINAL_STATUS_ATTRIBUTE },
        values: { ':stFrom': status },
      };
}
