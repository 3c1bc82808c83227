import type { DynamoDocumentClient } from '#lib/adapters/dynamodb/client/document-client.js';

/**
 * Counts the capacity DynamoDB bills, per command, for the write-units bench: every call through the
 * client asks for `ReturnConsumedCapacity: INDEXES` and adds what comes back. DynamoDB Local reports
 * it for successful reads, writes and transactions (checked: a 5 KB put is 5, an update that shrinks
 * a 5 KB item is 5, a transaction of a 5 KB put and a small update is 12). It reports nothing for a
 * write refused by its condition, which AWS bills all the same ("the larger of the existing or new
 * item size", at least 1 unit): those are charged here from the sizes the request and the refusal
 * carry, and counted apart so the figure says how much of it is estimated.
 */

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'TransactWriteItems', 'BatchWriteItem']);

/** What one command cost. */
export interface CapacityEntry {
  /** The DynamoDB operation (`PutItem`, `TransactWriteItems`, ...). */
  command: string;
  /** The tables it touched, for the breakdown. */
  tables: string[];
  /** The items it wrote, as `table:kind` (the kind from the key: `EVAL`, `SNAPSHOT`, `row`, ...). */
  items?: string[];
  /** Of `units`, what the tables' global secondary indexes consumed. */
  indexUnits?: number;
  units: number;
  write: boolean;
  /** True for a refused conditional write: AWS bills it, DynamoDB Local reports nothing. */
  estimated: boolean;
}

/** Totals over a list of entries. */
export interface CapacityTotals {
  writeUnits: number;
  readUnits: number;
  /** Write units charged for refused conditional writes (estimated from item sizes). */
  estimatedWriteUnits: number;
  writes: number;
}

/** Write units DynamoDB bills for an item of `bytes`: 1 per started KB, at least 1; ×2 in a transaction. */
export function writeUnitsFor(bytes: number, transactional = false): number {
  const units = Math.max(1, Math.ceil(bytes / 1024));
  return transactional ? 2 * units : units;
}

/**
 * An item's size as DynamoDB counts it (attribute names plus values; numbers ≈ 1 byte per two
 * significant digits + 1; lists and maps 3 bytes + 1 per element), for items in the document
 * client's plain-JS form or the low-level `{S: ...}` form.
 */
export function itemSizeBytes(item: Record<string, unknown>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) bytes += Buffer.byteLength(name) + valueSize(value);
  return bytes;
}

function valueSize(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') {
    const digits = String(Math.abs(value))
      .replace(/[.\-+e]/g, '')
      .replace(/^0+/, '').length;
    return Math.ceil(Math.max(1, digits) / 2) + 1;
  }
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) return [...value].reduce((n: number, v) => n + valueSize(v), 0);
  if (Array.isArray(value)) return 3 + value.reduce((n: number, v) => n + 1 + valueSize(v), 0);
  if (typeof value === 'object') {
    const typed = lowLevel(value as Record<string, unknown>);
    if (typed !== undefined) return typed;
    return 3 + itemSizeBytes(value as Record<string, unknown>) + Object.keys(value).length;
  }
  return Buffer.byteLength(String(value));
}

/** The low-level attribute-value form (`{S: 'x'}`, `{N: '1'}`, ...), or undefined for a plain map. */
function lowLevel(v: Record<string, unknown>): number | undefined {
  const keys = Object.keys(v);
  if (keys.length !== 1) return undefined;
  const [k] = keys as [string];
  const inner = v[k];
  switch (k) {
    case 'S':
      return Buffer.byteLength(String(inner));
    case 'N':
      return valueSize(Number(inner));
    case 'B':
      return (inner as Uint8Array).byteLength;
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'L':
      return 3 + (inner as unknown[]).reduce((n: number, e) => n + 1 + valueSize(e), 0);
    case 'M':
      return 3 + itemSizeBytes(inner as Record<string, unknown>) + Object.keys(inner as object).length;
    default:
      return undefined;
  }
}

/** Sums entries into totals. */
export function totals(entries: readonly CapacityEntry[]): CapacityTotals {
  const t: CapacityTotals = { writeUnits: 0, readUnits: 0, estimatedWriteUnits: 0, writes: 0 };
  for (const e of entries) {
    if (e.write) {
      t.writeUnits += e.units;
      t.writes += 1;
      if (e.estimated) t.estimatedWriteUnits += e.units;
    } else t.readUnits += e.units;
  }
  return t;
}

/**
 * Write units per command and the items it wrote (or the tables, when the items are not known),
 * largest first, with what indexes took of them: where an evaluation's writes go.
 */
