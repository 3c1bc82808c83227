import { digest } from './ids.js';
import type { AuditRecord } from './ports.js';
import { expiry, type Retention } from './records.js';

/**
 * Rejection records, bounded so they always fit an item: reasons cut to the first 50 (plus the
 * count), the raw event kept whole only while it fits, and a minimal record (ids cut short, sizes,
 * category) when even that cannot be stored. Pure.
 */

/** Rejections whose world cannot be read (or is too long to be a key) are filed under this id. */
export const UNKNOWN_WORLD = '_unknown';
/** The longest world id the engine accepts; the same bound the edge enforces. */
export const MAX_WORLD_ID_BYTES = 128;
/** Reasons kept in a rejection record; the rest are counted. */
export const MAX_REASONS = 50;
const MAX_REASON_CHARS = 1_000;
const MAX_ID_CHARS = 200;
/** Raw event bytes kept for a redrive; DynamoDB's item limit is 400 KB. */
const MAX_STORED_RAW_BYTES = 200_000;
/** What a whole rejection record may weigh before the minimal one is written instead. */
const MAX_RECORD_BYTES = 350_000;

export interface RejectionInput {
  worldId: string | undefined;
  deliveryId: string;
  time: string;
  reasons: string[];
  category: string;
  raw: unknown;
  nowMs: number;
}

/** A world id fit to be a key, or the unknown-world bucket. */
export function recordWorld(worldId: string | undefined): string {
  return worldId && worldId !== '' && Buffer.byteLength(worldId) <= MAX_WORLD_ID_BYTES
    ? worldId
    : UNKNOWN_WORLD;
}

/** An id cut to a key-safe length; a cut id keeps a digest of the whole so it stays distinct. */
export function shortId(id: string): string {
  const s = String(id);
  return s.length <= MAX_ID_CHARS ? s : `${s.slice(0, MAX_ID_CHARS - 18)}…${digest(s).slice(0, 16)}`;
}

function recordId(r: RejectionInput): string {
  const time = typeof r.time === 'string' ? r.time.slice(0, 40) : '';
  return `${time}#rejection#${shortId(r.deliveryId)}`;
}

function worldFacts(r: RejectionInput): Record<string, unknown> {
  if (recordWorld(r.worldId) !== UNKNOWN_WORLD || r.worldId === undefined) return {};
  return { world_id_prefix: r.worldId.slice(0, 100), world_id_bytes: Buffer.byteLength(r.worldId) };
}

/** The first reasons (each cut short) and how many there were. */
export function boundReasons(reasons: readonly string[]): { reasons: string[]; reasons_total: number } {
  const kept = reasons
    .slice(0, MAX_REASONS)
    .map((x) => (x.length <= MAX_REASON_CHARS ? x : `${x.slice(0, MAX_REASON_CHARS)}…`));
  if (reasons.length > MAX_REASONS) kept.push(`…and ${reasons.length - MAX_REASONS} more`);
  return { reasons: kept, reasons_total: reasons.length };
}

/** The full rejection record, or undefined when it would not fit an item. */
export function boundedRejection(r: RejectionInput, retention: Retention): AuditRecord | undefined {
  const rawJson = safeJson(r.raw);
  const rawBytes = Buffer.byteLength(rawJson);
  const record: AuditRecord = {
    world_id: recordWorld(r.worldId),
    // Keyed by the delivery's own time and id, so a redelivered event is one record, not two.
    record_id: recordId(r),
    kind: 'rejection',
    recorded_at: new Date(r.nowMs).toISOString(),
    category: r.category,
    ...boundReasons(r.reasons),
    ...worldFacts(r),
    delivery_id: shortId(r.deliveryId),
    raw_event_bytes: rawBytes,
    // Kept whole while it fits, so the event can be fixed and put on the bus again.
    raw_event:
      rawBytes <= MAX_STORED_RAW_BYTES
        ? rawJson
        : `${truncateBytes(rawJson, MAX_STORED_RAW_BYTES)}…(truncated)`,
    expires_at: expiry(retention),
  };
  return Buffer.byteLength(safeJson(record)) <= MAX_RECORD_BYTES ? record : undefined;
}

/** The record written when the full one cannot be: ids cut short, sizes and the category. */
export function minimalRejection(r: RejectionInput, retention: Retention): AuditRecord {
  return {
    world_id: recordWorld(r.worldId),
    record_id: recordId(r),
    kind: 'rejection',
    recorded_at: new Date(r.nowMs).toISOString(),
    category: r.category,
    minimal: true,
    reasons: r.reasons.slice(0, 5).map((x) => x.slice(0, 300)),
    reasons_total: r.reasons.length,
    ...worldFacts(r),
    delivery_id: shortId(r.deliveryId),
    raw_event_bytes: Buffer.byteLength(safeJson(r.raw)),
    expires_at: expiry(retention),
  };
}

function truncateBytes(s: string, bytes: number): string {
  return Buffer.from(s).subarray(0, bytes).toString('utf8');
}

/** JSON of anything; a value too deep or cyclic to serialise becomes a placeholder, never a throw. */
export function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch (error) {
    return JSON.stringify({ unserialisable: (error as Error).message });
  }
}