export function breakdown(entries: readonly CapacityEntry[]): string {
  const by = new Map<string, { units: number; index: number; calls: number }>();
  for (const e of entries) {
    if (!e.write) continue;
    const what = e.items && e.items.length > 0 ? `[${e.items.join(', ')}]` : e.tables.join('+');
    const key = `${e.command}${e.estimated ? ' (refused)' : ''} ${what}`;
    const row = by.get(key) ?? { units: 0, index: 0, calls: 0 };
    row.units += e.units;
    row.index += e.indexUnits ?? 0;
    row.calls += 1;
    by.set(key, row);
  }
  return [...by]
    .sort((a, b) => b[1].units - a[1].units)
    .map(([k, v]) => `${k}: ${v.units} (${v.calls}×${v.index > 0 ? `, ${v.index} of it indexes` : ''})`)
    .join('; ');
}

/** What kind of item a key names: the state table's sort-key prefix, else the table's one kind. */
export function itemKind(table: string, key: Record<string, unknown> | undefined): string {
  const raw = key?.sk;
  const sk =
    typeof raw === 'string'
      ? raw
      : typeof (raw as { S?: unknown })?.S === 'string'
        ? String((raw as { S: string }).S)
        : undefined;
  if (sk === undefined) return `${table}:${key && 'record_id' in key ? 'record' : 'row'}`;
  const pk = key?.pk;
  const pkText = typeof pk === 'string' ? pk : String((pk as { S?: unknown })?.S ?? '');
  if (pkText === 'WORLDS') return `${table}:WORLDS`;
  if (sk.includes('#OUTBOX#')) return `${table}:OUTBOX chunk`;
  // Items of a world are named by their sort key; others (market data) by their partition too.
  const scope = pkText.startsWith('WORLD#') ? '' : `${pkText.split('#')[0]}/`;
  return `${table}:${scope}${sk.split('#')[0]}`;
}

/** The items a write command names, as `table:kind`. */
function itemsOf(command: string, input: Record<string, unknown>): string[] {
  const one = (op: Record<string, unknown> | undefined, name: string) =>
    op
      ? [`${itemKind(String(op.TableName ?? '?'), (op.Key ?? op.Item) as Record<string, unknown>)}${name}`]
      : [];
  if (command === 'TransactWriteItems') {
    const items = (input.TransactItems ?? []) as Record<string, Record<string, unknown> | undefined>[];
    return items.flatMap((t) => [
      ...one(t.Put, ' put'),
      ...one(t.Update, ' update'),
      ...one(t.Delete, ' delete'),
      ...one(t.ConditionCheck, ' check'),
    ]);
  }
  return one(input, '');
}

interface Consumed {
  TableName?: string;
  CapacityUnits?: number;
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
}

/** The refused write's cost: the larger of the item it would write and the item it found. */
function refusedUnits(input: Record<string, unknown>, error: unknown): number {
  const requested = (input.Item as Record<string, unknown> | undefined) ?? {};
  const found = ((error as { Item?: Record<string, unknown> }).Item ?? {}) as Record<string, unknown>;
  return writeUnitsFor(Math.max(itemSizeBytes(requested), itemSizeBytes(found)));
}

/**
 * Attaches the meter to the stores' document client: from now on every call asks for its consumed
 * capacity and is recorded in `entries` (clear it between measurements).
 */
export function meterClient(client: DynamoDocumentClient): { entries: CapacityEntry[] } {
  const entries: CapacityEntry[] = [];
  client.use((next) => async (call) => {
    const command = call.operation;
    // INDEXES: the total per table, and apart what its global secondary indexes consumed.
    const input: Record<string, unknown> = { ...call.input, ReturnConsumedCapacity: 'INDEXES' };
    const write = WRITES.has(command);
    const items = write ? itemsOf(command, input) : undefined;
    try {
      const out = await next({ ...call, input });
      const consumed = out.ConsumedCapacity as Consumed | Consumed[] | undefined;
      const list = consumed === undefined ? [] : Array.isArray(consumed) ? consumed : [consumed];
      entries.push({
        command,
        tables: list.map((c) => c.TableName ?? '?'),
        ...(items ? { items } : {}),
        units: list.reduce((n, c) => n + (c.CapacityUnits ?? 0), 0),
        indexUnits: list.reduce(
          (n, c) =>
            n + Object.values(c.GlobalSecondaryIndexes ?? {}).reduce((m, g) => m + (g.CapacityUnits ?? 0), 0),
          0,
        ),
        write,
        estimated: false,
      });
      return out;
    } catch (error) {
      if (write && (error as Error).name === 'ConditionalCheckFailedException') {
        entries.push({
          command,
          tables: [String(input.TableName ?? '?')],
          ...(items ? { items } : {}),
          units: refusedUnits(input, error),
          write,
          estimated: true,
        });
      }
      throw error;
    }
  });
  return { entries };
}
